// Percentage enforcement and the rollout counters through the real server under load: of 200
// distinct denied callers at 30 % roughly 30 % are denied, each caller the same way twice; and with
// Checks sent concurrently while modes are toggled through the API and the config is reloaded, the
// counters account for every Check exactly once and agree with what the callers received.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireCheckResponse } from '../../src/grpc/wire.js';
import { checkRequest } from '../fixtures/check-request.js';
import { metadataOf, startTestServer, type TestServer } from '../fixtures/server.js';

const TOKEN = 'load-token-5d2e';
const ROUTES = ['pct', 'alpha', 'beta'] as const;

function config(alphaMode: string, betaMode: string): string {
  return `
trustDomains: [prod.example.org]
routes:
  - { name: pct, mode: enforce, enforcePercent: 30, allow: { prod.example.org: ["/ns/checkout/sa/*"] } }
  - { name: alpha, mode: ${alphaMode}, allow: { prod.example.org: ["/ns/checkout/sa/*"] } }
  - { name: beta, mode: ${betaMode}, enforcePercent: 50, allow: { prod.example.org: ["/ns/checkout/sa/*"] } }
`;
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(config('shadow', 'warn'), { env: { SPIFFE_AUTHZ_ADMIN_TOKEN: TOKEN }, configPollMs: 0 });
});
afterAll(async () => {
  await server.close();
});

function mutate(method: string, path: string, body: unknown): Promise<Response> {
  return server.admin(path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
}

interface RouteJson {
  name: string;
  counters: { checks: number; allowed: number; denied: number; warned: number; wouldDeny: number };
}

async function routes(): Promise<RouteJson[]> {
  return ((await (await server.admin('/v1/routes')).json()) as { routes: RouteJson[] }).routes;
}

describe('percentage enforcement through the real server', () => {
  it('denies about 30 % of 200 distinct callers at 30 %, and each caller the same way on a second request', async () => {
    const callers = Array.from({ length: 200 }, (_, i) => `spiffe://prod.example.org/ns/team${i}/sa/svc`);
    const first = await Promise.all(callers.map((c) => server.check(checkRequest({ principal: c, route: 'pct' }))));
    const second = await Promise.all(callers.map((c) => server.check(checkRequest({ principal: c, route: 'pct' }))));
    const effects = first.map((r) => metadataOf(r)['effect']);
    expect(second.map((r) => metadataOf(r)['effect'])).toEqual(effects);
    const denied = effects.filter((e) => e === 'deny').length;
    // 60 expected; the binomial standard deviation is 6.5.
    expect(denied).toBeGreaterThanOrEqual(40);
    expect(denied).toBeLessThanOrEqual(80);
    expect(effects.filter((e) => e === 'warn').length).toBe(200 - denied);
    expect(metadataOf(first[0]!)).toMatchObject({ mode: 'enforce', enforcePercent: 30, decision: 'deny' });
    // Enforced denies are real denies on the wire; the others carry the warning header.
    for (const [i, r] of first.entries()) expect(r.status.code ?? 0).toBe(effects[i] === 'deny' ? 7 : 0);
  });
});

describe('counters under concurrent load', () => {
  it('count every Check exactly once while modes are toggled and the config is reloaded', async () => {
    const before = await routes();
    const base = Object.fromEntries(before.map((r) => [r.name, r.counters]));
    const N = 2000;
    const BATCH = 250;
    const responses: WireCheckResponse[] = [];
    let sending = true;

    // Toggle through the API and reload the config for as long as the Checks are being sent.
    const toggler = (async () => {
      const steps: (() => Promise<Response>)[] = [
        () => mutate('PUT', '/v1/routes/alpha/rollout', { mode: 'enforce', enforcePercent: 40, reason: 'load', force: true }),
        () => mutate('PUT', '/v1/routes/beta/rollout', { mode: 'shadow', reason: 'load' }),
        () => mutate('POST', '/v1/rollback', { reason: 'load' }),
        () => mutate('DELETE', '/v1/routes/alpha/rollout', { reason: 'load', force: true }),
        () => mutate('DELETE', '/v1/routes/beta/rollout', { reason: 'load', force: true }),
      ];
      let i = 0;
      let reloads = 0;
      while (sending) {
        const step = steps[i % steps.length]!;
        expect((await step()).status).toBe(200);
        if (i % 3 === 0) {
          writeFileSync(server.configPath, i % 2 === 0 ? config('warn', 'enforce') : config('shadow', 'warn'));
          const r = await server.admin('/v1/reload', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
          expect(r.status).toBe(200);
          reloads++;
        }
        i++;
        await new Promise((r) => setImmediate(r));
      }
      return { toggles: i, reloads };
    })();

    for (let sent = 0; sent < N; sent += BATCH) {
      const batch = Array.from({ length: BATCH }, (_, k) => {
        const n = sent + k;
        const route = ROUTES[n % ROUTES.length]!;
        // Every third caller is allowed by the policy; the others are denied (enforced or not).
        const caller = n % 3 === 0 ? `spiffe://prod.example.org/ns/checkout/sa/s${n}` : `spiffe://prod.example.org/ns/other${n % 97}/sa/s`;
        return server.check(checkRequest({ principal: caller, route, requestId: `load-${n}` }));
      });
      responses.push(...(await Promise.all(batch)));
    }
    sending = false;
    const { toggles, reloads } = await toggler;
    expect(toggles).toBeGreaterThan(0);
    expect(reloads).toBeGreaterThan(0);
    expect(responses).toHaveLength(N);

    const after = await routes();
    const delta = (name: string, field: keyof RouteJson['counters']): number =>
      (after.find((r) => r.name === name)?.counters[field] ?? 0) - (base[name]?.[field] ?? 0);
    const sum = (field: keyof RouteJson['counters']): number => ROUTES.reduce((acc, r) => acc + delta(r, field), 0);
    expect(sum('checks')).toBe(N);
    expect(delta('_unmatched', 'checks')).toBe(0);
    for (const r of ROUTES) expect(delta(r, 'allowed') + delta(r, 'denied') + delta(r, 'wouldDeny')).toBe(delta(r, 'checks'));
    // What the counters say is what the callers got.
    const effects = responses.map((r) => metadataOf(r)['effect']);
    expect(sum('denied')).toBe(effects.filter((e) => e === 'deny').length);
    expect(sum('warned')).toBe(effects.filter((e) => e === 'warn').length);
    expect(sum('allowed')).toBe(Math.ceil(N / 3));
    expect(responses.filter((r) => (r.status.code ?? 0) === 7).length).toBe(sum('denied'));

    const metrics = await (await server.admin('/metrics')).text();
    let total = 0;
    for (const m of metrics.matchAll(/^spiffe_authz_checks_total\{route="(pct|alpha|beta)",[^}]*\} (\d+)$/gm)) total += Number(m[2]);
    expect(total).toBe(N + ROUTES.reduce((acc, r) => acc + (base[r]?.checks ?? 0), 0));
  });
});
