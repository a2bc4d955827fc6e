#!/usr/bin/env node
// Process entry: run the CLI and exit with its code. After `npm run build` the CLI runs from the
// bundle beside this file (server.cjs, one file instead of ~400 modules) with its V8 code cache
// (cli/bundle-loader.ts). `demo-pki` runs from tsc's modules: it loads @peculiar/x509, which the
// bundle leaves out, through import(), which a script compiled from a code cache cannot do. So
// does everything when there is no bundle (a tsc-only build).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUNDLE_FILE, CODE_CACHE_FILE, loadServerBundle } from './cli/bundle-loader.js';

const argv = process.argv.slice(2);
const bundlePath = fileURLToPath(new URL(BUNDLE_FILE, import.meta.url));
const runCli =
  argv[0] !== 'demo-pki' && existsSync(bundlePath)
    ? loadServerBundle(bundlePath, fileURLToPath(new URL(CODE_CACHE_FILE, import.meta.url))).runCli
    : (await import('./cli/run-cli.js')).runCli;
process.exitCode = await runCli(argv);
