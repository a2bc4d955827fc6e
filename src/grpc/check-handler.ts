// The Check RPC: read the snapshot once, convert, authorize, answer, then record. Every outcome is a
// CheckResponse; even a fault outside authorize() answers with a deny rather than a gRPC error.
import type * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { authorize, internalErrorVerdict, type AuthorizeDeps } from '../authz/authorize.js';
import type { CheckInput, Verdict } from '../authz/types.js';
import type { ConfigStore } from '../config/store.js';
import type { Metrics } from '../admin/metrics.js';
import type { RolloutCounters } from '../rollout/counters.js';
import { logDecision } from '../log/decision-log.js';
import type { Logger } from '../log/logger.js';
import { fromEnvoy } from './from-envoy.js';
import { toEnvoy } from './to-envoy.js';
import type { WireCheckRequest, WireCheckResponse } from './wire.js';

/** What the handler needs from the rest of the server. */
export interface CheckHandlerDeps {
  readonly store: ConfigStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly counters: RolloutCounters;
  readonly authorizeDeps?: Partial<AuthorizeDeps>;
  /** Called with every verdict after it is answered (tests, in-flight tracking). */
  readonly onVerdict?: (v: Verdict) => void;
}

/** Runs one Check end to end and returns the wire response with the verdict. Never throws. */
export function handleCheck(request: WireCheckRequest, deps: CheckHandlerDeps, adeps: AuthorizeDeps): { response: WireCheckResponse; verdict: Verdict; input: CheckInput | undefined } {
  const snapshot = deps.store.current();
  let input: CheckInput | undefined;
  try {
    input = fromEnvoy(request);
    const verdict = authorize(snapshot, input, adeps);
    return { response: toEnvoy(verdict), verdict, input };
  } catch (e) {
    // Conversion or rendering failed: fail closed, whatever the route's mode (it is unknown here).
    const verdict = internalErrorVerdict(adeps.newDecisionId(), snapshot.unmatched.name, 'enforce', e);
    return { response: toEnvoy(verdict), verdict, input };
  }
}

/** Builds the grpc-js unary handler for Authorization/Check. */
export function createCheckHandler(deps: CheckHandlerDeps): grpc.handleUnaryCall<WireCheckRequest, WireCheckResponse> {
  const adeps: AuthorizeDeps = {
    newDecisionId: deps.authorizeDeps?.newDecisionId ?? randomUUID,
    modeOf: deps.authorizeDeps?.modeOf ?? ((route) => route.mode),
  };
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const { response, verdict, input } = handleCheck(call.request, deps, adeps);
    callback(null, response);
    const elapsedNs = Number(process.hrtime.bigint() - started);
    try {
      deps.counters.record(verdict);
      deps.metrics.recordCheck(verdict, elapsedNs / 1e9);
      logDecision(deps.logger, deps.store.current().config.log.decisions, verdict, input, Math.round(elapsedNs / 1000));
      deps.onVerdict?.(verdict);
    } catch (e) {
      deps.logger.error({ err: e }, 'record failed');
    }
  };
}
