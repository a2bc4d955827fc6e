// The built package: `import { parseSpiffeId, parseXfcc } from 'spiffe-ext-authz'` works after
// `npm run build` (npm test builds before running vitest).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('package entry', () => {
  it('exports parseSpiffeId and parseXfcc by the package name', () => {
    expect(existsSync('dist/src/index.js'), 'dist/ is missing: run `npm run build` (npm test does)').toBe(true);
    const script = `
      import { parseSpiffeId, parseXfcc, REASON_CODES } from 'spiffe-ext-authz';
      const id = parseSpiffeId('spiffe://example.org/ns/a');
      const x = parseXfcc('By=spiffe://example.org/gw;URI=spiffe://example.org/ns/a');
      console.log(JSON.stringify({ id, uri: x.ok ? x.value[0].URI : null, reasons: REASON_CODES.length > 0 }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      id: { ok: true, value: { trustDomain: 'example.org', path: '/ns/a' } },
      uri: ['spiffe://example.org/ns/a'],
      reasons: true,
    });
  });
});
