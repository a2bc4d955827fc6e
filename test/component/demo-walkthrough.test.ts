// The docker-compose walkthrough without Docker: the demo policy and a demo PKI, with CheckRequests
// shaped as the demo Envoy sends them (principal, peer certificate, SANITIZE_SET XFCC, route name),
// and the README's admin API calls. test/integration/envoy.test.ts does the same through real Envoy.
import { X509Certificate, createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequest } from '../fixtures/check-request.js';
import { demoPolicyText, makeDemoPki, routeView, until, type DemoPki } from '../fixtures/demo-setup.js';
import { headerValue, metadataOf, startTestServer, type TestServer } from '../fixtures/server.js';
import { envoyUrlEncode } from '../fixtures/test-ca.js';

const TD = 'demo.example.org';
const ENVOY_ID = `spiffe://${TD}/ns/demo/sa/envoy`;
const TOKEN = 'demo-token';

describe('docker-compose walkthrough (demo policy and PKI, Envoy-shaped checks)', () => {
  let pki: DemoPki;
  let server: TestServer;
  let admin = '';

  /** What the demo Envoy sends for `client` on `route` (envoy.yaml: include_peer_certificate, SANITIZE_SET + uri). */
  function envoyCheck(client: 'client-a' | 'client-b', route: string, by = ENVOY_ID): Record<string, unknown> {
    const pem = pki.pem(`${client}.pem`);
    const id = `spiffe://${TD}/ns/demo/sa/${client}`;
    const hash = createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
    return checkRequest({
      principal: id,
      certificate: envoyUrlEncode(pem),
      xfcc: `By=${by};Hash=${hash};URI=${id}`,
      host: 'envoy:8443',
      method: 'GET',
      path: route === 'echo-read' ? '/read' : '/',
      route,
    });
  }

  const mutate = (path: string, body: unknown, method = 'PUT'): Promise<Response> =>
    server.admin(path, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    pki = await makeDemoPki();
    server = await startTestServer(demoPolicyText(pki.dir), { env: { SPIFFE_AUTHZ_ADMIN_TOKEN: TOKEN }, configPollMs: 100 });
    admin = `http://127.0.0.1:${server.app.adminPort}`;
  });

  afterAll(async () => {
    await server?.close();
  });

  it('allows client-a on echo-read, principal, certificate (chained to bundle.pem) and XFCC agreeing', async () => {
    const res = await server.check(envoyCheck('client-a', 'echo-read'));
    expect(res.status?.code).toBe(0);
    expect(metadataOf(res)).toMatchObject({ route: 'echo-read', mode: 'shadow', decision: 'allow', reason: 'ALLOWED', identitySource: 'principal', agreedSources: 'certificate,xfcc' });
  });

  it('lets client-b through echo-read in shadow, counting a would-deny', async () => {
    const res = await server.check(envoyCheck('client-b', 'echo-read'));
    expect(res.status?.code).toBe(0);
    expect(metadataOf(res)).toMatchObject({ decision: 'deny', effect: 'allow', reason: 'NO_MATCHING_RULE', wouldDeny: true });
    const view = await routeView(admin, 'echo-read');
    expect(view.counters).toMatchObject({ checks: 2, wouldDeny: 1, denied: 0, byReason: { ALLOWED: 1, NO_MATCHING_RULE: 1 } });
  });

  it('decides echo-write and echo-public as policy.yaml says', async () => {
    expect(metadataOf(await server.check(envoyCheck('client-b', 'echo-write')))['reason']).toBe('DENIED_BY_RULE');
    expect(metadataOf(await server.check(envoyCheck('client-a', 'echo-write')))['reason']).toBe('ALLOWED');
    expect(metadataOf(await server.check(envoyCheck('client-b', 'echo-public')))['reason']).toBe('ALLOWED');
  });

  it('rejects XFCC written by anyone but the demo Envoy with XFCC_UNTRUSTED_HOP', async () => {
    const res = await server.check(envoyCheck('client-a', 'echo-public', `spiffe://${TD}/ns/demo/sa/client-b`));
    expect(metadataOf(res)).toMatchObject({ decision: 'deny', reason: 'XFCC_UNTRUSTED_HOP' });
  });

  it('enforces echo-read when the config file says so (reloaded on change)', async () => {
    writeFileSync(server.configPath, demoPolicyText(pki.dir, { 'echo-read': 'enforce' }));
    const view = await until(() => routeView(admin, 'echo-read'), (v) => v.mode === 'enforce', 10_000, 100);
    expect(view.mode).toBe('enforce');
    const denied = await server.check(envoyCheck('client-b', 'echo-read'));
    expect(denied.denied_response?.status?.code).toBe('Forbidden');
    // Back to the file's shadow, for the admin API walkthrough below.
    writeFileSync(server.configPath, demoPolicyText(pki.dir));
    expect((await until(() => routeView(admin, 'echo-read'), (v) => v.mode === 'shadow', 10_000, 100)).mode).toBe('shadow');
  });

  it('enforces echo-read through the admin API: client-b gets 403 with the reason, client-a still passes', async () => {
    const put = await mutate('/v1/routes/echo-read/rollout', { mode: 'enforce', reason: 'demo', force: true });
    expect(put.status).toBe(200);
    expect((await routeView(admin, 'echo-read')).mode).toBe('enforce');
    const denied = await server.check(envoyCheck('client-b', 'echo-read'));
    expect(denied.status?.code).toBe(7);
    expect(denied.denied_response?.status?.code).toBe('Forbidden'); // HttpStatus enum name of 403
    expect(headerValue(denied.denied_response?.headers, 'x-spiffe-authz-reason')).toBe('NO_MATCHING_RULE');
    expect((await server.check(envoyCheck('client-a', 'echo-read'))).status?.code).toBe(0);
  });

  it('rolls every route back to shadow with POST /v1/rollback', async () => {
    const res = await mutate('/v1/rollback', { reason: 'demo over' }, 'POST');
    expect(res.status).toBe(200);
    expect((await routeView(admin, 'echo-read')).mode).toBe('shadow');
    expect((await server.check(envoyCheck('client-b', 'echo-read'))).status?.code).toBe(0);
  });

  it('refuses admin mutations without the token', async () => {
    const res = await server.admin('/v1/rollback', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"reason":"x"}' });
    expect(res.status).toBe(401);
  });
});
