// Route selection: by the name Envoy sends in context_extensions, else the first route whose host,
// path and method all match. Matchers are compiled once; matching allocates nothing.
import { compilePathPattern, matchPathPattern, type PathPattern } from './path-pattern.js';
import { ok, type Failure } from '../result.js';

/** Compiled match block of a route; an absent part matches anything. */
export interface RouteMatcher {
  readonly hosts: { readonly exact: ReadonlySet<string>; readonly suffixes: readonly string[] } | undefined;
  readonly paths: readonly PathPattern[] | undefined;
  readonly methods: ReadonlySet<string> | undefined;
}

/** The part of a compiled route that route selection needs. */
export interface MatchableRoute {
  readonly name: string;
  readonly matcher: RouteMatcher;
}

/** Compiles a route's match block; each error's code is the list and index of a bad entry (`paths[1]`). */
export function compileRouteMatcher(match: {
  readonly hosts?: readonly string[] | undefined;
  readonly paths?: readonly string[] | undefined;
  readonly methods?: readonly string[] | undefined;
} | undefined): { readonly ok: true; readonly value: RouteMatcher } | { readonly ok: false; readonly errors: readonly Failure[] } {
  let hosts: RouteMatcher['hosts'];
  if (match?.hosts && !match.hosts.includes('*')) {
    const exact = new Set<string>();
    const suffixes: string[] = [];
    for (const h of match.hosts) {
      const lower = h.toLowerCase();
      // "*.example.com" matches any depth of subdomain, never "example.com" itself (Envoy's rule).
      if (lower.startsWith('*.')) suffixes.push(lower.slice(1));
      else exact.add(lower);
    }
    hosts = { exact, suffixes };
  }
  let paths: PathPattern[] | undefined;
  const errors: Failure[] = [];
  if (match?.paths) {
    paths = [];
    for (const [i, source] of match.paths.entries()) {
      const p = compilePathPattern(source, requestSegmentProblem);
      if (!p.ok) errors.push({ code: `paths[${i}]`, detail: p.error.detail });
      else paths.push(p.value);
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const methods = match?.methods ? new Set(match.methods.map((m) => m.toUpperCase())) : undefined;
  return ok({ hosts, paths, methods });
}

// Request paths are matched after normalizePath, so a literal segment that normalisation always
// rewrites ("..", "%7E", "%2F", "%3a") could never match: such a pattern would silently send its
// requests to a later, perhaps more permissive, route. Reject it and say what to write instead.
function requestSegmentProblem(segment: string): string | undefined {
  if (segment === '.' || segment === '..') return 'dot segments never match: request paths are matched with "." and ".." resolved';
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x3f || c === 0x23 || c === 0x5c) {
      return 'must not contain spaces, control characters, "?", "#" or "\\"';
    }
    if (c === 0x25 && i + 2 < segment.length && isHex(segment.charCodeAt(i + 1)) && isHex(segment.charCodeAt(i + 2))) {
      const escape = segment.slice(i, i + 3);
      const v = Number.parseInt(segment.slice(i + 1, i + 3), 16);
      if (v === 0x2f || v === 0x5c) return `"${escape}" never matches: an encoded "/" or "\\" is matched as a separator`;
      if (isUnreservedByte(v)) return `"${escape}" never matches: request paths are matched decoded, write "${String.fromCharCode(v)}"`;
      if (escape !== escape.toUpperCase()) return `"${escape}" never matches: escapes are matched in upper case, write "${escape.toUpperCase()}"`;
    }
  }
  return undefined;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function isUnreservedByte(v: number): boolean {
  return (
    (v >= 0x41 && v <= 0x5a) || (v >= 0x61 && v <= 0x7a) || (v >= 0x30 && v <= 0x39) || v === 0x2d || v === 0x2e || v === 0x5f || v === 0x7e
  );
}

/** True when the (normalised) request matches the route's host, path and method. */
export function routeMatches(m: RouteMatcher, host: string, path: string, method: string): boolean {
  if (m.methods !== undefined && !m.methods.has(method)) return false;
  if (m.hosts !== undefined && !m.hosts.exact.has(host)) {
    let hit = false;
    for (const s of m.hosts.suffixes) {
      if (host.length > s.length && host.endsWith(s)) {
        hit = true;
        break;
      }
    }
    if (!hit) return false;
  }
  if (m.paths !== undefined) {
    for (const p of m.paths) if (matchPathPattern(p, path)) return true;
    return false;
  }
  return true;
}

/** First route (in config order) that matches, or undefined. */
export function matchRoute<R extends MatchableRoute>(routes: readonly R[], host: string, path: string, method: string): R | undefined {
  for (const r of routes) if (routeMatches(r.matcher, host, path, method)) return r;
  return undefined;
}

/** Candidate routes per request host, in config order: a map lookup instead of a scan of every route. */
export interface RouteIndex<R> {
  /** For each host some route names exactly: every route that could match that host. */
  readonly byHost: ReadonlyMap<string, readonly R[]>;
  /** For any other host: the routes without a host list or with a "*.suffix" entry. */
  readonly otherHosts: readonly R[];
  /** The same candidate lists, each with its path tree. */
  readonly lists: ReadonlyMap<string, CandidateList<R>>;
  readonly otherList: CandidateList<R>;
}

/**
 * One host's candidate routes and, once built, a tree of their literal leading path segments: a
 * request walks it along its own segments, and the node where it stops lists (in config order) the
 * only routes whose paths could match, so a host shared by many routes is not scanned.
 */
export interface CandidateList<R> {
  readonly routes: readonly R[];
  readonly tree: PathNode<R>;
}

/** A node of the path tree: the routes that could match a path that reaches it, and its children. */
export interface PathNode<R> {
  readonly children: Map<string, PathNode<R>>;
  /** Positions (in the list) of the routes with a pattern whose literal leading segments end here. */
  readonly own: number[];
  /** Positions of the routes with a "/prefix/**" pattern whose prefix ends here. */
  readonly prefixes: number[];
  /** The routes of this node and of all its ancestors, in config order. */
  candidates: readonly R[];
  /** The same routes with what is left to check for each once a request reached this node. */
  checks: readonly Candidate<R>[];
}

/** A route at a node of the path tree, with what reaching the node leaves to check. */
export interface Candidate<R> {
  readonly route: R;
  /** The route's methods as METHOD_BITS, ANY_METHOD without a method list. */
  readonly methodBits: number;
  /** The route's methods outside METHOD_BITS (checked by name), if any. */
  readonly otherMethods: ReadonlySet<string> | undefined;
  /** False in a list built for one exact host: every route in it matches that host. */
  readonly checkHost: boolean;
  /**
   * False when reaching the node proves the path: the route has no path list, or "**", or a
   * "/prefix/**" whose prefix is this node's or an ancestor's literal segments.
   */
  readonly checkPath: boolean;
}

// The common methods as bits, so a candidate's method check reads no Set. A request method outside
// them has bit 0 and is looked up by name in the candidate's otherMethods.
const METHOD_BITS: ReadonlyMap<string, number> = new Map(
  ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'].map((m, i) => [m, 1 << i]),
);
const ANY_METHOD = -1;

function methodBit(method: string): number {
  switch (method) {
    case 'GET':
      return 1;
    case 'POST':
      return 4;
    default:
      return METHOD_BITS.get(method) ?? 0;
  }
}

/** Builds the host index once per config; matching through it gives the same route as a full scan. */
export function indexRoutes<R extends MatchableRoute>(routes: readonly R[]): RouteIndex<R> {
  // One pass in config order: each list receives its routes in that order, each route at most once.
  const perHost = new Map<string, R[]>();
  for (const r of routes) for (const h of r.matcher.hosts?.exact ?? []) if (!perHost.has(h)) perHost.set(h, []);
  const other: R[] = [];
  for (const r of routes) {
    const m = r.matcher.hosts;
    if (m === undefined) {
      for (const list of perHost.values()) list.push(r);
      other.push(r);
      continue;
    }
    for (const h of m.exact) perHost.get(h)?.push(r);
    if (m.suffixes.length === 0) continue;
    other.push(r);
    for (const [h, list] of perHost) {
      if (!m.exact.has(h) && m.suffixes.some((s) => h.length > s.length && h.endsWith(s))) list.push(r);
    }
  }
  const byHost = new Map<string, readonly R[]>();
  const lists = new Map<string, CandidateList<R>>();
  for (const [h, list] of perHost) {
    const frozen = Object.freeze(list);
    byHost.set(h, frozen);
    // Built for exactly this host: every route in the list matches it.
    lists.set(h, { routes: frozen, tree: buildPathTree(frozen, false) });
  }
  const otherHosts = Object.freeze(other);
  // Any host no route names exactly: routes with "*.suffix" entries must still check theirs.
  return { byHost, otherHosts, lists, otherList: { routes: otherHosts, tree: buildPathTree(otherHosts, true) } };
}

/** The routes worth trying for a (normalised) host, in config order. */
export function routeCandidates<R>(index: RouteIndex<R>, host: string): readonly R[] {
  return index.byHost.get(host) ?? index.otherHosts;
}

/**
 * First route (in config order) that matches the normalised request, through the index: the same
 * route as matchRoute over every route, trying only the candidates of the host and path tree, and
 * for each only what reaching its node does not already prove.
 */
export function matchIndexedRoute<R extends MatchableRoute>(index: RouteIndex<R>, host: string, path: string, method: string): R | undefined {
  const list = index.lists.get(host) ?? index.otherList;
  if (list.routes.length === 0) return undefined;
  const checks = pathNode(list.tree, path).checks;
  const bit = methodBit(method);
  for (let i = 0; i < checks.length; i++) {
    const c = checks[i] as Candidate<R>;
    if (c.methodBits !== ANY_METHOD && (c.methodBits & bit) === 0 && (c.otherMethods === undefined || !c.otherMethods.has(method))) continue;
    if (c.checkHost && !hostMatches(c.route.matcher, host)) continue;
    if (c.checkPath && !pathMatches(c.route.matcher, path)) continue;
    return c.route;
  }
  return undefined;
}

function hostMatches(m: RouteMatcher, host: string): boolean {
  if (m.hosts === undefined || m.hosts.exact.has(host)) return true;
  for (const s of m.hosts.suffixes) if (host.length > s.length && host.endsWith(s)) return true;
  return false;
}

function pathMatches(m: RouteMatcher, path: string): boolean {
  if (m.paths === undefined) return true;
  for (const p of m.paths) if (matchPathPattern(p, path)) return true;
  return false;
}

/**
 * The deepest node a path reaches by its segments ("/a/b" → "a", "b"). A route can only match a path
 * whose leading segments equal its pattern's literal leading segments (exact path, "/prefix/**" on
 * segment boundaries, literals before the first "*"), and those lead to an ancestor of (or to) that
 * node, so no route that could match is left out of its candidates.
 */
function pathNode<R>(tree: PathNode<R>, path: string): PathNode<R> {
  let node = tree;
  if (path.charCodeAt(0) !== 0x2f) return node;
  let pos = 1;
  while (node.children.size > 0) {
    let end = path.indexOf('/', pos);
    if (end === -1) end = path.length;
    const child = node.children.get(path.slice(pos, end));
    if (child === undefined) break;
    node = child;
    if (end === path.length) break;
    pos = end + 1;
  }
  return node;
}

/** The literal leading segments of a pattern: where it sits in the path tree. */
function literalSegments(p: PathPattern): readonly string[] {
  switch (p.kind) {
    case 'any':
      return [];
    case 'exact':
      return p.path.startsWith('/') ? p.path.slice(1).split('/') : [];
    case 'prefix':
      return p.prefix === '' ? [] : p.prefix.slice(1).split('/');
    case 'segments': {
      const out: string[] = [];
      for (const seg of p.segments) {
        if (seg === null) break;
        out.push(seg);
      }
      return out;
    }
  }
}

/** The path tree of one candidate list; `checkHosts` when the list's routes must still check the host. */
function buildPathTree<R extends MatchableRoute>(routes: readonly R[], checkHosts = true): PathNode<R> {
  const newNode = (): PathNode<R> => ({ children: new Map(), own: [], prefixes: [], candidates: [], checks: [] });
  const root = newNode();
  for (const [i, r] of routes.entries()) {
    // No path list: every path. An empty list matches nothing and sits nowhere.
    const paths = r.matcher.paths;
    if (paths === undefined) {
      root.own.push(i);
      root.prefixes.push(i);
      continue;
    }
    for (const p of paths) {
      let node = root;
      for (const seg of literalSegments(p)) {
        let child = node.children.get(seg);
        if (child === undefined) {
          child = newNode();
          node.children.set(seg, child);
        }
        node = child;
      }
      if (!node.own.includes(i)) node.own.push(i);
      // "**" and "/**" are prefixes of everything (at the root); a "/a/**" of every path through "a".
      if ((p.kind === 'any' || p.kind === 'prefix') && !node.prefixes.includes(i)) node.prefixes.push(i);
    }
  }
  const candidateOf = (i: number, proven: ReadonlySet<number>): Candidate<R> => {
    const route = routes[i] as R;
    const methods = route.matcher.methods;
    let methodBits = methods === undefined ? ANY_METHOD : 0;
    let other: Set<string> | undefined;
    for (const m of methods ?? []) {
      const bit = METHOD_BITS.get(m);
      if (bit !== undefined) methodBits |= bit;
      else (other ??= new Set()).add(m);
    }
    return Object.freeze({ route, methodBits, otherMethods: other, checkHost: checkHosts && route.matcher.hosts !== undefined, checkPath: !proven.has(i) });
  };
  const fill = (node: PathNode<R>, inherited: readonly number[], inheritedProven: ReadonlySet<number>): void => {
    const positions = node.own.length === 0 ? inherited : [...new Set([...inherited, ...node.own])].sort((a, b) => a - b);
    const proven = node.prefixes.length === 0 ? inheritedProven : new Set([...inheritedProven, ...node.prefixes]);
    node.candidates = Object.freeze(positions.map((i) => routes[i] as R));
    node.checks = Object.freeze(positions.map((i) => candidateOf(i, proven)));
    for (const child of node.children.values()) fill(child, positions, proven);
  };
  fill(root, [], new Set());
  return root;
}
