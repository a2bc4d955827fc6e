// Overrides survive a restart of the real server through the state file; a corrupt state file is
// reported loudly and ignored (the server starts on the config's settings); overrides of routes the
// config no longer has are dropped with a log line.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRequest } from '../fixtures/check-request.js';
import { metadataOf, startTestServer, type TestServer } from '../fixtures/server.js';

const TOKEN = 'persist-token-77a0';
const BAD = 'spiffe://prod.example.org/ns/intruder/sa/x';

function configWith(stateFile: string, routes = ['orders', 'billing']): string {
  return `
trustDomains: [prod.example.org]
rollout: { stateFile: ${JSON.stringify(stateFile)} }
routes:
${routes.map((r) => `  - { name: ${r}, mode: shadow, allow: { prod.example.org: ["/ns/checkout/sa/*"] } }`).join('\n')}
`;
}

function stateFilePath(): string {
  return join(mkdtempSync(join(tmpdir(), 'rollout-state-')), 'rollout-state.json');
}

const running: TestServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close().catch(() => undefined);
});

async function start(config: string): Promise<TestServer> {
  const s = await startTestServer(config, { env: { SPIFFE_AUTHZ_ADMIN_TOKEN: TOKEN }, configPollMs: 0 });
  running.push(s);
  return s;
}

function put(server: TestServer, route: string, body: Record<string, unknown>): Promise<Response> {
  return server.admin(`/v1/routes/${route}/rollout`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
}

async function effect(server: TestServer, route: string): Promise<unknown> {
  return metadataOf(await server.check(checkRequest({ principal: BAD, route })))['effect'];
}

describe('state file', () => {
  it('keeps an override across a restart of the server', async () => {
    const stateFile = stateFilePath();
    const first = await start(configWith(stateFile));
    const res = await put(first, 'orders', { mode: 'enforce', enforcePercent: 100, reason: 'CHG-9', force: true });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Record<string, unknown>)['persistence']).toBe('saved');
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toMatchObject({ version: 1, overrides: { orders: { mode: 'enforce', reason: 'CHG-9', actor: 'token' } } });
    expect(await effect(first, 'orders')).toBe('deny');

    running.splice(running.indexOf(first), 1);
    const second = await first.restart();
    running.push(second);
    expect(second.app.grpcPort).not.toBe(0);
    const view = (await (await second.admin('/v1/routes/orders')).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ mode: 'enforce', source: 'override', override: { reason: 'CHG-9' }, config: { mode: 'shadow' } });
    expect(await effect(second, 'orders')).toBe('deny');
    expect(await effect(second, 'billing')).toBe('allow');
    expect(second.logs.find((l) => l['msg'] === 'overrides restored')).toMatchObject({ routes: [{ route: 'orders', mode: 'enforce' }] });
  });

  it('starts on the config’s settings when the state file is corrupt, logs it at error level and counts it', async () => {
    const stateFile = stateFilePath();
    writeFileSync(stateFile, '{"version": 1, "overrides": {"orders": {"mode": "enforce"');
    const server = await start(configWith(stateFile));
    expect((await server.admin('/readyz')).status).toBe(200);
    const line = server.logs.find((l) => l['msg'] === 'state file ignored: overrides not restored');
    expect(line).toMatchObject({ level: 50, stateFile });
    expect(String(line?.['problem'])).toContain('not valid JSON');
    expect((await (await server.admin('/v1/routes/orders')).json()) as Record<string, unknown>).toMatchObject({ mode: 'shadow', source: 'config' });
    expect(await effect(server, 'orders')).toBe('allow');
    expect(await (await server.admin('/metrics')).text()).toMatch(/spiffe_authz_state_file_errors_total 1/);
  });

  it('ignores a state file with the right JSON but a wrong shape, naming the key at fault', async () => {
    const stateFile = stateFilePath();
    writeFileSync(stateFile, JSON.stringify({ version: 1, overrides: { orders: { mode: 'enforce', enforcePercent: 500, reason: '', actor: 'x', at: '2026-01-01T00:00:00Z' } } }));
    const server = await start(configWith(stateFile));
    expect(String(server.logs.find((l) => l['level'] === 50)?.['problem'])).toContain('overrides.orders.enforcePercent');
    expect(await effect(server, 'orders')).toBe('allow');
  });

  it('drops the override of a route the config no longer has, with a log line, and rewrites the file', async () => {
    const stateFile = stateFilePath();
    const first = await start(configWith(stateFile));
    expect((await put(first, 'billing', { mode: 'warn', reason: 'CHG-10' })).status).toBe(200);
    expect((await put(first, 'orders', { mode: 'warn', reason: 'CHG-11' })).status).toBe(200);
    await first.close();
    const second = await start(configWith(stateFile, ['orders']));
    expect(second.logs.find((l) => l['msg'] === 'override dropped: route no longer configured')).toMatchObject({ route: 'billing' });
    expect(await effect(second, 'orders')).toBe('warn');
    expect(Object.keys((JSON.parse(readFileSync(stateFile, 'utf8')) as { overrides: object }).overrides)).toEqual(['orders']);
  });

  it('keeps overrides in memory only when no state file is configured', async () => {
    const server = await start(`routes: [{ name: orders, mode: shadow }]`);
    const res = await put(server, 'orders', { mode: 'warn', reason: 'x' });
    expect(((await res.json()) as Record<string, unknown>)['persistence']).toBe('disabled');
    expect(await effect(server, 'orders')).toBe('warn');
    running.splice(running.indexOf(server), 1);
    const again = await server.restart();
    running.push(again);
    expect(await effect(again, 'orders')).toBe('allow');
  });
});
