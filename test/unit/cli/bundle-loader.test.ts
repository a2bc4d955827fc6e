// The bundle loader: a CommonJS file compiled with or without a code cache, run as Node would run it.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadServerBundle } from '../../../src/cli/bundle-loader.js';

let dir: string;
let bundle: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spiffe-authz-bundle-'));
  bundle = join(dir, 'server.cjs');
  // What the loader must provide: module/exports, require from the bundle's directory, __filename.
  writeFileSync(join(dir, 'helper.cjs'), 'module.exports = { twice: (n) => 2 * n };\n');
  writeFileSync(
    bundle,
    `const { twice } = require('./helper.cjs');
const { basename } = require('node:path');
exports.runCli = async (argv, io) => { io.out(basename(__filename) + ' ' + basename(__dirname) + ' ' + twice(argv.length)); return argv.length; };
`,
  );
});

async function run(cachePath: string | undefined): Promise<{ cache: string; code: number; out: string[] }> {
  const b = loadServerBundle(bundle, cachePath);
  const out: string[] = [];
  const code = await b.runCli(['a', 'b', 'c'], { out: (t) => out.push(t), err: (t) => out.push(t) });
  return { cache: b.cache, code, out };
}

describe('loadServerBundle', () => {
  it('runs the bundle with require, __filename and __dirname of its own file, without a cache', async () => {
    const r = await run(join(dir, 'missing.v8cache'));
    expect(r).toEqual({ cache: 'none', code: 3, out: [`server.cjs ${dir.split('/').pop()} 6`] });
  });

  it('uses a cache made for the same source, and compiles as usual when the cache is not one', async () => {
    // Each case under its own file name: V8 keeps what it compiled in this process by source and
    // name, and would not read a cache for a script it already holds.
    const copy = (name: string, prefix = ''): string => {
      const p = join(dir, name);
      writeFileSync(p, prefix + readFileSync(bundle, 'utf8'));
      return p;
    };
    const cachePath = join(dir, 'server.cjs.v8cache');
    writeFileSync(cachePath, loadServerBundle(copy('made.cjs'), undefined).script.createCachedData());
    expect(loadServerBundle(copy('same.cjs'), cachePath).cache).toBe('used');
    expect(loadServerBundle(copy('other.cjs', '// another source\n'), cachePath).cache).toBe('rejected');
    writeFileSync(cachePath, Buffer.from('not a code cache'));
    const garbage = loadServerBundle(copy('garbage.cjs'), cachePath);
    expect(garbage.cache).toBe('rejected');
    expect(await garbage.runCli(['x'], { out: () => undefined, err: () => undefined })).toBe(1);
  });

  it('says so when the file is not the CLI bundle', () => {
    const other = join(dir, 'not-cli.cjs');
    writeFileSync(other, 'exports.somethingElse = 1;\n');
    expect(() => loadServerBundle(other, undefined)).toThrow(/does not export runCli/);
  });
});
