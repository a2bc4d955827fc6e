// The real server on loopback, called by a real grpc-js client: every mode × allow/deny × identity
// source, and the Done-when scenario of the vertical slice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequest } from '../fixtures/check-request.js';
import { headerValue, metadataOf, startTestServer, type TestServer } from '../fixtures/server.js';

const CONFIG = `
identity: { sources: [principal, xfcc], xfcc: { trusted: true } }
defaults: { mode: shadow, unmatchedRoute: deny }
trustDomains: [prod.example.org, partner.example.com]
routes:
  - name: orders-enforce
    mode: enforce
    allow: { prod.example.org: ["/ns/checkout/sa/*"], partner.example.com: ["/billing/**"] }
    deny: { prod.example.org: ["/ns/checkout/sa/legacy"] }
  - name: orders-warn
    mode: warn
    allow: { prod.example.org: ["/ns/checkout/sa/*"] }
  - name: orders-shadow
    mode: shadow
    allow: { prod.example.org: ["/ns/checkout/sa/*"] }
  - name: by-path
    match: { hosts: ["orders.internal"], paths: ["/v1/orders/**"], methods: [POST] }
    mode: enforce
    allow: { prod.example.org: ["/ns/checkout/sa/*"] }
`;

const ALLOWED = 'spiffe://prod.example.org/ns/checkout/sa/web';
const NOT_ALLOWED = 'spiffe://prod.example.org/ns/other/sa/web';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(CONFIG);
});
afterAll(async () => {
  await server.close();
});

type Case = [route: string, identity: 'principal' | 'xfcc' | 'none', caller: string, expected: { status: number; effect: string; decision: string; reason: string; http?: string }];

const cases: Case[] = [
  ['orders-enforce', 'principal', ALLOWED, { status: 0, effect: 'allow', decision: 'allow', reason: 'ALLOWED' }],
  ['orders-enforce', 'principal', NOT_ALLOWED, { status: 7, effect: 'deny', decision: 'deny', reason: 'NO_MATCHING_RULE', http: 'Forbidden' }],
  ['orders-enforce', 'xfcc', ALLOWED, { status: 0, effect: 'allow', decision: 'allow', reason: 'ALLOWED' }],
  ['orders-enforce', 'xfcc', NOT_ALLOWED, { status: 7, effect: 'deny', decision: 'deny', reason: 'NO_MATCHING_RULE', http: 'Forbidden' }],
  ['orders-enforce', 'none', '', { status: 16, effect: 'deny', decision: 'deny', reason: 'UNAUTHENTICATED', http: 'Unauthorized' }],
  ['orders-warn', 'principal', ALLOWED, { status: 0, effect: 'allow', decision: 'allow', reason: 'ALLOWED' }],
  ['orders-warn', 'principal', NOT_ALLOWED, { status: 0, effect: 'warn', decision: 'deny', reason: 'NO_MATCHING_RULE' }],
  ['orders-warn', 'xfcc', NOT_ALLOWED, { status: 0, effect: 'warn', decision: 'deny', reason: 'NO_MATCHING_RULE' }],
  ['orders-warn', 'none', '', { status: 0, effect: 'warn', decision: 'deny', reason: 'UNAUTHENTICATED' }],
  ['orders-shadow', 'principal', ALLOWED, { status: 0, effect: 'allow', decision: 'allow', reason: 'ALLOWED' }],
  ['orders-shadow', 'principal', NOT_ALLOWED, { status: 0, effect: 'allow', decision: 'deny', reason: 'NO_MATCHING_RULE' }],
  ['orders-shadow', 'xfcc', NOT_ALLOWED, { status: 0, effect: 'allow', decision: 'deny', reason: 'NO_MATCHING_RULE' }],
  ['orders-shadow', 'none', '', { status: 0, effect: 'allow', decision: 'deny', reason: 'UNAUTHENTICATED' }],
];

describe('Check over gRPC', () => {
  it.each(cases)('route %s, identity from %s, caller %s', async (route, source, caller, want) => {
    const spec =
      source === 'principal'
        ? { principal: caller, route }
        : source === 'xfcc'
          ? { xfcc: `By=spiffe://prod.example.org/ns/edge/sa/gw;Hash=ab12;URI=${caller}`, route }
          : { route };
    const res = await server.check(checkRequest(spec));
    expect(res.status.code ?? 0).toBe(want.status);
    const md = metadataOf(res);
    expect(md).toMatchObject({ route, decision: want.decision, effect: want.effect, reason: want.reason });
    expect(md['spiffeId']).toBe(source === 'none' ? null : caller);
    expect(md['identitySource']).toBe(source === 'none' ? null : source);
    expect(md['decisionId']).toMatch(/^[0-9a-f-]{36}$/);
    if (want.effect === 'deny') {
      expect(res.denied_response?.status.code).toBe(want.http);
      expect(headerValue(res.denied_response?.headers, 'x-spiffe-authz-reason')).toBe(want.reason);
      expect(JSON.parse(res.denied_response?.body ?? '')).toEqual({ reason: want.reason, route, decisionId: md['decisionId'] });
    } else {
      expect(res.denied_response).toBeUndefined();
      const warning = headerValue(res.ok_response?.headers, 'x-spiffe-authz-warning');
      const toCaller = headerValue(res.ok_response?.response_headers_to_add, 'x-spiffe-authz-warning');
      if (want.effect === 'warn') {
        expect(warning).toBe(`${want.reason}; route=${route}`);
        expect(toCaller).toBe(`${want.reason}; route=${route}`);
      } else {
        expect(warning).toBeUndefined();
        expect(toCaller).toBeUndefined();
      }
    }
  });

  it('selects a route by host, path and method when context_extensions names none', async () => {
    const hit = await server.check(checkRequest({ principal: NOT_ALLOWED, host: 'Orders.Internal:8443', path: '/v1/orders/42?x=1', method: 'POST' }));
    expect(metadataOf(hit)).toMatchObject({ route: 'by-path', reason: 'NO_MATCHING_RULE', effect: 'deny' });
    const miss = await server.check(checkRequest({ principal: ALLOWED, host: 'orders.internal', path: '/v1/ordersX', method: 'POST' }));
    // Unmatched requests take defaults.unmatchedRoute (deny) under defaults.mode (shadow).
    expect(metadataOf(miss)).toMatchObject({ route: '_unmatched', reason: 'NO_ROUTE', decision: 'deny', effect: 'allow' });
  });

  it('denies a present but malformed principal with PRINCIPAL_INVALID instead of trying XFCC', async () => {
    const res = await server.check(checkRequest({ principal: 'CN=web,O=example', route: 'orders-enforce', xfcc: `URI=${ALLOWED}` }));
    expect(res.status.code).toBe(16);
    expect(metadataOf(res)).toMatchObject({ reason: 'PRINCIPAL_INVALID', effect: 'deny' });
  });

  it('takes only the last XFCC element and denies malformed XFCC with XFCC_MALFORMED', async () => {
    const twoHops = await server.check(checkRequest({ route: 'orders-enforce', xfcc: `URI=${ALLOWED},URI=${NOT_ALLOWED}` }));
    expect(metadataOf(twoHops)).toMatchObject({ spiffeId: NOT_ALLOWED, reason: 'NO_MATCHING_RULE' });
    const bad = await server.check(checkRequest({ route: 'orders-enforce', xfcc: 'URI="unterminated' }));
    expect(metadataOf(bad)).toMatchObject({ reason: 'XFCC_MALFORMED', effect: 'deny' });
  });

  it('logs one decision line per Check without secrets', async () => {
    const before = server.logs.length;
    await server.check(
      checkRequest({
        principal: ALLOWED,
        route: 'orders-shadow',
        path: '/v1/orders?token=secret-query',
        requestId: 'log-test-1',
        headers: { authorization: 'Bearer secret-token', cookie: 'session=secret-cookie' },
      }),
    );
    const lines = server.logs.slice(before).filter((l) => l['msg'] === 'decision');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).toMatchObject({
      requestId: 'log-test-1',
      route: 'orders-shadow',
      mode: 'shadow',
      decision: 'allow',
      effect: 'allow',
      reason: 'ALLOWED',
      spiffeId: ALLOWED,
      identitySource: 'principal',
      host: 'orders.internal',
      method: 'POST',
      path: '/v1/orders',
    });
    expect(typeof line['durationUs']).toBe('number');
    expect(JSON.stringify(line)).not.toMatch(/secret/);
  });
});
