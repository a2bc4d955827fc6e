// Faults on the real server (in process): a bad reload under load keeps the old config serving; a
// state file that turns corrupt or unwritable keeps the overrides in force, counted and logged; an
// exception inside evaluation fails closed (allowed on shadow routes) and is counted; a log
// destination that never drains never holds up a Check and holds at most log.maxBufferBytes.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, constants as fsConstants, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthorizeDeps } from '../../src/authz/authorize.js';
import { createLogDestination } from '../../src/log/logger.js';
import { checkRequest } from '../fixtures/check-request.js';
import { metadataOf, startTestServer, type TestServer } from '../fixtures/server.js';

const TOKEN = 'faults-token-4d2';
const ALLOWED = 'spiffe://prod.example.org/ns/checkout/sa/web';
const BAD = 'spiffe://prod.example.org/ns/intruder/sa/x';
const ROUTES = `
trustDomains: [prod.example.org]
routes:
  - { name: strict, mode: enforce, allow: { prod.example.org: ["/ns/checkout/sa/*"] } }
  - { name: told, mode: warn, allow: { prod.example.org: ["/ns/checkout/sa/*"] } }
  - { name: watched, mode: shadow, allow: { prod.example.org: ["/ns/checkout/sa/*"] } }
`;

const running: TestServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close().catch(() => undefined);
});

async function start(text: string, more: Parameters<typeof startTestServer>[1] = {}): Promise<TestServer> {
  const s = await startTestServer(text, { env: { SPIFFE_AUTHZ_ADMIN_TOKEN: TOKEN }, configPollMs: 0, ...more });
  running.push(s);
  return s;
}

async function metric(server: TestServer, line: RegExp): Promise<number> {
  const m = line.exec(await (await server.admin('/metrics')).text());
  return m === null ? Number.NaN : Number(m[1]);
}

describe('a bad reload under load', () => {
  it('keeps deciding every Check on the old config while a truncated file fails to reload', async () => {
    const server = await start(ROUTES);
    const load = Array.from({ length: 300 }, (_, i) => server.check(checkRequest({ principal: BAD, route: 'strict', requestId: `r${i}` })));
    // A writer caught halfway: valid YAML up to a cut in the middle of a flow mapping.
    writeFileSync(server.configPath, ROUTES.replace('mode: enforce', 'mode: shadow').slice(0, ROUTES.indexOf('told') + 10));
    const reload = await server.app.reload('signal');
    expect(reload.ok).toBe(false);
    const answers = await Promise.all(load);
    const after = await Promise.all(Array.from({ length: 50 }, () => server.check(checkRequest({ principal: BAD, route: 'strict' }))));
    for (const res of [...answers, ...after]) expect(metadataOf(res)).toMatchObject({ route: 'strict', effect: 'deny', reason: 'NO_MATCHING_RULE' });
    expect(server.app.stats.get('strict')?.snapshot(Date.now()).sinceStart.checks).toBe(350);
    expect(server.logs.find((l) => l['msg'] === 'config reload failed')).toMatchObject({ level: 50, trigger: 'signal' });
    expect(await metric(server, /^spiffe_authz_config_reload_failures_total (\d+)$/m)).toBe(1);
  });
});

describe('state file faults', () => {
  const put = (server: TestServer, mode: string): Promise<Response> =>
    server.admin('/v1/routes/watched/rollout', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ mode, reason: 'CHG-1', force: true }),
    });

  it('keeps the overrides in force when the file turns corrupt or unwritable, counts and logs it, and rewrites it later', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-faults-'));
    const stateFile = join(dir, 'state', 'rollout.json');
    mkdirSync(join(dir, 'state'));
    const server = await start(`${ROUTES}\nrollout: { stateFile: ${JSON.stringify(stateFile)} }\n`);
    expect(await (await put(server, 'warn')).json()).toMatchObject({ persistence: 'saved' });

    // Corrupt while running: the server never re-reads it, the override stays in force.
    writeFileSync(stateFile, '{"version": 1, "overr');
    expect(metadataOf(await server.check(checkRequest({ principal: BAD, route: 'watched' })))['effect']).toBe('warn');

    // Unwritable (its directory is gone): the change applies in memory, the failure is counted and logged.
    rmSync(join(dir, 'state'), { recursive: true });
    expect(await (await put(server, 'enforce')).json()).toMatchObject({ changed: true, persistence: 'failed' });
    expect(metadataOf(await server.check(checkRequest({ principal: BAD, route: 'watched' })))['effect']).toBe('deny');
    expect(await metric(server, /^spiffe_authz_state_file_errors_total (\d+)$/m)).toBe(1);
    expect(server.logs.some((l) => l['level'] === 50 && String(l['problem']).includes('cannot write state file'))).toBe(true);

    // Writable again: the next change writes a whole, valid file.
    mkdirSync(join(dir, 'state'));
    expect(await (await put(server, 'warn')).json()).toMatchObject({ persistence: 'saved' });
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toMatchObject({ version: 1, overrides: { watched: { mode: 'warn' } } });
  });
});

describe('an exception inside evaluation', () => {
  it('denies with INTERNAL_ERROR (allows on a shadow route), counts it per route and logs it at error level', async () => {
    let explode: 'identity' | 'setting' | undefined;
    const wrap = (d: AuthorizeDeps): AuthorizeDeps => ({
      ...d,
      settingOf: (route) => {
        if (explode === 'setting' && route.name === 'watched') throw new Error('setting store exploded');
        return d.settingOf(route);
      },
      identity: (snapshot) => {
        if (explode === 'identity') throw new Error('bundle store exploded');
        return d.identity(snapshot);
      },
    });
    const server = await start(ROUTES, { wrapAuthorizeDeps: wrap });
    const decide = async (route: string): Promise<{ status: number; md: Record<string, unknown> }> => {
      const res = await server.check(checkRequest({ principal: ALLOWED, route }));
      return { status: res.status.code ?? 0, md: metadataOf(res) };
    };

    explode = 'identity';
    expect(await decide('strict')).toMatchObject({ status: 7, md: { decision: 'deny', effect: 'deny', reason: 'INTERNAL_ERROR' } });
    // Fails closed on a warn route too: only shadow promises never to deny.
    expect(await decide('told')).toMatchObject({ status: 7, md: { decision: 'deny', effect: 'deny', reason: 'INTERNAL_ERROR' } });
    expect(await decide('watched')).toMatchObject({ status: 0, md: { decision: 'deny', effect: 'allow', reason: 'INTERNAL_ERROR', wouldDeny: true } });
    // When the route's setting itself cannot be read, its mode is unknown: fail closed, even for a shadow route.
    explode = 'setting';
    expect(await decide('watched')).toMatchObject({ status: 7, md: { route: 'watched', mode: 'enforce', effect: 'deny', reason: 'INTERNAL_ERROR' } });
    expect(await decide('strict')).toMatchObject({ status: 0, md: { reason: 'ALLOWED' } });
    explode = undefined;
    expect(await decide('watched')).toMatchObject({ status: 0, md: { reason: 'ALLOWED' } });

    const text = await (await server.admin('/metrics')).text();
    expect(text).toContain('spiffe_authz_internal_errors_total{route="strict"} 1');
    expect(text).toContain('spiffe_authz_internal_errors_total{route="told"} 1');
    expect(text).toContain('spiffe_authz_internal_errors_total{route="watched"} 2');
    const errors = server.logs.filter((l) => l['msg'] === 'decision' && l['reason'] === 'INTERNAL_ERROR');
    expect(errors.map((l) => [l['level'], l['route'], l['detail']])).toEqual([
      [50, 'strict', 'Error: bundle store exploded'],
      [50, 'told', 'Error: bundle store exploded'],
      [50, 'watched', 'Error: bundle store exploded'],
      [50, 'watched', 'Error: setting store exploded'],
    ]);
  });
});

describe('a log destination that never drains', () => {
  it('answers every Check, drops and counts the lines that do not fit, and reports the loss once it drains', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blocked-log-'));
    const fifo = join(dir, 'log.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // A reader that holds the pipe open and reads nothing: the 64 KiB pipe fills, then every write blocks.
    const reader = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const maxBufferBytes = 256 * 1024;
    const destination = createLogDestination({ dest: fifo, maxBufferBytes });
    try {
      const server = await start(ROUTES, { logger: undefined, logDestination: destination });
      const checks = 4000;
      let answered = 0;
      for (let batch = 0; batch < checks / 200; batch++) {
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => server.check(checkRequest({ principal: ALLOWED, route: 'watched', requestId: `b${batch}-${i}` }))));
        answered += results.filter((r) => metadataOf(r)['reason'] === 'ALLOWED').length;
      }
      expect(answered).toBe(checks);
      const dropped = await metric(server, /^spiffe_authz_log_dropped_total (\d+)$/m);
      expect(dropped).toBeGreaterThan(0);

      // Drain the pipe: every line that was not dropped arrives, then one warning with the count.
      let text = '';
      const buf = Buffer.alloc(64 * 1024);
      const deadline = Date.now() + 8000;
      while (!text.includes('"log lines dropped"') && Date.now() < deadline) {
        try {
          const n = readSync(reader, buf, 0, buf.length, null);
          text += buf.toString('utf8', 0, n);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      const raw = text.split('\n').filter((l) => l !== '');
      const lines = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
      const decisions = raw.filter((_, i) => lines[i]?.['msg'] === 'decision');
      const warnings = lines.filter((l) => l['msg'] === 'log lines dropped');
      expect(warnings.map((w) => w['dropped'])).toEqual([dropped]);
      // Nothing lost silently: each decision line was either written or counted as dropped.
      expect(decisions.length + dropped).toBe(checks);
      // Bounded: while blocked, at most the pipe (64 KiB) and maxBufferBytes were accepted.
      const decisionBytes = decisions.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
      expect(decisionBytes).toBeLessThanOrEqual(maxBufferBytes + 64 * 1024);
    } finally {
      destination.end();
      closeSync(reader);
    }
  });
});
