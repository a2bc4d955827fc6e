// The Check RPC: read the snapshot once, convert, authorize, answer, then record. Every outcome is a
// CheckResponse; even a fault outside authorize() answers with a deny rather than a gRPC error.
import type * as grpc from '@grpc/grpc-js';
import { newDecisionId } from '../authz/decision-id.js';
import { authorize, internalErrorVerdict, type AuthorizeDeps } from '../authz/authorize.js';
import type { CheckInput, Verdict } from '../authz/types.js';
import type { ConfigStore } from '../config/store.js';
import type { Metrics } from '../admin/metrics.js';
import { configSetting } from '../rollout/rollout-state.js';
import type { RolloutStats } from '../rollout/window-counters.js';
import { logDecision } from '../log/decision-log.js';
import type { Logger } from '../log/logger.js';
import { fromEnvoy } from './from-envoy.js';
import { ResponseEncoder } from './response-encoder.js';
import { toEnvoy } from './to-envoy.js';
import type { WireCheckRequest, WireCheckResponse } from './wire.js';

/** What the handler needs from the rest of the server. */
export interface CheckHandlerDeps {
  readonly store: ConfigStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Per-route rollout stats; every answered Check is recorded once. */
  readonly stats: RolloutStats;
  /** Clock for the stats' sliding windows (ms since the epoch); default Date.now. */
  readonly now?: () => number;
  readonly authorizeDeps?: Partial<AuthorizeDeps>;
  /** Called with every verdict after it is answered (tests, in-flight tracking). */
  readonly onVerdict?: (v: Verdict) => void;
}

/** The outcome of one Check: the encoded CheckResponse, the verdict, and the input when it converted. */
export class CheckOutcome {
  /** Time from receipt to answer (ns), set by the gRPC handler once answered; 0 before. */
  elapsedNs = 0;

  constructor(
    /** The CheckResponse of `verdict`, as sent (ResponseEncoder). */
    readonly bytes: Buffer,
    readonly verdict: Verdict,
    readonly input: CheckInput | undefined,
  ) {}

  /** The same response as a message (toEnvoy); built on demand, for tests and tools. */
  get response(): WireCheckResponse {
    return toEnvoy(this.verdict);
  }
}

function outcomeOf(encoder: ResponseEncoder, verdict: Verdict, input: CheckInput | undefined): CheckOutcome {
  return new CheckOutcome(encoder.encode(verdict), verdict, input);
}

function failClosed(adeps: AuthorizeDeps, encoder: ResponseEncoder, routeName: string, e: unknown, input: CheckInput | undefined): CheckOutcome {
  // Conversion or rendering failed: fail closed, whatever the route's mode (it is unknown here).
  const verdict = internalErrorVerdict(adeps.newDecisionId(), routeName, 'enforce', e);
  return outcomeOf(encoder, verdict, input);
}

const defaultEncoder = new ResponseEncoder();

/** Runs one Check end to end on the snapshot current at its start. Never throws or rejects. */
export function handleCheck(
  request: WireCheckRequest,
  deps: CheckHandlerDeps,
  adeps: AuthorizeDeps,
  encoder: ResponseEncoder = defaultEncoder,
): CheckOutcome | Promise<CheckOutcome> {
  const snapshot = deps.store.current();
  let input: CheckInput | undefined;
  try {
    input = fromEnvoy(request);
    const verdict = authorize(snapshot, input, adeps);
    if (verdict instanceof Promise) {
      const converted = input;
      // .catch after .then: a throw while rendering must also be answered (fail closed).
      return verdict
        .then((v) => outcomeOf(encoder, v, converted))
        .catch((e: unknown) => failClosed(adeps, encoder, snapshot.unmatched.name, e, converted));
    }
    return outcomeOf(encoder, verdict, input);
  } catch (e) {
    return failClosed(adeps, encoder, snapshot.unmatched.name, e, input);
  }
}

/** Builds the grpc-js unary handler for Authorization/Check. */
export function createCheckHandler(deps: CheckHandlerDeps): grpc.handleUnaryCall<WireCheckRequest, Buffer> {
  const encoder = new ResponseEncoder();
  const adeps: AuthorizeDeps = {
    newDecisionId: deps.authorizeDeps?.newDecisionId ?? newDecisionId,
    settingOf: deps.authorizeDeps?.settingOf ?? configSetting,
    identity: deps.authorizeDeps?.identity ?? (() => ({ now: Date.now(), bundles: () => undefined })),
  };
  const now = deps.now ?? Date.now;
  const record = (outcome: CheckOutcome): void => {
    const elapsedNs = outcome.elapsedNs;
    try {
      deps.stats.record(outcome.verdict, now());
      deps.metrics.recordCheck(outcome.verdict, elapsedNs / 1e9);
      logDecision(deps.logger, deps.store.current().config.log.decisions, outcome.verdict, outcome.input, Math.round(elapsedNs / 1000));
      deps.onVerdict?.(outcome.verdict);
    } catch (e) {
      deps.logger.error({ err: e }, 'record failed');
    }
  };
  // Counters, metrics and the decision log are written once per event-loop turn, after the
  // answers of that turn have left in full. grpc-js sends an answer in two writes: HEADERS and DATA
  // in the check phase of the turn that answered, then the trailers (END_STREAM, which is when the
  // caller has its answer) in the next turn's check phase, from node's own immediates, which run
  // before JavaScript's. So recording waits for that next turn: a setImmediate from within a
  // setImmediate. Recording one turn earlier put its cost (the decision line above all) between the
  // DATA frame and the trailers, on every caller's latency (strace: writev HEADERS+DATA,
  // epoll_pwait, write trailers, in that order). The turn's lines are flushed at the end, so a
  // quiet server goes back to waiting with nothing left to do.
  let pending: CheckOutcome[] = [];
  const recordTurn = (batch: CheckOutcome[]): void => {
    for (let i = 0; i < batch.length; i++) record(batch[i] as CheckOutcome);
    deps.logger.flush();
  };
  // First hop: the turn that answered them is over; take its answers, record them one turn later.
  const afterAnswers = (): void => {
    const batch = pending;
    pending = [];
    setImmediate(recordTurn, batch);
  };
  const answer = (callback: grpc.sendUnaryData<Buffer>, outcome: CheckOutcome, started: bigint): void => {
    callback(null, outcome.bytes);
    outcome.elapsedNs = Number(process.hrtime.bigint() - started);
    pending.push(outcome);
    if (pending.length === 1) setImmediate(afterAnswers);
  };
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const outcome = handleCheck(call.request, deps, adeps, encoder);
    if (outcome instanceof Promise) {
      void outcome.then((o) => answer(callback, o, started));
      return;
    }
    answer(callback, outcome, started);
  };
}
