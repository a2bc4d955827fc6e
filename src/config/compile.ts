// Validated Config → frozen ConfigSnapshot with precompiled matchers. Done once per load, never per
// request. Cross-field rules the schema cannot express are checked here, with key paths.
import type { IdentitySource, Mode } from '../authz/types.js';
import { RuleIds, compileIdRules, type IdRuleSet } from '../policy/id-rules.js';
import type { OutsideCohortEffect } from '../rollout/cohort.js';
import { compileRouteMatcher, indexRoutes, type MatchableRoute, type RouteIndex, type RouteMatcher } from '../policy/route-match.js';
import { formatKeyPath, type ConfigIssue, type ConfigResult } from './issues.js';
import { UNMATCHED_ROUTE, trustDomainName, type Config, type RouteConfig } from './schema.js';

/** Allow and deny rules of one trust domain on one route. */
export interface TrustDomainRules {
  readonly allow: IdRuleSet | undefined;
  readonly deny: IdRuleSet | undefined;
}

/** A route ready for evaluation. */
export interface CompiledRoute {
  readonly name: string;
  /** Compiled `match` block; undefined for a route Envoy can only select by name (context_extensions). */
  readonly matcher: RouteMatcher | undefined;
  /** Position in the config's routes list; -1 for the virtual unmatched route. */
  readonly index: number;
  /** Mode set by the config (route's own, else defaults.mode). */
  readonly mode: Mode;
  /** Share of callers a deny is enforced for under enforce (route's own, else 100). */
  readonly enforcePercent: number;
  /** What callers outside the enforced cohort get (route's own, else rollout.outsideCohort). */
  readonly outsideCohort: OutsideCohortEffect;
  /** Rules keyed by trust domain: an ID is only ever compared with rules of its own trust domain. */
  readonly rules: ReadonlyMap<string, TrustDomainRules>;
  /** For the virtual unmatched route: the fixed decision from defaults.unmatchedRoute. */
  readonly fixedDecision: 'allow' | 'deny' | undefined;
  /** Identity sources this route accepts, in order (the route's own list, else identity.sources). */
  readonly sources: readonly IdentitySource[];
  /** True when a caller must present a valid JWT-SVID; the identity is then the token's subject. */
  readonly requireJwtSvid: boolean;
}

/** Everything a Check needs, compiled and frozen; swapped whole on reload. */
export interface ConfigSnapshot {
  readonly config: Config;
  /** Where the config came from (a file path, or a label). */
  readonly source: string;
  readonly loadedAt: number;
  readonly trustDomains: ReadonlySet<string>;
  readonly routes: readonly CompiledRoute[];
  readonly routesByName: ReadonlyMap<string, CompiledRoute>;
  /** Routes with a `match` block, in config order: the candidates when no route is named. */
  readonly matchableRoutes: readonly (CompiledRoute & MatchableRoute)[];
  /** matchableRoutes indexed by host, so selection does not scan every route. */
  readonly routeIndex: RouteIndex<CompiledRoute & MatchableRoute>;
  readonly unmatched: CompiledRoute;
  /** Bundle file per trust domain, for the trust domains configured with one. */
  readonly bundleFiles: ReadonlyMap<string, string>;
}

/** Compiles a validated config; returns every cross-field problem found, each with its key path. */
export function compileConfig(config: Config, source: string, loadedAt: number): ConfigResult<ConfigSnapshot> {
  const issues: ConfigIssue[] = [];
  const trustDomains = new Set(config.trustDomains.map(trustDomainName));
  const bundleFiles = new Map<string, string>();
  for (const entry of config.trustDomains) if (typeof entry !== 'string') bundleFiles.set(entry.name, entry.bundle);
  if (config.identity.xfcc.hop === 'origin' && config.identity.xfcc.trustedProxies.length === 0) {
    issues.push({ path: 'identity.xfcc.trustedProxies', message: 'must name the forwarding proxies when hop is origin' });
  }
  const jwtAudiences = config.identity.jwt.audiences.length > 0;
  if (!jwtAudiences && config.identity.sources.includes('jwt')) {
    issues.push({ path: 'identity.jwt.audiences', message: 'must list at least one audience when jwt is an identity source' });
  }
  const routes: CompiledRoute[] = [];
  const byName = new Map<string, CompiledRoute>();
  const seenNames = new Set<string>();

  // Shared by every route that sets no sources of its own (frozen, like everything in the snapshot).
  const globalSources = Object.freeze([...config.identity.sources]);
  // Rule ids and their labels (`allow["prod.example.org"]`) recur on every route: one string each.
  const ruleIds = new RuleIds();
  const labels = { allow: new Map<string, string>(), deny: new Map<string, string>() };

  for (let index = 0; index < config.routes.length; index++) {
    const r = config.routes[index] as RouteConfig;
    if (r.name === UNMATCHED_ROUTE) issues.push({ path: routeKeyPath(index, ['name']), message: `"${UNMATCHED_ROUTE}" is reserved` });
    if (seenNames.has(r.name)) issues.push({ path: routeKeyPath(index, ['name']), message: `duplicate route name "${r.name}"` });
    seenNames.add(r.name);

    // A route without `match` is selected only by name; `match: {}` matches every request.
    const matcher = r.match === undefined ? undefined : compileRouteMatcher(r.match);
    // Report every problem of the route: a bad match block does not hide bad rules.
    if (matcher !== undefined && !matcher.ok) {
      for (const e of matcher.errors) issues.push({ path: `${routeKeyPath(index, ['match'])}.${e.code}`, message: e.detail });
    }
    const rules = new Map<string, { allow: IdRuleSet | undefined; deny: IdRuleSet | undefined }>();
    for (const list of ['allow', 'deny'] as const) {
      const byTrustDomain = r[list];
      for (const td of Object.keys(byTrustDomain)) {
        const patterns = byTrustDomain[td] as string[];
        if (!trustDomains.has(td)) {
          issues.push({ path: routeKeyPath(index, [list, td]), message: `trust domain "${td}" is not listed in trustDomains` });
          continue;
        }
        let label = labels[list].get(td);
        if (label === undefined) labels[list].set(td, (label = `${list}[${JSON.stringify(td)}]`));
        const compiled = compileIdRules(patterns, label, ruleIds);
        if (!compiled.ok) {
          for (const e of compiled.errors) issues.push({ path: routeKeyPath(index, [list, td, e.index]), message: e.detail });
          continue;
        }
        const entry = rules.get(td) ?? { allow: undefined, deny: undefined };
        entry[list] = compiled.value; // frozen by compileIdRules
        rules.set(td, entry);
      }
    }
    if (!jwtAudiences && (r.identity?.requireJwtSvid === true || r.identity?.sources?.includes('jwt') === true)) {
      issues.push({ path: routeKeyPath(index, ['identity']), message: 'uses jwt, so identity.jwt.audiences must list at least one audience' });
    }
    if (r.identity?.requireJwtSvid === true && !(r.identity.sources ?? config.identity.sources).includes('jwt')) {
      issues.push(
        r.identity.sources !== undefined
          ? { path: routeKeyPath(index, ['identity', 'sources']), message: 'must include jwt when requireJwtSvid is true' }
          : { path: routeKeyPath(index, ['identity', 'requireJwtSvid']), message: 'needs jwt in identity.sources (or in this route\'s identity.sources)' },
      );
    }
    if (matcher !== undefined && !matcher.ok) continue;
    for (const entry of rules.values()) Object.freeze(entry);
    const route: CompiledRoute = Object.freeze({
      name: r.name,
      index,
      mode: r.mode ?? config.defaults.mode,
      matcher: matcher === undefined ? undefined : deepFreeze(matcher.value),
      rules,
      fixedDecision: undefined,
      enforcePercent: r.enforcePercent,
      outsideCohort: r.outsideCohort ?? config.rollout.outsideCohort,
      sources: r.identity?.sources === undefined ? globalSources : Object.freeze([...r.identity.sources]),
      requireJwtSvid: r.identity?.requireJwtSvid ?? false,
    });
    routes.push(route);
    if (!byName.has(r.name)) byName.set(r.name, route);
  }
  if (issues.length > 0) return { ok: false, issues };

  const unmatched: CompiledRoute = Object.freeze({
    name: UNMATCHED_ROUTE,
    index: -1,
    mode: config.defaults.mode,
    matcher: undefined,
    rules: new Map(),
    fixedDecision: config.defaults.unmatchedRoute,
    enforcePercent: 100,
    outsideCohort: config.rollout.outsideCohort,
    sources: globalSources,
    requireJwtSvid: false,
  });
  const matchableRoutes = Object.freeze(routes.filter((r): r is CompiledRoute & MatchableRoute => r.matcher !== undefined));
  return {
    ok: true,
    value: Object.freeze({
      config: deepFreeze(config),
      source,
      loadedAt,
      trustDomains,
      routes: Object.freeze(routes),
      routesByName: byName,
      matchableRoutes,
      routeIndex: indexRoutes(matchableRoutes),
      unmatched,
      bundleFiles,
    }),
  };
}

/** Formats the key path of something inside routes[index]; only called when there is an issue. */
function routeKeyPath(index: number, rest: readonly PropertyKey[]): string {
  return formatKeyPath(['routes', index, ...rest]);
}

/** Freezes a tree of objects and arrays in place. Children are read by index or key, without copying
 *  each array or object into a list first (the config holds thousands of pattern lists). */
function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i];
      if (child !== null && typeof child === 'object') deepFreeze(child);
    }
  } else {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const child = record[key];
      if (child !== null && typeof child === 'object') deepFreeze(child);
    }
  }
  return value;
}
