// Unit tests for src/admin/auth.ts: bearer check in constant time and admin token loading.
import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest';
import * as crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBearer, loadAdminToken } from '../../../src/admin/auth.js';

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof crypto>();
  return { ...real, timingSafeEqual: vi.fn(real.timingSafeEqual) };
});

const TOKEN = Buffer.from('s3cr3t-admin-token-0123456789', 'utf8');

describe('checkBearer', () => {
  beforeEach(() => {
    vi.mocked(crypto.timingSafeEqual).mockClear();
  });

  const table: ReadonlyArray<readonly [string, string | undefined, Buffer | undefined, string]> = [
    ['the right token', 'Bearer s3cr3t-admin-token-0123456789', TOKEN, 'ok'],
    ['a lowercase scheme (RFC 7235: case-insensitive)', 'bearer s3cr3t-admin-token-0123456789', TOKEN, 'ok'],
    ['several spaces after the scheme', 'Bearer    s3cr3t-admin-token-0123456789', TOKEN, 'ok'],
    ['a wrong token of the same length', 'Bearer s3cr3t-admin-token-0123456780', TOKEN, 'invalid'],
    ['a prefix of the token', 'Bearer s3cr3t', TOKEN, 'invalid'],
    ['the token plus a suffix', 'Bearer s3cr3t-admin-token-0123456789x', TOKEN, 'invalid'],
    ['another scheme', 'Basic czNjcjN0', TOKEN, 'malformed'],
    ['the bare token without scheme', 's3cr3t-admin-token-0123456789', TOKEN, 'malformed'],
    ['a scheme without token', 'Bearer ', TOKEN, 'malformed'],
    ['a scheme without a space', 'Bearers3cr3t-admin-token-0123456789', TOKEN, 'malformed'],
    ['no header', undefined, TOKEN, 'missing'],
    ['an empty header', '', TOKEN, 'missing'],
    ['no token configured', 'Bearer s3cr3t-admin-token-0123456789', undefined, 'disabled'],
    ['no token configured and no header', undefined, undefined, 'disabled'],
    ['an empty configured token', 'Bearer ', Buffer.alloc(0), 'disabled'],
  ];
  it.each(table)('answers for %s', (_name, header, expected, answer) => {
    expect(checkBearer(header, expected)).toBe(answer);
  });

  it('compares 32-byte SHA-256 digests with timingSafeEqual whatever the lengths', () => {
    expect(checkBearer('Bearer x', TOKEN)).toBe('invalid');
    expect(checkBearer(`Bearer ${'y'.repeat(500)}`, TOKEN)).toBe('invalid');
    const calls = vi.mocked(crypto.timingSafeEqual).mock.calls;
    expect(calls).toHaveLength(2);
    for (const [a, b] of calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });
});

describe('loadAdminToken', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'admin-token-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the token from a file, trimmed', () => {
    const file = join(dir, 'token');
    writeFileSync(file, '  file-token-abc\n');
    const r = loadAdminToken({ file, env: 'ADMIN_TOKEN' }, { ADMIN_TOKEN: 'env-token' });
    expect(r).toEqual({ ok: true, token: Buffer.from('file-token-abc'), source: 'file' });
  });

  it('reads the token from the named environment variable when no file is given', () => {
    expect(loadAdminToken({ env: 'ADMIN_TOKEN' }, { ADMIN_TOKEN: ' env-token\n' })).toEqual({
      ok: true,
      token: Buffer.from('env-token'),
      source: 'env',
    });
  });

  it('gives no token (mutations disabled) when nothing is configured or the variable is unset or empty', () => {
    const none = { ok: true, token: undefined, source: 'none' };
    expect(loadAdminToken({}, {})).toEqual(none);
    expect(loadAdminToken({ env: 'ADMIN_TOKEN' }, {})).toEqual(none);
    expect(loadAdminToken({ env: 'ADMIN_TOKEN' }, { ADMIN_TOKEN: '  ' })).toEqual(none);
  });

  it('reports a configured file that is missing, without throwing', () => {
    const file = join(dir, 'absent');
    expect(loadAdminToken({ file })).toEqual({ ok: false, problem: `cannot read admin token file ${file} (ENOENT)` });
  });

  it('reports a configured file that is empty after trimming', () => {
    const file = join(dir, 'token');
    writeFileSync(file, '\n \n');
    expect(loadAdminToken({ file })).toEqual({ ok: false, problem: `admin token file ${file} is empty` });
  });

  it('round-trips into checkBearer and never puts the token in a problem', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'round-trip-token\n');
    const r = loadAdminToken({ file });
    expect(r.ok).toBe(true);
    if (r.ok) expect(checkBearer('Bearer round-trip-token', r.token)).toBe('ok');
    const dirAsFile = loadAdminToken({ file: dir });
    expect(dirAsFile.ok).toBe(false);
    if (!dirAsFile.ok) expect(dirAsFile.problem).toBe(`cannot read admin token file ${dir} (EISDIR)`);
  });
});
