// Admin HTTP: liveness, readiness, Prometheus metrics and the per-route rollout view.
// Bind it to localhost or a private interface: it exposes policy state (see README).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';

/** One route as the admin API shows it. */
export type RouteView = Readonly<Record<string, unknown>> & { readonly name: string };

/** What the admin server reads from the rest of the process. */
export interface AdminDeps {
  readonly metrics: Metrics;
  /** True once a config is loaded and the gRPC server listens. */
  readonly isReady: () => boolean;
  readonly listRoutes: () => readonly RouteView[];
}

/** A listening admin server. */
export interface AdminServerHandle {
  readonly port: number;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
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
  if (path === '/v1/routes') {
    if (!readOnly) return sendJson(res, 405, { error: 'method not allowed' });
    return sendJson(res, 200, { routes: deps.listRoutes() });
  }
  if (path.startsWith('/v1/routes/')) {
    if (!readOnly) return sendJson(res, 405, { error: 'method not allowed' });
    let name: string;
    try {
      name = decodeURIComponent(path.slice('/v1/routes/'.length));
    } catch {
      return sendJson(res, 400, { error: 'malformed route name' });
    }
    const route = deps.listRoutes().find((r) => r.name === name);
    if (route === undefined) return sendJson(res, 404, { error: `route "${name}" is not configured` });
    return sendJson(res, 200, route);
  }
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
