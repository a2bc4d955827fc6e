// Composition root: wires logger, config store, counters, metrics and both servers; returns start/stop.
import type { Mode } from './authz/types.js';
import { startAdminServer, type AdminServerHandle, type RouteView } from './admin/admin-server.js';
import { createMetrics, type Metrics } from './admin/metrics.js';
import type { CompiledRoute, ConfigSnapshot } from './config/compile.js';
import { formatIssues, type ConfigIssue } from './config/issues.js';
import { loadConfigFile } from './config/load.js';
import { parseListenAddress } from './config/schema.js';
import { ConfigStore } from './config/store.js';
import { createCheckHandler } from './grpc/check-handler.js';
import { startGrpcServer, type GrpcServerHandle } from './grpc/server.js';
import { createLogger, type Logger } from './log/logger.js';
import { RolloutCounters } from './rollout/counters.js';

/** How to start the server. Listen addresses override the config's (tests use port 0). */
export interface AppOptions {
  readonly configPath: string;
  readonly logger?: Logger;
  readonly grpcAddress?: string;
  readonly adminAddress?: string;
  /** How long in-flight Checks may take to finish at shutdown. */
  readonly shutdownGraceMs?: number;
}

/** A running server. */
export interface App {
  readonly grpcPort: number;
  readonly adminPort: number;
  readonly store: ConfigStore;
  readonly counters: RolloutCounters;
  readonly metrics: Metrics;
  readonly logger: Logger;
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

/** The effective mode of a route (overrides come in with the rollout API). */
function modeOf(route: CompiledRoute): Mode {
  return route.mode;
}

function routeViews(snapshot: ConfigSnapshot, counters: RolloutCounters): RouteView[] {
  return [...snapshot.routes, snapshot.unmatched].map((r) => ({
    name: r.name,
    mode: modeOf(r),
    modeSource: 'config',
    counters: counters.get(r.name),
  }));
}

/** Loads the config and starts the gRPC and admin servers. */
export async function startApp(options: AppOptions): Promise<App> {
  const loaded = await loadConfigFile(options.configPath);
  const metrics = createMetrics();
  if (!loaded.ok) {
    metrics.recordConfigLoad('failure');
    throw new ConfigLoadError(options.configPath, loaded.issues);
  }
  metrics.recordConfigLoad('success');
  const snapshot = loaded.value;
  const logger = options.logger ?? createLogger(snapshot.config.log.level);
  const store = new ConfigStore(snapshot);
  const counters = new RolloutCounters();
  metrics.setRouteModes(snapshot.routes.map((r) => ({ name: r.name, mode: modeOf(r) })));

  const handler = createCheckHandler({ store, logger, metrics, counters, authorizeDeps: { modeOf } });
  const grpcAddress = options.grpcAddress ?? snapshot.config.listen.grpc;
  let grpcServer: GrpcServerHandle;
  try {
    grpcServer = await startGrpcServer(grpcAddress, handler);
  } catch (e) {
    throw new Error(`cannot listen for gRPC on ${grpcAddress}: ${(e as Error).message}`, { cause: e });
  }
  let ready = false;
  const admin = splitAddress(options.adminAddress ?? snapshot.config.listen.admin);
  let adminServer: AdminServerHandle;
  try {
    adminServer = await startAdminServer(admin.host, admin.port, {
      metrics,
      isReady: () => ready,
      listRoutes: () => routeViews(store.current(), counters),
    });
  } catch (e) {
    await grpcServer.shutdown(0);
    throw new Error(`cannot listen for admin HTTP on ${admin.host}:${admin.port}: ${(e as Error).message}`, { cause: e });
  }
  grpcServer.setServing(true);
  ready = true;
  logger.info(
    { config: snapshot.source, grpcPort: grpcServer.port, adminPort: adminServer.port, routes: snapshot.routes.length },
    'serving',
  );

  let stopping: Promise<void> | undefined;
  return {
    grpcPort: grpcServer.port,
    adminPort: adminServer.port,
    store,
    counters,
    metrics,
    logger,
    stop() {
      stopping ??= (async () => {
        ready = false;
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
