// The route's trust-domain-scoped rules applied to a caller: deny beats allow, nothing allows by
// default. Pure; an ID is only ever compared with rules written under its own trust domain.
import type { CallerIdentity, Decision } from '../authz/types.js';
import type { Reason } from '../authz/reasons.js';
import type { CompiledRoute } from '../config/compile.js';
import { matchIdRules } from './id-rules.js';

/** The real decision for one caller on one route, with the reason and the rule that decided. */
export interface PolicyOutcome {
  readonly decision: Decision;
  readonly reason: Reason;
  readonly rule: string;
  readonly detail: string;
}

/** Decides whether `identity` may call `route`. */
export function evaluatePolicy(route: CompiledRoute, identity: CallerIdentity, trustDomains: ReadonlySet<string>): PolicyOutcome {
  if (!trustDomains.has(identity.trustDomain)) {
    return { decision: 'deny', reason: 'UNKNOWN_TRUST_DOMAIN', rule: '', detail: `trust domain "${identity.trustDomain}" is not configured` };
  }
  const rules = route.rules.get(identity.trustDomain);
  if (rules?.deny !== undefined) {
    const rule = matchIdRules(rules.deny, identity.path);
    if (rule !== undefined) return { decision: 'deny', reason: 'DENIED_BY_RULE', rule, detail: `matched ${rule}` };
  }
  if (rules?.allow !== undefined) {
    const rule = matchIdRules(rules.allow, identity.path);
    if (rule !== undefined) return { decision: 'allow', reason: 'ALLOWED', rule, detail: `matched ${rule}` };
  }
  return {
    decision: 'deny',
    reason: 'NO_MATCHING_RULE',
    rule: '',
    detail: `no allow rule of route "${route.name}" matches this ID`,
  };
}
