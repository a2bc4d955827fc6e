// Unit tests for src/rollout/top-callers.ts: Space-Saving top-K of would-deny callers in bounded memory.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { NO_IDENTITY, TopCallers } from '../../../src/rollout/top-callers.js';

describe('TopCallers', () => {
  it('rejects a capacity below 1 or not an integer', () => {
    expect(() => new TopCallers(0)).toThrow(RangeError);
    expect(() => new TopCallers(2.5)).toThrow(RangeError);
    expect(new TopCallers().capacity).toBe(20);
  });
});

describe('record', () => {
  it('counts exactly while under capacity, keeping the latest reason and time', () => {
    const t = new TopCallers(3);
    t.record('spiffe://td/a', 'NO_MATCHING_RULE', 1000);
    t.record('spiffe://td/b', 'NO_MATCHING_RULE', 1001);
    t.record('spiffe://td/a', 'UNAUTHENTICATED', 1002);
    expect(t.top()).toEqual([
      { spiffeId: 'spiffe://td/a', count: 2, error: 0, lastSeen: 1002, reason: 'UNAUTHENTICATED' },
      { spiffeId: 'spiffe://td/b', count: 1, error: 0, lastSeen: 1001, reason: 'NO_MATCHING_RULE' },
    ]);
  });

  it('counts callers without identity under "(none)"', () => {
    const t = new TopCallers(2);
    t.record(undefined, 'UNAUTHENTICATED', 5);
    t.record(undefined, 'UNAUTHENTICATED', 6);
    expect(t.top()).toEqual([{ spiffeId: NO_IDENTITY, count: 2, error: 0, lastSeen: 6, reason: 'UNAUTHENTICATED' }]);
  });

  it('replaces the smallest (then oldest) entry when full and records the inherited error', () => {
    const t = new TopCallers(2);
    t.record('a', 'R', 1);
    t.record('a', 'R', 2);
    t.record('b', 'R', 3);
    t.record('c', 'R2', 4); // evicts b (count 1): c gets count 2, error 1
    expect(t.size).toBe(2);
    expect(t.top()).toEqual([
      { spiffeId: 'c', count: 2, error: 1, lastSeen: 4, reason: 'R2' },
      { spiffeId: 'a', count: 2, error: 0, lastSeen: 2, reason: 'R' },
    ]);
    t.record('d', 'R', 5); // tie at 2: evicts a (seen longest ago)
    expect(t.top().map((c) => [c.spiffeId, c.count, c.error])).toEqual([
      ['d', 3, 2],
      ['c', 2, 1],
    ]);
  });

  it('stays within capacity over 100,000 distinct callers and keeps a heavy hitter', () => {
    const t = new TopCallers(20);
    let heavy = 0;
    for (let i = 0; i < 100_000; i++) {
      t.record(`spiffe://td/noise/${i}`, 'NO_MATCHING_RULE', i);
      if (i % 10 === 0) {
        t.record('spiffe://td/heavy', 'NO_MATCHING_RULE', i);
        heavy++;
      }
      if (i % 10_000 === 0) expect(t.size).toBeLessThanOrEqual(20);
    }
    expect(t.size).toBe(20);
    const first = t.top(1)[0];
    expect(first?.spiffeId).toBe('spiffe://td/heavy');
    // Space-Saving bounds: count ≥ true count ≥ count − error.
    expect(first?.count).toBeGreaterThanOrEqual(heavy);
    expect((first?.count ?? 0) - (first?.error ?? 0)).toBeLessThanOrEqual(heavy);
  });

  it('never underestimates a tracked caller and keeps every caller above N/capacity (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 400 }), (stream) => {
        const t = new TopCallers(5);
        const truth = new Map<string, number>();
        stream.forEach((n, i) => {
          const id = `id${n}`;
          t.record(id, 'R', i);
          truth.set(id, (truth.get(id) ?? 0) + 1);
        });
        const tracked = t.top();
        expect(tracked.length).toBeLessThanOrEqual(5);
        for (const c of tracked) {
          const real = truth.get(c.spiffeId) ?? 0;
          expect(c.count).toBeGreaterThanOrEqual(real);
          expect(c.count - c.error).toBeLessThanOrEqual(real);
        }
        for (const [id, n] of truth) if (n > stream.length / 5) expect(tracked.some((c) => c.spiffeId === id)).toBe(true);
      }),
    );
  });
});

describe('top', () => {
  it('sorts by count desc, then most recent, then ID, and limits to n', () => {
    const t = new TopCallers(10);
    for (const [id, at] of [['b', 1], ['a', 1], ['c', 2], ['c', 3], ['d', 4]] as const) t.record(id, 'R', at);
    expect(t.top().map((c) => c.spiffeId)).toEqual(['c', 'd', 'a', 'b']);
    expect(t.top(2).map((c) => c.spiffeId)).toEqual(['c', 'd']);
    expect(t.top(0)).toEqual([]);
  });

  it('returns copies that do not change when recording continues', () => {
    const t = new TopCallers(2);
    t.record('a', 'R', 1);
    const before = t.top();
    t.record('a', 'R', 2);
    expect(before[0]?.count).toBe(1);
    expect(t.top()[0]?.count).toBe(2);
  });
});
