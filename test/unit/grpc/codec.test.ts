// The hand-written Check codec must mean exactly what proto-loader's generic codec means: every
// response shape toEnvoy() produces encodes to bytes that decode to the same message, and requests
// decoded in place give fromEnvoy() the same input as plain objects do.
import fc from 'fast-check';
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
import { wireRequest } from '../fuzz/wire-arbitraries.js';

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

describe('decodeCheckRequest on long repeated values (certificates, XFCC, tokens)', () => {
  // Long values reuse the string decoded last time for the same bytes: a value that differs from a
  // remembered one anywhere (same length, same slot, one byte in the middle) must never come back
  // as the remembered one.
  const base = `-----BEGIN%20CERTIFICATE-----%0A${'MIIBkTCB+wIJAKHBfpEgcMFvMA0GCSqGSIb3DQEBCwUAMBExDzANBgNVBAMMBnVu'.repeat(8)}%0A-----END%20CERTIFICATE-----%0A`;
  const variant = (pos: number, ch: string): string => base.slice(0, pos) + ch + base.slice(pos + 1);

  it('decodes each request to exactly the values it carries', () => {
    const pool = fc.oneof(
      fc.constant(base),
      fc.tuple(fc.nat({ max: base.length - 1 }), fc.constantFrom('A', 'z', '%', 'é', '✓')).map(([pos, ch]) => variant(pos, ch)),
      fc.string({ minLength: 250, maxLength: 600 }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(pool, pool), { minLength: 1, maxLength: 30 }), (requests) => {
        for (const [cert, xfcc] of requests) {
          const bytes = check.requestSerialize({
            attributes: { source: { certificate: cert }, request: { http: { headers: { 'x-forwarded-client-cert': xfcc } } } },
          } as WireCheckRequest);
          const decoded = decodeCheckRequest(bytes);
          expect(decoded.attributes?.source?.certificate).toBe(cert);
          expect(decoded.attributes?.request?.http?.headers?.['x-forwarded-client-cert']).toBe(xfcc);
        }
      }),
      { numRuns: 300 },
    );
  });
});

function withoutProto(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k !== '__proto__'));
}

describe('decodeCheckRequest on arbitrary requests', () => {
  it('keeps a header named "__proto__" as an ordinary header', () => {
    // JSON.parse makes "__proto__" an own key, which proto-loader then encodes as a map entry.
    const bytes = Buffer.concat([
      check.requestSerialize(checkRequest({ route: 'r1' })),
      check.requestSerialize({ attributes: { request: { http: { headers: JSON.parse('{"__proto__":"x"}') as Record<string, string> } } } }),
    ]);
    const headers = fromEnvoy(decodeCheckRequest(bytes)).headers;
    expect(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value).toBe('x');
    expect(Object.keys(headers)).toContain('__proto__');
    // Nothing inherited: no Object.prototype keys show through.
    expect(headers['constructor']).toBeUndefined();
    expect(headers['toString']).toBeUndefined();
    expect(headers[':path']).toBe('/v1/orders');
  });

  const seeds = {
    ids: ['spiffe://prod.example.org/ns/a/sa/b'],
    xfccs: ['By=spiffe://prod.example.org/gw;URI=spiffe://prod.example.org/ns/a/sa/b'],
    certs: ['-----BEGIN%20CERTIFICATE-----%0AMIIB%0A-----END%20CERTIFICATE-----%0A'],
    tokens: ['eyJhbGciOiJFUzI1NiJ9.e30.sig'],
    routes: ['orders', 'r5'],
  };

  it('gives fromEnvoy the same input as the generic codec', () => {
    fc.assert(
      fc.property(wireRequest(seeds), (request) => {
        const bytes = check.requestSerialize(request);
        const generic = fromEnvoy(check.requestDeserialize(bytes));
        const ours = fromEnvoy(decodeCheckRequest(bytes));
        // proto-loader builds the headers map as a plain object, where a "__proto__" key is lost;
        // ours keeps it (as mergeRawHeaders does for header_map): compare the other keys.
        expect({ ...ours, headers: withoutProto(ours.headers) }).toEqual({ ...generic, headers: withoutProto(generic.headers) });
      }),
      { numRuns: 500 },
    );
  });

  it('keeps unknown fields, repeated messages and odd wire types to the proto3 rules', () => {
    const base = check.requestSerialize(checkRequest({ principal: 'spiffe://a/b', route: 'r1' }));
    // attributes (1) twice: the second merges into the first; an unknown field 99 (varint) and a
    // fixed32 field 7 are skipped; principal (4) sent with a varint wire type is skipped too.
    const extra = Buffer.from([0x0a, 0x04, 0x0a, 0x02, 0x20, 0x05, 0x98, 0x06, 0x01, 0x3d, 1, 2, 3, 4]);
    const merged = decodeCheckRequest(Buffer.concat([base, extra]));
    expect(merged.attributes?.source?.principal).toBe('spiffe://a/b');
    expect(merged.attributes?.context_extensions?.['route']).toBe('r1');
    expect(fromEnvoy(merged)).toEqual(fromEnvoy(check.requestDeserialize(base)));
  });

  it('rejects truncated and malformed bytes with a RangeError, never anything else', () => {
    const base = check.requestSerialize(checkRequest({ principal: 'spiffe://a/b', route: 'r1', xfcc: 'By=x;URI=y' }));
    for (let cut = 1; cut < base.length; cut++) {
      try {
        decodeCheckRequest(base.subarray(0, cut));
      } catch (e) {
        expect(e).toBeInstanceOf(RangeError);
      }
    }
    expect(() => decodeCheckRequest(base.subarray(0, base.length - 1))).toThrow(RangeError);
    expect(() => decodeCheckRequest(Buffer.from([0x0f]))).toThrow(/wire type/);
    expect(() => decodeCheckRequest(Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/varint/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (noise, at) => {
        const bytes = Buffer.from(base);
        bytes.set(noise.subarray(0, Math.max(0, bytes.length - (at % bytes.length))), at % bytes.length);
        try {
          decodeCheckRequest(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(RangeError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
