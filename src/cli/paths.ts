// Locates files shipped with the package (the bundled default config), wherever it runs from.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root directory: the nearest ancestor of this module holding package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The bundled default config, served by `npm start`. */
export function defaultConfigPath(): string {
  return join(packageRoot(), 'config', 'default.yaml');
}
