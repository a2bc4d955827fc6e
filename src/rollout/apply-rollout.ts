// The only place where a mode overrides a decision: the real decision is always computed and
// recorded; the mode decides what it does to the request.
import type { Decision, Effect, Mode } from '../authz/types.js';

/** Turns a decision into its effect under a rollout mode. */
export function applyRollout(mode: Mode, decision: Decision): Effect {
  if (decision === 'allow') return 'allow';
  switch (mode) {
    case 'shadow':
      return 'allow';
    case 'warn':
      return 'warn';
    case 'enforce':
      return 'deny';
  }
}
