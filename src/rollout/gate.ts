// The safe-to-enforce gate (issue 5): moving a route to enforce, or raising its enforcePercent, is
// refused with the evidence unless the route has been observed long enough, on enough checks, with
// no would-deny in the window; or the operator forces it. Pure: the admin API maps a refusal to 409.
import type { Mode } from '../authz/types.js';
import { enforcedShare } from './cohort.js';
import type { TopCaller } from './top-callers.js';
import { windowMs, type RouteStatsSnapshot, type WindowName } from './window-counters.js';

/** A route's rollout setting, current or requested. */
export interface RolloutSetting {
  readonly mode: Mode;
  readonly enforcePercent: number;
}

/** The parts of a route's stats snapshot the gate reads. */
export type GateStats = Pick<RouteStatsSnapshot, 'windows' | 'observingSince' | 'topCallers'>;

/** Everything the gate decides on; `now` is clock time in ms. */
export interface GateInput {
  readonly current: RolloutSetting;
  readonly requested: RolloutSetting;
  readonly stats: GateStats;
  readonly now: number;
  readonly minChecks: number;
  /** Should be at least the window's length, else the window may hold checks from before the observation began. */
  readonly minObservedSeconds: number;
  readonly window: WindowName;
  /** The operator's explicit override of a refusal. */
  readonly force?: boolean;
}

/** A requirement of the gate, as a stable code. */
export type GateRequirement = 'observed-time' | 'min-checks' | 'no-would-deny';

/** Why a change was refused: what the window showed and which requirements were not met. */
export interface GateEvidence {
  readonly wouldDeny: number;
  /** Top would-deny callers last seen within the window. */
  readonly topCallers: readonly TopCaller[];
  readonly window: WindowName;
  readonly checks: number;
  readonly observedSeconds: number;
  /** One sentence per unmet requirement, in the order of `unmet`. */
  readonly reasons: readonly string[];
  readonly unmet: readonly GateRequirement[];
}

/** The gate's answer; `basis` says why an allowed change passed, for the audit log. */
export type GateResult =
  | { readonly allowed: true; readonly basis: 'not-gated' | 'evidence' }
  | { readonly allowed: true; readonly basis: 'forced'; readonly evidence: GateEvidence | undefined }
  | { readonly allowed: false; readonly evidence: GateEvidence };

/**
 * Whether a change needs the gate: it does when it enforces more callers than now, i.e. moving to
 * enforce or raising the percent. Compared as cohort thresholds, so enforce at 0 % (nobody enforced)
 * and rounding-only changes pass, and lowering or going back to shadow/warn always passes.
 */
export function isGatedChange(current: RolloutSetting, requested: RolloutSetting): boolean {
  return enforcedShare(requested.mode, requested.enforcePercent) > enforcedShare(current.mode, current.enforcePercent);
}

/** Decides whether a rollout change may proceed, with the evidence when it may not. */
export function checkEnforceGate(input: GateInput): GateResult {
  if (!isGatedChange(input.current, input.requested)) return { allowed: true, basis: 'not-gated' };
  const evidence = gatherEvidence(input);
  if (input.force === true) return { allowed: true, basis: 'forced', evidence };
  return evidence === undefined ? { allowed: true, basis: 'evidence' } : { allowed: false, evidence };
}

// The evidence of a refusal, or undefined when every requirement is met.
function gatherEvidence(input: GateInput): GateEvidence | undefined {
  const counts = input.stats.windows[input.window];
  const since = input.stats.observingSince;
  // Undefined observingSince: every caller is enforced already, or the route was never marked.
  const observedSeconds = since === undefined ? 0 : Math.max(0, Math.floor((input.now - since) / 1000));
  const unmet: GateRequirement[] = [];
  const reasons: string[] = [];
  if (observedSeconds < input.minObservedSeconds) {
    unmet.push('observed-time');
    reasons.push(`observed without enforcement for ${observedSeconds} s; at least ${input.minObservedSeconds} s required`);
  }
  if (counts.checks < input.minChecks) {
    unmet.push('min-checks');
    reasons.push(`${counts.checks} checks in the last ${input.window}; at least ${input.minChecks} required`);
  }
  if (counts.wouldDeny > 0) {
    unmet.push('no-would-deny');
    reasons.push(`${counts.wouldDeny} would-deny in the last ${input.window}; none allowed`);
  }
  if (unmet.length === 0) return undefined;
  const from = input.now - windowMs(input.window);
  return {
    wouldDeny: counts.wouldDeny,
    topCallers: input.stats.topCallers.filter((c) => c.lastSeen >= from),
    window: input.window,
    checks: counts.checks,
    observedSeconds,
    reasons,
    unmet,
  };
}
