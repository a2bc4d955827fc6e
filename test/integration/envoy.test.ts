// Real Envoy (the docker-compose image, through testcontainers) in front of this server started in
// process: examples/envoy/envoy.yaml with its clusters pointed at the host, the demo PKI, and
// examples/envoy/policy.yaml. Skips, saying why, when no Docker engine is reachable.
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import type { StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { demoPolicyText, makeDemoPki, routeView, until, type DemoPki } from '../fixtures/demo-setup.js';
import { dig, digList, findObjectsWithKey, isRecord, readRepoFile } from '../fixtures/repo-files.js';
import { startTestServer, type TestServer } from '../fixtures/server.js';

/** Why the suite cannot run here, or undefined when a Docker engine answers. */
async function dockerUnavailable(): Promise<string | undefined> {
  const sockets = ['/var/run/docker.sock', join(homedir(), '.docker', 'run', 'docker.sock'), join(homedir(), '.testcontainers.properties')];
  if (process.env['DOCKER_HOST'] === undefined && !sockets.some((s) => existsSync(s))) {
    return 'no Docker engine (DOCKER_HOST unset, no /var/run/docker.sock)';
  }
  try {
    // Imported only here: the unit run never pays for testcontainers.
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return undefined;
  } catch (e) {
    return `no Docker engine (${(e as Error).message})`;
  }
}

const skipReason = await dockerUnavailable();
if (skipReason !== undefined) console.warn(`test/integration/envoy.test.ts skipped: ${skipReason}`);

const compose = parse(readRepoFile('docker-compose.yml'), { merge: true }) as unknown;
/** The same pinned image docker-compose.yml runs. */
const ENVOY_IMAGE = String(dig(compose, 'services', 'envoy', 'image'));
const HOST_ALIAS = 'host.testcontainers.internal';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Envoy's bootstrap with the `authz` and `echo` clusters moved to ports on the test host. */
function bootstrapFor(ports: { authz: number; echo: number }): string {
  const bootstrap = parse(readRepoFile('examples/envoy/envoy.yaml')) as unknown;
  for (const cluster of digList(bootstrap, 'static_resources', 'clusters')) {
    const target = dig(cluster, 'name') === 'spiffe_ext_authz' ? ports.authz : ports.echo;
    for (const holder of findObjectsWithKey(cluster, 'socket_address')) {
      const socket = holder['socket_address'];
      if (isRecord(socket)) Object.assign(socket, { address: HOST_ALIAS, port_value: target });
    }
  }
  return stringify(bootstrap);
}

describe.skipIf(skipReason !== undefined)(`Envoy ${ENVOY_IMAGE} in front of spiffe-ext-authz${skipReason === undefined ? '' : ` (skipped: ${skipReason})`}`, () => {
  let pki: DemoPki;
  let server: TestServer;
  let echo: Server;
  let envoy: StartedTestContainer;
  const accessLog: Record<string, unknown>[] = [];
  let adminBase = '';

  function get(client: 'client-a' | 'client-b', path: string): Promise<Reply> {
    return new Promise((resolve) => {
      const req = request(
        {
          host: envoy.getHost(),
          port: envoy.getMappedPort(8443),
          servername: 'envoy', // the DNS SAN of Envoy's demo certificate
          path,
          method: 'GET',
          ca: pki.pem('ca.pem'),
          cert: pki.pem(`${client}.pem`),
          key: pki.pem(`${client}-key.pem`),
          agent: false,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', (e) => resolve({ status: 0, headers: {}, body: e.message }));
      req.end();
    });
  }

  /** The access log line Envoy wrote for a decision id (Envoy flushes its log about once a second). */
  async function accessLine(decisionId: string): Promise<Record<string, unknown> | undefined> {
    const find = (): Record<string, unknown> | undefined => accessLog.find((l) => l['decisionId'] === decisionId);
    await until(async () => find(), (l) => l !== undefined, 10_000);
    return find();
  }

  function decisionLine(route: string, spiffeId: string, effect: string): Record<string, unknown> | undefined {
    return server.logs.filter((l) => l['msg'] === 'decision' && l['route'] === route && l['spiffeId'] === spiffeId && l['effect'] === effect).at(-1);
  }

  beforeAll(async () => {
    const { GenericContainer, TestContainers } = await import('testcontainers');
    pki = await makeDemoPki();
    server = await startTestServer(demoPolicyText(pki.dir), { grpcAddress: '0.0.0.0:0' });
    adminBase = `http://127.0.0.1:${server.app.adminPort}`;
    echo = createServer((_req, res) => res.end('hello from the echo upstream'));
    await new Promise<void>((r) => echo.listen(0, '0.0.0.0', r));
    const echoPort = (echo.address() as { port: number }).port;
    await TestContainers.exposeHostPorts(server.app.grpcPort, echoPort);
    envoy = await new GenericContainer(ENVOY_IMAGE)
      .withCopyContentToContainer([{ content: bootstrapFor({ authz: server.app.grpcPort, echo: echoPort }), target: '/etc/envoy/envoy.yaml', mode: 0o644 }])
      .withCopyFilesToContainer(pki.files.map((f) => ({ source: f, target: `/pki/${basename(f)}`, mode: 0o644 })))
      .withCommand(['envoy', '-c', '/etc/envoy/envoy.yaml', '--log-level', 'warn'])
      .withExposedPorts(8443)
      .withLogConsumer((stream) => {
        let partial = '';
        stream.on('data', (chunk: Buffer | string) => {
          const lines = (partial + String(chunk)).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            if (!line.startsWith('{')) continue; // Envoy's own log lines (stderr) are not JSON
            try {
              accessLog.push(JSON.parse(line) as Record<string, unknown>);
            } catch {
              // not an access log line
            }
          }
        });
      })
      .withStartupTimeout(120_000)
      .start();
    // Envoy connects to its clusters lazily: wait until a request makes it through to the upstream.
    const first = await until(() => get('client-a', '/'), (r) => r.status === 200, 30_000, 500);
    expect(first.status).toBe(200);
  }, 240_000);

  afterAll(async () => {
    await envoy?.stop();
    await server?.close();
    await new Promise((r) => echo?.close(r));
  });

  it('lets client-a through on echo-read, with all three identity sources agreeing', async () => {
    const res = await get('client-a', '/read');
    expect(res.status).toBe(200);
    expect(res.body).toBe('hello from the echo upstream');
    const line = decisionLine('echo-read', 'spiffe://demo.example.org/ns/demo/sa/client-a', 'allow');
    expect(line).toMatchObject({ mode: 'shadow', decision: 'allow', reason: 'ALLOWED', identitySource: 'principal', agreedSources: ['certificate', 'xfcc'] });
  });

  it("writes the server's decision id into Envoy's access log", async () => {
    await get('client-a', '/read');
    const decisionId = String(decisionLine('echo-read', 'spiffe://demo.example.org/ns/demo/sa/client-a', 'allow')?.['decisionId']);
    expect(await accessLine(decisionId)).toMatchObject({
      status: 200,
      route: 'echo-read',
      mode: 'shadow',
      effect: 'allow',
      reason: 'ALLOWED',
      spiffeId: 'spiffe://demo.example.org/ns/demo/sa/client-a',
    });
  });

  it('lets client-b through in shadow and counts the would-deny', async () => {
    const before = (await routeView(adminBase, 'echo-read')).counters.wouldDeny;
    const res = await get('client-b', '/read');
    expect(res.status).toBe(200);
    expect(res.headers['x-spiffe-authz-reason']).toBeUndefined();
    const after = await routeView(adminBase, 'echo-read');
    expect(after.counters.wouldDeny).toBe(before + 1);
    expect(after.counters.byReason['NO_MATCHING_RULE']).toBeGreaterThanOrEqual(1);
  });

  it('denies client-b with 403 and x-spiffe-authz-reason once the config puts echo-read in enforce', async () => {
    writeFileSync(server.configPath, demoPolicyText(pki.dir, { 'echo-read': 'enforce' }));
    // The server polls its config file and reloads it on change.
    const view = await until(() => routeView(adminBase, 'echo-read'), (v) => v.mode === 'enforce', 10_000);
    expect(view.mode).toBe('enforce');
    const res = await get('client-b', '/read');
    expect(res.status).toBe(403);
    expect(res.headers['x-spiffe-authz-reason']).toBe('NO_MATCHING_RULE');
    const body = JSON.parse(res.body) as { reason: string; route: string; decisionId: string };
    expect(body).toMatchObject({ reason: 'NO_MATCHING_RULE', route: 'echo-read' });
    expect(await accessLine(body.decisionId)).toMatchObject({ status: 403, mode: 'enforce', effect: 'deny', reason: 'NO_MATCHING_RULE' });
    expect((await get('client-a', '/read')).status).toBe(200);
  });
});
