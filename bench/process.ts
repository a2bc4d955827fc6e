// Server processes for the bench: building what they run, spawning them pinned to a core, timing
// spawn → health SERVING, reading RSS from /proc, and the "process" phase (start-up time and memory
// of this server next to the empty-handler server's).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generatePolicyYaml, LARGE, SMALL, requestSpec, type BenchIdentity, type PolicySize } from './gen-policy.js';
import { probeCheck, waitForServing } from './grpc-probe.js';
import { checkRequestFrame, runH2load, writeBodyFile } from './h2load.js';
import { median, round } from './stats.js';

const execFileP = promisify(execFile);

/** Repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The real server's entry after `npm run build`. */
export const MAIN_JS = join(ROOT, 'dist', 'src', 'main.js');
/** What `npm run build` writes last: the bundle's V8 code cache (scripts/bundle-server.mjs). */
const BUILD_LAST_OUTPUT = join(ROOT, 'dist', 'src', 'server.cjs.v8cache');
/** The empty-handler server, compiled by bench/tsconfig.empty-server.json. */
export const EMPTY_JS = join(ROOT, 'dist', 'bench-build', 'bench', 'empty-server.js');

/** Which cores the server and the load generator run on (undefined: not pinned). */
export interface Pinning {
  readonly serverCpu: number | undefined;
  readonly loadCpu: number | undefined;
  readonly note: string;
}

/** Server on core 1 and h2load on core 0 when there are two cores and taskset; else unpinned. */
export async function choosePinning(): Promise<Pinning> {
  const cores = availableParallelism();
  if (cores < 2) return { serverCpu: undefined, loadCpu: undefined, note: `1 core: server and h2load share it (not pinned)` };
  try {
    await execFileP('taskset', ['-c', '0', 'true']);
  } catch {
    return { serverCpu: undefined, loadCpu: undefined, note: `${cores} cores but no usable taskset (util-linux): not pinned` };
  }
  return { serverCpu: 1, loadCpu: 0, note: `${cores} cores: server pinned to core 1, h2load to core 0 (taskset)` };
}

function newestMtime(dir: string, exts: readonly string[]): number {
  let newest = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (exts.some((x) => e.name.endsWith(x))) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  if (existsSync(dir)) walk(dir);
  return newest;
}

function mtime(path: string): number {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

async function tsc(project: string): Promise<string | undefined> {
  try {
    await execFileP(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: ROOT, maxBuffer: 16 << 20 });
    return undefined;
  } catch (e) {
    const out = (e as { stdout?: string }).stdout ?? (e as Error).message;
    return out.trim().split('\n').slice(0, 8).join('\n');
  }
}

/**
 * Builds dist/ (npm run build) when any file under src/ or envoy-protos/ is newer than what the
 * build writes last (the bundle's code cache), and the empty server when its sources are newer than its output. tsc still
 * emits on type errors (others may be mid-edit): that is reported as a warning, not fatal.
 */
export async function ensureBuilt(log: (line: string) => void): Promise<{ rebuilt: string[]; warnings: string[] }> {
  const rebuilt: string[] = [];
  const warnings: string[] = [];
  const srcNewest = Math.max(newestMtime(join(ROOT, 'src'), ['.ts']), newestMtime(join(ROOT, 'envoy-protos'), ['.ts']));
  if (mtime(BUILD_LAST_OUTPUT) < srcNewest) {
    log('building dist/ (npm run build: tsc -p tsconfig.build.json, then scripts/bundle-server.mjs)...');
    const err = await tsc('tsconfig.build.json');
    rebuilt.push('dist');
    if (err !== undefined) warnings.push(`tsc -p tsconfig.build.json reported errors (output still emitted):\n${err}`);
    // The second step of npm run build: the bundle npm start runs (dist/src/server.cjs) and its code cache.
    await execFileP(process.execPath, [join(ROOT, 'scripts', 'bundle-server.mjs')], { cwd: ROOT, maxBuffer: 16 << 20 });
  }
  const emptyInputs = Math.max(
    mtime(join(ROOT, 'bench', 'empty-server.ts')),
    mtime(join(ROOT, 'src', 'grpc', 'protos.ts')),
    mtime(join(ROOT, 'envoy-protos', 'index.ts')),
  );
  if (mtime(EMPTY_JS) < emptyInputs) {
    log('building the empty-handler server (tsc -p bench/tsconfig.empty-server.json)...');
    const err = await tsc('bench/tsconfig.empty-server.json');
    rebuilt.push('empty-server');
    if (err !== undefined) warnings.push(`tsc -p bench/tsconfig.empty-server.json reported errors:\n${err}`);
  }
  for (const f of [MAIN_JS, BUILD_LAST_OUTPUT, EMPTY_JS]) if (!existsSync(f)) throw new Error(`${f} is missing after the build`);
  return { rebuilt, warnings };
}

/** A free TCP port on 127.0.0.1 (closed again before use: a tiny race, fine on a bench machine). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** A /proc/<pid>/status field in kB (VmRSS, VmHWM); NaN when unreadable. */
export function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? Number.NaN : Number(m[1]);
  } catch {
    return Number.NaN;
  }
}

/** CPU time of a process (utime + stime, clock ticks); NaN when unreadable. */
export function procTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return Number.NaN;
  }
}

/** Busy and total clock ticks of one core from /proc/stat. */
export function coreTicks(cpu: number): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `));
    if (line === undefined) return { busy: Number.NaN, total: Number.NaN };
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** Busy and total clock ticks summed over every core. */
export function machineTicks(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (let c = 0; c < availableParallelism(); c++) {
    const t = coreTicks(c);
    busy += t.busy;
    total += t.total;
  }
  return { busy, total };
}

/** Share (%) of all cores that processes other than this one used since `from` (ticks of 10 ms). */
export function otherProcessesPct(from: { ticks: { busy: number; total: number }; own: NodeJS.CpuUsage }): number {
  const now = machineTicks();
  const own = process.cpuUsage(from.own);
  const ownTicks = (own.user + own.system) / 10_000;
  const total = now.total - from.ticks.total;
  return total > 0 ? Math.max(0, Math.round((100 * (now.busy - from.ticks.busy - ownTicks)) / total)) : Number.NaN;
}

/** What to start. */
export interface ServerSpec {
  readonly kind: 'empty' | 'authz';
  readonly port: number;
  /** Config file of the authz server (its listen.grpc must be 127.0.0.1:<port>). */
  readonly configPath?: string;
  readonly cpu: number | undefined;
  /** Extra node flags (the profiler's --cpu-prof). */
  readonly nodeArgs?: readonly string[];
}

/** A started server. */
export interface RunningServer {
  readonly kind: 'empty' | 'authz';
  readonly pid: number;
  readonly port: number;
  /** Spawn → health SERVING (ms). */
  readonly startToServingMs: number;
  rssKb(): number;
  hwmKb(): number;
  ticks(): number;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** Spawns a server (stdout to /dev/null: the decision log is still built and written) and waits for SERVING. */
export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const script = spec.kind === 'empty' ? EMPTY_JS : MAIN_JS;
  const args = spec.kind === 'empty' ? [script, '--listen', `127.0.0.1:${spec.port}`] : [script, 'serve', '--config', spec.configPath ?? ''];
  const nodeArgv = [...(spec.nodeArgs ?? []), ...args];
  const [cmd, argv] = spec.cpu === undefined ? [process.execPath, nodeArgv] : ['taskset', ['-c', String(spec.cpu), process.execPath, ...nodeArgv]];
  const spawnedAt = process.hrtime.bigint();
  const child: ChildProcess = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-8000);
  });
  let exited: string | undefined;
  const exit = new Promise<number | null>((r) =>
    child.on('exit', (code, signal) => {
      exited = `exited (${code ?? signal}) before SERVING: ${stderr.trim().slice(-2000)}`;
      r(code);
    }),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot spawn ${cmd}`);
  let servingAt: bigint;
  try {
    servingAt = await waitForServing(spec.port, { aborted: () => exited });
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${spec.kind} server: ${(e as Error).message}`, { cause: e });
  }
  return {
    kind: spec.kind,
    pid,
    port: spec.port,
    startToServingMs: Number(servingAt - spawnedAt) / 1e6,
    rssKb: () => procStatusKb(pid, 'VmRSS'),
    hwmKb: () => procStatusKb(pid, 'VmHWM'),
    ticks: () => procTicks(pid),
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Writes a config for the authz server listening on `port` (admin on another free port). */
export async function writeAuthzConfig(dir: string, name: string, port: number, yamlOf: (grpc: string, admin: string) => string): Promise<string> {
  const admin = await freePort();
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, yamlOf(`127.0.0.1:${port}`, `127.0.0.1:${admin}`));
  return path;
}

/** Results of the process phase. */
export interface ProcessResult {
  readonly startToServingMs: { readonly empty: number[]; readonly authzSmall: number[]; readonly authzLarge: number[] };
  readonly startMedianMs: { readonly empty: number; readonly authzSmall: number; readonly authzLarge: number };
  readonly rss: {
    readonly emptyIdleKb: number;
    readonly authzIdleKb: number;
    readonly emptyLoadKb: number;
    readonly authzLoadKb: number;
    readonly emptyColdKb: number;
    readonly authzColdKb: number;
    readonly emptyHwmKb: number;
    readonly authzHwmKb: number;
    /** The same for this server with the 10×100 policy (what the modules and runtime cost alone). */
    readonly smallIdleKb: number;
    readonly smallLoadKb: number;
    readonly smallColdKb: number;
    readonly rounds: readonly Record<string, number>[];
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Start-up: spawn → SERVING for the empty server and this server with the 10×100 and 1,000×10,000
 * policies, interleaved, `starts` times each. Memory: for the empty server and this server (both
 * policies): RSS right after SERVING (cold), after a warm-up load and `settleMs` idle (idle), and
 * the peak sampled every 100 ms under a closed-loop load (load).
 */
export async function runProcessPhase(o: {
  readonly dir: string;
  readonly identity: BenchIdentity;
  readonly pin: Pinning;
  readonly starts: number;
  readonly memRounds: number;
  /** Also measure this server's memory with the 10×100 policy. */
  readonly memSmall: boolean;
  readonly loadMs: number;
  readonly warmMs: number;
  readonly settleMs: number;
  readonly clients: number;
  readonly streams: number;
  readonly log: (line: string) => void;
}): Promise<ProcessResult> {
  const bundles = { prod: o.identity.prodBundle, partner: o.identity.partnerBundle };
  const cfg = (size: PolicySize) => (grpc: string, admin: string) =>
    generatePolicyYaml({ ...size, mode: 'enforce', bundles, grpcListen: grpc, adminListen: admin });
  const starts = { empty: [] as number[], authzSmall: [] as number[], authzLarge: [] as number[] };
  for (let i = 0; i < o.starts; i++) {
    for (const which of ['empty', 'authzSmall', 'authzLarge'] as const) {
      const port = await freePort();
      const configPath = which === 'empty' ? undefined : await writeAuthzConfig(o.dir, `start-${which}`, port, cfg(which === 'authzSmall' ? SMALL : LARGE));
      const s = await startServer({ kind: which === 'empty' ? 'empty' : 'authz', port, cpu: o.pin.serverCpu, ...(configPath ? { configPath } : {}) });
      starts[which].push(round(s.startToServingMs, 1));
      await s.stop();
    }
  }
  o.log(`  start → SERVING (ms): empty ${starts.empty.join(', ')}; 10×100 ${starts.authzSmall.join(', ')}; 1000×10000 ${starts.authzLarge.join(', ')}`);

  const frame = checkRequestFrame(requestSpec('principal-allow', o.identity));
  const bodyFile = join(o.dir, 'process-body.bin');
  writeBodyFile(bodyFile, frame);
  const rounds: Record<string, number>[] = [];
  for (let r = 0; r < o.memRounds; r++) {
    const row: Record<string, number> = {};
    for (const kind of o.memSmall ? (['empty', 'authz', 'small'] as const) : (['empty', 'authz'] as const)) {
      const port = await freePort();
      const configPath = kind === 'empty' ? undefined : await writeAuthzConfig(o.dir, `mem-${kind}`, port, cfg(kind === 'small' ? SMALL : LARGE));
      const s = await startServer({ kind: kind === 'empty' ? 'empty' : 'authz', port, cpu: o.pin.serverCpu, ...(configPath ? { configPath } : {}) });
      try {
        row[`${kind}ColdKb`] = s.rssKb();
        await probeCheck(port, frame);
        const load = { port, bodyFile, logFile: join(o.dir, 'process-h2load.log'), clients: o.clients, streams: o.streams, cpu: o.pin.loadCpu };
        await runH2load({ ...load, durationMs: o.warmMs, warmupMs: 200 });
        await sleep(o.settleMs);
        row[`${kind}IdleKb`] = s.rssKb();
        let peak = 0;
        const sampler = setInterval(() => {
          const v = s.rssKb();
          if (v > peak) peak = v;
        }, 100);
        try {
          await runH2load({ ...load, durationMs: o.loadMs, warmupMs: 200 });
        } finally {
          clearInterval(sampler);
        }
        row[`${kind}LoadKb`] = Math.max(peak, s.rssKb());
        row[`${kind}HwmKb`] = s.hwmKb();
      } finally {
        await s.stop();
      }
    }
    rounds.push(row);
    o.log(`  RSS round ${r + 1}: ${Object.entries(row).map(([k, v]) => `${k}=${Math.round(v / 1024)}MiB`).join(' ')}`);
  }
  const med = (k: string): number => median(rounds.map((x) => x[k] ?? Number.NaN));
  return {
    startToServingMs: starts,
    startMedianMs: { empty: median(starts.empty), authzSmall: median(starts.authzSmall), authzLarge: median(starts.authzLarge) },
    rss: {
      emptyIdleKb: med('emptyIdleKb'),
      authzIdleKb: med('authzIdleKb'),
      emptyLoadKb: med('emptyLoadKb'),
      authzLoadKb: med('authzLoadKb'),
      emptyColdKb: med('emptyColdKb'),
      authzColdKb: med('authzColdKb'),
      emptyHwmKb: med('emptyHwmKb'),
      authzHwmKb: med('authzHwmKb'),
      smallIdleKb: med('smallIdleKb'),
      smallLoadKb: med('smallLoadKb'),
      smallColdKb: med('smallColdKb'),
      rounds,
    },
  };
}

/** Makes (and returns) a directory. */
export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}
