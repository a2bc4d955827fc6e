// The admin port's defences on the real server: the token never reaches the log (right, wrong or
// malformed, in the header or the query), no CORS header is ever sent (a browser page cannot read
// the API or send it authenticated requests), and request bodies are capped, chunked or not.
import { request } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogDestination } from '../../src/log/logger.js';
import { startTestServer, type TestServer } from '../fixtures/server.js';

const TOKEN = 'adm-9f3c1e7a5b2d4068-secret';
const WRONG = 'adm-9f3c1e7a5b2d4068-guess';
const CONFIG = `
trustDomains: [prod.example.org]
log: { level: debug }
routes:
  - { name: orders, mode: shadow, allow: { prod.example.org: ["/ns/checkout/sa/*"] } }
`;

let server: TestServer;
let logFile: string;
let destination: ReturnType<typeof createLogDestination>;
beforeAll(async () => {
  logFile = join(mkdtempSync(join(tmpdir(), 'admin-log-')), 'log.jsonl');
  // The production logger (redaction, fields) writing to a file instead of stdout.
  destination = createLogDestination({ dest: logFile, maxBufferBytes: 1024 * 1024 });
  server = await startTestServer(CONFIG, { env: { SPIFFE_AUTHZ_ADMIN_TOKEN: TOKEN }, configPollMs: 0, logger: undefined, logDestination: destination });
});
afterAll(async () => {
  await server.close();
  destination.end();
});

function send(method: string, path: string, body: unknown, authorization?: string): Promise<Response> {
  return server.admin(path, {
    method,
    headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
    body: JSON.stringify(body),
  });
}

describe('admin token', () => {
  it('never writes the token to the log, after mutations with the right, a wrong and a malformed token', async () => {
    const attempts: [string, string, unknown, string | undefined, number][] = [
      ['PUT', '/v1/routes/orders/rollout', { mode: 'warn', reason: 'CHG-1' }, `Bearer ${TOKEN}`, 200],
      ['DELETE', '/v1/routes/orders/rollout', { reason: 'CHG-2' }, `Bearer ${TOKEN}`, 200],
      ['POST', '/v1/rollback', { reason: 'CHG-3' }, `Bearer ${TOKEN}`, 200],
      ['POST', '/v1/reload', { reason: 'CHG-4' }, `Bearer ${TOKEN}`, 200],
      ['PUT', '/v1/routes/orders/rollout', { mode: 'warn', reason: 'CHG-5' }, `Bearer ${WRONG}`, 403],
      ['POST', `/v1/rollback?token=${TOKEN}`, { reason: 'CHG-6' }, `Basic ${TOKEN}`, 401],
      ['POST', `/v1/rollback?access_token=${WRONG}`, { reason: `CHG-7 ${WRONG}` }, undefined, 401],
    ];
    for (const [method, path, body, auth, status] of attempts) expect((await send(method, path, body, auth)).status, `${method} ${path}`).toBe(status);
    await expect.poll(() => readFileSync(logFile, 'utf8'), { timeout: 5000 }).toContain('"msg":"config reloaded"');
    await expect.poll(() => readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('admin auth failed')).length, { timeout: 5000 }).toBe(3);
    const text = readFileSync(logFile, 'utf8');
    expect(text).toContain('"msg":"audit"');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(WRONG);
    expect(text).not.toContain('9f3c1e7a5b2d4068');
  });
});

describe('CORS', () => {
  it.each(['/v1/routes', '/v1/routes/orders', '/metrics', '/healthz', '/v1/rollback'])('sends no Access-Control-* header on %s, to GET or to a preflight', async (path) => {
    const origin = { origin: 'https://evil.example.com' };
    const get = await server.admin(path, { headers: origin });
    const preflight = await server.admin(path, {
      method: 'OPTIONS',
      headers: { ...origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization, content-type' },
    });
    for (const res of [get, preflight]) {
      expect([...res.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
      await res.arrayBuffer();
    }
    // The preflight is no success a browser could act on.
    expect(preflight.status).toBeGreaterThanOrEqual(400);
  });
});

describe('request body limit', () => {
  /** Sends a chunked body (no content-length) of `size` bytes; resolves with the status. */
  function chunked(size: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.app.adminPort, method: 'PUT', path: '/v1/routes/orders/rollout', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      const body = JSON.stringify({ mode: 'warn', reason: 'r'.repeat(Math.max(1, size - 30)) });
      for (let i = 0; i < body.length; i += 4096) req.write(body.slice(i, i + 4096));
      req.end();
    });
  }

  it('answers 413 to a chunked body over 16 KiB and reads one under it', async () => {
    expect(await chunked(17 * 1024)).toBe(413);
    // Under the cap the body is read; the reason is over the schema's 1024 characters: 400, not 413.
    expect(await chunked(8 * 1024)).toBe(400);
    expect(await chunked(500)).toBe(200);
  });

  it('refuses an anonymous body before reading it, with 401', async () => {
    const res = await send('PUT', '/v1/routes/orders/rollout', { mode: 'warn', reason: 'x'.repeat(64 * 1024) });
    expect(res.status).toBe(401);
  });
});
