// Per-route rollout statistics (issue 5): checks, allowed, denied, warned and would-deny, by reason,
// since start and over sliding windows of 1 m, 15 m and 1 h; the top would-deny callers; and the
// observation clock the safe-to-enforce gate reads. Supersedes counters.ts with the same field meanings.
//
// Windows are rings of fixed buckets, each stamped with its bucket number (floor(now / bucketMs)):
// recording touches one bucket (reset first if it holds an older bucket number), so it is O(1) and
// needs no timer; a snapshot sums the buckets whose number lies in the last `buckets` numbers. The
// current bucket is partial, so a window covers between (buckets - 1) and buckets bucket lengths.
import type { Mode, Verdict } from '../authz/types.js';
import { COHORT_BUCKETS, enforcedShare } from './cohort.js';
import { DEFAULT_TOP_CALLERS, TopCallers, type TopCaller } from './top-callers.js';

/** Counts over a span, with the meanings of counters.ts. */
export interface Counts {
  readonly checks: number;
  /** The policy allowed. */
  readonly allowed: number;
  /** The policy denied and the deny was enforced. */
  readonly denied: number;
  /** The effect was warn. */
  readonly warned: number;
  /** The policy denied and the deny was not enforced (shadow, warn, outside the enforced cohort). */
  readonly wouldDeny: number;
  readonly byReason: Readonly<Record<string, number>>;
}

/** Names of the sliding windows. */
export const WINDOWS = ['1m', '15m', '1h'] as const;
/** One sliding window. */
export type WindowName = (typeof WINDOWS)[number];

/** Ring layout per window: 60 × 1 s, 90 × 10 s, 60 × 60 s (210 buckets per route); granularity ≤ 1/60 of the span. */
export const WINDOW_LAYOUT: Readonly<Record<WindowName, { readonly bucketMs: number; readonly buckets: number }>> = {
  '1m': { bucketMs: 1_000, buckets: 60 },
  '15m': { bucketMs: 10_000, buckets: 90 },
  '1h': { bucketMs: 60_000, buckets: 60 },
};

/** Length of a window in milliseconds. */
export function windowMs(name: WindowName): number {
  const w = WINDOW_LAYOUT[name];
  return w.bucketMs * w.buckets;
}

/** Everything known about one route, as the admin API and the gate read it. */
export interface RouteStatsSnapshot {
  readonly sinceStart: Counts;
  readonly windows: Readonly<Record<WindowName, Counts>>;
  /** Clock time (ms) these stats started. */
  readonly since: number;
  /** Clock time (ms) of the latest would-deny, if any. */
  readonly lastWouldDenyAt: number | undefined;
  /** Mode and percent last set by `markModeChange` (undefined mode: never marked). */
  readonly mode: Mode | undefined;
  readonly enforcePercent: number;
  /** Clock time (ms) of the latest change of mode or percent. */
  readonly modeSince: number | undefined;
  /**
   * Clock time (ms) since which every caller not enforced now has been continuously not enforced,
   * so its would-denies were counted; undefined when every caller is enforced (or never marked).
   */
  readonly observingSince: number | undefined;
  readonly topCallers: readonly TopCaller[];
}

// Mutable counts of one span; the classification is exactly that of RolloutCounters.record.
class Tally {
  checks = 0;
  allowed = 0;
  denied = 0;
  warned = 0;
  wouldDeny = 0;
  readonly byReason = new Map<string, number>();

  add(v: Verdict): void {
    this.checks++;
    if (v.decision === 'allow') this.allowed++;
    else if (v.effect === 'deny') this.denied++;
    else this.wouldDeny++;
    if (v.effect === 'warn') this.warned++;
    this.byReason.set(v.reason, (this.byReason.get(v.reason) ?? 0) + 1);
  }

  addTally(t: Tally): void {
    this.checks += t.checks;
    this.allowed += t.allowed;
    this.denied += t.denied;
    this.warned += t.warned;
    this.wouldDeny += t.wouldDeny;
    for (const [reason, n] of t.byReason) this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + n);
  }

  reset(): void {
    this.checks = this.allowed = this.denied = this.warned = this.wouldDeny = 0;
    // clear() keeps the Map object, so a recycled bucket allocates only the entries it needs again.
    this.byReason.clear();
  }

  toCounts(): Counts {
    return {
      checks: this.checks,
      allowed: this.allowed,
      denied: this.denied,
      warned: this.warned,
      wouldDeny: this.wouldDeny,
      byReason: Object.fromEntries(this.byReason),
    };
  }
}

class Ring {
  // A slot's Tally is made when its bucket is first used: most of 1,000 routes see no traffic, and
  // 210 eager Tallies (with their Maps) per route were ~55 KB each, 55 MB of heap for 1,000 routes.
  private readonly slots: (Tally | undefined)[];
  // Bucket number held by each slot; -1 = never used (bucket numbers of a ms clock are ≥ 0).
  private readonly stamps: Float64Array;

  constructor(
    private readonly bucketMs: number,
    private readonly size: number,
  ) {
    this.slots = new Array<Tally | undefined>(size).fill(undefined);
    this.stamps = new Float64Array(size).fill(-1);
  }

  record(v: Verdict, now: number): void {
    const n = Math.floor(now / this.bucketMs);
    const i = n % this.size;
    let slot = this.slots[i];
    if (slot === undefined) {
      slot = new Tally();
      this.slots[i] = slot;
      this.stamps[i] = n;
    } else if (this.stamps[i] !== n) {
      slot.reset();
      this.stamps[i] = n;
    }
    slot.add(v);
  }

  sum(now: number): Counts {
    const n = Math.floor(now / this.bucketMs);
    const total = new Tally();
    for (let i = 0; i < this.size; i++) {
      const stamp = this.stamps[i] ?? -1;
      const slot = this.slots[i];
      if (slot !== undefined && stamp > n - this.size && stamp <= n) total.addTally(slot);
    }
    return total.toCounts();
  }
}

/** Zero counts, for the windows of a route that has recorded nothing yet. */
const EMPTY = new Tally();

/** Statistics of one route; kept across reloads while the route exists. */
export class RouteStats {
  private readonly total = new Tally();
  // Made on the first recorded verdict: a route that sees no traffic costs no rings (3 × ~1 KB).
  private rings: Readonly<Record<WindowName, Ring>> | undefined;
  private readonly callers: TopCallers;
  // Latest clock value seen: time is clamped to it so a clock stepping back cannot corrupt the rings.
  private latest: number;
  private lastWouldDenyAt: number | undefined;
  private mode: Mode | undefined;
  private enforcePercent = 100;
  private modeSince: number | undefined;
  private observingSince: number | undefined;

  /** Starts empty at `now`; `topCallers` is the capacity of the would-deny caller summary. */
  constructor(
    readonly startedAt: number,
    topCallers: number = DEFAULT_TOP_CALLERS,
  ) {
    this.latest = startedAt;
    this.callers = new TopCallers(topCallers);
  }

  /** Counts one verdict of this route, O(1); a would-deny also feeds the top callers. */
  record(v: Verdict, now: number): void {
    const t = this.clamp(now);
    this.total.add(v);
    const rings = (this.rings ??= {
      '1m': new Ring(WINDOW_LAYOUT['1m'].bucketMs, WINDOW_LAYOUT['1m'].buckets),
      '15m': new Ring(WINDOW_LAYOUT['15m'].bucketMs, WINDOW_LAYOUT['15m'].buckets),
      '1h': new Ring(WINDOW_LAYOUT['1h'].bucketMs, WINDOW_LAYOUT['1h'].buckets),
    });
    rings['1m'].record(v, t);
    rings['15m'].record(v, t);
    rings['1h'].record(v, t);
    if (v.decision === 'deny' && v.effect !== 'deny') {
      this.lastWouldDenyAt = t;
      this.callers.record(v.identity?.spiffeId, v.reason, t);
    }
  }

  /**
   * Notes the route's mode and percent (at start, on reload, on override). Idempotent: the same
   * setting again changes nothing, so callers may mark every route on every reload.
   */
  markModeChange(mode: Mode, now: number, enforcePercent = 100): void {
    const t = this.clamp(now);
    const prevMode = this.mode;
    const prevShare = prevMode === undefined ? undefined : enforcedShare(prevMode, this.enforcePercent);
    const share = enforcedShare(mode, enforcePercent);
    if (prevMode === mode && prevShare === share) {
      this.enforcePercent = enforcePercent; // e.g. 30.001 → 30.004: same cohort, nothing observed changes
      return;
    }
    this.mode = mode;
    this.enforcePercent = enforcePercent;
    this.modeSince = t;
    if (share === COHORT_BUCKETS) this.observingSince = undefined;
    // Raising the share (or shadow ↔ warn) only shrinks the set of non-enforced callers, all of whom
    // were already observed: the clock keeps running. Anything else adds newly observed callers.
    else if (prevShare === undefined || share < prevShare || this.observingSince === undefined) this.observingSince = t;
  }

  /** Totals, windows, observation clock and top would-deny callers at `now`. */
  snapshot(now: number): RouteStatsSnapshot {
    const t = this.clamp(now);
    return {
      sinceStart: this.total.toCounts(),
      windows: this.rings === undefined
        ? { '1m': EMPTY.toCounts(), '15m': EMPTY.toCounts(), '1h': EMPTY.toCounts() }
        : { '1m': this.rings['1m'].sum(t), '15m': this.rings['15m'].sum(t), '1h': this.rings['1h'].sum(t) },
      since: this.startedAt,
      lastWouldDenyAt: this.lastWouldDenyAt,
      mode: this.mode,
      enforcePercent: this.enforcePercent,
      modeSince: this.modeSince,
      observingSince: this.observingSince,
      topCallers: this.callers.top(),
    };
  }

  private clamp(now: number): number {
    if (now > this.latest) this.latest = now;
    return this.latest;
  }
}

/** Statistics of every route, keyed by route name. */
export class RolloutStats {
  private readonly routes = new Map<string, RouteStats>();

  /** `topCallers` is the per-route capacity of the would-deny caller summary. */
  constructor(private readonly topCallers: number = DEFAULT_TOP_CALLERS) {}

  /** Counts one verdict under its route (created on first use). */
  record(v: Verdict, now: number): void {
    this.ensure(v.route, now).record(v, now);
  }

  /** Notes a route's mode and percent (created on first use); see RouteStats.markModeChange. */
  markModeChange(route: string, mode: Mode, now: number, enforcePercent = 100): void {
    this.ensure(route, now).markModeChange(mode, now, enforcePercent);
  }

  /** One route's stats, or undefined when never recorded nor marked. */
  get(route: string): RouteStats | undefined {
    return this.routes.get(route);
  }

  /** Names of the routes that have stats. */
  names(): string[] {
    return [...this.routes.keys()];
  }

  /** Keeps the stats of routes that still exist after a reload and drops the others. */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.routes.keys()) if (!names.has(name)) this.routes.delete(name);
  }

  private ensure(route: string, now: number): RouteStats {
    let s = this.routes.get(route);
    if (s === undefined) {
      s = new RouteStats(now, this.topCallers);
      this.routes.set(route, s);
    }
    return s;
  }
}
