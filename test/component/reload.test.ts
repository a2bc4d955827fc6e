// Live config reload on the real server: a file change is picked up; an invalid file keeps the
// running config, logs every issue with its key path and counts the failure; POST /v1/reload answers
// 422 with the issues or 200 with the new summary; overrides and counters of surviving routes are
// kept; SIGHUP reloads the real CLI process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRequest } from '../fixtures/check-request.js';
import { metadataOf, startTestServer, writeTempConfig, type TestServer } from '../fixtures/server.js';

const TOKEN = 'reload-token-19be';
const BAD = 'spiffe://prod.example.org/ns/intruder/sa/x';

function config(modes: Record<string, string>, extra = ''): string {
  const routes = Object.entries(modes).map(([name, mode]) => `  - { name: ${name}, mode: ${mode}, allow: { prod.example.org: ["/ns/checkout/sa/*"] } }`);
  return `trustDomains: [prod.example.org]\n${extra}\nroutes:\n${routes.join('\n')}\n`;
}

const running: TestServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
});

async function start(text: string, pollMs = 0): Promise<TestServer> {
  const s = await startTestServer(text, { env: { SPIFFE_AUTHZ_ADMIN_TOKEN: TOKEN }, configPollMs: pollMs });
  running.push(s);
  return s;
}

async function effect(server: TestServer, route: string): Promise<unknown> {
  return metadataOf(await server.check(checkRequest({ principal: BAD, route })))['effect'];
}

function post(server: TestServer, path: string, body: unknown = undefined, token = TOKEN): Promise<Response> {
  return server.admin(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('config reload', () => {
  it('picks up a change of the file and applies it to the next Check', async () => {
    const server = await start(config({ a: 'shadow' }), 100);
    expect(await effect(server, 'a')).toBe('allow');
    writeFileSync(server.configPath, config({ a: 'enforce', b: 'warn' }));
    await waitFor('the reload', () => server.logs.some((l) => l['msg'] === 'config reloaded'));
    expect(server.logs.find((l) => l['msg'] === 'config reloaded')).toMatchObject({ trigger: 'file', routes: 2 });
    expect(await effect(server, 'a')).toBe('deny');
    expect(await effect(server, 'b')).toBe('warn');
    const metrics = await (await server.admin('/metrics')).text();
    expect(metrics).toMatch(/spiffe_authz_config_reloads_total\{result="success"\} 1/);
    expect(metrics).toMatch(/spiffe_authz_route_mode\{route="b",mode="warn"\} 1/);
  });

  it('keeps the running config when the changed file is invalid, logs each issue with its key path and counts it', async () => {
    const server = await start(config({ a: 'enforce' }), 100);
    writeFileSync(server.configPath, `trustDomains: [prod.example.org]\nroutes:\n  - { name: a, mode: enforced, enforcePercent: 120 }\n`);
    await waitFor('the failure', () => server.logs.some((l) => l['msg'] === 'config reload failed'));
    const line = server.logs.find((l) => l['msg'] === 'config reload failed');
    expect(line).toMatchObject({ level: 50, trigger: 'file' });
    expect((line?.['issues'] as { path: string }[]).map((i) => i.path).sort()).toEqual(['routes[0].enforcePercent', 'routes[0].mode']);
    expect(await effect(server, 'a')).toBe('deny');
    const metrics = await (await server.admin('/metrics')).text();
    expect(metrics).toMatch(/spiffe_authz_config_reload_failures_total 1/);
    expect(metrics).toMatch(/spiffe_authz_config_reloads_total\{result="failure"\} 1/);
  });

  it('answers POST /v1/reload with 422 and the key paths, then 200 with the summary once fixed', async () => {
    const server = await start(config({ a: 'shadow' }));
    expect((await post(server, '/v1/reload', undefined, 'wrong')).status).toBe(403);
    writeFileSync(server.configPath, `routes:\n  - { name: a, colour: blue }\nrollout: { gate: { minObservedSeconds: 10 } }\n`);
    const bad = await post(server, '/v1/reload');
    expect(bad.status).toBe(422);
    const body = (await bad.json()) as { error: string; issues: { path: string; message: string }[] };
    expect(body.error).toMatch(/running config is kept/);
    expect(body.issues.map((i) => i.path).sort()).toEqual(['rollout.gate.minObservedSeconds', 'routes[0].colour']);
    expect(await effect(server, 'a')).toBe('allow');

    writeFileSync(server.configPath, config({ a: 'warn', c: 'shadow' }));
    const good = await post(server, '/v1/reload', { reason: 'CHG-12' });
    expect(good.status).toBe(200);
    expect(await good.json()).toMatchObject({ status: 'reloaded', config: { source: server.configPath, routes: 2, droppedOverrides: [], restartRequired: [] } });
    expect(await effect(server, 'a')).toBe('warn');
  });

  it('keeps overrides and counters of routes that survive, drops the override of a removed route', async () => {
    const server = await start(config({ a: 'shadow', b: 'shadow' }));
    for (const r of ['a', 'b']) {
      const res = await server.admin(`/v1/routes/${r}/rollout`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ mode: 'warn', reason: 'CHG-13' }),
      });
      expect(res.status).toBe(200);
    }
    await effect(server, 'a');
    await effect(server, 'a');
    writeFileSync(server.configPath, config({ a: 'enforce' }, 'listen: { grpc: "127.0.0.1:1" }'));
    const res = await post(server, '/v1/reload');
    expect(await res.json()).toMatchObject({ config: { droppedOverrides: ['b'], restartRequired: ['listen.grpc'] } });
    expect(server.logs.find((l) => l['msg'] === 'config change needs a restart')).toMatchObject({ key: 'listen.grpc' });
    expect(server.logs.find((l) => l['msg'] === 'override dropped: route no longer configured')).toMatchObject({ route: 'b' });
    // The verification caches are sized at start, too.
    writeFileSync(server.configPath, config({ a: 'enforce' }, 'listen: { grpc: "127.0.0.1:1" }\nidentity: { cache: { maxEntries: 5 } }'));
    const sized = await post(server, '/v1/reload');
    expect(await sized.json()).toMatchObject({ config: { restartRequired: ['listen.grpc', 'identity.cache.maxEntries'] } });
    const a = (await (await server.admin('/v1/routes/a')).json()) as Record<string, unknown>;
    expect(a).toMatchObject({ mode: 'warn', source: 'override', config: { mode: 'enforce' }, counters: { checks: 2, warned: 2 } });
    expect((await server.admin('/v1/routes/b')).status).toBe(404);
    // Still serving where it listened at start.
    expect(await effect(server, 'a')).toBe('warn');
  });
});

describe('admin token on reload', () => {
  it('re-reads the token file, and keeps the running config and token when it cannot be read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'admin-token-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'first-token\n');
    const withFile = config({ a: 'shadow' }, `rollout: { adminToken: { file: ${JSON.stringify(tokenFile)} } }`);
    const server = await start(withFile);
    expect((await post(server, '/v1/reload', undefined, 'first-token')).status).toBe(200);

    writeFileSync(tokenFile, 'second-token\n');
    expect((await post(server, '/v1/reload', undefined, 'first-token')).status).toBe(200);
    expect((await post(server, '/v1/reload', undefined, 'first-token')).status).toBe(403);
    expect((await post(server, '/v1/reload', undefined, 'second-token')).status).toBe(200);

    rmSync(tokenFile);
    const res = await post(server, '/v1/reload', undefined, 'second-token');
    expect(res.status).toBe(422);
    expect(((await res.json()) as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(['rollout.adminToken.file']);
    expect((await post(server, '/v1/reload', undefined, 'second-token')).status).toBe(422);
    expect(JSON.stringify(server.logs)).not.toMatch(/first-token|second-token/);
  });
});

describe('SIGHUP', () => {
  it('reloads the config of the real CLI process', async () => {
    const path = writeTempConfig(config({ a: 'shadow' }, 'listen: { grpc: "127.0.0.1:0", admin: "127.0.0.1:0" }'));
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--config', path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a JSON line
      }
    });
    try {
      await waitFor('serving', () => lines.some((l) => l['msg'] === 'serving'), 20_000);
      const adminPort = lines.find((l) => l['msg'] === 'serving')?.['adminPort'] as number;
      writeFileSync(path, config({ a: 'warn', z: 'enforce' }, 'listen: { grpc: "127.0.0.1:0", admin: "127.0.0.1:0" }'));
      child.kill('SIGHUP');
      await waitFor('the signal reload', () => lines.some((l) => l['msg'] === 'config reloaded' && l['trigger'] === 'signal'));
      const routes = (await (await fetch(`http://127.0.0.1:${adminPort}/v1/routes`)).json()) as { routes: { name: string; mode: string }[] };
      expect(routes.routes.map((r) => [r.name, r.mode])).toEqual([
        ['a', 'warn'],
        ['z', 'enforce'],
        ['_unmatched', 'shadow'],
      ]);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
