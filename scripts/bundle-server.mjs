// Second step of `npm run build`: bundles the server entry that tsc emitted (dist/src/main.js) and
// what it imports into that same file, so a start resolves and reads one module instead of ~400
// (measured: spawn → SERVING 510 → 330 ms with the 10 × 100 policy). dist/src/index.js and the
// other tsc outputs stay as they are: they are the package's exports. Source maps chain to src/.
//
// Left out of the bundle: the `demo-pki` command (tsc's dist/src/cli/demo-pki.js), loaded when it
// runs. It issues certificates with @peculiar/x509, which `serve` never loads; esbuild would hoist
// that package's import to the top of the bundle even behind a dynamic import().
// grpc-health-check is bundled but reads its .proto files at run time relative to its __dirname:
// that becomes the directory of the installed package (resolved from dist/src/main.js). Kept
// outside, it loaded its own proto-loader and protobufjs from node_modules: ~50 more files.
// esbuild's JS API is used, not its CLI, for these plugins.
import { readFile } from 'node:fs/promises';
import { build } from 'esbuild';
import { URL, fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/src/main.js', import.meta.url));

await build({
  entryPoints: [main],
  outfile: main,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // Comments (ours carry §, non-ASCII) would make V8 hold the 2.7 MB source as a two-byte string:
  // +5 MiB RSS. Without them it is 1.9 MB of ASCII. Licence comments go to main.js.LEGAL.txt.
  minifyWhitespace: true,
  legalComments: 'linked',
  plugins: [
    {
      name: 'demo-pki-outside',
      setup(b) {
        b.onResolve({ filter: /\/demo-pki\.js$/ }, () => ({ path: './cli/demo-pki.js', external: true }));
      },
    },
    {
      name: 'health-check-dirname',
      setup(b) {
        b.onLoad({ filter: /[\\/]grpc-health-check[\\/]build[\\/]src[\\/]health\.js$/ }, async (args) => {
          const text = await readFile(args.path, 'utf8');
          if (!text.includes('__dirname')) throw new Error(`${args.path}: no __dirname to rewrite (package changed?)`);
          const dir = 'require("node:path").dirname(require.resolve("grpc-health-check"))';
          return { contents: `var __healthCheckDir = ${dir};\n${text.replaceAll('__dirname', '__healthCheckDir')}`, loader: 'js' };
        });
      },
    },
  ],
  // The CommonJS packages inside (grpc-js, protobufjs, ...) call require() for node built-ins.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(import.meta.url);" },
  logLevel: 'warning',
});
