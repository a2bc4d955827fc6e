// The verification cache: a hit is never served past its expiry, a new result replaces the old
// one, clear() forgets everything, and the recent-hits front always agrees with a plain map.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ResultCache } from '../../../src/identity/svid-cache.js';
import { fail, ok, type Result } from '../../../src/result.js';

type R = Result<{ id: string; until: number }, 'CERT_EXPIRED' | 'CERT_MALFORMED'>;
const until = (v: { until: number }): number => v.until;

describe('ResultCache', () => {
  it('serves a hit until its expiry and never after, also from the recent hits', () => {
    const c = new ResultCache<{ id: string; until: number }, 'CERT_EXPIRED' | 'CERT_MALFORMED'>(100);
    const key = 'MIIB' + 'A'.repeat(1800);
    c.set(key, ok({ id: 'a', until: 1_000 }), 0, until);
    expect(c.get(key, 10)).toEqual(ok({ id: 'a', until: 1_000 })); // from the LRU
    expect(c.get(`${key}`, 999)).toEqual(ok({ id: 'a', until: 1_000 })); // from the recent hits
    expect(c.get(key, 1_001)).toBeUndefined();
    expect(c.get(key, 10)).toBeUndefined(); // gone, not resurrected by an earlier clock
    expect(c.size).toBe(0);
  });

  it('replaces a result that is set again, and forgets all on clear', () => {
    const c = new ResultCache<{ id: string; until: number }, 'CERT_EXPIRED' | 'CERT_MALFORMED'>(100);
    c.set('k', ok({ id: 'a', until: 1_000 }), 0, until);
    expect(c.get('k', 1)).toEqual(ok({ id: 'a', until: 1_000 }));
    c.set('k', fail('CERT_MALFORMED', 'bad'), 2, until);
    expect(c.get('k', 3)).toEqual(fail('CERT_MALFORMED', 'bad'));
    c.clear();
    expect(c.get('k', 3)).toBeUndefined();
  });

  it('does not store a result set with the generation of before a clear', () => {
    const c = new ResultCache<{ id: string; until: number }, 'CERT_EXPIRED' | 'CERT_MALFORMED'>(100);
    const before = c.generation;
    c.clear();
    expect(c.generation).not.toBe(before);
    c.set('k', ok({ id: 'a', until: 1_000 }), 0, until, before);
    expect(c.get('k', 1)).toBeUndefined();
    c.set('k', ok({ id: 'a', until: 1_000 }), 0, until, c.generation);
    expect(c.get('k', 1)).toEqual(ok({ id: 'a', until: 1_000 }));
  });

  it('agrees with a plain map with expiries over arbitrary sequences of set, get and clear', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 3 }), life: fc.integer({ min: -5, max: 50 }) }),
      fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant('clear' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const c = new ResultCache<{ id: string; until: number }, 'CERT_EXPIRED' | 'CERT_MALFORMED'>(1_000);
        const model = new Map<string, { value: R; until: number }>();
        let now = 0;
        for (const o of ops) {
          now += 1;
          if (o.kind === 'clear') {
            c.clear();
            model.clear();
          } else if (o.kind === 'set') {
            const key = `key-${o.key}`;
            const value: R = ok({ id: `${o.key}@${now}`, until: now + o.life });
            c.set(key, value, now, until);
            // A result that is already expired is not kept, and no older one for the key stays.
            if (now + o.life > now) model.set(key, { value, until: now + o.life });
            else model.delete(key);
          } else {
            // A fresh string each time, as the decoder makes one per request.
            const key = ['key-', String(o.key)].join('');
            const m = model.get(key);
            const expected = m === undefined || now > m.until ? undefined : m.value;
            if (m !== undefined && now > m.until) model.delete(key);
            expect(c.get(key, now)).toEqual(expected);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('ResultCache.set with a result that is already expired', () => {
  it('keeps no older result for the key', () => {
    const c = new ResultCache<{ id: string; until: number }, 'CERT_EXPIRED' | 'CERT_MALFORMED'>(10);
    c.set('k', ok({ id: 'old', until: 100 }), 0, until);
    c.set('k', ok({ id: 'new', until: 1 }), 5, until);
    expect(c.get('k', 6)).toBeUndefined();
  });
});
