// Per-route rollout counters since start: what each route allowed, denied, warned and would have
// denied, by reason. Kept across config reloads for routes that still exist.
import type { Verdict } from '../authz/types.js';

/** Counts of one route, as the admin API shows them. */
export interface RouteCounts {
  readonly checks: number;
  readonly allowed: number;
  readonly denied: number;
  readonly warned: number;
  readonly wouldDeny: number;
  readonly byReason: Readonly<Record<string, number>>;
}

class MutableCounts {
  checks = 0;
  allowed = 0;
  denied = 0;
  warned = 0;
  wouldDeny = 0;
  readonly byReason = new Map<string, number>();
}

/** In-memory counters keyed by route name. */
export class RolloutCounters {
  private readonly routes = new Map<string, MutableCounts>();

  /** Counts one verdict. `allowed` = the policy allowed; `denied` = enforced deny; `wouldDeny` = deny not enforced. */
  record(v: Verdict): void {
    let c = this.routes.get(v.route);
    if (c === undefined) {
      c = new MutableCounts();
      this.routes.set(v.route, c);
    }
    c.checks++;
    if (v.decision === 'allow') c.allowed++;
    else if (v.effect === 'deny') c.denied++;
    else c.wouldDeny++;
    if (v.effect === 'warn') c.warned++;
    c.byReason.set(v.reason, (c.byReason.get(v.reason) ?? 0) + 1);
  }

  /** A copy of one route's counts (zeros when never seen). */
  get(route: string): RouteCounts {
    const c = this.routes.get(route);
    if (c === undefined) return { checks: 0, allowed: 0, denied: 0, warned: 0, wouldDeny: 0, byReason: {} };
    return {
      checks: c.checks,
      allowed: c.allowed,
      denied: c.denied,
      warned: c.warned,
      wouldDeny: c.wouldDeny,
      byReason: Object.fromEntries(c.byReason),
    };
  }

  /** Drops counters of routes that no longer exist after a reload. */
  retain(routes: ReadonlySet<string>): void {
    for (const name of this.routes.keys()) if (!routes.has(name)) this.routes.delete(name);
  }
}
