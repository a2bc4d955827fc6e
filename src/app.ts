// Composition root: wires logger, config store, rollout state and stats, metrics, config reload and
// both servers; returns start/stop.
import { newDecisionId } from './authz/decision-id.js';
import { startAdminServer, type AdminServerHandle } from './admin/admin-server.js';
import { createMetrics, type Metrics } from './admin/metrics.js';
import { handleRolloutApi, type RolloutApiDeps } from './admin/rollout-api.js';
import { createRolloutRuntime } from './app-rollout.js';
import { formatIssues, type ConfigIssue } from './config/issues.js';
import type { ConfigSnapshot } from './config/compile.js';
import { loadConfigFile } from './config/load.js';
import { createReloader, fileStamp, loadConfigForReload, type ReloadOutcome, type ReloadTrigger } from './config/reload.js';
import { parseListenAddress } from './config/schema.js';
import { ConfigStore } from './config/store.js';
import type { AuthorizeDeps } from './authz/authorize.js';
import type { Reason } from './authz/reasons.js';
import { createCheckHandler } from './grpc/check-handler.js';
import { preloadJwtVerifier, type VerifiedJwtSvid } from './identity/jwt-svid.js';
import type { IdentityContext } from './identity/resolve-identity.js';
import { ResultCache } from './identity/svid-cache.js';
import type { VerifiedX509Svid } from './identity/x509-svid.js';
import { BundleStore } from './trust/bundle-store.js';
import { startGrpcServer, type GrpcServerHandle } from './grpc/server.js';
import { createLogDestination, createLogger, reportLogDrops, type BoundedDestination, type Logger } from './log/logger.js';
import type { RolloutState } from './rollout/rollout-state.js';
import type { RolloutStats } from './rollout/window-counters.js';

/** How to start the server. Listen addresses override the config's (tests use port 0). */
export interface AppOptions {
  readonly configPath: string;
  readonly logger?: Logger;
  readonly grpcAddress?: string;
  readonly adminAddress?: string;
  /** How long in-flight Checks may take to finish at shutdown. */
  readonly shutdownGraceMs?: number;
  /** Clock (ms since the epoch) for certificate and token validity, rollout windows and the gate; tests fix it. */
  readonly clock?: () => number;
  /** How often the config file is checked for changes (ms); 0 disables watching. Default 1000. */
  readonly configPollMs?: number;
  /** Environment the admin token variable is read from; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** How often bundle files are checked for changes (ms); 0 disables watching. */
  readonly bundlePollMs?: number;
  /** How long after SERVING Node's process metrics are registered (ms); default 1000. */
  readonly processMetricsDelayMs?: number;
  /** Where the log goes when no `logger` is given; default stdout, bounded by log.maxBufferBytes. */
  readonly logDestination?: BoundedDestination;
  /** Test hook: wraps what every Check's authorize() depends on (fault injection). */
  readonly wrapAuthorizeDeps?: (deps: AuthorizeDeps) => AuthorizeDeps;
}

/** A running server. */
export interface App {
  readonly grpcPort: number;
  readonly adminPort: number;
  readonly store: ConfigStore;
  /** Per-route rollout counters, windows and top would-deny callers. */
  readonly stats: RolloutStats;
  /** Effective rollout setting of every route (config, or an override). */
  readonly rollout: RolloutState;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Reloads the config file now (SIGHUP does this); a failure keeps the running config. */
  reload(trigger?: ReloadTrigger): Promise<ReloadOutcome>;
  stop(): Promise<void>;
}

/** Thrown at start-up when the config cannot be loaded; carries every issue with its key path. */
export class ConfigLoadError extends Error {
  constructor(
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(`invalid config ${source}:\n${formatIssues(issues)}`);
    this.name = 'ConfigLoadError';
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const parsed = parseListenAddress(address);
  if (parsed === undefined) throw new Error(`invalid listen address "${address}"`);
  return parsed;
}

/** True when some route (or the default) takes identities from JWT-SVIDs. */
function needsJwtVerifier(snapshot: ConfigSnapshot): boolean {
  return snapshot.config.identity.sources.includes('jwt') || snapshot.routes.some((r) => r.sources.includes('jwt'));
}

/** Default of AppOptions.processMetricsDelayMs. */
export const DEFAULT_PROCESS_METRICS_DELAY_MS = 1000;

/** Loads the config and starts the gRPC and admin servers. */
export async function startApp(options: AppOptions): Promise<App> {
  // Stamped before it is read, so the watcher sees a change made while the server starts.
  const baseline = await fileStamp(options.configPath);
  const loaded = await loadConfigFile(options.configPath);
  // Process metrics are registered once the server is serving (see processMetricsDelayMs).
  const metrics = createMetrics({ defaultMetrics: 'deferred' });
  if (!loaded.ok) {
    metrics.recordConfigLoad('failure');
    throw new ConfigLoadError(options.configPath, loaded.issues);
  }
  metrics.recordConfigLoad('success');
  const snapshot = loaded.value;
  // The JWS library is loaded on first use. When a route takes JWT-SVIDs it is loaded now, while
  // the rest starts, and SERVING waits for it: the first JWT Check must not wait for a module load.
  const jwtVerifier = needsJwtVerifier(snapshot) ? preloadJwtVerifier() : undefined;
  let logger: Logger;
  if (options.logger !== undefined) logger = options.logger;
  else {
    // Bounded: a stdout nobody reads makes the log drop (and count) lines, never grow or block.
    const destination = options.logDestination ?? createLogDestination({ maxBufferBytes: snapshot.config.log.maxBufferBytes });
    logger = createLogger(snapshot.config.log.level, destination);
    reportLogDrops(destination, logger, () => metrics.recordLogDropped());
  }
  const store = new ConfigStore(snapshot);
  const clock = options.clock ?? Date.now;
  // Rollout: stats, effective settings with persisted overrides, admin token (gauges set on every change).
  const runtime = await createRolloutRuntime({ store, logger, metrics, now: clock, env: options.env ?? process.env });
  if (!runtime.ok) throw new ConfigLoadError(options.configPath, runtime.issues);
  const { stats, state: rollout } = runtime.value;
  const reloader = createReloader({
    configPath: options.configPath,
    baseline,
    load: (path) => loadConfigForReload(path, clock()),
    prepare: (next) => runtime.value.prepareReload(next),
    logger,
    recordReload: (result) => metrics.recordReload(result),
  });

  // Identity: trust bundles per trust domain (reloaded on change) and caches of verified SVIDs,
  // dropped whenever a bundle or the config changes.
  const certCache = new ResultCache<VerifiedX509Svid, Reason>(snapshot.config.identity.cache.maxEntries);
  const jwtCache = new ResultCache<VerifiedJwtSvid, Reason>(snapshot.config.identity.cache.maxEntries);
  const clearIdentityCaches = (): void => {
    certCache.clear();
    jwtCache.clear();
  };
  const bundles = new BundleStore({ logger, registry: metrics.registry, onChange: clearIdentityCaches, pollMs: options.bundlePollMs ?? 1000 });
  await bundles.configure(snapshot.bundleFiles);
  // A new config may change audiences, limits or bundle files: verified results are re-derived.
  store.onReplace((next) => {
    clearIdentityCaches();
    void bundles.configure(next.bundleFiles);
  });
  const identity = (): IdentityContext => ({ now: clock(), bundles: bundles.lookup, certCache, jwtCache });

  const authorizeDeps: AuthorizeDeps = { newDecisionId, settingOf: (route) => rollout.settingOf(route), identity };
  const handler = createCheckHandler({
    store,
    logger,
    metrics,
    stats,
    now: clock,
    authorizeDeps: options.wrapAuthorizeDeps?.(authorizeDeps) ?? authorizeDeps,
  });
  const grpcAddress = options.grpcAddress ?? snapshot.config.listen.grpc;
  let grpcServer: GrpcServerHandle;
  try {
    // limits.maxRequestBytes applies from start to stop: a reload that changes it asks for a restart.
    grpcServer = await startGrpcServer(grpcAddress, handler, snapshot.config.limits.maxRequestBytes);
  } catch (e) {
    throw new Error(`cannot listen for gRPC on ${grpcAddress}: ${(e as Error).message}`, { cause: e });
  }
  let ready = false;
  const apiDeps: RolloutApiDeps = {
    state: rollout,
    stats,
    writer: runtime.value.writer,
    logger,
    metrics,
    now: clock,
    gate: () => store.current().config.rollout.gate,
    token: () => runtime.value.token(),
    reload: () => reloader.reload('api'),
  };
  const admin = splitAddress(options.adminAddress ?? snapshot.config.listen.admin);
  let adminServer: AdminServerHandle;
  try {
    adminServer = await startAdminServer(admin.host, admin.port, {
      metrics,
      isReady: () => ready,
      api: (req, res, path) => handleRolloutApi(req, res, path, apiDeps),
    });
  } catch (e) {
    await grpcServer.shutdown(0);
    throw new Error(`cannot listen for admin HTTP on ${admin.host}:${admin.port}: ${(e as Error).message}`, { cause: e });
  }
  // Never rejects; without the library every JWT-SVID is denied (fail closed) and the load is retried.
  if ((await jwtVerifier) === false) logger.error({}, 'jwt verifier failed to load');
  grpcServer.setServing(true);
  ready = true;
  // Otherwise it is loaded in the background once serving, for a reload that adds a JWT route.
  if (jwtVerifier === undefined) setImmediate(() => void preloadJwtVerifier());
  if ((options.configPollMs ?? 1000) > 0) reloader.watch(options.configPollMs ?? 1000);
  // Node's process metrics wait until the server has been serving for a moment: nothing on the
  // Check path needs them, and registering them costs start-up ~10 ms.
  const processMetricsDelayMs = options.processMetricsDelayMs ?? DEFAULT_PROCESS_METRICS_DELAY_MS;
  const processMetricsTimer = setTimeout(() => metrics.startProcessMetrics(), processMetricsDelayMs);
  processMetricsTimer.unref();
  logger.info(
    { config: snapshot.source, grpcPort: grpcServer.port, adminPort: adminServer.port, routes: snapshot.routes.length },
    'serving',
  );

  let stopping: Promise<void> | undefined;
  return {
    grpcPort: grpcServer.port,
    adminPort: adminServer.port,
    store,
    stats,
    rollout,
    metrics,
    logger,
    reload: (trigger = 'api') => reloader.reload(trigger),
    stop() {
      stopping ??= (async () => {
        ready = false;
        reloader.stop();
        clearTimeout(processMetricsTimer);
        bundles.close();
        grpcServer.setServing(false);
        const how = await grpcServer.shutdown(options.shutdownGraceMs ?? 4000);
        await adminServer.close();
        logger.info({ shutdown: how }, 'stopped');
        logger.flush();
      })();
      return stopping;
    },
  };
}
