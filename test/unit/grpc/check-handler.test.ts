// When the grpc-js Check handler records (rollout stats, metrics, the decision line): never in the
// turn that answered. grpc-js writes an answer's HEADERS and DATA in the check phase of that turn
// and its trailers (END_STREAM: when the caller has its answer) in the next turn's check phase, so
// recording in the answering turn sat between the two writes, on every caller's latency. These tests
// pin the turn the handler records in, and that a turn's lines are flushed in one go with it.
import type * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/admin/metrics.js';
import { buildSnapshot } from '../../../src/config/load.js';
import { ConfigStore } from '../../../src/config/store.js';
import { createCheckHandler } from '../../../src/grpc/check-handler.js';
import type { WireCheckRequest } from '../../../src/grpc/wire.js';
import { RolloutStats } from '../../../src/rollout/window-counters.js';
import { checkRequest } from '../../fixtures/check-request.js';

const PROD = 'prod.example.org';
const CONFIG = `
defaults: { mode: enforce, unmatchedRoute: deny }
trustDomains: [${PROD}]
routes:
  - name: orders
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
`;

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A handler whose every step (answer, record, decision line, flush) appends to `events`. */
function handlerWithEvents(): { check: grpc.handleUnaryCall<WireCheckRequest, Buffer>; events: string[] } {
  const built = buildSnapshot(CONFIG, 'test', Date.now());
  if (!built.ok) throw new Error(JSON.stringify(built.issues));
  const events: string[] = [];
  const destination = {
    write(line: string): void {
      events.push(`line ${(JSON.parse(line) as { requestId?: string }).requestId ?? '?'}`);
    },
    flush(cb?: () => void): void {
      events.push('flush');
      cb?.();
    },
  };
  const check = createCheckHandler({
    store: new ConfigStore(built.value),
    logger: pino({ level: 'info' }, destination),
    metrics: createMetrics({ defaultMetrics: false }),
    stats: new RolloutStats(),
    onVerdict: (v) => events.push(`recorded ${v.reason}`),
  });
  return { check, events };
}

function call(check: grpc.handleUnaryCall<WireCheckRequest, Buffer>, events: string[], requestId: string, principal: string): void {
  const request = checkRequest({ route: 'orders', principal, requestId }) as WireCheckRequest;
  const callback: grpc.sendUnaryData<Buffer> = (err, bytes) => {
    events.push(err === null && bytes instanceof Buffer && bytes.length > 0 ? `answered ${requestId}` : `failed ${requestId}`);
  };
  check({ request } as grpc.ServerUnaryCall<WireCheckRequest, Buffer>, callback);
}

describe('createCheckHandler: when a Check is recorded', () => {
  it('answers at once and records one turn after the answering turn, then flushes the log', async () => {
    const { check, events } = handlerWithEvents();
    call(check, events, 'r1', `spiffe://${PROD}/ns/checkout/sa/web`);
    expect(events).toEqual(['answered r1']);
    await turn(); // the answering turn's check phase: grpc-js has written HEADERS and DATA only
    expect(events).toEqual(['answered r1']);
    await turn(); // the next turn: the trailers went first, then the handler recorded
    expect(events).toEqual(['answered r1', 'line r1', 'recorded ALLOWED', 'flush']);
  });

  it("records a turn's answers together, with one flush, and the next turn's answers in their own batch", async () => {
    const { check, events } = handlerWithEvents();
    call(check, events, 'a1', `spiffe://${PROD}/ns/checkout/sa/web`);
    call(check, events, 'a2', `spiffe://${PROD}/ns/other/sa/x`);
    await turn();
    call(check, events, 'b1', `spiffe://${PROD}/ns/checkout/sa/api`);
    await turn();
    expect(events).toEqual([
      'answered a1',
      'answered a2',
      'answered b1',
      'line a1',
      'recorded ALLOWED',
      'line a2',
      'recorded NO_MATCHING_RULE',
      'flush',
    ]);
    await turn();
    expect(events.slice(8)).toEqual(['line b1', 'recorded ALLOWED', 'flush']);
  });
});
