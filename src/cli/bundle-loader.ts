// Runs the bundled server (dist/src/server.cjs, scripts/bundle-server.mjs) with V8's code cache.
// Compiling the 1.9 MB bundle, and then each function of it on its first call, is a fixed cost
// of every start: ~36 ms for the bundle alone on this project's 2-core machines (~7 with the cache). `npm run build`
// runs the bundle once (`validate` on config/default.yaml) and writes the bytecode V8 then holds
// (Script#createCachedData) next to it; a start hands that to V8, which uses it when it was made
// by the same V8, with the same flags, for the same source, and otherwise compiles as usual
// (cachedDataRejected). Node 22's module.enableCompileCache does the same for modules it loads;
// Node 20 has no such switch, and the cache here is made once at build time, never at run time, so
// a read-only image needs no writable cache directory.
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import type { CliIo } from './run-cli.js';

/** The bundle next to the entry, and its code cache. */
export const BUNDLE_FILE = 'server.cjs';
export const CODE_CACHE_FILE = 'server.cjs.v8cache';

/** A compiled and evaluated bundle. */
export interface ServerBundle {
  /** The bundle's CLI (src/cli/run-cli.ts). */
  readonly runCli: (argv: readonly string[], io?: CliIo) => Promise<number>;
  /** The compiled script, for createCachedData at build time. */
  readonly script: Script;
  /** 'used', 'rejected' (made by another V8, flags or source) or 'none' (no cache file). */
  readonly cache: 'used' | 'rejected' | 'none';
}

function readCache(path: string | undefined): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch {
    return undefined; // no cache: compile as usual
  }
}

/**
 * Compiles and evaluates the CommonJS bundle at `bundlePath` (with the code cache at `cachePath`,
 * when there is one), as Node's own loader would: the same wrapper, `require` resolving from the
 * bundle's directory. Throws when the bundle cannot be read or fails while evaluating.
 */
export function loadServerBundle(bundlePath: string, cachePath: string | undefined): ServerBundle {
  const source = readFileSync(bundlePath, 'utf8');
  const cachedData = readCache(cachePath);
  const script = new Script(Module.wrap(source), { filename: bundlePath, ...(cachedData === undefined ? {} : { cachedData }) });
  const cache = cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'used';
  const moduleObject = { exports: {} as Record<string, unknown>, filename: bundlePath, id: bundlePath, loaded: false };
  const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  run.call(moduleObject.exports, moduleObject.exports, createRequire(pathToFileURL(bundlePath)), moduleObject, bundlePath, dirname(bundlePath));
  moduleObject.loaded = true;
  const runCli = moduleObject.exports['runCli'];
  if (typeof runCli !== 'function') throw new Error(`${bundlePath} does not export runCli`);
  return { runCli: runCli as ServerBundle['runCli'], script, cache };
}
