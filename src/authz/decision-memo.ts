// Remembered outcomes of Checks whose caller is named by the peer principal alone (the common case
// in a mesh): for the same snapshot, the same route and the same principal, the outcome — decision,
// reason, rule, detail, identity — is the same, so a caller that calls again skips the principal
// parse and the walk through the route's rule maps; only the effect (the rollout setting may change
// at any time) is worked out again. The same holds for a caller named by a peer certificate or a
// JWT-SVID whose verification result is cached, or by an XFCC header (getProven). One memo per
// snapshot (outcomes depend on the config), bounded by count and key length.
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

/**
 * One remembered outcome of a Check whose caller is named by a certificate, a JWT-SVID or an XFCC
 * header: kept under the route and the object that stands for it (see DecisionMemo.getProven),
 * with the peer principal that came with it ('' for none).
 */
export interface ProvenEntry extends Outcome {
  readonly principal: string;
}

const MAX_ENTRIES = 32_768;
/** Route matches remembered by host, path and method (the last few), and the longest path kept. */
const RECENT_ROUTES = 8;
const MAX_PATH_CHARS = 1024;
/** Longest principal (and route name) remembered; longer ones are decided every time. */
const MAX_KEY_CHARS = 256;

/**
 * The memo of one snapshot: route name (as Envoy sent it) → principal → entry for Checks that named
 * their route, route → principal → entry for Checks matched to one. Two lookups by the request's own
 * strings rather than one by a joined key: a key built per request would have to be hashed per
 * request. At MAX_ENTRIES everything is forgotten at once (simple, bounded, and a miss only costs the
 * full decision).
 */
export class DecisionMemo {
  private byName = new Map<string, Map<string, MemoEntry>>();
  private byRoute = new Map<CompiledRoute, Map<string, MemoEntry>>();
  private byProof = new Map<CompiledRoute, WeakMap<object, ProvenEntry>>();
  private count = 0;
  private readonly recentPaths: (string | undefined)[] = new Array<string | undefined>(RECENT_ROUTES).fill(undefined);
  private readonly recentHosts: string[] = new Array<string>(RECENT_ROUTES).fill('');
  private readonly recentMethods: string[] = new Array<string>(RECENT_ROUTES).fill('');
  private readonly recentRoutes: (CompiledRoute | undefined)[] = new Array<CompiledRoute | undefined>(RECENT_ROUTES).fill(undefined);
  private nextRoute = 0;

  constructor(private readonly maxEntries: number = MAX_ENTRIES) {}

  /**
   * The route a recent request with this host, path (as received, query stripped) and method was
   * matched to. Matching is a pure function of the snapshot and these three, and callers repeat
   * them: comparing a few strings costs less than normalizing the path and walking the route index.
   */
  recentRoute(host: string, path: string, method: string): CompiledRoute | undefined {
    for (let i = 0; i < RECENT_ROUTES; i++) {
      if (this.recentPaths[i] === path && this.recentHosts[i] === host && this.recentMethods[i] === method) return this.recentRoutes[i];
    }
    return undefined;
  }

  /** Remembers a match for recentRoute (the oldest of the last few goes); long paths are not kept. */
  rememberRoute(host: string, path: string, method: string, route: CompiledRoute): void {
    if (path.length > MAX_PATH_CHARS || host.length > MAX_PATH_CHARS) return;
    const i = this.nextRoute;
    this.recentPaths[i] = path;
    this.recentHosts[i] = host;
    this.recentMethods[i] = method;
    this.recentRoutes[i] = route;
    this.nextRoute = (i + 1) % RECENT_ROUTES;
  }

  /** The entry of a Check that named its route `routeName`. */
  getNamed(routeName: string, principal: string): MemoEntry | undefined {
    return this.byName.get(routeName)?.get(principal);
  }

  /** The entry of a Check matched to `route`. */
  getMatched(route: CompiledRoute, principal: string): MemoEntry | undefined {
    return this.byRoute.get(route)?.get(principal);
  }

  /**
   * The entry of a Check on `route` whose caller `proof` names: the very object a ResultCache
   * returned for the request's certificate or token, or readXfcc for its XFCC header (see
   * cachedProof in resolve-identity.ts). The same object comes back for the same input only, and a
   * cached result only while it is valid (unexpired, bundles and config unchanged), so the object
   * stands for all of that. Keyed weakly: an entry goes when its proof leaves the cache. The
   * caller compares the principal.
   */
  getProven(route: CompiledRoute, proof: object): ProvenEntry | undefined {
    return this.byProof.get(route)?.get(proof);
  }

  /** Remembers the entry of a Check on `route` proven by `proof` (see getProven). */
  setProven(route: CompiledRoute, proof: object, entry: ProvenEntry): void {
    if (this.maxEntries <= 0 || entry.principal.length > MAX_KEY_CHARS) return;
    this.makeRoom();
    let inner = this.byProof.get(route);
    if (inner === undefined) this.byProof.set(route, (inner = new WeakMap()));
    if (!inner.has(proof)) this.count++;
    inner.set(proof, entry);
  }

  /** Remembers the entry of a Check that named its route (`routeName`) or was matched to it (undefined). */
  set(routeName: string | undefined, principal: string, entry: MemoEntry): void {
    if (this.maxEntries <= 0 || principal.length > MAX_KEY_CHARS || (routeName !== undefined && routeName.length > MAX_KEY_CHARS)) return;
    this.makeRoom();
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

  /** At maxEntries, forgets everything. */
  private makeRoom(): void {
    if (this.count < this.maxEntries) return;
    this.byName = new Map();
    this.byRoute = new Map();
    this.byProof = new Map();
    this.count = 0;
  }

  /** Entries held (tests; proven entries whose proof has gone still count until the next reset). */
  get size(): number {
    return this.count;
  }
}

// One memo per snapshot, made on first use. Held weakly: when a reload replaces the snapshot and the
// last Check on the old one is done, its memo goes with it; several servers in one process (tests)
// keep theirs apart. The last one used is also held directly, so the usual Check (same snapshot as
// the one before) compares one pointer; it is replaced as soon as a Check comes with another.
const memos = new WeakMap<ConfigSnapshot, DecisionMemo>();
let lastSnapshot: ConfigSnapshot | undefined;
let lastMemo: DecisionMemo | undefined;

/** The memo of `snapshot`. */
export function memoOf(snapshot: ConfigSnapshot): DecisionMemo {
  if (snapshot === lastSnapshot && lastMemo !== undefined) return lastMemo;
  let memo = memos.get(snapshot);
  if (memo === undefined) memos.set(snapshot, (memo = new DecisionMemo()));
  lastSnapshot = snapshot;
  lastMemo = memo;
  return memo;
}
