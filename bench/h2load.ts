// h2load (Debian: nghttp2-client) as the gRPC load generator: the request body is one CheckRequest,
// protobuf-encoded by the very serializer grpc-js uses (proto-loader over the pinned Envoy protos)
// and framed as gRPC (1 byte compressed flag, 4 byte big-endian length, message). h2load POSTs it
// with `content-type: application/grpc` and `te: trailers` over h2c.
//
// Percentiles: h2load prints only min/max/mean/sd of request time, so every run writes h2load's
// --log-file (one row per request: start µs, HTTP status, µs until the end of the response) and
// p50/p90/p99/p99.9 are computed here from the rows of the measurement phase: requests of the
// warm-up are not logged, and the few in flight when the warm-up ends are logged with status 0 and
// dropped. h2load appends to the log file, so it is deleted before every run.
import { execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { loadAuthorizationService } from '../src/grpc/protos.js';
import { checkRequest, type RequestSpec } from '../test/fixtures/check-request.js';
import { percentileOfSorted, round } from './stats.js';

const execFileP = promisify(execFile);

/** The gRPC path of Check. */
export const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

/** Shown when h2load is missing. */
export const H2LOAD_INSTALL_HINT =
  'h2load not found. It comes with Debian/Ubuntu\'s nghttp2-client package:\n' +
  '  sudo apt-get update && sudo apt-get install -y nghttp2-client\n' +
  '(as root: apt-get update && apt-get install -y nghttp2-client), then run `npm run bench` again.';

/** Thrown when h2load is not installed or unusable. */
export class H2loadMissingError extends Error {
  constructor(detail: string) {
    super(`${H2LOAD_INSTALL_HINT}\n(${detail})`);
    this.name = 'H2loadMissingError';
  }
}

/** h2load's version line, e.g. "h2load nghttp2/1.52.0"; throws H2loadMissingError when absent. */
export async function h2loadVersion(): Promise<string> {
  try {
    const { stdout } = await execFileP('h2load', ['--version']);
    const line = stdout.trim().split('\n')[0] ?? '';
    if (!line.startsWith('h2load')) throw new H2loadMissingError(`unexpected --version output: ${line}`);
    // --log-file (per-request timings) and --rps (fixed rate) arrived in nghttp2 1.40 / 1.45.
    const m = /nghttp2\/(\d+)\.(\d+)/.exec(line);
    if (m !== null && (Number(m[1]) < 1 || (Number(m[1]) === 1 && Number(m[2]) < 45))) {
      throw new H2loadMissingError(`${line} is too old: --rps and --log-file need nghttp2 1.45 or later`);
    }
    return line;
  } catch (e) {
    if (e instanceof H2loadMissingError) throw e;
    throw new H2loadMissingError((e as Error).message);
  }
}

/** Frames one protobuf message as a gRPC length-prefixed message (uncompressed). */
export function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** The CheckRequest of `spec`, encoded with the server's own serializer and framed as gRPC. */
export function checkRequestFrame(spec: RequestSpec): Buffer {
  const method = loadAuthorizationService()['Check'];
  if (method === undefined) throw new Error('Check not found in the Authorization service');
  return grpcFrame(method.requestSerialize(checkRequest(spec)));
}

/** Writes the framed body for h2load's -d; returns its size in bytes. */
export function writeBodyFile(path: string, frame: Uint8Array): number {
  writeFileSync(path, frame);
  return frame.length;
}

/** One h2load run. */
export interface LoadOptions {
  readonly port: number;
  readonly bodyFile: string;
  readonly logFile: string;
  readonly clients: number;
  /** Max concurrent streams per client (-m). */
  readonly streams: number;
  /** Main measurement duration (ms). */
  readonly durationMs: number;
  /** Warm-up before the measurement (ms), not counted. */
  readonly warmupMs: number;
  /** Fixed total rate (requests/s); undefined = closed loop at fixed concurrency. clients/streams are then ignored (see h2loadArgs). */
  readonly totalRps?: number;
  /** Core to pin h2load to (taskset -c), if any. */
  readonly cpu?: number;
}

/** What one run measured. Latencies in µs. */
export interface LoadResult {
  readonly rps: number;
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly errored: number;
  readonly timeout: number;
  readonly status2xx: number;
  readonly samples: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
  /** h2load's own req/s figure (done requests / main duration), for cross-checking. */
  readonly h2loadRps: number;
  readonly args: readonly string[];
}

/**
 * The h2load argument list for a run (without taskset).
 *
 * Closed loop: `-c clients -m streams -D duration --warm-up-time warm-up`.
 *
 * Fixed rate: h2load's --rps timer ticks every max(10 ms, 1/rps) per client and sends that tick's
 * share in one burst, so few clients at a high rate each would send bursts of tens of requests.
 * Instead the rate is spread over ⌈rate/100⌉ clients at ≤ 100 req/s each (one request per tick),
 * and their connections are made ⌈clients/10⌉ per millisecond (-r, --rate-period 1ms) so that the
 * clients' ticks are spread over the 10 ms period: arrivals are then nearly even. -r rules out -D,
 * so the run is sized with -n and the warm-up rows are dropped by start time (see parseLogFile).
 */
export function h2loadArgs(o: LoadOptions): string[] {
  const common = ['-t', '1', '-d', o.bodyFile, '-H', 'content-type: application/grpc', '-H', 'te: trailers', '--log-file', o.logFile];
  const url = `http://127.0.0.1:${o.port}${CHECK_PATH}`;
  if (o.totalRps === undefined) {
    return ['-c', String(o.clients), '-m', String(o.streams), '-D', `${Math.round(o.durationMs)}ms`, '--warm-up-time', `${Math.round(o.warmupMs)}ms`, ...common, url];
  }
  const plan = ratePlan(o.totalRps, o.durationMs + o.warmupMs);
  return [
    '-c', String(plan.clients),
    '-m', '4',
    '-r', String(plan.connectionsPerMs),
    '--rate-period', '1ms',
    '--rps', String(plan.perClientRps),
    '-n', String(plan.requests),
    ...common,
    url,
  ];
}

/** How a fixed total rate is laid out over h2load clients (see h2loadArgs). */
export function ratePlan(totalRps: number, totalMs: number): { clients: number; perClientRps: number; connectionsPerMs: number; requests: number } {
  const clients = Math.max(1, Math.ceil(totalRps / 100));
  const perClientRps = Math.round((totalRps / clients) * 100) / 100;
  const perClient = Math.max(1, Math.round((perClientRps * totalMs) / 1000));
  return { clients, perClientRps, connectionsPerMs: Math.max(1, Math.ceil(clients / 10)), requests: perClient * clients };
}

/** Runs h2load and parses its summary and per-request log. Rejects when it fails or sees errors. */
export async function runH2load(o: LoadOptions): Promise<LoadResult> {
  const args = h2loadArgs(o);
  rmSync(o.logFile, { force: true });
  const [cmd, argv] = o.cpu === undefined ? ['h2load', args] : ['taskset', ['-c', String(o.cpu), 'h2load', ...args]];
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', (e) => reject((e as NodeJS.ErrnoException).code === 'ENOENT' ? new H2loadMissingError(e.message) : e));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`h2load exited ${code}: ${err.trim() || out.trim()}`))));
  });
  const text = readFileSync(o.logFile, 'utf8');
  if (o.totalRps === undefined) return { ...parseH2loadSummary(stdout, o.durationMs), ...parseLogFile(text), args };
  // Fixed rate: no h2load warm-up phase; drop the rows that started in the first warmupMs.
  const lat = parseLogFile(text, o.warmupMs);
  return { ...parseH2loadSummary(stdout, o.durationMs), ...lat, rps: lat.achievedRps, args };
}

/** Parses the lines h2load prints at the end of a run. */
export function parseH2loadSummary(
  stdout: string,
  durationMs: number,
): Pick<LoadResult, 'rps' | 'total' | 'succeeded' | 'failed' | 'errored' | 'timeout' | 'status2xx' | 'h2loadRps'> {
  const fin = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(stdout);
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
  const codes = /status codes: (\d+) 2xx/.exec(stdout);
  if (fin === null || req === null || codes === null) throw new Error(`cannot parse h2load output:\n${stdout}`);
  const done = Number(req[3]);
  return {
    rps: done / (durationMs / 1000),
    h2loadRps: Number(fin[1]),
    total: Number(req[1]),
    succeeded: Number(req[4]),
    failed: Number(req[5]),
    errored: Number(req[6]),
    timeout: Number(req[7]),
    status2xx: Number(codes[1]),
  };
}

/**
 * Latency percentiles (µs) from h2load's --log-file rows of HTTP status 200 (columns: start µs since
 * the epoch, status, µs to the end of the response). With `skipFirstMs`, rows that started within
 * that long of the first row are dropped (the warm-up of a fixed-rate run); `achievedRps` is the rate
 * of the kept rows' starts.
 */
export function parseLogFile(text: string, skipFirstMs = 0): Pick<LoadResult, 'samples' | 'p50' | 'p90' | 'p99' | 'p999' | 'max' | 'mean'> & { achievedRps: number } {
  const starts: number[] = [];
  const values: number[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const t1 = text.indexOf('\t', start);
    const t2 = t1 === -1 ? -1 : text.indexOf('\t', t1 + 1);
    if (t2 !== -1 && t2 < end && text.slice(t1 + 1, t2) === '200') {
      starts.push(Number(text.slice(start, t1)));
      values.push(Number(text.slice(t2 + 1, end)));
    }
    start = end + 1;
  }
  let kept = values;
  let achievedRps = Number.NaN;
  if (starts.length > 0) {
    let first = Number.POSITIVE_INFINITY;
    for (const s of starts) if (s < first) first = s;
    const from = first + skipFirstMs * 1000;
    kept = [];
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < starts.length; i++) {
      const s = starts[i] as number;
      if (s < from) continue;
      kept.push(values[i] as number);
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
    if (kept.length > 1 && hi > lo) achievedRps = ((kept.length - 1) * 1e6) / (hi - lo);
  }
  const sorted = Float64Array.from(kept).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    samples: sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
    p999: percentileOfSorted(sorted, 99.9),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
    mean: sorted.length > 0 ? round(sum / sorted.length, 1) : Number.NaN,
    achievedRps,
  };
}
