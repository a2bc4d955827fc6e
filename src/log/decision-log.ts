// The decision log: one JSON line per Check with fixed camelCase fields. Built from the verdict and
// a few input fields; never from whole headers, so tokens, cookies, certificates and XFCC stay out.
import type { CheckInput, Verdict } from '../authz/types.js';
import type { Logger } from './logger.js';

/** Which decisions are written: every one, only deny decisions (enforced or not), or none. */
export type DecisionLogFilter = 'all' | 'deny' | 'none';

/** Writes the decision line for one Check, if the filter lets it through. */
export function logDecision(logger: Logger, filter: DecisionLogFilter, v: Verdict, input: CheckInput | undefined, durationUs: number): void {
  if (filter === 'none' || (filter === 'deny' && v.decision === 'allow')) return;
  const level = v.reason === 'INTERNAL_ERROR' ? 'error' : 'info';
  logger[level](
    {
      decisionId: v.decisionId,
      requestId: input?.requestId ?? '',
      route: v.route,
      mode: v.mode,
      enforcePercent: v.enforcePercent,
      decision: v.decision,
      effect: v.effect,
      reason: v.reason,
      detail: v.detail,
      rule: v.rule,
      spiffeId: v.identity?.spiffeId ?? null,
      identitySource: v.identity?.source ?? null,
      agreedSources: v.identity?.agreed ?? [],
      host: input?.host ?? '',
      method: input?.method ?? '',
      path: input?.path ?? '',
      durationUs,
    },
    'decision',
  );
}
