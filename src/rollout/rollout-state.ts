// The effective rollout setting of every route: an operator's override (admin API, state file) if
// there is one, else the config's. `settingOf` is the hot-path read, one Map lookup; the Map is
// rebuilt whole on every change (override, rollback, reload), never per request. Pure: no I/O,
// persistence and logging are the caller's (src/admin/rollout-actions.ts, src/app.ts).
import type { Mode } from '../authz/types.js';
import type { CompiledRoute, ConfigSnapshot } from '../config/compile.js';
import type { OutsideCohortEffect } from './cohort.js';
import type { RouteOverride, RouteOverrides } from './state-file.js';
import type { RolloutStats } from './window-counters.js';

/** What decides a route's effect: its mode, the enforced share and what callers outside it get. */
export interface RouteSetting {
  readonly mode: Mode;
  readonly enforcePercent: number;
  readonly outsideCohort: OutsideCohortEffect;
}

/** Where a route's effective setting comes from. */
export type SettingSource = 'config' | 'override';

/** A route's effective setting, with its origin, the config's own setting and the override if any. */
export interface EffectiveSetting extends RouteSetting {
  readonly route: string;
  readonly source: SettingSource;
  readonly config: RouteSetting;
  readonly override: RouteOverride | undefined;
}

/** One change of a route's effective setting (for the audit log and the API's answer). */
export interface SettingChange {
  readonly route: string;
  readonly before: EffectiveSetting;
  readonly after: EffectiveSetting;
}

/** What the state needs from outside. */
export interface RolloutStateOptions {
  /** Told about every route's setting (markModeChange) after each change, and pruned on reload. */
  readonly stats: RolloutStats;
  readonly now: () => number;
  /** Called after every rebuild of the effective settings (metrics gauges). */
  readonly onChange?: (settings: readonly EffectiveSetting[]) => void;
}

/** The config's setting of a compiled route. */
export function configSetting(route: CompiledRoute): RouteSetting {
  return { mode: route.mode, enforcePercent: route.enforcePercent, outsideCohort: route.outsideCohort };
}

/** Effective settings of all routes, with the overrides that produce them. */
export class RolloutState {
  private snapshot: ConfigSnapshot;
  private readonly overrides = new Map<string, RouteOverride>();
  private effective = new Map<string, EffectiveSetting>();
  private ordered: readonly EffectiveSetting[] = [];
  // The same settings by route position p = index + 1 (_unmatched, index -1, at 0), side by side with
  // the route object each was built for: [route of p = 0, its setting, route of p = 1, ...]. settingOf
  // reads two adjacent slots instead of hashing the route name.
  private byPosition: readonly (CompiledRoute | EffectiveSetting)[] = [];

  constructor(
    snapshot: ConfigSnapshot,
    private readonly options: RolloutStateOptions,
  ) {
    this.snapshot = snapshot;
    this.rebuild();
  }

  /** The setting a Check applies to `route`: O(1), no allocation (hot path). */
  settingOf(route: CompiledRoute): RouteSetting {
    const at = this.byPosition;
    const i = 2 * (route.index + 1);
    if (at[i] === route) return at[i + 1] as EffectiveSetting;
    // A route object of another snapshot goes by name. The fallback covers a route the current Map
    // does not know (an in-flight Check on a snapshot that a reload replaced, without that route):
    // the route's own config, fail closed.
    return this.effective.get(route.name) ?? configSetting(route);
  }

  /** One route's effective setting, or undefined when the route is not configured. */
  get(route: string): EffectiveSetting | undefined {
    return this.effective.get(route);
  }

  /** Every route's effective setting, in config order, `_unmatched` last. */
  list(): readonly EffectiveSetting[] {
    return this.ordered;
  }

  /** The overrides in force, keyed by route (what the state file holds). */
  currentOverrides(): RouteOverrides {
    return Object.fromEntries(this.overrides);
  }

  /**
   * Installs overrides read from the state file at start. Overrides of routes the config does not
   * have are dropped and returned, so the caller can log them.
   */
  restore(overrides: RouteOverrides): { readonly dropped: readonly string[] } {
    const dropped: string[] = [];
    for (const [name, o] of Object.entries(overrides)) {
      if (this.isRoute(name)) this.overrides.set(name, o);
      else dropped.push(name);
    }
    this.rebuild();
    return { dropped };
  }

  /** Sets a route's override; undefined when the route is not configured. Applies to the next Check. */
  setOverride(route: string, override: RouteOverride): SettingChange | undefined {
    const before = this.effective.get(route);
    if (before === undefined) return undefined;
    this.overrides.set(route, override);
    this.rebuild();
    return { route, before, after: this.mustGet(route) };
  }

  /** Removes a route's override (back to the config's setting); undefined when the route is not configured. */
  clearOverride(route: string): SettingChange | undefined {
    const before = this.effective.get(route);
    if (before === undefined) return undefined;
    this.overrides.delete(route);
    this.rebuild();
    return { route, before, after: this.mustGet(route) };
  }

  /** The panic button: every route, `_unmatched` included, to shadow by override, in one rebuild. */
  rollback(reason: string, actor: string, at: string): readonly SettingChange[] {
    const before = this.ordered;
    for (const s of before) this.overrides.set(s.route, { mode: 'shadow', enforcePercent: s.enforcePercent, reason, actor, at });
    this.rebuild();
    return before.map((b) => ({ route: b.route, before: b, after: this.mustGet(b.route) }));
  }

  /**
   * Switches to a reloaded config: overrides of routes that still exist are kept, the others are
   * dropped (and returned for the log); stats of removed routes are dropped too.
   */
  applySnapshot(snapshot: ConfigSnapshot): { readonly dropped: readonly string[] } {
    this.snapshot = snapshot;
    const dropped: string[] = [];
    for (const name of [...this.overrides.keys()]) {
      if (!this.isRoute(name)) {
        this.overrides.delete(name);
        dropped.push(name);
      }
    }
    this.options.stats.retain(new Set([...snapshot.routes.map((r) => r.name), snapshot.unmatched.name]));
    this.rebuild();
    return { dropped };
  }

  private isRoute(name: string): boolean {
    return this.snapshot.routesByName.has(name) || name === this.snapshot.unmatched.name;
  }

  private mustGet(route: string): EffectiveSetting {
    const s = this.effective.get(route);
    if (s === undefined) throw new Error(`rollout state lost route "${route}"`); // a bug: rebuild covers every route
    return s;
  }

  // Builds a new Map and swaps it in one assignment, so a reader never sees a half-built one.
  private rebuild(): void {
    const next = new Map<string, EffectiveSetting>();
    const ordered: EffectiveSetting[] = [];
    const positions: (CompiledRoute | EffectiveSetting)[] = [];
    const now = this.options.now();
    for (const route of [...this.snapshot.routes, this.snapshot.unmatched]) {
      const known = next.get(route.name);
      if (known !== undefined) {
        // Duplicate names are refused by compile; keep the first anyway, by name and by position.
        positions[2 * (route.index + 1)] = route;
        positions[2 * (route.index + 1) + 1] = known;
        continue;
      }
      const config = Object.freeze(configSetting(route));
      const override = this.overrides.get(route.name);
      const s: EffectiveSetting = Object.freeze({
        route: route.name,
        mode: override?.mode ?? config.mode,
        enforcePercent: override?.enforcePercent ?? config.enforcePercent,
        outsideCohort: config.outsideCohort,
        source: override === undefined ? 'config' : 'override',
        config,
        override,
      });
      next.set(route.name, s);
      ordered.push(s);
      positions[2 * (route.index + 1)] = route;
      positions[2 * (route.index + 1) + 1] = s;
      // Idempotent for an unchanged setting, so marking every route on every rebuild is safe.
      this.options.stats.markModeChange(route.name, s.mode, now, s.enforcePercent);
    }
    this.effective = next;
    this.byPosition = positions;
    this.ordered = Object.freeze(ordered);
    this.options.onChange?.(this.ordered);
  }
}
