// The admin rollout API (JSON): read every route's rollout state; set or clear a route's override
// through the safe-to-enforce gate; roll every route back to shadow; reload the config. Reads are
// open; every mutation needs the admin bearer token, is validated with zod and is audited.
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { MODES } from '../authz/types.js';
import type { ReloadOutcome } from '../config/reload.js';
import { checkBearer } from './auth.js';
import { readJsonBody, sendJson } from './http-json.js';
import { auditSetting, clearRollout, rollbackAll, setRollout, type ActionOutcome, type Actor, type RolloutActionsDeps } from './rollout-actions.js';
import { routeView, statsSnapshot, type RouteView } from './route-view.js';

/** What the API needs: the rollout actions' dependencies, the admin token and the reload hook. */
export interface RolloutApiDeps extends RolloutActionsDeps {
  /** The admin token now in force; undefined when none is configured (mutations disabled). */
  readonly token: () => Buffer | undefined;
  readonly reload: () => Promise<ReloadOutcome>;
}

const reason = z.string().trim().min(1, 'must say why').max(1024);

const putBody = z.strictObject({
  mode: z.enum(MODES),
  // Two decimals: cohort thresholds are 1/10,000 of the callers.
  enforcePercent: z.number().min(0).max(100).multipleOf(0.01).default(100),
  reason,
  force: z.boolean().default(false),
});
const deleteBody = z.strictObject({ reason, force: z.boolean().default(false) });
const rollbackBody = z.strictObject({ reason });
const reloadBody = z.strictObject({ reason: z.string().max(1024).optional() });

const ROUTES = '/v1/routes';
const ROLLOUT_SUFFIX = '/rollout';

/** Handles the rollout API's paths; false when `path` is not one of them (the caller answers 404). */
export async function handleRolloutApi(req: IncomingMessage, res: ServerResponse, path: string, deps: RolloutApiDeps): Promise<boolean> {
  const method = req.method ?? 'GET';
  const read = method === 'GET' || method === 'HEAD';
  if (path === ROUTES) {
    if (!read) return methodNotAllowed(res, 'GET, HEAD');
    const now = deps.now();
    sendJson(res, 200, { routes: deps.state.list().map((s) => viewOf(deps, s.route, now)) });
    return true;
  }
  if (path === '/v1/rollback') {
    if (method !== 'POST') return methodNotAllowed(res, 'POST');
    const body = await authorizedBody(req, res, deps, rollbackBody, true);
    if (body === undefined) return true;
    return answer(res, deps, await rollbackAll(deps, body.reason, actorOf(req)));
  }
  if (path === '/v1/reload') {
    if (method !== 'POST') return methodNotAllowed(res, 'POST');
    const body = await authorizedBody(req, res, deps, reloadBody, false);
    if (body === undefined) return true;
    const outcome = await deps.reload();
    if (outcome.ok) sendJson(res, 200, { status: 'reloaded', config: outcome.summary });
    else sendJson(res, 422, { error: 'invalid config; the running config is kept', issues: outcome.issues });
    return true;
  }
  if (!path.startsWith(`${ROUTES}/`)) return false;
  const rest = path.slice(ROUTES.length + 1);
  const isRollout = rest.endsWith(ROLLOUT_SUFFIX);
  let name: string;
  try {
    name = decodeURIComponent(isRollout ? rest.slice(0, -ROLLOUT_SUFFIX.length) : rest);
  } catch {
    sendJson(res, 400, { error: 'malformed route name' });
    return true;
  }
  if (!isRollout) {
    if (!read) return methodNotAllowed(res, 'GET, HEAD');
    if (deps.state.get(name) === undefined) return notFound(res, name);
    sendJson(res, 200, viewOf(deps, name, deps.now()));
    return true;
  }
  if (method === 'PUT') {
    const body = await authorizedBody(req, res, deps, putBody, true);
    if (body === undefined) return true;
    return answer(res, deps, await setRollout(deps, name, body, actorOf(req)));
  }
  if (method === 'DELETE') {
    const body = await authorizedBody(req, res, deps, deleteBody, true);
    if (body === undefined) return true;
    return answer(res, deps, await clearRollout(deps, name, body, actorOf(req)));
  }
  return methodNotAllowed(res, 'PUT, DELETE');
}

function viewOf(deps: RolloutApiDeps, name: string, now: number): RouteView | undefined {
  const setting = deps.state.get(name);
  if (setting === undefined) return undefined;
  return routeView(setting, statsSnapshot(deps.stats.get(name), now), deps.gate(), now);
}

/**
 * Authenticates, then reads and validates the body. Answers the error itself and returns undefined
 * on any failure. The token is checked before the body is read, so an anonymous client cannot make
 * the server parse anything.
 */
async function authorizedBody<T>(
  req: IncomingMessage,
  res: ServerResponse,
  deps: RolloutApiDeps,
  schema: z.ZodType<T>,
  required: boolean,
): Promise<T | undefined> {
  const auth = checkBearer(req.headers.authorization, deps.token());
  if (auth !== 'ok') {
    deps.logger.warn({ result: auth, method: req.method, path: req.url?.split('?', 1)[0], remoteAddress: actorOf(req).remoteAddress }, 'admin auth failed');
    req.resume();
    if (auth === 'disabled') {
      sendJson(res, 403, {
        error: 'admin mutations are disabled: no admin token is configured',
        hint: 'set rollout.adminToken.file, or the environment variable named by rollout.adminToken.env (default SPIFFE_AUTHZ_ADMIN_TOKEN)',
      });
    } else if (auth === 'invalid') {
      sendJson(res, 403, { error: 'invalid admin token' });
    } else {
      sendJson(res, 401, { error: 'admin token required: Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer realm="spiffe-ext-authz admin"' });
    }
    return undefined;
  }
  const body = await readJsonBody(req);
  if (!body.ok) {
    sendJson(res, body.status, { error: body.error });
    return undefined;
  }
  if (body.value === undefined && required) {
    sendJson(res, 400, { error: 'request body required (application/json)' });
    return undefined;
  }
  const parsed = schema.safeParse(body.value ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: i.path.map(String).join('.') || '(body)',
      message: i.code === 'unrecognized_keys' ? `unknown key(s): ${i.keys.join(', ')}` : i.message,
    }));
    sendJson(res, 400, { error: 'invalid request body', issues });
    return undefined;
  }
  return parsed.data;
}

function answer(res: ServerResponse, deps: RolloutApiDeps, outcome: ActionOutcome): true {
  const now = deps.now();
  switch (outcome.kind) {
    case 'unknown-route':
      return notFound(res, outcome.route);
    case 'refused':
      sendJson(res, 409, {
        error: 'refused by the safe-to-enforce gate',
        route: outcome.route,
        current: auditSetting(outcome.current),
        evidence: outcome.evidence,
        hint: 'observe the route in shadow or warn until the gate is met, or repeat with "force": true (audited)',
      });
      return true;
    case 'unchanged':
      sendJson(res, 200, { changed: false, route: viewOf(deps, outcome.setting.route, now) });
      return true;
    case 'applied': {
      const changes = outcome.changes.map((c) => ({ route: c.route, before: auditSetting(c.before), after: auditSetting(c.after) }));
      const single = outcome.changes.length === 1 ? outcome.changes[0] : undefined;
      sendJson(res, 200, {
        changed: true,
        gate: outcome.gate,
        forced: outcome.forced,
        persistence: outcome.persistence,
        changes,
        ...(single === undefined ? {} : { route: viewOf(deps, single.route, now) }),
      });
      return true;
    }
  }
}

function actorOf(req: IncomingMessage): Actor {
  return { kind: 'token', remoteAddress: req.socket.remoteAddress ?? '' };
}

function notFound(res: ServerResponse, name: string): true {
  sendJson(res, 404, { error: `route "${name}" is not configured` });
  return true;
}

function methodNotAllowed(res: ServerResponse, allow: string): true {
  sendJson(res, 405, { error: 'method not allowed' }, { allow });
  return true;
}
