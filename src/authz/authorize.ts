// One Check, transport-neutral: route → identity → policy → rollout. Pure apart from the injected
// id generator; an exception anywhere inside fails closed (allowed only on a route in shadow).
import type { CompiledRoute, ConfigSnapshot } from '../config/compile.js';
import { resolveIdentity } from '../identity/resolve-identity.js';
import { evaluatePolicy, type PolicyOutcome } from '../policy/evaluate-policy.js';
import { normalizePath } from '../policy/normalize-path.js';
import { matchRoute } from '../policy/route-match.js';
import { applyRollout } from '../rollout/apply-rollout.js';
import type { CheckInput, Mode, Verdict } from './types.js';

/** What authorize needs from outside: ids, and the effective mode of a route (overrides live there). */
export interface AuthorizeDeps {
  readonly newDecisionId: () => string;
  readonly modeOf: (route: CompiledRoute) => Mode;
}

/** The route a request belongs to, and why when it is the virtual unmatched route. */
export function selectRoute(snapshot: ConfigSnapshot, input: CheckInput): { route: CompiledRoute; detail: string } {
  if (input.routeName !== undefined) {
    const named = snapshot.routesByName.get(input.routeName);
    if (named !== undefined) return { route: named, detail: '' };
    return { route: snapshot.unmatched, detail: `context_extensions names route "${input.routeName}", which is not configured` };
  }
  const found = matchRoute(snapshot.matchableRoutes, input.host, normalizePath(input.path), input.method);
  if (found !== undefined) return { route: found, detail: '' };
  return { route: snapshot.unmatched, detail: 'no route matches the host, path and method' };
}

/** Decides one Check under one config snapshot. Never throws. */
export function authorize(snapshot: ConfigSnapshot, input: CheckInput, deps: AuthorizeDeps): Verdict {
  const decisionId = deps.newDecisionId();
  let route: CompiledRoute | undefined;
  let mode: Mode | undefined;
  try {
    const selected = selectRoute(snapshot, input);
    route = selected.route;
    mode = deps.modeOf(route);
    const identity = resolveIdentity(input, snapshot);
    let outcome: PolicyOutcome;
    if (route.fixedDecision !== undefined) {
      outcome = { decision: route.fixedDecision, reason: 'NO_ROUTE', rule: '', detail: selected.detail };
    } else if (!identity.ok) {
      outcome = { decision: 'deny', reason: identity.error.code, rule: '', detail: identity.error.detail };
    } else {
      outcome = evaluatePolicy(route, identity.value, snapshot.trustDomains);
    }
    return {
      decisionId,
      route: route.name,
      mode,
      decision: outcome.decision,
      effect: applyRollout(mode, outcome.decision),
      reason: outcome.reason,
      detail: outcome.detail,
      rule: outcome.rule,
      identity: identity.ok ? identity.value : undefined,
    };
  } catch (e) {
    return internalErrorVerdict(decisionId, route?.name ?? snapshot.unmatched.name, mode ?? 'enforce', e);
  }
}

/** The verdict for an unexpected error: deny, except on a shadow route where the request flows. */
export function internalErrorVerdict(decisionId: string, route: string, mode: Mode, error: unknown): Verdict {
  return {
    decisionId,
    route,
    mode,
    decision: 'deny',
    effect: mode === 'shadow' ? 'allow' : 'deny',
    reason: 'INTERNAL_ERROR',
    detail: error instanceof Error ? `${error.name}: ${error.message}` : 'non-Error thrown',
    rule: '',
    identity: undefined,
  };
}
