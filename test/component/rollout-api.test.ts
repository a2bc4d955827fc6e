// The admin rollout API against the real server: the staged-rollout flow (gate refuses with the
// evidence, force is audited, the next Check sees the change, DELETE, the gate passing on clean
// observation, rollback), bearer-token checks, request validation and the metrics of it all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequest } from '../fixtures/check-request.js';
import { metadataOf, startTestServer, type TestServer } from '../fixtures/server.js';

const TOKEN = 'test-admin-token-4f1c9a';
const CONFIG = `
trustDomains: [prod.example.org]
routes:
  - name: orders
    mode: shadow
    allow: { prod.example.org: ["/ns/checkout/sa/*"] }
  - name: other
    mode: warn
    allow: { prod.example.org: ["**"] }
`;
const GOOD = 'spiffe://prod.example.org/ns/checkout/sa/web';
const BAD = 'spiffe://prod.example.org/ns/intruder/sa/x';
const T0 = Date.UTC(2026, 0, 1);

const clock = { t: T0 };
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(CONFIG, { env: { SPIFFE_AUTHZ_ADMIN_TOKEN: TOKEN }, clock: () => clock.t, configPollMs: 0 });
});
afterAll(async () => {
  await server.close();
});

type Json = Record<string, unknown>;

/** An admin request; `token` null sends no Authorization header (or only the one in `headers`). */
function send(method: string, path: string, body?: unknown, token: string | null = TOKEN, headers: Record<string, string> = {}): Promise<Response> {
  return server.admin(path, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json;
}

async function route(name: string): Promise<Json> {
  return json(await server.admin(`/v1/routes/${name}`));
}

async function effectFor(caller: string, routeName = 'orders'): Promise<unknown> {
  return metadataOf(await server.check(checkRequest({ principal: caller, route: routeName })))['effect'];
}

describe('staged rollout through the admin API', () => {
  it('shows mode, percent, source, counters, top callers and readiness', async () => {
    for (let i = 0; i < 3; i++) await server.check(checkRequest({ principal: BAD, route: 'orders' }));
    const r = await route('orders');
    expect(r).toMatchObject({ name: 'orders', mode: 'shadow', enforcePercent: 100, outsideCohort: 'warn', source: 'config', override: null });
    expect(r['counters']).toMatchObject({ checks: 3, wouldDeny: 3, byReason: { NO_MATCHING_RULE: 3 } });
    expect((r['windows'] as Record<string, Json>)['1m']).toMatchObject({ checks: 3, wouldDeny: 3 });
    expect(r['topCallers']).toEqual([{ spiffeId: BAD, count: 3, error: 0, lastSeen: new Date(T0).toISOString(), reason: 'NO_MATCHING_RULE' }]);
    expect(r['readiness']).toMatchObject({ readyToEnforce: false, fullyEnforced: false, window: '15m', wouldDeny: 3, unmet: ['observed-time', 'min-checks', 'no-would-deny'] });
    const all = await json(await server.admin('/v1/routes'));
    expect((all['routes'] as Json[]).map((x) => x['name'])).toEqual(['orders', 'other', '_unmatched']);
  });

  it('refuses enforce with 409 and the evidence, and audits the refusal', async () => {
    const res = await send('PUT', '/v1/routes/orders/rollout', { mode: 'enforce', reason: 'CHG-1 go live' });
    expect(res.status).toBe(409);
    const body = await json(res);
    expect(body).toMatchObject({
      error: 'refused by the safe-to-enforce gate',
      route: 'orders',
      current: { mode: 'shadow', enforcePercent: 100, source: 'config' },
      evidence: { window: '15m', wouldDeny: 3, checks: 3, unmet: ['observed-time', 'min-checks', 'no-would-deny'] },
    });
    expect((body['evidence'] as Json)['topCallers']).toMatchObject([{ spiffeId: BAD, count: 3 }]);
    expect(await effectFor(BAD)).toBe('allow');
    expect(server.logs.find((l) => l['msg'] === 'audit' && l['outcome'] === 'refused')).toMatchObject({ action: 'set', route: 'orders', reason: 'CHG-1 go live' });
  });

  it('applies a forced change on the next Check and audits it with before, after and force', async () => {
    const res = await send('PUT', '/v1/routes/orders/rollout', { mode: 'enforce', enforcePercent: 100, reason: 'CHG-2 forced', force: true });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ changed: true, gate: 'forced', forced: true, persistence: 'disabled' });
    expect(body['route']).toMatchObject({ mode: 'enforce', source: 'override', override: { mode: 'enforce', reason: 'CHG-2 forced', actor: 'token' } });
    expect(await effectFor(BAD)).toBe('deny');
    expect(await effectFor(GOOD)).toBe('allow');
    const audit = server.logs.find((l) => l['msg'] === 'audit' && l['outcome'] === 'applied' && l['action'] === 'set');
    expect(audit).toMatchObject({
      route: 'orders',
      reason: 'CHG-2 forced',
      force: true,
      gate: 'forced',
      actor: 'token',
      before: { mode: 'shadow', source: 'config' },
      after: { mode: 'enforce', enforcePercent: 100, source: 'override' },
      evidence: { wouldDeny: 4 },
    });
    expect(JSON.stringify(server.logs)).not.toContain(TOKEN);
  });

  it('returns to the config’s setting on DELETE (lowering is never gated)', async () => {
    const res = await send('DELETE', '/v1/routes/orders/rollout', { reason: 'CHG-3 back to config' });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ changed: true, gate: 'not-gated', changes: [{ route: 'orders', before: { mode: 'enforce' }, after: { mode: 'shadow', source: 'config' } }] });
    expect(await effectFor(BAD)).toBe('allow');
    const again = await json(await send('DELETE', '/v1/routes/orders/rollout', { reason: 'again' }));
    expect(again).toMatchObject({ changed: false });
  });

  it('lets enforce through without force once observed long enough on enough clean checks', async () => {
    clock.t = T0 + 901_000;
    for (let i = 0; i < 100; i++) await server.check(checkRequest({ principal: GOOD, route: 'orders' }));
    expect((await route('orders'))['readiness']).toMatchObject({ readyToEnforce: true, checks: 100, wouldDeny: 0, unmet: [] });
    const res = await send('PUT', '/v1/routes/orders/rollout', { mode: 'enforce', enforcePercent: 10, reason: 'CHG-4 10 %' });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ gate: 'evidence', forced: false, route: { mode: 'enforce', enforcePercent: 10 } });
  });

  it('refuses raising the percent while callers outside the cohort would be denied', async () => {
    // Find a denied caller outside the 10 % cohort: it is warned and counted as would-deny.
    let outside = '';
    for (let i = 0; i < 50 && outside === ''; i++) {
      const id = `spiffe://prod.example.org/ns/intruder/sa/n${i}`;
      if ((await effectFor(id)) === 'warn') outside = id;
    }
    expect(outside).not.toBe('');
    const res = await send('PUT', '/v1/routes/orders/rollout', { mode: 'enforce', enforcePercent: 50, reason: 'CHG-5 50 %' });
    expect(res.status).toBe(409);
    expect((await json(res))['evidence']).toMatchObject({ unmet: ['no-would-deny'] });
  });

  it('rolls every route back to shadow at once', async () => {
    const res = await send('POST', '/v1/rollback', { reason: 'INC-7 panic' });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect((body['changes'] as Json[]).map((c) => [c['route'], (c['after'] as Json)['mode']])).toEqual([
      ['orders', 'shadow'],
      ['other', 'shadow'],
      ['_unmatched', 'shadow'],
    ]);
    expect(await effectFor(BAD)).toBe('allow');
    expect(await effectFor(BAD, 'other')).toBe('allow');
    expect(server.logs.find((l) => l['msg'] === 'audit' && l['action'] === 'rollback')).toMatchObject({ route: '*', reason: 'INC-7 panic', level: 40 });
    const metrics = await (await server.admin('/metrics')).text();
    expect(metrics).toMatch(/spiffe_authz_rollout_changes_total\{action="rollback"\} 1/);
    expect(metrics).toMatch(/spiffe_authz_rollout_changes_total\{action="forced"\} 1/);
    expect(metrics).toMatch(/spiffe_authz_rollout_changes_total\{action="refused"\} 2/);
    expect(metrics).toMatch(/spiffe_authz_route_mode\{route="orders",mode="shadow"\} 1/);
    expect(metrics).toMatch(/spiffe_authz_route_enforce_percent\{route="orders"\} 10/);
    expect(metrics).not.toContain('spiffe://');
  });

  it('puts the unmatched route under the API too', async () => {
    expect((await send('PUT', '/v1/routes/_unmatched/rollout', { mode: 'enforce', reason: 'x', force: true })).status).toBe(200);
    const res = await server.check(checkRequest({ principal: GOOD, route: 'nope' }));
    expect(metadataOf(res)).toMatchObject({ route: '_unmatched', effect: 'deny', reason: 'NO_ROUTE' });
    expect(res.status.code).toBe(7);
  });
});

describe('admin token', () => {
  it('answers 401 without an Authorization header or with a malformed one, 403 with a wrong token', async () => {
    const body = { mode: 'shadow', reason: 'x' };
    const missing = await send('PUT', '/v1/routes/orders/rollout', body, null);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect((await send('PUT', '/v1/routes/orders/rollout', body, null, { authorization: `Basic ${TOKEN}` })).status).toBe(401);
    expect((await send('PUT', '/v1/routes/orders/rollout', body, null, { authorization: 'Bearer' })).status).toBe(401);
    expect((await send('PUT', '/v1/routes/orders/rollout', body, `${TOKEN}x`)).status).toBe(403);
    expect((await send('POST', '/v1/rollback', { reason: 'x' }, 'wrong')).status).toBe(403);
    expect((await send('POST', '/v1/reload', undefined, 'wrong')).status).toBe(403);
    expect(server.logs.filter((l) => l['msg'] === 'admin auth failed').map((l) => l['result'])).toEqual(
      expect.arrayContaining(['missing', 'malformed', 'invalid']) as unknown,
    );
    expect(JSON.stringify(server.logs)).not.toContain(TOKEN);
  });

  it('refuses every mutation with 403 when no token is configured, and says so', async () => {
    const bare = await startTestServer(CONFIG, { env: {}, configPollMs: 0 });
    try {
      const res = await bare.admin('/v1/routes/orders/rollout', {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: 'Bearer anything' },
        body: JSON.stringify({ mode: 'enforce', reason: 'x', force: true }),
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as Json)['error']).toMatch(/disabled: no admin token is configured/);
      expect((await bare.admin('/v1/routes/orders')).status).toBe(200);
    } finally {
      await bare.close();
    }
  });
});

describe('request validation', () => {
  it.each([
    ['bad JSON', '{"mode":', 400],
    ['an unknown key', { mode: 'warn', reason: 'x', colour: 'blue' }, 400],
    ['a percent with three decimals', { mode: 'enforce', enforcePercent: 12.345, reason: 'x' }, 400],
    ['a percent above 100', { mode: 'enforce', enforcePercent: 101, reason: 'x' }, 400],
    ['no reason', { mode: 'warn' }, 400],
    ['a blank reason', { mode: 'warn', reason: '   ' }, 400],
    ['an unknown mode', { mode: 'enforced', reason: 'x' }, 400],
  ])('answers %s with %i', async (_name, body, status) => {
    const res = await send('PUT', '/v1/routes/other/rollout', body);
    expect(res.status).toBe(status);
    expect(typeof (await json(res))['error']).toBe('string');
  });

  it('answers 415 for a body that is not JSON, 413 for one over 16 KiB, 400 for none', async () => {
    expect((await send('PUT', '/v1/routes/other/rollout', 'mode=warn', TOKEN, { 'content-type': 'text/plain' })).status).toBe(415);
    const big = { mode: 'warn', reason: 'x'.repeat(17 * 1024) };
    expect((await send('PUT', '/v1/routes/other/rollout', big)).status).toBe(413);
    expect((await send('POST', '/v1/rollback')).status).toBe(400);
  });

  it('answers 404 for an unknown route and 405 for a wrong method', async () => {
    expect((await send('PUT', '/v1/routes/nope/rollout', { mode: 'warn', reason: 'x' })).status).toBe(404);
    expect((await send('DELETE', '/v1/routes/nope/rollout', { reason: 'x' })).status).toBe(404);
    expect((await server.admin('/v1/routes/nope')).status).toBe(404);
    const wrong = await server.admin('/v1/rollback');
    expect([wrong.status, wrong.headers.get('allow')]).toEqual([405, 'POST']);
    expect((await send('POST', '/v1/routes/orders', { reason: 'x' })).status).toBe(405);
    expect((await server.admin('/v1/routes/orders/rollout')).status).toBe(405);
  });
});
