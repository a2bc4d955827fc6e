// The hand-written Check codec must mean exactly what proto-loader's generic codec means: every
// response shape toEnvoy() produces encodes to bytes that decode to the same message, and requests
// decoded in place give fromEnvoy() the same input as plain objects do.
import { describe, expect, it } from 'vitest';
import type { MethodDefinition } from '@grpc/grpc-js';
import { REASON_CODES } from '../../../src/authz/reasons.js';
import type { Verdict } from '../../../src/authz/types.js';
import { decodeCheckRequest, encodeCheckResponse } from '../../../src/grpc/codec.js';
import { fromEnvoy } from '../../../src/grpc/from-envoy.js';
import { loadAuthorizationService } from '../../../src/grpc/protos.js';
import { toEnvoy } from '../../../src/grpc/to-envoy.js';
import type { WireCheckRequest, WireCheckResponse } from '../../../src/grpc/wire.js';
import { checkRequest } from '../../fixtures/check-request.js';

const check = loadAuthorizationService()['Check'] as MethodDefinition<WireCheckRequest, WireCheckResponse>;

function verdict(over: Partial<Verdict>): Verdict {
  return {
    decisionId: '5f0c1a2b-0000-4000-8000-000000000001',
    route: 'orders-write',
    mode: 'enforce',
    enforcePercent: 30,
    decision: 'deny',
    effect: 'deny',
    reason: 'NO_MATCHING_RULE',
    detail: 'no allow rule',
    rule: '',
    identity: { spiffeId: 'spiffe://prod.example.org/ns/a/sa/b', trustDomain: 'prod.example.org', path: '/ns/a/sa/b', source: 'principal', agreed: ['certificate'] },
    ...over,
  } as Verdict;
}

const CASES: [string, Verdict][] = [
  ['an enforced deny', verdict({})],
  ['an allow', verdict({ decision: 'allow', effect: 'allow', reason: 'ALLOWED', rule: 'allow["prod.example.org"][0]' })],
  ['a warn', verdict({ mode: 'warn', effect: 'warn' })],
  ['a deny without identity', verdict({ reason: 'UNAUTHENTICATED', identity: undefined })],
  ['a shadow would-deny with non-ASCII route text', verdict({ mode: 'shadow', effect: 'allow', route: 'ordérs-✓' })],
  ...REASON_CODES.map((reason): [string, Verdict] => [`reason ${reason}`, verdict({ reason })]),
];

describe('encodeCheckResponse', () => {
  it.each(CASES)('encodes %s to the same message as the generic codec', (_name, v) => {
    const wire = toEnvoy(v);
    const ours = check.responseDeserialize(Buffer.from(encodeCheckResponse(wire)));
    const generic = check.responseDeserialize(check.responseSerialize(wire));
    expect(ours).toEqual(generic);
  });

  it('keeps a zero status code visible to clients that do not fill proto3 defaults', () => {
    const decoded = check.responseDeserialize(Buffer.from(encodeCheckResponse(toEnvoy(verdict({ decision: 'allow', effect: 'allow', reason: 'ALLOWED' })))));
    expect(decoded.status).toEqual({ code: 0 });
  });
});

describe('decodeCheckRequest', () => {
  it.each([
    ['a principal request', checkRequest({ principal: 'spiffe://prod.example.org/ns/a/sa/b', route: 'r1' })],
    ['an XFCC request with a query', checkRequest({ xfcc: 'By=spiffe://a/b;URI=spiffe://a/c', path: '/v1/x?y=1', host: 'Orders.Internal:8443' })],
    ['a network-filter request', { attributes: { source: { principal: 'spiffe://a/b' } } }],
    ['an empty request', {}],
    [
      'an encode_raw_headers request',
      { attributes: { request: { http: { header_map: { headers: [{ key: 'X-A', raw_value: Buffer.from('1') }, { key: 'x-a', raw_value: Buffer.from('2') }] } } } } },
    ],
  ])('gives fromEnvoy the same input as the generic codec for %s', (_name, request) => {
    const bytes = check.requestSerialize(request as WireCheckRequest);
    expect(fromEnvoy(decodeCheckRequest(bytes))).toEqual(fromEnvoy(check.requestDeserialize(bytes)));
  });
});
