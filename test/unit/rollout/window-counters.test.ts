// Unit tests for src/rollout/window-counters.ts: since-start and sliding-window counts, top callers,
// the observation clock of the gate, and the per-route map kept across reloads.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { Decision, Effect, Mode, Verdict } from '../../../src/authz/types.js';
import type { Reason } from '../../../src/authz/reasons.js';
import { RolloutStats, RouteStats, WINDOW_LAYOUT, windowMs, type Counts } from '../../../src/rollout/window-counters.js';

// Aligned on every bucket length (1 s, 10 s, 60 s) so window edges fall on exact offsets.
const T0 = 3_600_000;

function verdict(mode: Mode, decision: Decision, effect: Effect, reason: Reason, spiffeId?: string, route = 'api'): Verdict {
  return {
    decisionId: 'd',
    route,
    mode,
    enforcePercent: 100,
    decision,
    effect,
    reason,
    detail: '',
    rule: '',
    identity: spiffeId === undefined ? undefined : { spiffeId, trustDomain: 'td', path: '/x', source: 'principal', agreed: [] },
  };
}

/** The counters' meanings written out plainly: the oracle the property test compares with. */
function referenceCounts(verdicts: readonly Verdict[]): Counts {
  const byReason: Record<string, number> = {};
  for (const v of verdicts) byReason[v.reason] = (byReason[v.reason] ?? 0) + 1;
  return {
    checks: verdicts.length,
    allowed: verdicts.filter((v) => v.decision === 'allow').length,
    denied: verdicts.filter((v) => v.decision === 'deny' && v.effect === 'deny').length,
    warned: verdicts.filter((v) => v.effect === 'warn').length,
    wouldDeny: verdicts.filter((v) => v.decision === 'deny' && v.effect !== 'deny').length,
    byReason,
  };
}

const ALLOW = verdict('shadow', 'allow', 'allow', 'ALLOWED');
const SHADOW_DENY = verdict('shadow', 'deny', 'allow', 'NO_MATCHING_RULE', 'spiffe://td/a');
const WARN_DENY = verdict('warn', 'deny', 'warn', 'DENIED_BY_RULE', 'spiffe://td/b');
const ENFORCED_DENY = verdict('enforce', 'deny', 'deny', 'NO_MATCHING_RULE', 'spiffe://td/c');

function counts(partial: Partial<Counts>): Counts {
  return { checks: 0, allowed: 0, denied: 0, warned: 0, wouldDeny: 0, byReason: {}, ...partial };
}

describe('windowMs', () => {
  it('gives 1 m, 15 m and 1 h from the ring layout', () => {
    expect(windowMs('1m')).toBe(60_000);
    expect(windowMs('15m')).toBe(900_000);
    expect(windowMs('1h')).toBe(3_600_000);
    expect(WINDOW_LAYOUT['15m']).toEqual({ bucketMs: 10_000, buckets: 90 });
  });
});

describe('RouteStats.record', () => {
  it('counts allowed, enforced deny, would-deny and warned exactly, by reason', () => {
    const s = new RouteStats(T0);
    for (const v of [ALLOW, ALLOW, SHADOW_DENY, WARN_DENY, ENFORCED_DENY]) s.record(v, T0 + 10);
    const expected = counts({
      checks: 5,
      allowed: 2,
      denied: 1,
      warned: 1,
      wouldDeny: 2,
      byReason: { ALLOWED: 2, NO_MATCHING_RULE: 2, DENIED_BY_RULE: 1 },
    });
    const snap = s.snapshot(T0 + 20);
    expect(snap.sinceStart).toEqual(expected);
    expect(snap.windows).toEqual({ '1m': expected, '15m': expected, '1h': expected });
    expect(snap.since).toBe(T0);
    expect(snap.lastWouldDenyAt).toBe(T0 + 10);
  });

  it('keeps the field meanings of the first admin counters for any verdict sequence', () => {
    const v = fc
      .tuple(
        fc.constantFrom<Mode>('shadow', 'warn', 'enforce'),
        fc.constantFrom<Decision>('allow', 'deny'),
        fc.constantFrom<Effect>('allow', 'warn', 'deny'),
        fc.constantFrom<Reason>('ALLOWED', 'NO_MATCHING_RULE', 'UNAUTHENTICATED'),
      )
      .map(([m, d, e, r]) => verdict(m, d, e, r));
    fc.assert(
      fc.property(fc.array(v, { maxLength: 60 }), (verdicts) => {
        const s = new RouteStats(T0);
        for (const x of verdicts) s.record(x, T0);
        const snap = s.snapshot(T0);
        expect(snap.sinceStart).toEqual(referenceCounts(verdicts));
        expect(snap.windows['1m']).toEqual(referenceCounts(verdicts));
      }),
    );
  });

  it('slides each window out at its length while since-start keeps the count', () => {
    const s = new RouteStats(T0);
    s.record(SHADOW_DENY, T0);
    const one = counts({ checks: 1, wouldDeny: 1, byReason: { NO_MATCHING_RULE: 1 } });
    const zero = counts({});
    expect(s.snapshot(T0 + 59_999).windows).toEqual({ '1m': one, '15m': one, '1h': one });
    expect(s.snapshot(T0 + 60_000).windows).toEqual({ '1m': zero, '15m': one, '1h': one });
    expect(s.snapshot(T0 + 899_999).windows['15m']).toEqual(one);
    expect(s.snapshot(T0 + 900_000).windows).toEqual({ '1m': zero, '15m': zero, '1h': one });
    expect(s.snapshot(T0 + 3_599_999).windows['1h']).toEqual(one);
    expect(s.snapshot(T0 + 3_600_000).windows).toEqual({ '1m': zero, '15m': zero, '1h': zero });
    expect(s.snapshot(T0 + 3_600_000).sinceStart).toEqual(one);
  });

  it('reuses a ring slot after a full turn without keeping the old bucket', () => {
    const s = new RouteStats(T0);
    s.record(ALLOW, T0 + 500);
    s.record(WARN_DENY, T0 + 60_500); // same 1 s slot, one turn later
    const snap = s.snapshot(T0 + 60_900);
    expect(snap.windows['1m']).toEqual(counts({ checks: 1, warned: 1, wouldDeny: 1, byReason: { DENIED_BY_RULE: 1 } }));
    expect(snap.windows['15m']).toEqual(
      counts({ checks: 2, allowed: 1, warned: 1, wouldDeny: 1, byReason: { ALLOWED: 1, DENIED_BY_RULE: 1 } }),
    );
  });

  it('clamps a clock that steps back to the latest time seen', () => {
    const s = new RouteStats(T0);
    s.record(ALLOW, T0 + 120_000);
    s.record(SHADOW_DENY, T0); // counted at T0 + 120 s, not two minutes in the past
    const snap = s.snapshot(T0 + 1_000);
    expect(snap.windows['1m'].checks).toBe(2);
    expect(snap.lastWouldDenyAt).toBe(T0 + 120_000);
  });

  it('feeds would-deny callers, and only them, to the top callers', () => {
    const s = new RouteStats(T0, 5);
    s.record(SHADOW_DENY, T0 + 1);
    s.record(SHADOW_DENY, T0 + 2);
    s.record(WARN_DENY, T0 + 3);
    s.record(ENFORCED_DENY, T0 + 4);
    s.record(verdict('shadow', 'allow', 'allow', 'ALLOWED', 'spiffe://td/ok'), T0 + 5);
    s.record(verdict('shadow', 'deny', 'allow', 'UNAUTHENTICATED'), T0 + 6);
    expect(s.snapshot(T0 + 7).topCallers).toEqual([
      { spiffeId: 'spiffe://td/a', count: 2, error: 0, lastSeen: T0 + 2, reason: 'NO_MATCHING_RULE' },
      { spiffeId: '(none)', count: 1, error: 0, lastSeen: T0 + 6, reason: 'UNAUTHENTICATED' },
      { spiffeId: 'spiffe://td/b', count: 1, error: 0, lastSeen: T0 + 3, reason: 'DENIED_BY_RULE' },
    ]);
  });
});

describe('RouteStats.markModeChange', () => {
  type Step = readonly [Mode, number, number]; // mode, percent, time offset
  const cases: ReadonlyArray<{ name: string; steps: readonly Step[]; observingSince: number | undefined; modeSince: number | undefined }> = [
    { name: 'never marked: no observation', steps: [], observingSince: undefined, modeSince: undefined },
    { name: 'first shadow starts the clock', steps: [['shadow', 100, 5]], observingSince: 5, modeSince: 5 },
    { name: 'shadow → warn keeps it', steps: [['shadow', 100, 5], ['warn', 100, 9]], observingSince: 5, modeSince: 9 },
    { name: 'warn → enforce 30 % keeps it', steps: [['warn', 100, 5], ['enforce', 30, 9]], observingSince: 5, modeSince: 9 },
    { name: 'raising 30 → 60 % keeps it', steps: [['warn', 100, 5], ['enforce', 30, 9], ['enforce', 60, 12]], observingSince: 5, modeSince: 12 },
    { name: 'lowering 60 → 30 % restarts it', steps: [['enforce', 60, 5], ['enforce', 30, 9]], observingSince: 9, modeSince: 9 },
    { name: 'enforce 100 % stops it', steps: [['shadow', 100, 5], ['enforce', 100, 9]], observingSince: undefined, modeSince: 9 },
    { name: 'enforce → shadow restarts it', steps: [['enforce', 100, 5], ['shadow', 100, 9]], observingSince: 9, modeSince: 9 },
    { name: 'the same setting again changes nothing', steps: [['warn', 100, 5], ['warn', 100, 9]], observingSince: 5, modeSince: 5 },
  ];
  it.each(cases)('$name', ({ steps, observingSince, modeSince }) => {
    const s = new RouteStats(0);
    for (const [mode, percent, at] of steps) s.markModeChange(mode, at, percent);
    const snap = s.snapshot(100);
    expect(snap.observingSince).toBe(observingSince);
    expect(snap.modeSince).toBe(modeSince);
    expect(snap.mode).toBe(steps.at(-1)?.[0]);
  });

  it('records the percent even when rounding leaves the cohort unchanged', () => {
    const s = new RouteStats(0);
    s.markModeChange('enforce', 1, 30.001);
    s.markModeChange('enforce', 2, 30.004);
    expect(s.snapshot(3)).toMatchObject({ enforcePercent: 30.004, modeSince: 1 });
  });
});

describe('RolloutStats', () => {
  it('records per route and returns undefined for unknown routes', () => {
    const all = new RolloutStats();
    all.record(verdict('shadow', 'allow', 'allow', 'ALLOWED', undefined, 'a'), T0);
    all.record(verdict('shadow', 'deny', 'allow', 'NO_ROUTE', undefined, 'b'), T0);
    all.record(verdict('shadow', 'deny', 'allow', 'NO_ROUTE', undefined, 'b'), T0);
    expect(all.get('a')?.snapshot(T0).sinceStart.checks).toBe(1);
    expect(all.get('b')?.snapshot(T0).sinceStart.wouldDeny).toBe(2);
    expect(all.get('c')).toBeUndefined();
    expect(all.names().sort()).toEqual(['a', 'b']);
  });

  it('keeps the stats of routes that still exist after a reload and drops the rest', () => {
    const all = new RolloutStats();
    all.record(verdict('shadow', 'allow', 'allow', 'ALLOWED', undefined, 'kept'), T0);
    all.record(verdict('shadow', 'allow', 'allow', 'ALLOWED', undefined, 'gone'), T0);
    const kept = all.get('kept');
    all.retain(new Set(['kept', 'new']));
    expect(all.get('kept')).toBe(kept);
    expect(all.get('gone')).toBeUndefined();
    expect(all.names()).toEqual(['kept']);
  });

  it('marks modes on routes it has not seen yet, and the marks survive records', () => {
    const all = new RolloutStats(3);
    all.markModeChange('api', 'warn', T0);
    all.record(WARN_DENY, T0 + 1);
    expect(all.get('api')?.snapshot(T0 + 2)).toMatchObject({ mode: 'warn', observingSince: T0, since: T0 });
  });
});
