// readXfcc and identityFromXfcc keep a few recent results: a repeated header (with the same limits)
// or element (with the same pinned proxies) must give exactly what a fresh reading gives, and other
// limits or proxies must be applied, never a stale result.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identityFromXfcc, readXfcc } from '../../../src/identity/sources.js';

const GW = 'spiffe://prod.example.org/ns/edge/sa/gateway';
const header = (uri: string): string => `By=${GW};Hash=${'a'.repeat(64)};URI=${uri}`;

describe('readXfcc', () => {
  it('reads a repeated header the same way, and applies other limits to it', () => {
    const limits = { maxBytes: 8192, maxElements: 4 };
    const h = header('spiffe://prod.example.org/ns/a/sa/b');
    const first = readXfcc(h, limits);
    expect(first.kind).toBe('elements');
    expect(readXfcc(`${h}`.slice(0), limits)).toEqual(first);
    const tight = readXfcc(h, { maxBytes: 64, maxElements: 4 });
    expect(tight).toMatchObject({ kind: 'fail', reason: 'XFCC_TOO_LARGE' });
    expect(readXfcc(h, limits)).toEqual(first);
  });

  it('agrees with a reading under fresh limits for any sequence of headers', () => {
    const pool = [header('spiffe://prod.example.org/ns/a/sa/b'), header('spiffe://prod.example.org/ns/c/sa/d'), 'By=x;URI=', '', ' , ', 'URI=spiffe://a/b,URI=spiffe://a/c', '"unterminated'];
    const limits = { maxBytes: 8192, maxElements: 1 };
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pool), { maxLength: 40 }), (headers) => {
        for (const h of headers) expect(readXfcc(h, limits)).toEqual(readXfcc(h, { ...limits }));
      }),
      { numRuns: 200 },
    );
  });
});

describe('identityFromXfcc', () => {
  it('gives the same identity for a shared element, and applies other pinned proxies', () => {
    const read = readXfcc(header('spiffe://prod.example.org/ns/a/sa/b'), { maxBytes: 8192, maxElements: 4 });
    if (read.kind !== 'elements') throw new Error('expected elements');
    const pinned = [GW];
    const id = identityFromXfcc(read.last, pinned);
    expect(id).toEqual({ ok: true, value: { spiffeId: 'spiffe://prod.example.org/ns/a/sa/b', trustDomain: 'prod.example.org', path: '/ns/a/sa/b' } });
    expect(identityFromXfcc(read.last, pinned)).toBe(id);
    expect(identityFromXfcc(read.last, ['spiffe://prod.example.org/ns/edge/sa/other'])).toMatchObject({ ok: false, error: { code: 'XFCC_UNTRUSTED_HOP' } });
    expect(identityFromXfcc(read.last, pinned)).toEqual(id);
  });
});
