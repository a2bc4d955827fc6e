// Live config reload: on a change of the file (polled with stat, which follows symlinks, so
// Kubernetes ConfigMap symlink swaps are seen too), on SIGHUP and on POST /v1/reload. The new file is read, validated and compiled off the
// hot path, then swapped whole in one synchronous step; a Check that already read the old snapshot
// finishes on it. A config that fails keeps the running one, logs every issue with its key path and
// is counted. Reloads run one at a time.
import { stat } from 'node:fs/promises';
import type { Logger } from '../log/logger.js';
import type { ConfigSnapshot } from './compile.js';
import type { ConfigIssue, ConfigResult } from './issues.js';
import { buildSnapshot, readConfigText } from './load.js';

/** What started a reload. */
export type ReloadTrigger = 'file' | 'signal' | 'api';

/** What a successful reload reports. */
export interface ReloadSummary {
  readonly source: string;
  readonly loadedAt: string;
  readonly routes: number;
  readonly trustDomains: number;
  /** Overrides dropped because their route is gone. */
  readonly droppedOverrides: readonly string[];
  /** Changes that only take effect after a restart (listen addresses, state file, ...). */
  readonly restartRequired: readonly string[];
}

/** The outcome of one reload: the new summary, or every issue (the running config is kept). */
export type ReloadOutcome = { readonly ok: true; readonly summary: ReloadSummary } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/** Applies a validated snapshot; returns what the swap dropped or could not apply. Must not throw. */
export type SwapSnapshot = (next: ConfigSnapshot) => { readonly droppedOverrides: readonly string[]; readonly restartRequired: readonly string[] };

/** What identifies one version of the file: a change of any field means the file changed. */
export interface FileStamp {
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly size: number;
  readonly ino: number;
}

/** The stamp of a file now, or undefined when it cannot be read. */
export async function fileStamp(path: string): Promise<FileStamp | undefined> {
  try {
    const s = await stat(path);
    return { mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, size: s.size, ino: s.ino };
  } catch {
    return undefined;
  }
}

function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.size === b.size && a.ino === b.ino;
}

/** What the reloader needs; `prepare` runs every fallible step before anything is swapped. */
export interface ReloaderDeps {
  readonly configPath: string;
  /**
   * Stamp of the file taken before the running config was read: a change made between that read
   * and the first poll is then still seen (a watcher that takes its own first stat would miss it).
   */
  readonly baseline?: FileStamp | undefined;
  readonly load: (path: string) => Promise<ConfigResult<ConfigSnapshot>>;
  /** Checks that need I/O beyond the file (the admin token); returns the swap to run, or issues. */
  readonly prepare: (next: ConfigSnapshot) => ConfigResult<SwapSnapshot>;
  readonly logger: Logger;
  readonly recordReload: (result: 'success' | 'failure') => void;
}

/** Reloads the config on demand and, once `watch` is called, when the file changes. */
export interface Reloader {
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome>;
  /** Polls the file every `intervalMs` (unref'd: it never keeps the process alive). */
  watch(intervalMs?: number): void;
  stop(): void;
}

/** Creates the reloader; nothing is watched until `watch()`. */
export function createReloader(deps: ReloaderDeps): Reloader {
  let tail: Promise<unknown> = Promise.resolve();
  let fileReloadQueued = false;
  let timer: NodeJS.Timeout | undefined;
  let polling = false;
  let last = deps.baseline;

  const run = async (trigger: ReloadTrigger): Promise<ReloadOutcome> => {
    const outcome = await reloadOnce(deps);
    if (!outcome.ok) {
      deps.recordReload('failure');
      deps.logger.error({ trigger, source: deps.configPath, issues: outcome.issues }, 'config reload failed');
      return outcome;
    }
    deps.recordReload('success');
    const s = outcome.summary;
    for (const name of s.droppedOverrides) deps.logger.warn({ route: name }, 'override dropped: route no longer configured');
    for (const key of s.restartRequired) deps.logger.warn({ key }, 'config change needs a restart');
    deps.logger.info({ trigger, source: s.source, routes: s.routes, trustDomains: s.trustDomains }, 'config reloaded');
    return outcome;
  };

  const reload = (trigger: ReloadTrigger): Promise<ReloadOutcome> => {
    const next = tail.then(() => run(trigger));
    // run() reports failures as values; the catch only keeps one bug from blocking every later reload.
    tail = next.catch((e: unknown) => deps.logger.error({ err: e }, 'config reload crashed'));
    return next;
  };

  return {
    reload,
    watch(intervalMs = 1000) {
      if (timer !== undefined) return;
      const poll = async (): Promise<void> => {
        if (polling) return; // a slow stat (network filesystem) must not pile up
        polling = true;
        try {
          const now = await fileStamp(deps.configPath);
          // A missing file is no change to act on: the running config stays until a new file appears.
          if (now === undefined || sameStamp(now, last)) return;
          last = now;
          // Several changes while a reload waits need one reload, not one each.
          if (fileReloadQueued) return;
          fileReloadQueued = true;
          // Let a writer that is not atomic (truncate, then write) finish before the file is read.
          setTimeout(() => {
            fileReloadQueued = false;
            void reload('file');
          }, Math.min(250, Math.floor(intervalMs / 4))).unref();
        } finally {
          polling = false;
        }
      };
      timer = setInterval(() => void poll(), intervalMs);
      // Never keeps the process alive on its own.
      timer.unref();
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}

/**
 * Reads and compiles the config file for a reload. Like loadConfigFile, plus one guard: an empty
 * file is refused, since on a running server it is far more likely a write caught halfway than an
 * operator asking for no routes at all (an empty file is a valid config at start).
 */
export async function loadConfigForReload(path: string, now: number = Date.now()): Promise<ConfigResult<ConfigSnapshot>> {
  const text = await readConfigText(path);
  if (!text.ok) return text;
  if (text.value.trim() === '') return { ok: false, issues: [{ path: '(file)', message: `${path} is empty; the running config is kept` }] };
  return buildSnapshot(text.value, path, now);
}

async function reloadOnce(deps: ReloaderDeps): Promise<ReloadOutcome> {
  const loaded = await deps.load(deps.configPath);
  if (!loaded.ok) return { ok: false, issues: loaded.issues };
  const prepared = deps.prepare(loaded.value);
  if (!prepared.ok) return { ok: false, issues: prepared.issues };
  // The swap is synchronous: between here and its end no Check can start on a half-applied state.
  const swapped = prepared.value(loaded.value);
  const next = loaded.value;
  return {
    ok: true,
    summary: {
      source: next.source,
      loadedAt: new Date(next.loadedAt).toISOString(),
      routes: next.routes.length,
      trustDomains: next.trustDomains.size,
      droppedOverrides: swapped.droppedOverrides,
      restartRequired: swapped.restartRequired,
    },
  };
}
