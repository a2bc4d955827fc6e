// Route selection: by the name Envoy sends in context_extensions, else the first route whose host,
// path and method all match. Matchers are compiled once; matching allocates nothing.
import { compilePathPattern, matchPathPattern, type PathPattern } from './path-pattern.js';
import { fail, ok, type Result } from '../result.js';

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

/** Compiles a route's match block; errors carry the list and index of the bad entry. */
export function compileRouteMatcher(match: {
  readonly hosts?: readonly string[] | undefined;
  readonly paths?: readonly string[] | undefined;
  readonly methods?: readonly string[] | undefined;
} | undefined): Result<RouteMatcher, string> {
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
  if (match?.paths) {
    paths = [];
    for (const [i, source] of match.paths.entries()) {
      const p = compilePathPattern(source, requestSegmentProblem);
      if (!p.ok) return fail(`paths[${i}]`, p.error.detail);
      paths.push(p.value);
    }
  }
  const methods = match?.methods ? new Set(match.methods.map((m) => m.toUpperCase())) : undefined;
  return ok({ hosts, paths, methods });
}

function requestSegmentProblem(segment: string): string | undefined {
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x3f || c === 0x23 || c === 0x5c) {
      return 'must not contain spaces, control characters, "?", "#" or "\\"';
    }
  }
  return undefined;
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
