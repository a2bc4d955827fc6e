// Rollout overrides persisted to a state file (issue 5), so a restart keeps what operators set
// through the admin API. Writes are atomic (temp file, fsync, rename, fsync of the directory); a
// corrupt file is a value the caller reports loudly and ignores, never an exception.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as z from 'zod';
import { MODES, type Mode } from '../authz/types.js';
import { formatKeyPath } from '../config/issues.js';
import { UNMATCHED_ROUTE } from '../config/schema.js';

/** One route's override: the setting, and who set it, when and why. */
export interface RouteOverride {
  readonly mode: Mode;
  readonly enforcePercent: number;
  readonly reason: string;
  readonly actor: string;
  /** ISO 8601 time the override was set. */
  readonly at: string;
}

/** Overrides keyed by route name. */
export type RouteOverrides = Readonly<Record<string, RouteOverride>>;

/** Outcome of loading the state file: a missing file is ok and empty. */
export type LoadStateResult = { readonly ok: true; readonly overrides: RouteOverrides } | { readonly ok: false; readonly problem: string };

/** Outcome of saving the state file. */
export type SaveStateResult = { readonly ok: true } | { readonly ok: false; readonly problem: string };

/** Version written in the file; a future format bumps it. */
export const STATE_FILE_VERSION = 1;

// Same rule as route names in the config schema, plus the virtual unmatched route. It also keeps
// "__proto__" and friends out of the parsed object.
const routeName = z
  .string()
  .refine((v) => v === UNMATCHED_ROUTE || /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(v), 'not a valid route name');

const routeOverride = z.strictObject({
  mode: z.enum(MODES),
  // Two decimals, as cohortThreshold resolves percentages to 1/10,000 buckets.
  enforcePercent: z.number().min(0).max(100).multipleOf(0.01),
  reason: z.string().max(1024),
  actor: z.string().max(256),
  at: z.iso.datetime({ offset: true }),
}) satisfies z.ZodType<RouteOverride>;

const stateFile = z.strictObject({
  version: z.literal(STATE_FILE_VERSION),
  overrides: z.record(routeName, routeOverride),
});

/** Reads and validates the state file; never throws for a bad or unreadable file. */
export async function loadStateFile(path: string): Promise<LoadStateResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    // No file yet is the normal first start; any other read error is a problem to report.
    if (errorCode(err) === 'ENOENT') return { ok: true, overrides: {} };
    return { ok: false, problem: `cannot read state file ${path}: ${errorMessage(err)}` };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `state file ${path} is not valid JSON: ${errorMessage(err)}` };
  }
  // zod drops a "__proto__" record key silently (to avoid prototype pollution); say so instead.
  if (hasOwnKey(data, 'overrides') && hasOwnKey(data.overrides, '__proto__')) {
    return { ok: false, problem: `state file ${path} is invalid: overrides.__proto__: invalid key: not a valid route name` };
  }
  const parsed = stateFile.safeParse(data);
  if (!parsed.success) return { ok: false, problem: `state file ${path} is invalid: ${describeIssues(parsed.error.issues)}` };
  return { ok: true, overrides: parsed.data.overrides };
}

/**
 * Writes the overrides atomically: a reader, or a restart after a crash at any point, sees either
 * the old file or the new one, never a mix. Calls must not overlap (see createStateWriter).
 */
export async function saveStateFile(path: string, overrides: RouteOverrides): Promise<SaveStateResult> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    // 'wx': never follow or reuse an existing file; 0o600: only this server needs to read it.
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(serializeState(overrides), 'utf8');
      // fsync before rename, or a power loss can leave the renamed file empty on some filesystems.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    return { ok: false, problem: `cannot write state file ${path}: ${errorMessage(err)}` };
  }
  await syncDirectory(dirname(path));
  return { ok: true };
}

/** The file's content for a set of overrides: sorted by route, so the file diffs well. */
export function serializeState(overrides: RouteOverrides): string {
  const sorted: Record<string, RouteOverride> = {};
  for (const name of Object.keys(overrides).sort()) {
    const o = overrides[name];
    if (o !== undefined) sorted[name] = { mode: o.mode, enforcePercent: o.enforcePercent, reason: o.reason, actor: o.actor, at: o.at };
  }
  return `${JSON.stringify({ version: STATE_FILE_VERSION, overrides: sorted }, null, 2)}\n`;
}

/** A writer that runs saves one after another in call order, so an older state never lands last. */
export interface StateWriter {
  save(overrides: RouteOverrides): Promise<SaveStateResult>;
}

/** Serialises saves to one state file (concurrent admin mutations each save the whole map). */
export function createStateWriter(path: string): StateWriter {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    save(overrides) {
      const next = tail.then(() => saveStateFile(path, overrides));
      // saveStateFile returns failures as values; the catch only keeps one bug from blocking all later saves.
      tail = next.catch(() => undefined);
      return next;
    },
  };
}

// Renames are durable only once the directory is synced. Best effort: some platforms (Windows) and
// filesystems refuse to open or fsync a directory, and the file itself is already complete.
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Ignored on purpose, see above.
  }
}

// zod issues as "key.path: message", with unknown and invalid keys named in the path.
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const out: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push(`${formatKeyPath([...issue.path, key])}: unknown key`);
    } else if (issue.code === 'invalid_key') {
      out.push(`${formatKeyPath(issue.path)}: invalid key: ${issue.issues.map((i) => i.message).join('; ')}`);
    } else {
      out.push(`${formatKeyPath(issue.path)}: ${issue.message}`);
    }
  }
  return out.join('; ');
}

function hasOwnKey<K extends string>(value: unknown, key: K): value is Record<K, unknown> {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, key);
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
