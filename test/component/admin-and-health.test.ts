// Admin HTTP and gRPC health against the real server; the vertical slice's Done-when scenario.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequest } from '../fixtures/check-request.js';
import { headerValue, metadataOf, startTestServer, type TestServer } from '../fixtures/server.js';

const CONFIG = `
trustDomains: [prod.example.org]
routes:
  - name: orders-write
    mode: enforce
    allow: { prod.example.org: ["/ns/ops/sa/admin"] }
  - name: orders-shadow
    mode: shadow
    allow: { prod.example.org: ["/ns/ops/sa/admin"] }
`;
const CALLER = 'spiffe://prod.example.org/ns/checkout/sa/web';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(CONFIG);
});
afterAll(async () => {
  await server.close();
});

function healthCheck(port: number, service: string): Promise<string> {
  const def = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
  const client = new pkg.grpc.health.v1.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client['Check']!({ service }, (err: grpc.ServiceError | null, res: { status: string }) => {
      client.close();
      if (err) reject(err);
      else resolve(res.status);
    });
  });
}

async function routeCounters(name: string): Promise<Record<string, unknown>> {
  const res = await server.admin(`/v1/routes/${name}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { counters: Record<string, unknown> };
  return body.counters;
}

describe('vertical slice done-when', () => {
  it('denies a not-allowed principal on an enforce route with 403 and the reason in body, headers and metadata', async () => {
    const res = await server.check(checkRequest({ principal: CALLER, route: 'orders-write' }));
    expect(res.status.code).toBe(7);
    expect(res.denied_response?.status.code).toBe('Forbidden');
    expect(headerValue(res.denied_response?.headers, 'x-spiffe-authz-reason')).toBe('NO_MATCHING_RULE');
    expect(JSON.parse(res.denied_response?.body ?? '{}')).toMatchObject({ reason: 'NO_MATCHING_RULE', route: 'orders-write' });
    expect(metadataOf(res)).toMatchObject({ reason: 'NO_MATCHING_RULE', effect: 'deny', spiffeId: CALLER });
  });

  it('allows the same request on a shadow route and counts it as would-deny in /v1/routes and /metrics', async () => {
    const before = await routeCounters('orders-shadow');
    const res = await server.check(checkRequest({ principal: CALLER, route: 'orders-shadow' }));
    expect(res.status.code ?? 0).toBe(0);
    expect(metadataOf(res)).toMatchObject({ decision: 'deny', effect: 'allow', wouldDeny: true });
    const after = await routeCounters('orders-shadow');
    expect(after['checks']).toBe((before['checks'] as number) + 1);
    expect(after['wouldDeny']).toBe((before['wouldDeny'] as number) + 1);
    expect((after['byReason'] as Record<string, number>)['NO_MATCHING_RULE']).toBeGreaterThanOrEqual(1);

    const metrics = await (await server.admin('/metrics')).text();
    expect(metrics).toMatch(
      /spiffe_authz_checks_total\{route="orders-shadow",mode="shadow",decision="deny",effect="allow",reason="NO_MATCHING_RULE"\} [1-9]/,
    );
    expect(metrics).toMatch(/spiffe_authz_would_deny_total\{route="orders-shadow",reason="NO_MATCHING_RULE"\} [1-9]/);
    expect(metrics).not.toContain(CALLER);
  });
});

describe('admin HTTP', () => {
  it('answers /healthz and /readyz', async () => {
    expect((await server.admin('/healthz')).status).toBe(200);
    const ready = await server.admin('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('lists every route with mode, source of the mode and counters', async () => {
    const body = (await (await server.admin('/v1/routes')).json()) as { routes: { name: string; mode: string; modeSource: string }[] };
    expect(body.routes.map((r) => [r.name, r.mode, r.modeSource])).toEqual([
      ['orders-write', 'enforce', 'config'],
      ['orders-shadow', 'shadow', 'config'],
      ['_unmatched', 'shadow', 'config'],
    ]);
  });

  it('exposes Prometheus metrics with the duration histogram and config loads', async () => {
    const res = await server.admin('/metrics');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/spiffe_authz_check_duration_seconds_bucket\{le="0\.001"\} \d+/);
    expect(text).toMatch(/spiffe_authz_config_loads_total\{result="success"\} 1/);
    expect(text).toMatch(/spiffe_authz_route_mode\{route="orders-write",mode="enforce"\} 1/);
  });

  it("adds Node's process metrics a moment after SERVING (they are not needed to answer a Check)", async () => {
    const deadline = Date.now() + 5000;
    let text = '';
    while (Date.now() < deadline) {
      text = await (await server.admin('/metrics')).text();
      if (text.includes('spiffe_authz_process_resident_memory_bytes')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(text).toMatch(/spiffe_authz_process_resident_memory_bytes \d+/);
    expect(text).toMatch(/spiffe_authz_nodejs_heap_size_used_bytes \d+/);
  });

  it('answers 404 for an unknown route and 405 for a write to a read-only endpoint', async () => {
    expect((await server.admin('/v1/routes/nope')).status).toBe(404);
    expect((await server.admin('/nope')).status).toBe(404);
    expect((await server.admin('/healthz', { method: 'POST' })).status).toBe(405);
  });
});

describe('grpc.health.v1.Health', () => {
  it('reports SERVING for the server and for the Authorization service', async () => {
    expect(await healthCheck(server.app.grpcPort, '')).toBe('SERVING');
    expect(await healthCheck(server.app.grpcPort, 'envoy.service.auth.v3.Authorization')).toBe('SERVING');
  });
});
