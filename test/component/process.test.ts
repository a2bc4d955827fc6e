// The CLI as a real process: validate's exit codes and messages, serve's start-up, and graceful
// shutdown on SIGTERM (exit 0 within 5 s) while Checks are in flight.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { authorizationClientConstructor } from '../../src/grpc/protos.js';
import { checkRequest } from '../fixtures/check-request.js';
import { startTestServer, writeTempConfig } from '../fixtures/server.js';

const TSX = ['--import', 'tsx', 'src/main.ts'];
const GOOD = `
listen: { grpc: "127.0.0.1:0", admin: "127.0.0.1:0" }
trustDomains: [prod.example.org]
routes: [{ name: r1, mode: enforce, allow: { prod.example.org: ["/ns/a/sa/*"] } }]
`;

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...TSX, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Waits for the "serving" log line and returns the ports it names. */
function waitForServing(child: ChildProcess): Promise<{ grpcPort: number; adminPort: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 20 s')), 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const rec = JSON.parse(line) as { msg?: string; grpcPort?: number; adminPort?: number };
        if (rec.msg === 'serving') {
          clearTimeout(timer);
          resolve({ grpcPort: rec.grpcPort!, adminPort: rec.adminPort! });
        }
      } catch {
        // not a JSON line
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
  });
}

describe('spiffe-ext-authz validate', () => {
  it('exits 0 on a valid config and names what it found', () => {
    const r = runCli(['validate', writeTempConfig(GOOD)]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/: ok \(1 routes, 1 trust domains\)/);
  });

  it('exits 1 and prints every error with its key path', () => {
    const bad = `
trustDomains: [prod.example.org, "Bad.Domain"]
routes:
  - name: r1
    mode: enforced
    allow: { prod.example.org: ["/ns/*x/sa"] }
    colour: blue
`;
    const r = runCli(['validate', writeTempConfig(bad)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('trustDomains[1]: not a valid SPIFFE trust domain');
    expect(r.stderr).toContain('routes[0].mode:');
    expect(r.stderr).toContain('routes[0].colour: unknown key');
  });

  it('reports a missing file instead of crashing', () => {
    const r = runCli(['validate', '/nonexistent/config.yaml']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('cannot read /nonexistent/config.yaml: ENOENT');
  });

  it('validates the bundled default config', () => {
    const r = runCli(['validate', 'config/default.yaml']);
    expect(r.status).toBe(0);
  });
});

describe('spiffe-ext-authz serve', () => {
  it('exits 1 with the key paths when the config is invalid at start', () => {
    const r = runCli(['serve', '--config', writeTempConfig('routes: [{ name: r1, mode: nope }]')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('routes[0].mode:');
  });

  it('uses SPIFFE_AUTHZ_CONFIG, serves, and exits 0 within 5 s of SIGTERM', async () => {
    const child = spawn(process.execPath, [...TSX, 'serve'], {
      env: { ...process.env, SPIFFE_AUTHZ_CONFIG: writeTempConfig(GOOD) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { grpcPort, adminPort } = await waitForServing(child);
    expect((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status).toBe(200);

    const Client = authorizationClientConstructor();
    const client = new Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    const res = await new Promise<{ status: { code?: number } }>((resolve, reject) =>
      client['Check']!(checkRequest({ route: 'r1', principal: 'spiffe://prod.example.org/ns/a/sa/x' }), (e: Error | null, r: { status: { code?: number } }) =>
        e ? reject(e) : resolve(r),
      ),
    );
    client.close();
    expect(res.status.code ?? 0).toBe(0);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const t0 = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('graceful shutdown', () => {
  it('answers every Check already in flight when stop() is called', async () => {
    const server = await startTestServer(GOOD);
    // Warm the connection so the burst below goes out on an established HTTP/2 connection.
    await server.check(checkRequest({ route: 'r1', principal: 'spiffe://prod.example.org/ns/a/sa/warm' }));
    const calls = Array.from({ length: 200 }, (_, i) => server.check(checkRequest({ route: 'r1', principal: `spiffe://prod.example.org/ns/a/sa/w${i}` })));
    // Shut down in the middle of the burst: once the server has answered some of it.
    const deadline = Date.now() + 10_000;
    const checksOf = (route: string): number => server.app.stats.get(route)?.snapshot(Date.now()).sinceStart.checks ?? 0;
    while (checksOf('r1') < 20 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    const stopped = server.close();
    const results = await Promise.allSettled(calls);
    await stopped;
    const answered = results.filter((r) => r.status === 'fulfilled').length;
    const rejected = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as grpc.ServiceError);
    // Calls that reached the server complete; any refused after shutdown began are UNAVAILABLE, never a decision error.
    expect(answered + rejected.length).toBe(200);
    for (const e of rejected) expect(e.code).toBe(grpc.status.UNAVAILABLE);
    expect(answered).toBeGreaterThan(0);
    expect(checksOf('r1')).toBe(answered + 1);
  });
});
