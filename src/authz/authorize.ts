// One Check, transport-neutral: route → identity → policy → rollout. Pure apart from the injected
// id generator (and the memo of outcomes, which gives the same answers, only sooner); an exception
// anywhere inside fails closed (allowed only on a route in shadow).
import type { CompiledRoute, ConfigSnapshot } from '../config/compile.js';
import { cachedProof, otherSourcesAbsent, principalOnlyNeeds, resolveIdentity, type IdentityContext, type IdentityResult } from '../identity/resolve-identity.js';
import { evaluatePolicy } from '../policy/evaluate-policy.js';
import { normalizePath } from '../policy/normalize-path.js';
import { matchIndexedRoute } from '../policy/route-match.js';
import { applyRollout } from '../rollout/apply-rollout.js';
import { COHORT_BUCKETS, cohortBucket, cohortThreshold } from '../rollout/cohort.js';
import type { RouteSetting } from '../rollout/rollout-state.js';
import { memoOf, type MemoEntry, type Outcome } from './decision-memo.js';
import { checkRequestLimits, type LimitExceeded } from './request-limits.js';
import type { CheckInput, Decision, Effect, Mode, Verdict } from './types.js';

/** What authorize needs from outside: ids, the effective rollout setting of a route (overrides live there), identity context. */
export interface AuthorizeDeps {
  readonly newDecisionId: () => string;
  /** Mode, enforce percent and outside-cohort effect in force for the route; read once per Check. */
  readonly settingOf: (route: CompiledRoute) => RouteSetting;
  /** Clock, trust bundles and verification caches for this request. */
  readonly identity: (snapshot: ConfigSnapshot) => IdentityContext;
}

/**
 * The route a request belongs to, and why when it is the virtual unmatched route. With `byNameOnly`
 * (a path over limits.maxPathBytes) the path is not matched: an unnamed request goes to _unmatched.
 */
export function selectRoute(snapshot: ConfigSnapshot, input: CheckInput, byNameOnly = false): { route: CompiledRoute; detail: string } {
  const route = routeOf(snapshot, input, byNameOnly);
  return { route, detail: route === snapshot.unmatched ? unmatchedDetail(input, byNameOnly) : '' };
}

/** selectRoute's route, without building its result. */
function routeOf(snapshot: ConfigSnapshot, input: CheckInput, byNameOnly: boolean): CompiledRoute {
  if (input.routeName !== undefined) return snapshot.routesByName.get(input.routeName) ?? snapshot.unmatched;
  if (byNameOnly) return snapshot.unmatched;
  return matchedRoute(snapshot, input);
}

/** The route the request's host, path and method match, or the unmatched route. */
function matchedRoute(snapshot: ConfigSnapshot, input: CheckInput): CompiledRoute {
  return matchIndexedRoute(snapshot.routeIndex, input.host, normalizePath(input.path), input.method) ?? snapshot.unmatched;
}

/** routeOf for authorize(): the same route, a repeated host, path and method found among the snapshot's recent matches. */
function routeOfRemembered(snapshot: ConfigSnapshot, input: CheckInput, byNameOnly: boolean): CompiledRoute {
  if (input.routeName !== undefined || byNameOnly) return routeOf(snapshot, input, byNameOnly);
  const memo = memoOf(snapshot);
  const recent = memo.recentRoute(input.host, input.path, input.method);
  if (recent !== undefined) return recent;
  const route = matchedRoute(snapshot, input);
  memo.rememberRoute(input.host, input.path, input.method, route);
  return route;
}

/** Why routeOf gave the unmatched route (only computed for a request that gets it). */
function unmatchedDetail(input: CheckInput, byNameOnly: boolean): string {
  if (input.routeName !== undefined) return `context_extensions names route "${input.routeName}", which is not configured`;
  if (byNameOnly) return 'the path was not matched: it is over limits.maxPathBytes';
  return 'no route matches the host, path and method';
}

/**
 * Decides one Check under one config snapshot. Never throws (nor rejects). Synchronous unless a
 * JWT-SVID has to be verified (cache miss): then it returns a Promise.
 */
export function authorize(snapshot: ConfigSnapshot, input: CheckInput, deps: AuthorizeDeps): Verdict | Promise<Verdict> {
  const decisionId = deps.newDecisionId();
  let route: CompiledRoute | undefined;
  let mode: Mode | undefined;
  try {
    // Oversized requests are decided before any identity source is parsed; the route's mode still
    // decides the effect (a shadow route lets them through, counted as would-deny).
    const tooLarge = checkRequestLimits(input, snapshot.config.limits);
    const byNameOnly = tooLarge !== undefined && tooLarge.limit === 'maxPathBytes';
    // A Check with a principal may find its outcome remembered (by route and principal); a named
    // route is then not even looked up.
    let remember = false;
    let remembered: MemoEntry | undefined;
    let r: CompiledRoute;
    if (tooLarge === undefined && input.principal !== '') {
      remember = true;
      if (input.routeName !== undefined) {
        remembered = memoOf(snapshot).getNamed(input.routeName, input.principal);
        r = remembered !== undefined ? remembered.route : routeOf(snapshot, input, false);
      } else {
        r = routeOfRemembered(snapshot, input, false);
        remembered = memoOf(snapshot).getMatched(r, input.principal);
      }
    } else r = routeOfRemembered(snapshot, input, byNameOnly);
    route = r;
    // Read before any await, in the same tick as the snapshot: a Check that goes async keeps the
    // setting it started with, as it keeps its snapshot.
    const setting = deps.settingOf(r);
    mode = setting.mode;
    if (tooLarge !== undefined) return tooLargeVerdict(decisionId, r, setting, tooLarge);
    const ctx = deps.identity(snapshot);
    // Remembered for this very route, and the request still carries no source besides the principal.
    if (remembered !== undefined && remembered.route === r && otherSourcesAbsent(input, remembered.needs, snapshot)) {
      return verdictOf(decisionId, r, setting, remembered);
    }
    // A caller named by a certificate or JWT-SVID whose verification result is cached, or by XFCC:
    // remembered by route and that result or parse (not on the unmatched route, whose detail
    // depends on the request).
    let proof: object | undefined;
    if (r.fixedDecision === undefined) {
      proof = cachedProof(input, snapshot, ctx);
      if (proof !== undefined) {
        const proven = memoOf(snapshot).getProven(r, proof);
        if (proven !== undefined && proven.principal === input.principal) return verdictOf(decisionId, r, setting, proven);
      }
    }
    const identity = resolveIdentity(input, r, snapshot, ctx);
    if (identity instanceof Promise) return decideLater(identity, decisionId, r, setting, snapshot, input, byNameOnly);
    return decide(decisionId, r, setting, identity, snapshot, input, byNameOnly, remember, proof);
  } catch (e) {
    return internalErrorVerdict(decisionId, route?.name ?? snapshot.unmatched.name, mode ?? 'enforce', e);
  }
}

function decideLater(
  identity: Promise<IdentityResult>,
  decisionId: string,
  route: CompiledRoute,
  setting: RouteSetting,
  snapshot: ConfigSnapshot,
  input: CheckInput,
  byNameOnly: boolean,
): Promise<Verdict> {
  return identity.then(
    (id) => decide(decisionId, route, setting, id, snapshot, input, byNameOnly, false),
    (e: unknown) => internalErrorVerdict(decisionId, route.name, setting.mode, e),
  );
}

function decide(
  decisionId: string,
  route: CompiledRoute,
  setting: RouteSetting,
  identity: IdentityResult,
  snapshot: ConfigSnapshot,
  input: CheckInput,
  byNameOnly: boolean,
  remember: boolean,
  proof?: object,
): Verdict {
  try {
    const outcome = outcomeOf(route, identity, snapshot, input, byNameOnly);
    if (proof !== undefined) {
      const { decision, reason, rule, detail, identity: caller } = outcome;
      memoOf(snapshot).setProven(route, proof, { principal: input.principal, decision, reason, rule, detail, identity: caller });
    }
    if (remember) {
      // Remembered only when the principal alone named the caller: then nothing else in the request
      // went into the outcome (the route's rules, the snapshot's trust domains and the principal did).
      const needs = principalOnlyNeeds(route, snapshot);
      if (needs >= 0 && otherSourcesAbsent(input, needs, snapshot)) {
        const { decision, reason, rule, detail, identity: caller } = outcome;
        memoOf(snapshot).set(input.routeName, input.principal, { route, needs, decision, reason, rule, detail, identity: caller });
      }
    }
    return verdictOf(decisionId, route, setting, outcome);
  } catch (e) {
    return internalErrorVerdict(decisionId, route.name, setting.mode, e);
  }
}

/** The decision of the route's policy (or of the unmatched route) for the identity found. */
function outcomeOf(route: CompiledRoute, identity: IdentityResult, snapshot: ConfigSnapshot, input: CheckInput, byNameOnly: boolean): Outcome {
  if (route.fixedDecision !== undefined) {
    const caller = identity.ok ? identity.value : undefined;
    return { decision: route.fixedDecision, reason: 'NO_ROUTE', rule: '', detail: unmatchedDetail(input, byNameOnly), identity: caller };
  }
  if (!identity.ok) return { decision: 'deny', reason: identity.error.code, rule: '', detail: identity.error.detail, identity: undefined };
  const p = evaluatePolicy(route, identity.value, snapshot.trustDomains);
  return { decision: p.decision, reason: p.reason, rule: p.rule, detail: p.detail, identity: identity.value };
}

function verdictOf(decisionId: string, route: CompiledRoute, setting: RouteSetting, o: Outcome): Verdict {
  return {
    decisionId,
    route: route.name,
    mode: setting.mode,
    enforcePercent: setting.enforcePercent,
    decision: o.decision,
    // The identity is only read for a deny under enforce (the cohort bucket may need it).
    effect: o.decision === 'allow' || setting.mode !== 'enforce' ? applyRollout(setting.mode, o.decision) : rolloutEffect(setting, o.decision, route.name, o.identity?.spiffeId),
    reason: o.reason,
    detail: o.detail,
    rule: o.rule,
    identity: o.identity,
  };
}

function tooLargeVerdict(decisionId: string, route: CompiledRoute, setting: RouteSetting, exceeded: LimitExceeded): Verdict {
  return verdictOf(decisionId, route, setting, { decision: 'deny', reason: 'REQUEST_TOO_LARGE', rule: '', detail: exceeded.detail, identity: undefined });
}

/**
 * The effect of a decision under a route's setting; the same as applyRolloutWithPercent with the
 * caller's cohort bucket, which is hashed only when it can matter: a deny on an enforce route with
 * a percent below 100.
 */
export function rolloutEffect(setting: RouteSetting, decision: Decision, route: string, spiffeId: string | undefined): Effect {
  if (decision === 'allow' || setting.mode !== 'enforce') return applyRollout(setting.mode, decision);
  const threshold = cohortThreshold(setting.enforcePercent);
  if (threshold >= COHORT_BUCKETS) return 'deny';
  return applyRollout(cohortBucket(route, spiffeId) < threshold ? 'enforce' : setting.outsideCohort, decision);
}

/**
 * The verdict for an unexpected error: deny, except on a shadow route where the request flows.
 * Whatever the route's percent: an error is no caller to sort into a cohort, so it fails closed.
 */
export function internalErrorVerdict(decisionId: string, route: string, mode: Mode, error: unknown): Verdict {
  return {
    decisionId,
    route,
    mode,
    enforcePercent: 100,
    decision: 'deny',
    effect: mode === 'shadow' ? 'allow' : 'deny',
    reason: 'INTERNAL_ERROR',
    detail: error instanceof Error ? `${error.name}: ${error.message}` : 'non-Error thrown',
    rule: '',
    identity: undefined,
  };
}
