// The JSON the admin API shows for a route: effective setting and where it comes from, counters
// since start and per window, top would-deny callers, and whether the route is ready to enforce.
// Times are ISO 8601 strings; counts are plain numbers.
import type { RouteOverride } from '../rollout/state-file.js';
import { checkEnforceGate, type GateEvidence, type GateRequirement } from '../rollout/gate.js';
import type { EffectiveSetting, RouteSetting } from '../rollout/rollout-state.js';
import type { TopCaller } from '../rollout/top-callers.js';
import { RouteStats, type Counts, type RouteStatsSnapshot, type WindowName } from '../rollout/window-counters.js';

/** The gate's thresholds, from the config's `rollout.gate`. */
export interface GateSettings {
  readonly minChecks: number;
  readonly minObservedSeconds: number;
  readonly window: WindowName;
}

/** A top caller as the API shows it. */
export interface TopCallerView {
  readonly spiffeId: string;
  readonly count: number;
  readonly error: number;
  readonly lastSeen: string;
  readonly reason: string;
}

/** The gate's refusal evidence as the API shows it. */
export interface EvidenceView {
  readonly window: WindowName;
  readonly checks: number;
  readonly wouldDeny: number;
  readonly observedSeconds: number;
  readonly unmet: readonly GateRequirement[];
  readonly reasons: readonly string[];
  readonly topCallers: readonly TopCallerView[];
}

/** Whether moving the route to enforce at 100 % would pass the gate now, and on what numbers. */
export interface ReadinessView {
  readonly readyToEnforce: boolean;
  /** True when every caller is already enforced. */
  readonly fullyEnforced: boolean;
  readonly window: WindowName;
  readonly checks: number;
  readonly wouldDeny: number;
  readonly observedSeconds: number;
  readonly minChecks: number;
  readonly minObservedSeconds: number;
  readonly unmet: readonly GateRequirement[];
  readonly reasons: readonly string[];
}

/** A setting as the API shows it (no override details). */
export interface SettingView {
  readonly mode: RouteSetting['mode'];
  readonly enforcePercent: number;
  readonly outsideCohort: RouteSetting['outsideCohort'];
}

/** One route as GET /v1/routes and GET /v1/routes/{name} show it. */
export interface RouteView extends SettingView {
  readonly name: string;
  /** `config` or `override`: where mode and enforcePercent come from. */
  readonly source: EffectiveSetting['source'];
  /** Same as `source` (kept for clients of the first admin API). */
  readonly modeSource: EffectiveSetting['source'];
  readonly config: SettingView;
  readonly override: RouteOverride | null;
  /** Counts since start (or since the route first appeared). */
  readonly counters: Counts;
  readonly windows: Readonly<Record<WindowName, Counts>>;
  readonly since: string;
  readonly modeSince: string | null;
  readonly observingSince: string | null;
  readonly lastWouldDenyAt: string | null;
  readonly topCallers: readonly TopCallerView[];
  readonly readiness: ReadinessView;
}

/** A setting without its provenance. */
export function settingView(s: RouteSetting): SettingView {
  return { mode: s.mode, enforcePercent: s.enforcePercent, outsideCohort: s.outsideCohort };
}

/** The stats snapshot of a route, or an empty one when it has none yet. */
export function statsSnapshot(stats: RouteStats | undefined, now: number): RouteStatsSnapshot {
  return (stats ?? new RouteStats(now)).snapshot(now);
}

/** Builds the view of one route at `now`. */
export function routeView(setting: EffectiveSetting, stats: RouteStatsSnapshot, gate: GateSettings, now: number): RouteView {
  return {
    name: setting.route,
    ...settingView(setting),
    source: setting.source,
    modeSource: setting.source,
    config: settingView(setting.config),
    override: setting.override ?? null,
    counters: stats.sinceStart,
    windows: stats.windows,
    since: iso(stats.since),
    modeSince: isoOrNull(stats.modeSince),
    observingSince: isoOrNull(stats.observingSince),
    lastWouldDenyAt: isoOrNull(stats.lastWouldDenyAt),
    topCallers: stats.topCallers.map(topCallerView),
    readiness: readiness(setting, stats, gate, now),
  };
}

/** The gate's evidence with times as ISO strings. */
export function evidenceView(e: GateEvidence): EvidenceView {
  return {
    window: e.window,
    checks: e.checks,
    wouldDeny: e.wouldDeny,
    observedSeconds: e.observedSeconds,
    unmet: e.unmet,
    reasons: e.reasons,
    topCallers: e.topCallers.map(topCallerView),
  };
}

function readiness(setting: EffectiveSetting, stats: RouteStatsSnapshot, gate: GateSettings, now: number): ReadinessView {
  const r = checkEnforceGate({
    current: setting,
    requested: { mode: 'enforce', enforcePercent: 100 },
    stats,
    now,
    ...gate,
  });
  const counts = stats.windows[gate.window];
  const since = stats.observingSince;
  const fullyEnforced = r.allowed && r.basis === 'not-gated';
  return {
    readyToEnforce: r.allowed,
    fullyEnforced,
    window: gate.window,
    checks: counts.checks,
    wouldDeny: counts.wouldDeny,
    observedSeconds: since === undefined ? 0 : Math.max(0, Math.floor((now - since) / 1000)),
    minChecks: gate.minChecks,
    minObservedSeconds: gate.minObservedSeconds,
    unmet: r.allowed ? [] : r.evidence.unmet,
    reasons: r.allowed ? [] : r.evidence.reasons,
  };
}

function topCallerView(c: TopCaller): TopCallerView {
  return { spiffeId: c.spiffeId, count: c.count, error: c.error, lastSeen: iso(c.lastSeen), reason: c.reason };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isoOrNull(ms: number | undefined): string | null {
  return ms === undefined ? null : iso(ms);
}
