// Request size limits on the real server: each of limits.maxHeaderCount, maxHeaderBytes and
// maxPathBytes denies with REQUEST_TOO_LARGE (HTTP 431) under the route's mode; a CheckRequest over
// limits.maxRequestBytes is refused by grpc-js's framing with RESOURCE_EXHAUSTED (Envoy then applies
// failure_mode_allow: false, a deny); the per-request limits follow a reload, maxRequestBytes needs a restart.
import type * as grpc from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRequest } from '../fixtures/check-request.js';
import { headerValue, metadataOf, startTestServer, type TestServer } from '../fixtures/server.js';

const TOKEN = 'limits-token-7c1';
const CALLER = 'spiffe://prod.example.org/ns/checkout/sa/web';
const LIMITS = '{ maxRequestBytes: 65536, maxHeaderBytes: 4096, maxHeaderCount: 20, maxPathBytes: 512 }';

function config(limits = LIMITS): string {
  return `
trustDomains: [prod.example.org]
limits: ${limits}
routes:
  - { name: strict, mode: enforce, allow: { prod.example.org: ["/ns/checkout/sa/*"] } }
  - { name: watched, mode: shadow, allow: { prod.example.org: ["/ns/checkout/sa/*"] } }
`;
}

const running: TestServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
});

async function start(text = config()): Promise<TestServer> {
  const s = await startTestServer(text, { env: { SPIFFE_AUTHZ_ADMIN_TOKEN: TOKEN }, configPollMs: 0 });
  running.push(s);
  return s;
}

/** Headers x-h0..x-h{n-1}; checkRequest adds four more (:authority, :method, :path, x-request-id). */
function extraHeaders(n: number, value = 'v'): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-h${i}`, value]));
}

describe('limits on the real server', () => {
  it.each([
    ['maxHeaderCount', { headers: extraHeaders(17) }, '21 headers; limits.maxHeaderCount is 20'],
    ['maxHeaderBytes', { headers: { 'x-big': 'b'.repeat(4096) } }, /^\d+ bytes of headers; limits\.maxHeaderBytes is 4096$/],
    ['maxPathBytes', { path: '/' + 'p'.repeat(512) }, 'a path of 513 bytes; limits.maxPathBytes is 512'],
  ] as const)('denies a request over %s with REQUEST_TOO_LARGE and HTTP 431 on an enforce route', async (_limit, spec, detail) => {
    const server = await start();
    const res = await server.check(checkRequest({ principal: CALLER, route: 'strict', ...spec }));
    expect(res.status.code).toBe(7);
    // proto-loader decodes envoy.type.v3.StatusCode by name: 431 is RequestHeaderFieldsTooLarge.
    expect(res.denied_response?.status.code).toBe('RequestHeaderFieldsTooLarge');
    expect(headerValue(res.denied_response?.headers, 'x-spiffe-authz-reason')).toBe('REQUEST_TOO_LARGE');
    expect(metadataOf(res)).toMatchObject({ route: 'strict', decision: 'deny', effect: 'deny', reason: 'REQUEST_TOO_LARGE', spiffeId: null });
    const line = server.logs.find((l) => l['msg'] === 'decision' && l['reason'] === 'REQUEST_TOO_LARGE');
    expect(line?.['detail']).toMatch(detail);
  });

  it('decides a request at the limits as usual with ALLOWED', async () => {
    const server = await start();
    const res = await server.check(checkRequest({ principal: CALLER, route: 'strict', headers: extraHeaders(16), path: '/' + 'p'.repeat(511) }));
    expect(metadataOf(res)).toMatchObject({ reason: 'ALLOWED', effect: 'allow' });
  });

  it('lets an oversized request through a shadow route, counted as would-deny REQUEST_TOO_LARGE', async () => {
    const server = await start();
    const res = await server.check(checkRequest({ principal: CALLER, route: 'watched', headers: extraHeaders(30) }));
    expect(res.status.code ?? 0).toBe(0);
    expect(metadataOf(res)).toMatchObject({ decision: 'deny', effect: 'allow', wouldDeny: true, reason: 'REQUEST_TOO_LARGE' });
    const view = (await (await server.admin('/v1/routes/watched')).json()) as { counters: { wouldDeny: number; byReason: Record<string, number> } };
    expect(view.counters.wouldDeny).toBe(1);
    expect(view.counters.byReason).toEqual({ REQUEST_TOO_LARGE: 1 });
    const metrics = await (await server.admin('/metrics')).text();
    expect(metrics).toContain('spiffe_authz_would_deny_total{route="watched",reason="REQUEST_TOO_LARGE"} 1');
  });

  it('refuses a CheckRequest over maxRequestBytes with RESOURCE_EXHAUSTED, decides nothing, and keeps serving', async () => {
    const server = await start();
    const err = (await server.check(checkRequest({ principal: CALLER, route: 'strict', headers: { 'x-big': 'b'.repeat(70_000) } })).then(
      () => undefined,
      (e: unknown) => e,
    )) as grpc.ServiceError | undefined;
    // grpc.status.RESOURCE_EXHAUSTED: the message is refused by grpc-js before it is decoded.
    expect(err?.code).toBe(8);
    expect(err?.details).toMatch(/larger than max/i);
    expect(server.logs.filter((l) => l['msg'] === 'decision')).toHaveLength(0);
    expect(server.app.stats.get('strict')?.snapshot(Date.now()).sinceStart.checks ?? 0).toBe(0);
    const next = await server.check(checkRequest({ principal: CALLER, route: 'strict' }));
    expect(metadataOf(next)['reason']).toBe('ALLOWED');
  });

  it('applies new per-request limits on reload, and asks for a restart for maxRequestBytes', async () => {
    const server = await start();
    const spec = { principal: CALLER, route: 'strict', headers: extraHeaders(10) };
    expect(metadataOf(await server.check(checkRequest(spec)))['reason']).toBe('ALLOWED');
    writeFileSync(server.configPath, config('{ maxRequestBytes: 8192, maxHeaderCount: 10 }'));
    const res = await server.admin('/v1/reload', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { config: { restartRequired: string[] } }).config.restartRequired).toEqual(['limits.maxRequestBytes']);
    expect(server.logs.find((l) => l['msg'] === 'config change needs a restart')).toMatchObject({ key: 'limits.maxRequestBytes' });
    expect(metadataOf(await server.check(checkRequest(spec)))['reason']).toBe('REQUEST_TOO_LARGE');
    // The running server still accepts messages up to the 64 KiB it started with.
    const big = await server.check(checkRequest({ principal: CALLER, route: 'watched', headers: { 'x-big': 'b'.repeat(20_000) } }));
    expect(metadataOf(big)['reason']).toBe('ALLOWED');
  });
});
