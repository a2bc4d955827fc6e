// Remembered outcomes of Checks whose caller is named by the peer principal alone (the common case
// in a mesh): for the same snapshot, the same route and the same principal, the outcome — decision,
// reason, rule, detail, identity — is the same, so a caller that calls again skips the principal
// parse and the walk through the route's rule maps; only the effect (the rollout setting may change
// at any time) is worked out again. Bounded by count and key length, oldest entry first out, and
// emptied when a Check comes with another snapshot (a reload): outcomes depend on the config.
import type { CompiledRoute, ConfigSnapshot } from '../config/compile.js';
import type { Reason } from './reasons.js';
import type { CallerIdentity, Decision } from './types.js';

/** What a Check decided, before the rollout setting gives its effect. */
export interface Outcome {
  readonly decision: Decision;
  readonly reason: Reason;
  readonly rule: string;
  readonly detail: string;
  readonly identity: CallerIdentity | undefined;
}

/** One remembered outcome, for `route`, while the request lacks the sources in `needs` (principalOnlyNeeds); one object, read in one go. */
export interface MemoEntry extends Outcome {
  readonly route: CompiledRoute;
  readonly needs: number;
}

const MAX_ENTRIES = 32_768;
/** Longest principal (and route name) remembered; longer ones are decided every time. */
const MAX_KEY_CHARS = 256;

/**
 * A bounded memo for one snapshot at a time: route name (as Envoy sent it) → principal → entry for
 * Checks that named their route, route → principal → entry for Checks matched to one. Two lookups by
 * the request's own strings rather than one by a joined key: a key built per request would have to be
 * hashed per request. At MAX_ENTRIES everything is forgotten at once (simple, bounded, and a miss only
 * costs the full decision).
 */
export class DecisionMemo {
  private snapshot: ConfigSnapshot | undefined;
  private byName = new Map<string, Map<string, MemoEntry>>();
  private byRoute = new Map<CompiledRoute, Map<string, MemoEntry>>();
  private count = 0;

  constructor(private readonly maxEntries: number = MAX_ENTRIES) {}

  /** The entry of a Check that named its route `routeName`, under `snapshot`. */
  getNamed(snapshot: ConfigSnapshot, routeName: string, principal: string): MemoEntry | undefined {
    if (snapshot !== this.snapshot) return undefined;
    return this.byName.get(routeName)?.get(principal);
  }

  /** The entry of a Check matched to `route`, under `snapshot`. */
  getMatched(snapshot: ConfigSnapshot, route: CompiledRoute, principal: string): MemoEntry | undefined {
    if (snapshot !== this.snapshot) return undefined;
    return this.byRoute.get(route)?.get(principal);
  }

  /** Remembers the entry of a Check that named its route (`routeName`) or was matched to it (undefined). */
  set(snapshot: ConfigSnapshot, routeName: string | undefined, principal: string, entry: MemoEntry): void {
    if (this.maxEntries <= 0 || principal.length > MAX_KEY_CHARS || (routeName !== undefined && routeName.length > MAX_KEY_CHARS)) return;
    // A new snapshot (a reload): what was remembered under the previous one no longer holds.
    if (snapshot !== this.snapshot || this.count >= this.maxEntries) this.clear(snapshot);
    let inner: Map<string, MemoEntry> | undefined;
    if (routeName !== undefined) {
      inner = this.byName.get(routeName);
      if (inner === undefined) this.byName.set(routeName, (inner = new Map()));
    } else {
      inner = this.byRoute.get(entry.route);
      if (inner === undefined) this.byRoute.set(entry.route, (inner = new Map()));
    }
    if (!inner.has(principal)) this.count++;
    inner.set(principal, entry);
  }

  /** Entries held (tests). */
  get size(): number {
    return this.count;
  }

  private clear(snapshot: ConfigSnapshot): void {
    this.snapshot = snapshot;
    this.byName = new Map();
    this.byRoute = new Map();
    this.count = 0;
  }
}
