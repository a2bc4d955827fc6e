// Admin HTTP: liveness, readiness, Prometheus metrics, and the rollout API (src/admin/rollout-api.ts).
// Bind it to localhost or a private interface: it exposes policy state (see README).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendJson } from './http-json.js';
import type { Metrics } from './metrics.js';

/** What the admin server reads from the rest of the process. */
export interface AdminDeps {
  readonly metrics: Metrics;
  /** True once a config is loaded and the gRPC server listens. */
  readonly isReady: () => boolean;
  /** Answers the /v1/ API (routes, rollout, reload); resolves false for a path it does not serve. */
  readonly api: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;
}

/** A listening admin server. */
export interface AdminServerHandle {
  readonly port: number;
  close(): Promise<void>;
}

/** Routes one admin request. Exported for tests that call it without a socket. */
export async function handleAdminRequest(req: IncomingMessage, res: ServerResponse, deps: AdminDeps): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const method = req.method ?? 'GET';
  const readOnly = method === 'GET' || method === 'HEAD';

  if (path === '/healthz') {
    if (!readOnly) return sendJson(res, 405, { error: 'method not allowed' });
    return sendJson(res, 200, { status: 'ok' });
  }
  if (path === '/readyz') {
    if (!readOnly) return sendJson(res, 405, { error: 'method not allowed' });
    const ready = deps.isReady();
    return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' });
  }
  if (path === '/metrics') {
    if (!readOnly) return sendJson(res, 405, { error: 'method not allowed' });
    const text = await deps.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
    res.end(text);
    return;
  }
  if (path.startsWith('/v1/') && (await deps.api(req, res, path))) return;
  req.resume();
  return sendJson(res, 404, { error: 'not found' });
}

/** Starts the admin server on host:port. */
export async function startAdminServer(host: string, port: number, deps: AdminDeps): Promise<AdminServerHandle> {
  const server: Server = createServer((req, res) => {
    handleAdminRequest(req, res, deps).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      }),
  };
}
