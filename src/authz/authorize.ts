// One Check, transport-neutral: route → identity → policy → rollout. Pure apart from the injected
// id generator; an exception anywhere inside fails closed (allowed only on a route in shadow).
import type { CompiledRoute, ConfigSnapshot } from '../config/compile.js';
import { resolveIdentity, type IdentityContext, type IdentityResult } from '../identity/resolve-identity.js';
import { evaluatePolicy, type PolicyOutcome } from '../policy/evaluate-policy.js';
import { normalizePath } from '../policy/normalize-path.js';
import { matchRoute, routeCandidates } from '../policy/route-match.js';
import { COHORT_BUCKETS, applyRolloutWithPercent, cohortBucket, cohortThreshold } from '../rollout/cohort.js';
import type { RouteSetting } from '../rollout/rollout-state.js';
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
  if (input.routeName !== undefined) {
    const named = snapshot.routesByName.get(input.routeName);
    if (named !== undefined) return { route: named, detail: '' };
    return { route: snapshot.unmatched, detail: `context_extensions names route "${input.routeName}", which is not configured` };
  }
  if (byNameOnly) return { route: snapshot.unmatched, detail: 'the path was not matched: it is over limits.maxPathBytes' };
  const found = matchRoute(routeCandidates(snapshot.routeIndex, input.host), input.host, normalizePath(input.path), input.method);
  if (found !== undefined) return { route: found, detail: '' };
  return { route: snapshot.unmatched, detail: 'no route matches the host, path and method' };
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
    const selected = selectRoute(snapshot, input, tooLarge?.limit === 'maxPathBytes');
    const r = selected.route;
    route = r;
    // Read before any await, in the same tick as the snapshot: a Check that goes async keeps the
    // setting it started with, as it keeps its snapshot.
    const setting = deps.settingOf(r);
    mode = setting.mode;
    const m = setting.mode;
    if (tooLarge !== undefined) return tooLargeVerdict(decisionId, r, setting, tooLarge);
    const identity = resolveIdentity(input, r, snapshot, deps.identity(snapshot));
    if (identity instanceof Promise) {
      return identity.then(
        (id) => decide(decisionId, r, setting, selected.detail, id, snapshot),
        (e: unknown) => internalErrorVerdict(decisionId, r.name, m, e),
      );
    }
    return decide(decisionId, r, setting, selected.detail, identity, snapshot);
  } catch (e) {
    return internalErrorVerdict(decisionId, route?.name ?? snapshot.unmatched.name, mode ?? 'enforce', e);
  }
}

function decide(decisionId: string, route: CompiledRoute, setting: RouteSetting, routeDetail: string, identity: IdentityResult, snapshot: ConfigSnapshot): Verdict {
  const mode = setting.mode;
  try {
    let outcome: PolicyOutcome;
    if (route.fixedDecision !== undefined) {
      outcome = { decision: route.fixedDecision, reason: 'NO_ROUTE', rule: '', detail: routeDetail };
    } else if (!identity.ok) {
      outcome = { decision: 'deny', reason: identity.error.code, rule: '', detail: identity.error.detail };
    } else {
      outcome = evaluatePolicy(route, identity.value, snapshot.trustDomains);
    }
    return {
      decisionId,
      route: route.name,
      mode,
      enforcePercent: setting.enforcePercent,
      decision: outcome.decision,
      effect: rolloutEffect(setting, outcome.decision, route.name, identity.ok ? identity.value.spiffeId : undefined),
      reason: outcome.reason,
      detail: outcome.detail,
      rule: outcome.rule,
      identity: identity.ok ? identity.value : undefined,
    };
  } catch (e) {
    return internalErrorVerdict(decisionId, route.name, mode, e);
  }
}

function tooLargeVerdict(decisionId: string, route: CompiledRoute, setting: RouteSetting, exceeded: LimitExceeded): Verdict {
  return {
    decisionId,
    route: route.name,
    mode: setting.mode,
    enforcePercent: setting.enforcePercent,
    decision: 'deny',
    effect: rolloutEffect(setting, 'deny', route.name, undefined),
    reason: 'REQUEST_TOO_LARGE',
    detail: exceeded.detail,
    rule: '',
    identity: undefined,
  };
}

/**
 * The effect of a decision under a route's setting. The caller's cohort bucket is hashed only when
 * it can matter: a deny on an enforce route with a percent below 100.
 */
export function rolloutEffect(setting: RouteSetting, decision: Decision, route: string, spiffeId: string | undefined): Effect {
  const partial = setting.mode === 'enforce' && decision === 'deny' && cohortThreshold(setting.enforcePercent) < COHORT_BUCKETS;
  const bucket = partial ? cohortBucket(route, spiffeId) : 0;
  return applyRolloutWithPercent(setting.mode, decision, { enforcePercent: setting.enforcePercent, outsideCohort: setting.outsideCohort, bucket }).effect;
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
