// Second step of `npm run build`: bundles the CLI that tsc emitted (dist/src/cli/run-cli.js) and
// what it imports into one CommonJS file, dist/src/server.cjs, so a start resolves and reads one
// module instead of ~400 (measured: spawn → SERVING 510 → 330 ms with the 10 × 100 policy). Then it
// runs that bundle once (`validate` on config/default.yaml) and writes V8's code cache for it,
// dist/src/server.cjs.v8cache, which dist/src/main.js hands to V8 (src/cli/bundle-loader.ts):
// compiling the bundle and its functions again on every start cost ~40-60 ms more (measured). CommonJS because
// only a vm.Script takes a code cache on Node 20. tsc's outputs stay as they are: they are the
// package's exports, and `demo-pki` runs from them. Source maps chain to src/.
//
// Left out of the bundle: the `demo-pki` command (tsc's dist/src/cli/demo-pki.js), which main.js
// never sends to the bundle. It issues certificates with @peculiar/x509, which `serve` never loads;
// esbuild would hoist that package's import to the top of the bundle even behind a dynamic import().
// No .proto file is read when serving: Check and grpc.health.v1.Health are declared in src/grpc/
// with their own codecs, so proto-loader and protobufjs's full build are not in the bundle.
// esbuild's JS API is used, not its CLI, for these plugins.
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { URL, fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/src/cli/run-cli.js', import.meta.url));
const bundle = fileURLToPath(new URL('../dist/src/server.cjs', import.meta.url));
const codeCache = fileURLToPath(new URL('../dist/src/server.cjs.v8cache', import.meta.url));
const warmUpConfig = fileURLToPath(new URL('../config/default.yaml', import.meta.url));

await build({
  entryPoints: [cli],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
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
  ],
  // Our modules locate the package (paths.ts) and Envoy's protos (envoy-protos) from import.meta.url.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: 'var __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: 'warning',
});

// The code cache: what V8 compiled while the bundle validated the default config (the config
// parser, the schema, the policy compiler, and everything the bundle runs as it loads).
const { loadServerBundle } = await import('../dist/src/cli/bundle-loader.js');
const loaded = loadServerBundle(bundle, undefined);
const output = [];
const io = { out: (t) => output.push(t), err: (t) => output.push(t) };
const code = await loaded.runCli(['validate', warmUpConfig], io);
if (code !== 0) throw new Error(`the bundle could not validate ${warmUpConfig} (exit ${code}):\n${output.join('\n')}`);
writeFileSync(codeCache, loaded.script.createCachedData());
