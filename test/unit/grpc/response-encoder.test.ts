// The shape-caching response encoder must mean exactly what toEnvoy() + the generic codec mean, for
// every verdict: the same route and outcome with other decision ids and callers, every reason,
// mode, effect and identity source, non-ASCII text, and a cache that starts over when full.
import type { MethodDefinition } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REASON_CODES } from '../../../src/authz/reasons.js';
import { IDENTITY_SOURCES, MODES, type Verdict } from '../../../src/authz/types.js';
import { encodeCheckResponse } from '../../../src/grpc/codec.js';
import { loadAuthorizationService } from '../../../src/grpc/protos.js';
import { ResponseEncoder } from '../../../src/grpc/response-encoder.js';
import { toEnvoy } from '../../../src/grpc/to-envoy.js';
import type { WireCheckRequest, WireCheckResponse } from '../../../src/grpc/wire.js';

const check = loadAuthorizationService()['Check'] as MethodDefinition<WireCheckRequest, WireCheckResponse>;
const decode = (bytes: Uint8Array): WireCheckResponse => check.responseDeserialize(Buffer.from(bytes));

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('', 'r5', 'orders-write', 'ordérs-✓', 'x'.repeat(300)));

const arbVerdict: fc.Arbitrary<Verdict> = fc.record({
  decisionId: fc.oneof(fc.uuid(), text),
  route: text,
  mode: fc.constantFrom(...MODES),
  enforcePercent: fc.oneof(fc.constantFrom(0, 30, 100), fc.double({ min: 0, max: 100, noNaN: true })),
  decision: fc.constantFrom('allow' as const, 'deny' as const),
  effect: fc.constantFrom('allow' as const, 'warn' as const, 'deny' as const),
  reason: fc.constantFrom(...REASON_CODES),
  detail: text,
  rule: text,
  identity: fc.option(
    fc.record({
      spiffeId: fc.oneof(text, fc.constant('spiffe://prod.example.org/ns/a/sa/b')),
      trustDomain: text,
      path: text,
      source: fc.constantFrom(...IDENTITY_SOURCES),
      agreed: fc.subarray([...IDENTITY_SOURCES]),
    }),
    { nil: undefined },
  ),
});

function expectSameMessage(encoder: ResponseEncoder, v: Verdict): void {
  expect(decode(encoder.encode(v))).toEqual(decode(encodeCheckResponse(toEnvoy(v))));
}

describe('ResponseEncoder.encode', () => {
  it('encodes arbitrary verdicts to the message toEnvoy and the generic codec give', () => {
    const encoder = new ResponseEncoder();
    fc.assert(fc.property(arbVerdict, (v) => expectSameMessage(encoder, v)), { numRuns: 2000 });
  });

  it('keeps nothing of one request in the next of the same shape (decision id, caller, denied body)', () => {
    const encoder = new ResponseEncoder();
    fc.assert(
      fc.property(arbVerdict, fc.array(fc.tuple(fc.uuid(), text), { minLength: 1, maxLength: 5 }), (base, others) => {
        expectSameMessage(encoder, base);
        for (const [decisionId, spiffeId] of others) {
          const next: Verdict = { ...base, decisionId, identity: base.identity === undefined ? undefined : { ...base.identity, spiffeId } };
          expectSameMessage(encoder, next);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stays right when more shapes are seen than it keeps', () => {
    const encoder = new ResponseEncoder();
    const base: Verdict = {
      decisionId: '5f0c1a2b-0000-4000-8000-000000000001',
      route: 'orders',
      mode: 'enforce',
      enforcePercent: 100,
      decision: 'deny',
      effect: 'deny',
      reason: 'NO_MATCHING_RULE',
      detail: '',
      rule: '',
      identity: undefined,
    };
    for (let i = 0; i < 5000; i++) {
      const v = { ...base, route: `route-${i}` };
      if (i % 499 === 0) expectSameMessage(encoder, v);
      else encoder.encode(v);
    }
    expectSameMessage(encoder, { ...base, route: 'route-1' });
  });
});
