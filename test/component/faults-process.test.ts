// Faults of the CLI: a config that is missing or invalid at start (or whose admin token file or port
// is unusable) exits non-zero with every error and its key path (runCli in process: the code main.ts
// runs; process.test.ts covers the same through a real process); SIGTERM to the real process under
// load lets every Check in flight finish: each call gets a CheckResponse or UNAVAILABLE, exit 0; and
// a stdout nobody reads neither holds up a Check nor keeps the process from exiting.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants as fsConstants, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run-cli.js';
import { authorizationClientConstructor } from '../../src/grpc/protos.js';
import type { WireCheckResponse } from '../../src/grpc/wire.js';
import { checkRequest } from '../fixtures/check-request.js';
import { writeTempConfig } from '../fixtures/server.js';

const TSX = ['--import', 'tsx', 'src/main.ts'];
const LISTEN = 'listen: { grpc: "127.0.0.1:0", admin: "127.0.0.1:0" }';

/** Runs the CLI's `serve` in this process (the code main.ts runs) to its exit code, with its output. */
async function serve(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['serve', ...args], { out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('start-up faults of the CLI', () => {
  it('exits 1 when the config file is missing, naming it', async () => {
    const r = await serve(['--config', '/nonexistent/spiffe-authz.yaml']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: '/nonexistent/spiffe-authz.yaml: invalid config\n(file): cannot read /nonexistent/spiffe-authz.yaml: ENOENT' });
  });

  it('exits 1 listing every schema error with its key path', async () => {
    const r = await serve(['--config', writeTempConfig(`${LISTEN}\nlimits: { maxHeaderCount: 0, maxBodyBytes: 1 }\nroutes: [{ name: r1, mode: nope }]\n`)]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/: invalid config$/);
    expect(lines.slice(1).map((l) => l.split(':')[0]).sort()).toEqual(['limits.maxBodyBytes', 'limits.maxHeaderCount', 'routes[0].mode']);
  });

  it('exits 1 on a rule error found after the schema, with its key path', async () => {
    const r = await serve(['--config', writeTempConfig(`${LISTEN}\ntrustDomains: [prod.example.org]\nroutes: [{ name: r1, allow: { other.example.org: ["/x"] } }]\n`)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('routes[0].allow["other.example.org"]: trust domain "other.example.org" is not listed in trustDomains');
  });

  it('exits 1 when the configured admin token file cannot be read', async () => {
    const r = await serve(['--config', writeTempConfig(`${LISTEN}\nlog: { level: silent }\nrollout: { adminToken: { file: /nonexistent/token } }\n`)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('rollout.adminToken.file: cannot read admin token file /nonexistent/token (ENOENT)');
  });

  it('exits 1 when the gRPC port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await serve(['--config', writeTempConfig(`listen: { grpc: "127.0.0.1:${port}", admin: "127.0.0.1:0" }\nlog: { level: silent }\n`)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot start: cannot listen for gRPC on 127.0.0.1:${port}`);
    } finally {
      blocker.close();
    }
  });
});

/** Starts `serve`, collecting stdout's JSON lines; resolves once it logs "serving". */
function startServing(configPath: string): Promise<{ child: ChildProcess; lines: Record<string, unknown>[]; grpcPort: number; stdoutDone: Promise<void> }> {
  const child = spawn(process.execPath, [...TSX, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const rl = createInterface({ input: child.stdout! });
  const stdoutDone = new Promise<void>((resolve) => rl.once('close', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 20 s')), 20_000);
    rl.on('line', (line) => {
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        lines.push(rec);
        if (rec['msg'] === 'serving') {
          clearTimeout(timer);
          resolve({ child, lines, grpcPort: rec['grpcPort'] as number, stdoutDone });
        }
      } catch {
        // not a JSON line
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
  });
}

describe('SIGTERM under load', () => {
  it('finishes every Check in flight: each call gets a CheckResponse or UNAVAILABLE, and the exit code is 0', async () => {
    const config = `${LISTEN}\ntrustDomains: [prod.example.org]\nroutes: [{ name: r1, mode: enforce, allow: { prod.example.org: ["/ns/a/sa/*"] } }]\n`;
    const { child, lines, grpcPort, stdoutDone } = await startServing(writeTempConfig(config));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const client = new (authorizationClientConstructor())(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    const request = checkRequest({ route: 'r1', principal: 'spiffe://prod.example.org/ns/a/sa/x' });
    let answered = 0;
    let unavailable = 0;
    const otherErrors: string[] = [];
    let firing = true;
    let fired = 0;
    let inFlight = 0;
    let settle: () => void = () => undefined;
    const allSettled = new Promise<void>((resolve) => (settle = resolve));
    // A closed loop of 500 concurrent calls: each answer sends the next, until the server is gone.
    const fire = (): void => {
      fired++;
      inFlight++;
      client['Check']!(request, (err: grpc.ServiceError | null, res: WireCheckResponse | undefined) => {
        inFlight--;
        if (err === null && res !== undefined) answered++;
        else if (err?.code === grpc.status.UNAVAILABLE) unavailable++;
        else otherErrors.push(`${err?.code}: ${err?.details}`);
        if (err !== null) firing = false;
        if (firing) fire();
        else if (inFlight === 0) settle();
      });
    };
    for (let i = 0; i < 500; i++) fire();
    const deadline = Date.now() + 10_000;
    while (answered < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const answeredAtSignal = answered;
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Stop the loop in case no call failed (every one in flight was answered before the exit).
    firing = false;
    if (inFlight === 0) settle();
    await allSettled;
    await stdoutDone;
    client.close();
    expect(otherErrors).toEqual([]);
    expect(answered + unavailable).toBe(fired);
    expect(answeredAtSignal).toBeGreaterThanOrEqual(1000);
    expect(answered).toBeGreaterThan(answeredAtSignal);
    // Every decision the server made reached its caller, and no answered call went unlogged.
    expect(lines.filter((l) => l['msg'] === 'decision')).toHaveLength(answered);
    expect(lines.find((l) => l['msg'] === 'stopped')).toMatchObject({ shutdown: 'graceful' });
  });
});

describe('SIGTERM with a stdout that is never read', () => {
  it('answers every Check while the log pipe is full, and still exits 0 within 3 s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stuck-stdout-'));
    const fifo = join(dir, 'stdout.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // The reader holds the pipe open and reads nothing: once 64 KiB are in it, every write would block.
    const reader = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const writer = openSync(fifo, 'w');
    const [grpcPort, adminPort] = [await freePort(), await freePort()];
    const config = `listen: { grpc: "127.0.0.1:${grpcPort}", admin: "127.0.0.1:${adminPort}" }\nroutes: [{ name: r1, mode: shadow }]\n`;
    const child = spawn(process.execPath, [...TSX, 'serve', '--config', writeTempConfig(config)], { stdio: ['ignore', writer, 'pipe'] });
    closeSync(writer);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await expect.poll(() => fetch(`http://127.0.0.1:${adminPort}/readyz`).then((r) => r.status, () => 0), { timeout: 20_000, interval: 100 }).toBe(200);
      const client = new (authorizationClientConstructor())(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
      const check = (): Promise<boolean> => new Promise((resolve) => client['Check']!(checkRequest({ route: 'r1' }), (err: grpc.ServiceError | null) => resolve(err === null)));
      let answered = 0;
      // About 2 MB of decision lines: far more than the pipe holds.
      for (let batch = 0; batch < 20; batch++) answered += (await Promise.all(Array.from({ length: 200 }, check))).filter(Boolean).length;
      client.close();
      expect(answered).toBe(4000);
      const t0 = Date.now();
      child.kill('SIGTERM');
      const timedOut = new Promise<string>((resolve) => setTimeout(() => resolve('still running after 6 s'), 6000).unref());
      expect(await Promise.race([exited, timedOut])).toBe(0);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      child.kill('SIGKILL');
      closeSync(reader);
    }
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}
