// Unit tests for src/rollout/gate.ts: the safe-to-enforce gate, branch by branch.
import { describe, it, expect } from 'vitest';
import type { Mode } from '../../../src/authz/types.js';
import { checkEnforceGate, isGatedChange, type GateInput, type GateStats } from '../../../src/rollout/gate.js';
import { RouteStats, type Counts } from '../../../src/rollout/window-counters.js';
import type { TopCaller } from '../../../src/rollout/top-callers.js';

const NOW = 10_000_000;
const HOUR_AGO = NOW - 3_600_000;

function counts(checks: number, wouldDeny: number): Counts {
  return { checks, allowed: checks - wouldDeny, denied: 0, warned: 0, wouldDeny, byReason: {} };
}

function stats(window15: Counts, observingSince: number | undefined, topCallers: readonly TopCaller[] = []): GateStats {
  return { windows: { '1m': counts(0, 0), '15m': window15, '1h': counts(0, 0) }, observingSince, topCallers };
}

function input(over: Partial<GateInput> & { from?: [Mode, number]; to?: [Mode, number] }): GateInput {
  const { from = ['shadow', 100], to = ['enforce', 100], ...rest } = over;
  return {
    current: { mode: from[0], enforcePercent: from[1] },
    requested: { mode: to[0], enforcePercent: to[1] },
    stats: stats(counts(500, 0), HOUR_AGO),
    now: NOW,
    minChecks: 100,
    minObservedSeconds: 900,
    window: '15m',
    ...rest,
  };
}

describe('isGatedChange', () => {
  const table: ReadonlyArray<readonly [Mode, number, Mode, number, boolean]> = [
    ['shadow', 100, 'enforce', 100, true],
    ['warn', 100, 'enforce', 10, true],
    ['enforce', 10, 'enforce', 50, true],
    ['enforce', 50, 'enforce', 10, false],
    ['enforce', 100, 'shadow', 100, false],
    ['enforce', 100, 'warn', 100, false],
    ['shadow', 100, 'warn', 100, false],
    ['shadow', 100, 'enforce', 0, false], // enforces nobody
    ['enforce', 30.001, 'enforce', 30.004, false], // same cohort after rounding
    ['enforce', 30, 'enforce', 30.01, true],
    ['enforce', 100, 'enforce', 100, false],
  ];
  it.each(table)('%s %d %% → %s %d %% is gated: %s', (fm, fp, tm, tp, gated) => {
    expect(isGatedChange({ mode: fm, enforcePercent: fp }, { mode: tm, enforcePercent: tp })).toBe(gated);
  });
});

describe('checkEnforceGate', () => {
  it('lets a change that is not gated through without looking at the stats', () => {
    const r = checkEnforceGate(input({ from: ['enforce', 100], to: ['shadow', 100], stats: stats(counts(0, 9), undefined) }));
    expect(r).toEqual({ allowed: true, basis: 'not-gated' });
  });

  it('allows moving to enforce when observed long enough, with enough checks and no would-deny', () => {
    expect(checkEnforceGate(input({}))).toEqual({ allowed: true, basis: 'evidence' });
  });

  it('allows at exactly the minimum checks and seconds', () => {
    const r = checkEnforceGate(input({ stats: stats(counts(100, 0), NOW - 900_000) }));
    expect(r).toEqual({ allowed: true, basis: 'evidence' });
  });

  it('refuses with would-deny evidence and the callers seen in the window', () => {
    const recent: TopCaller = { spiffeId: 'spiffe://td/a', count: 7, error: 0, lastSeen: NOW - 60_000, reason: 'NO_MATCHING_RULE' };
    const old: TopCaller = { spiffeId: 'spiffe://td/old', count: 9, error: 0, lastSeen: NOW - 900_001, reason: 'NO_MATCHING_RULE' };
    const r = checkEnforceGate(input({ stats: stats(counts(500, 7), HOUR_AGO, [old, recent]) }));
    expect(r).toEqual({
      allowed: false,
      evidence: {
        wouldDeny: 7,
        topCallers: [recent],
        window: '15m',
        checks: 500,
        observedSeconds: 3600,
        reasons: ['7 would-deny in the last 15m; none allowed'],
        unmet: ['no-would-deny'],
      },
    });
  });

  it('refuses when observed for less than the minimum time', () => {
    const r = checkEnforceGate(input({ stats: stats(counts(500, 0), NOW - 899_999) }));
    expect(r).toMatchObject({
      allowed: false,
      evidence: { observedSeconds: 899, unmet: ['observed-time'], reasons: ['observed without enforcement for 899 s; at least 900 s required'] },
    });
  });

  it('refuses when nothing was ever observed (every caller enforced, or never marked)', () => {
    const r = checkEnforceGate(input({ from: ['enforce', 0], to: ['enforce', 50], stats: stats(counts(500, 0), undefined) }));
    expect(r).toMatchObject({ allowed: false, evidence: { observedSeconds: 0, unmet: ['observed-time'] } });
  });

  it('refuses with too few checks in the window', () => {
    const r = checkEnforceGate(input({ stats: stats(counts(99, 0), HOUR_AGO) }));
    expect(r).toMatchObject({
      allowed: false,
      evidence: { checks: 99, unmet: ['min-checks'], reasons: ['99 checks in the last 15m; at least 100 required'] },
    });
  });

  it('reads the requested window only', () => {
    const s: GateStats = { windows: { '1m': counts(500, 0), '15m': counts(500, 3), '1h': counts(500, 0) }, observingSince: HOUR_AGO, topCallers: [] };
    expect(checkEnforceGate(input({ stats: s, window: '1m' }))).toEqual({ allowed: true, basis: 'evidence' });
    expect(checkEnforceGate(input({ stats: s, window: '15m' }))).toMatchObject({ allowed: false, evidence: { wouldDeny: 3 } });
  });

  it('lists every unmet requirement in order', () => {
    const r = checkEnforceGate(input({ stats: stats(counts(3, 1), NOW - 1_000) }));
    expect(r).toMatchObject({ allowed: false, evidence: { unmet: ['observed-time', 'min-checks', 'no-would-deny'] } });
    if (!r.allowed) expect(r.evidence.reasons).toHaveLength(3);
  });

  it('gates raising the percent of an enforce route like moving to enforce', () => {
    const r = checkEnforceGate(input({ from: ['enforce', 10], to: ['enforce', 20], stats: stats(counts(500, 2), HOUR_AGO) }));
    expect(r).toMatchObject({ allowed: false, evidence: { wouldDeny: 2 } });
  });

  it('passes a refused change with force, keeping the evidence for the audit log', () => {
    const r = checkEnforceGate(input({ force: true, stats: stats(counts(500, 4), HOUR_AGO) }));
    expect(r).toMatchObject({ allowed: true, basis: 'forced', evidence: { wouldDeny: 4, unmet: ['no-would-deny'] } });
  });

  it('marks a forced change that would have passed anyway with no evidence', () => {
    expect(checkEnforceGate(input({ force: true }))).toEqual({ allowed: true, basis: 'forced', evidence: undefined });
  });

  it('works on a real RouteStats snapshot', () => {
    const s = new RouteStats(NOW - 2_000_000);
    s.markModeChange('shadow', NOW - 2_000_000);
    s.record(
      { decisionId: 'd', route: 'api', mode: 'shadow', enforcePercent: 100, decision: 'deny', effect: 'allow', reason: 'NO_MATCHING_RULE', detail: '', rule: '', identity: undefined },
      NOW - 10_000,
    );
    const r = checkEnforceGate(input({ stats: s.snapshot(NOW), minChecks: 1 }));
    expect(r).toMatchObject({
      allowed: false,
      evidence: { wouldDeny: 1, checks: 1, observedSeconds: 2000, topCallers: [{ spiffeId: '(none)', count: 1 }] },
    });
  });
});
