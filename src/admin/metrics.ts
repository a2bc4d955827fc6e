// Prometheus metrics (prom-client, own registry, prefix spiffe_authz_). Labels are bounded: route
// names come from the config, the rest from fixed sets. Never a SPIFFE ID, path or header value.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { MODES, type Mode, type Verdict } from '../authz/types.js';

/** The server's metrics and the registry that exposes them. */
export interface Metrics {
  readonly registry: Registry;
  /** Counts one Check and observes its duration (seconds). */
  recordCheck(v: Verdict, seconds: number): void;
  /** Counts a config load attempt. */
  recordConfigLoad(result: 'success' | 'failure'): void;
  /** Publishes the effective mode of every route. */
  setRouteModes(routes: readonly { readonly name: string; readonly mode: Mode }[]): void;
}

/** Creates the metric families on a fresh registry. */
export function createMetrics(options: { readonly defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'spiffe_authz_' });
  const checks = new Counter({
    name: 'spiffe_authz_checks_total',
    help: 'Check requests by route, mode, real decision, effect and reason.',
    labelNames: ['route', 'mode', 'decision', 'effect', 'reason'] as const,
    registers: [registry],
  });
  const wouldDeny = new Counter({
    name: 'spiffe_authz_would_deny_total',
    help: 'Deny decisions that were not enforced (shadow or warn), by route and reason.',
    labelNames: ['route', 'reason'] as const,
    registers: [registry],
  });
  const internalErrors = new Counter({
    name: 'spiffe_authz_internal_errors_total',
    help: 'Unexpected errors inside Check (failed closed, or allowed on shadow routes).',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'spiffe_authz_check_duration_seconds',
    help: 'Time spent handling one Check, from receipt to response.',
    buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [registry],
  });
  const configLoads = new Counter({
    name: 'spiffe_authz_config_loads_total',
    help: 'Config load attempts by result (success, failure).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const configLastSuccess = new Gauge({
    name: 'spiffe_authz_config_last_success_timestamp_seconds',
    help: 'Unix time of the last config that loaded successfully.',
    registers: [registry],
  });
  const routeMode = new Gauge({
    name: 'spiffe_authz_route_mode',
    help: 'Effective mode of each route: 1 for the active mode, 0 for the others.',
    labelNames: ['route', 'mode'] as const,
    registers: [registry],
  });

  // Label children resolved once per label set, not per request.
  const checkChildren = new Map<string, ReturnType<typeof checks.labels>>();
  const denyChildren = new Map<string, ReturnType<typeof wouldDeny.labels>>();

  return {
    registry,
    recordCheck(v, seconds) {
      const key = `${v.route}\u0000${v.mode}\u0000${v.effect}\u0000${v.reason}`;
      let child = checkChildren.get(key);
      if (child === undefined) {
        child = checks.labels(v.route, v.mode, v.decision, v.effect, v.reason);
        checkChildren.set(key, child);
      }
      child.inc();
      if (v.decision === 'deny' && v.effect !== 'deny') {
        const dkey = `${v.route}\u0000${v.reason}`;
        let d = denyChildren.get(dkey);
        if (d === undefined) {
          d = wouldDeny.labels(v.route, v.reason);
          denyChildren.set(dkey, d);
        }
        d.inc();
      }
      if (v.reason === 'INTERNAL_ERROR') internalErrors.labels(v.route).inc();
      duration.observe(seconds);
    },
    recordConfigLoad(result) {
      configLoads.labels(result).inc();
      if (result === 'success') configLastSuccess.set(Date.now() / 1000);
    },
    setRouteModes(routes) {
      routeMode.reset();
      for (const r of routes) for (const m of MODES) routeMode.labels(r.name, m).set(r.mode === m ? 1 : 0);
    },
  };
}
