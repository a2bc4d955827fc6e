// Prometheus metrics (prom-client, own registry, prefix spiffe_authz_). Labels are bounded: route
// names come from the config, the rest from fixed sets. Never a SPIFFE ID, path or header value.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValueWithName } from 'prom-client';
import { MODES, type Mode, type Verdict } from '../authz/types.js';

/** The server's metrics and the registry that exposes them. */
export interface Metrics {
  readonly registry: Registry;
  /**
   * Registers Node's process metrics (spiffe_authz_process_*, spiffe_authz_nodejs_*) if they are
   * not yet: with `defaultMetrics: 'deferred'` the server calls it once it is serving. Idempotent.
   */
  startProcessMetrics(): void;
  /** Counts one Check and observes its duration (seconds). */
  recordCheck(v: Verdict, seconds: number): void;
  /** Counts a config load attempt. */
  recordConfigLoad(result: 'success' | 'failure'): void;
  /** Publishes the effective mode and enforce percent of every route; routes not listed disappear. */
  setRouteSettings(routes: readonly RouteSettingMetric[]): void;
  /** Counts a config reload attempt (file change, SIGHUP, POST /v1/reload) and, on failure, the failure. */
  recordReload(result: 'success' | 'failure'): void;
  /** Counts a rollout change made through the admin API (or an override dropped by a reload). */
  recordRolloutChange(action: RolloutChangeAction): void;
  /** Counts a state file that could not be read, parsed or written. */
  recordStateFileError(): void;
  /** Counts a log line dropped because the log destination's buffer was full. */
  recordLogDropped(): void;
}

/** A route's effective setting as the gauges show it. */
export interface RouteSettingMetric {
  readonly route: string;
  readonly mode: Mode;
  readonly enforcePercent: number;
}

/**
 * Rollout change events: an override set or cleared, a rollback, a gated change forced past the
 * gate (also counted as set or cleared), a change the gate refused, an override dropped by a reload.
 */
export const ROLLOUT_CHANGE_ACTIONS = ['set', 'cleared', 'rollback', 'forced', 'refused', 'dropped'] as const;
/** One rollout change event. */
export type RolloutChangeAction = (typeof ROLLOUT_CHANGE_ACTIONS)[number];

/**
 * Checks of one label set (route, mode, decision, effect, reason), counted as a plain number and
 * added to the prom-client series when they are scraped. A route's label sets live as long as the
 * process, as prom-client's own series would.
 */
class CheckTally {
  count = 0;
  private published = 0;
  readonly mode: Mode;
  readonly decision: Verdict['decision'];
  readonly effect: Verdict['effect'];
  readonly reason: Verdict['reason'];
  private readonly children: { inc(n: number): void }[];

  constructor(v: Verdict, checks: Counter<'route' | 'mode' | 'decision' | 'effect' | 'reason'>, wouldDeny: Counter<'route' | 'reason'>, internalErrors: Counter<'route'>) {
    this.mode = v.mode;
    this.decision = v.decision;
    this.effect = v.effect;
    this.reason = v.reason;
    this.children = [checks.labels(v.route, v.mode, v.decision, v.effect, v.reason)];
    // Every label is in the set: NO_ROUTE, for one, can come with either decision.
    if (v.decision === 'deny' && v.effect !== 'deny') this.children.push(wouldDeny.labels(v.route, v.reason));
    if (v.reason === 'INTERNAL_ERROR') this.children.push(internalErrors.labels(v.route));
  }

  publish(): void {
    const delta = this.count - this.published;
    if (delta === 0) return;
    this.published = this.count;
    for (const c of this.children) c.inc(delta);
  }
}

/**
 * A histogram without labels whose observations are a bucket search and three additions on plain
 * numbers (prom-client's observe() hashes a label set on every call); prom-client exposes it
 * through the values this class reports at scrape time.
 */
class PlainHistogram extends Histogram {
  private readonly metricName: string;
  private readonly metricHelp: string;
  private readonly bounds: readonly number[];
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(config: { name: string; help: string; buckets: number[]; registers: Registry[] }) {
    super(config);
    this.metricName = config.name;
    this.metricHelp = config.help;
    this.bounds = [...config.buckets].sort((a, b) => a - b);
    this.counts = new Float64Array(this.bounds.length);
  }

  /** Observes one value. */
  add(value: number): void {
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= (b[i] as number)) {
        (this.counts[i] as number)++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }

  // The registry asks for getForPromString when a metric has it, as prom-client's Histogram does.
  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    return Promise.resolve(this.snapshot());
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    return Promise.resolve(this.snapshot());
  }

  private snapshot(): MetricObjectWithValues<MetricValueWithName<string>> {
    const name = this.metricName;
    const bucket = `${name}_bucket`;
    const values: MetricValueWithName<string>[] = [];
    let cumulative = 0;
    this.bounds.forEach((le, i) => {
      cumulative += this.counts[i] as number;
      values.push({ metricName: bucket, labels: { le }, value: cumulative });
    });
    values.push({ metricName: bucket, labels: { le: '+Inf' }, value: this.count });
    values.push({ metricName: `${name}_sum`, labels: {}, value: this.sum });
    values.push({ metricName: `${name}_count`, labels: {}, value: this.count });
    return { name, help: this.metricHelp, type: 'histogram', aggregator: 'sum', collect: undefined, values } as unknown as MetricObjectWithValues<MetricValueWithName<string>>;
  }
}

/** Creates the metric families on a fresh registry. */
export function createMetrics(options: { readonly defaultMetrics?: boolean | 'deferred' } = {}): Metrics {
  const registry = new Registry();
  // prom-client's process metrics read /proc/self/limits and install their own GC observer and event
  // loop monitor when registered: ~10 ms that the server defers until it is serving ('deferred').
  let processMetrics = options.defaultMetrics === false;
  const startProcessMetrics = (): void => {
    if (processMetrics) return;
    processMetrics = true;
    collectDefaultMetrics({ register: registry, prefix: 'spiffe_authz_' });
  };
  if (options.defaultMetrics !== 'deferred') startProcessMetrics();
  // On the Check path a label set costs a lookup and an increment of a plain number; prom-client's
  // children (resolved once per label set) get the increments at scrape time, from collect().
  const tallies = new Map<string, CheckTally[]>();
  const publish = (): void => {
    for (const list of tallies.values()) for (const t of list) t.publish();
  };
  const checks = new Counter({
    name: 'spiffe_authz_checks_total',
    help: 'Check requests by route, mode, real decision, effect and reason.',
    labelNames: ['route', 'mode', 'decision', 'effect', 'reason'] as const,
    registers: [registry],
    collect: publish,
  });
  const wouldDeny = new Counter({
    name: 'spiffe_authz_would_deny_total',
    help: 'Deny decisions that were not enforced (shadow or warn), by route and reason.',
    labelNames: ['route', 'reason'] as const,
    registers: [registry],
    collect: publish,
  });
  const internalErrors = new Counter({
    name: 'spiffe_authz_internal_errors_total',
    help: 'Unexpected errors inside Check (failed closed, or allowed on shadow routes).',
    labelNames: ['route'] as const,
    registers: [registry],
    collect: publish,
  });
  const duration = new PlainHistogram({
    name: 'spiffe_authz_check_duration_seconds',
    help: 'Time spent handling one Check, from receipt to response.',
    buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [registry],
  });
  const configLoads = new Counter({
    name: 'spiffe_authz_config_loads_total',
    help: 'Config loads (at start and on every reload) by result (success, failure).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const configLastSuccess = new Gauge({
    name: 'spiffe_authz_config_last_success_timestamp_seconds',
    help: 'Unix time of the last config that loaded successfully.',
    registers: [registry],
  });
  // Route settings are kept as given and written into the gauges when they are scraped: a policy of
  // 1,000 routes is 4,000 label sets, ~20-30 ms of prom-client work that start-up (and every reload
  // or rollout change) would otherwise pay before the server answers.
  let unpublishedSettings: readonly RouteSettingMetric[] | undefined = [];
  const publishSettings = (): void => {
    const routes = unpublishedSettings;
    if (routes === undefined) return;
    unpublishedSettings = undefined;
    routeMode.reset();
    routePercent.reset();
    for (const r of routes) {
      for (const m of MODES) routeMode.labels(r.route, m).set(r.mode === m ? 1 : 0);
      routePercent.labels(r.route).set(r.enforcePercent);
    }
  };
  const routeMode: Gauge<'route' | 'mode'> = new Gauge({
    name: 'spiffe_authz_route_mode',
    help: 'Effective mode of each route: 1 for the active mode, 0 for the others.',
    labelNames: ['route', 'mode'] as const,
    registers: [registry],
    collect: publishSettings,
  });

  const routePercent: Gauge<'route'> = new Gauge({
    name: 'spiffe_authz_route_enforce_percent',
    help: 'Effective enforce percent of each route (callers in the enforced cohort when the mode is enforce).',
    labelNames: ['route'] as const,
    registers: [registry],
    collect: publishSettings,
  });
  const reloads = new Counter({
    name: 'spiffe_authz_config_reloads_total',
    help: 'Config reload attempts by result (success, failure).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const reloadFailures = new Counter({
    name: 'spiffe_authz_config_reload_failures_total',
    help: 'Config reloads that failed; the running config was kept.',
    registers: [registry],
  });
  const rolloutChanges = new Counter({
    name: 'spiffe_authz_rollout_changes_total',
    help: 'Rollout changes through the admin API, by action (set, cleared, rollback, forced, refused, dropped).',
    labelNames: ['action'] as const,
    registers: [registry],
  });
  const stateFileErrors = new Counter({
    name: 'spiffe_authz_state_file_errors_total',
    help: 'Rollout state file reads or writes that failed (a corrupt file is ignored at start).',
    registers: [registry],
  });
  const logDropped = new Counter({
    name: 'spiffe_authz_log_dropped_total',
    help: 'Log lines dropped because stdout did not keep up and log.maxBufferBytes were already buffered.',
    registers: [registry],
  });
  // Zero-valued series exist from the start, so rate() and alerts see them before the first event.
  reloads.labels('success').inc(0);
  reloads.labels('failure').inc(0);
  for (const a of ROLLOUT_CHANGE_ACTIONS) rolloutChanges.labels(a).inc(0);

  const setRouteSettings = (routes: readonly RouteSettingMetric[]): void => {
    unpublishedSettings = routes;
  };

  const recordConfigLoad = (result: 'success' | 'failure'): void => {
    configLoads.labels(result).inc();
    if (result === 'success') configLastSuccess.set(Date.now() / 1000);
  };

  const tallyOf = (v: Verdict): CheckTally => {
    let list = tallies.get(v.route);
    if (list === undefined) {
      list = [];
      tallies.set(v.route, list);
    }
    for (let i = 0; i < list.length; i++) {
      const t = list[i] as CheckTally;
      if (t.mode === v.mode && t.reason === v.reason && t.effect === v.effect && t.decision === v.decision) return t;
    }
    const t = new CheckTally(v, checks, wouldDeny, internalErrors);
    list.push(t);
    return t;
  };

  return {
    registry,
    startProcessMetrics,
    recordCheck(v, seconds) {
      tallyOf(v).count++;
      duration.add(seconds);
    },
    recordConfigLoad,
    setRouteSettings,
    recordReload(result) {
      reloads.labels(result).inc();
      if (result === 'failure') reloadFailures.inc();
      recordConfigLoad(result);
    },
    recordRolloutChange(action) {
      rolloutChanges.labels(action).inc();
    },
    recordStateFileError() {
      stateFileErrors.inc();
    },
    recordLogDropped() {
      logDropped.inc();
    },
  };
}
