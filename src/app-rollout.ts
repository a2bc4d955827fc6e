// Composition of the rollout parts for app.ts: per-route stats, the effective settings with their
// overrides restored from the state file, the admin token, and the swap a config reload performs.
// Start-up faults come back as config issues; a bad state file is logged loudly and ignored.
import { loadAdminToken } from './admin/auth.js';
import type { Metrics } from './admin/metrics.js';
import { persist } from './admin/rollout-actions.js';
import type { ConfigSnapshot } from './config/compile.js';
import type { ConfigIssue, ConfigResult } from './config/issues.js';
import type { SwapSnapshot } from './config/reload.js';
import type { ConfigStore } from './config/store.js';
import type { Logger } from './log/logger.js';
import { RolloutState } from './rollout/rollout-state.js';
import { createStateWriter, loadStateFile, type StateWriter } from './rollout/state-file.js';
import { RolloutStats } from './rollout/window-counters.js';

/** What the rollout parts need from the composition root. */
export interface RolloutRuntimeDeps {
  readonly store: ConfigStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now: () => number;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The rollout parts of a running server. */
export interface RolloutRuntime {
  readonly stats: RolloutStats;
  readonly state: RolloutState;
  /** Undefined when `rollout.stateFile` is unset. */
  readonly writer: StateWriter | undefined;
  /** The admin token in force (re-read on every reload); undefined: mutations disabled. */
  token(): Buffer | undefined;
  /** Checks what a reload needs beyond the file (the admin token) and returns the swap to run. */
  prepareReload(next: ConfigSnapshot): ConfigResult<SwapSnapshot>;
}

/** Builds the rollout parts for the start-up snapshot and restores persisted overrides. */
export async function createRolloutRuntime(deps: RolloutRuntimeDeps): Promise<ConfigResult<RolloutRuntime>> {
  const { store, logger, metrics, now } = deps;
  const start = store.current();
  const rollout = start.config.rollout;
  const loadedToken = loadToken(start, deps.env);
  if (!loadedToken.ok) return loadedToken;
  let token = loadedToken.value;
  logger.info({ adminMutations: token === undefined ? 'disabled' : 'enabled', stateFile: rollout.stateFile ?? null }, 'rollout admin');

  const stats = new RolloutStats(rollout.topCallers);
  const state = new RolloutState(start, { stats, now, onChange: (settings) => metrics.setRouteSettings(settings) });
  const writer = rollout.stateFile === undefined ? undefined : createStateWriter(rollout.stateFile);
  if (rollout.stateFile !== undefined) {
    const loaded = await loadStateFile(rollout.stateFile);
    if (!loaded.ok) {
      // Loud, not fatal: the config's settings apply, and the next change through the API rewrites the file.
      metrics.recordStateFileError();
      logger.error({ stateFile: rollout.stateFile, problem: loaded.problem }, 'state file ignored: overrides not restored');
    } else {
      const { dropped } = state.restore(loaded.overrides);
      for (const route of dropped) {
        metrics.recordRolloutChange('dropped');
        logger.warn({ route }, 'override dropped: route no longer configured');
      }
      const restored = state.list().filter((s) => s.source === 'override');
      if (restored.length > 0) {
        logger.info({ routes: restored.map((s) => ({ route: s.route, mode: s.mode, enforcePercent: s.enforcePercent })) }, 'overrides restored');
      }
      if (dropped.length > 0) await persist({ state, writer, logger, metrics });
    }
  }

  return {
    ok: true,
    value: {
      stats,
      state,
      writer,
      token: () => token,
      prepareReload(next) {
        const nextToken = loadToken(next, deps.env);
        if (!nextToken.ok) return nextToken;
        return {
          ok: true,
          value: (snapshot) => {
            store.replace(snapshot);
            const { dropped } = state.applySnapshot(snapshot);
            token = nextToken.value;
            for (let i = 0; i < dropped.length; i++) metrics.recordRolloutChange('dropped');
            if (dropped.length > 0) void persist({ state, writer, logger, metrics });
            return { droppedOverrides: dropped, restartRequired: restartRequired(start, snapshot) };
          },
        };
      },
    },
  };
}

function loadToken(snapshot: ConfigSnapshot, env: Readonly<Record<string, string | undefined>>): ConfigResult<Buffer | undefined> {
  const r = loadAdminToken(snapshot.config.rollout.adminToken, env);
  if (r.ok) return { ok: true, value: r.token };
  const issue: ConfigIssue = { path: 'rollout.adminToken.file', message: r.problem };
  return { ok: false, issues: [issue] };
}

/** Keys whose new value only a restart applies: the server keeps running on the start-up value. */
function restartRequired(running: ConfigSnapshot, next: ConfigSnapshot): string[] {
  const a = running.config;
  const b = next.config;
  const out: string[] = [];
  if (a.listen.grpc !== b.listen.grpc) out.push('listen.grpc');
  if (a.listen.admin !== b.listen.admin) out.push('listen.admin');
  if (a.rollout.stateFile !== b.rollout.stateFile) out.push('rollout.stateFile');
  if (a.rollout.topCallers !== b.rollout.topCallers) out.push('rollout.topCallers');
  if (a.limits.maxRequestBytes !== b.limits.maxRequestBytes) out.push('limits.maxRequestBytes');
  if (a.identity.cache.maxEntries !== b.identity.cache.maxEntries) out.push('identity.cache.maxEntries');
  if (a.log.level !== b.log.level) out.push('log.level');
  if (a.log.maxBufferBytes !== b.log.maxBufferBytes) out.push('log.maxBufferBytes');
  return out;
}
