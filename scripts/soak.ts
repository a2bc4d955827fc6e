// Soak test (npm run soak [-- --minutes N | --quick]): the built server as a child process under a
// bounded closed loop of Checks on loopback, while rollout modes are toggled through the admin API
// (~5 s) and the config file is rewritten (~15 s). Samples RSS, heap, fds and p99 latency; at the
// end the server's counters must equal the answers the client got, and memory and fds must be flat.
import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { authorizationClientConstructor } from '../src/grpc/protos.js';
import {
  MAIN_JS, ROOT, buildIfStale, checkRequestOf, flatness, metricValue, median, openFds, quantile, requestMix, rssBytes, soakConfig, type Flatness,
} from './soak-support.js';

const { values: args } = parseArgs({
  options: { minutes: { type: 'string' }, quick: { type: 'boolean' }, concurrency: { type: 'string' }, connections: { type: 'string' } },
});
const durationMs = args.quick === true ? 30_000 : Number(args.minutes ?? '5') * 60_000;
const concurrency = Number(args.concurrency ?? '64');
const connections = Number(args.connections ?? '4');
const sampleMs = Math.min(10_000, Math.max(1000, Math.floor(durationMs / 15)));
const warmupMs = Math.min(60_000, durationMs * 0.2);
const MAX_GROWTH = 0.15;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const loadAtStart = loadavg();
const built = buildIfStale();
const dir = mkdtempSync(join(tmpdir(), 'spiffe-authz-soak-'));
const configPath = join(dir, 'config.yaml');
const stateFile = join(dir, 'rollout-state.json');
const token = randomBytes(24).toString('hex');
const [grpcPort, adminPort] = [await freePort(), await freePort()];
writeFileSync(configPath, soakConfig(0, grpcPort, adminPort, stateFile));

const child = spawn(process.execPath, [MAIN_JS, 'serve', '--config', configPath], {
  cwd: ROOT,
  env: { ...process.env, SPIFFE_AUTHZ_ADMIN_TOKEN: token },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const pid = child.pid ?? 0;
const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
let decisionLines = 0;
const notable: string[] = [];
let serving: () => void = () => undefined;
const ready = new Promise<void>((resolve) => (serving = resolve));
const stdoutDone = new Promise<void>((resolve) => {
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => {
    if (line.includes('"msg":"decision"')) decisionLines++;
    else if (line.includes('"msg":"serving"')) serving();
    else if (/"level":"(warn|error|fatal)"/.test(line) && !line.includes('"msg":"audit"') && !line.includes('config change needs a restart')) notable.push(line);
  });
  rl.once('close', resolve);
});
await Promise.race([ready, exited.then((c) => Promise.reject(new Error(`server exited with ${c} before serving`)))]);

const admin = (path: string, init?: RequestInit): Promise<Response> => fetch(`http://127.0.0.1:${adminPort}${path}`, init);
const mutate = async (method: string, path: string, body: unknown): Promise<number> => {
  const res = await admin(path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
};

// Load: `concurrency` calls in flight over `connections` channels, each answer sends the next.
const Client = authorizationClientConstructor();
const clients = Array.from({ length: connections }, () => new Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
const mix = requestMix(4000).map((e, i) => checkRequestOf(e, i));
let answered = 0;
const errors = new Map<string, number>();
let interval: number[] = [];
const allLatencies: number[] = [];
let running = true;
let inFlight = 0;
let next = 0;
let drained: () => void = () => undefined;
const allDone = new Promise<void>((resolve) => (drained = resolve));
const fire = (slot: number): void => {
  const started = process.hrtime.bigint();
  const req = mix[next++ % mix.length];
  inFlight++;
  clients[slot % connections]!['Check']!(req, (err: grpc.ServiceError | null) => {
    inFlight--;
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (err === null) {
      answered++;
      interval.push(ms);
    } else {
      const key = `${grpc.status[err.code]}: ${err.details}`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
    if (running) fire(slot);
    else if (inFlight === 0) drained();
  });
};
const t0 = Date.now();
for (let i = 0; i < concurrency; i++) fire(i);

// Operations: rollout toggles every ~5 s, a config rewrite every ~15 s.
const adminStatuses = new Map<number, number>();
const toggles: [string, string, unknown][] = [
  ['PUT', '/v1/routes/orders-write/rollout', { mode: 'enforce', enforcePercent: 30, reason: 'soak', force: true }],
  ['PUT', '/v1/routes/catalog/rollout', { mode: 'warn', reason: 'soak' }],
  ['POST', '/v1/rollback', { reason: 'soak rollback' }],
  ['DELETE', '/v1/routes/orders-write/rollout', { reason: 'soak', force: true }],
  ['PUT', '/v1/routes/billing/rollout', { mode: 'shadow', reason: 'soak' }],
  ['DELETE', '/v1/routes/catalog/rollout', { reason: 'soak', force: true }],
  ['DELETE', '/v1/routes/billing/rollout', { reason: 'soak', force: true }],
  ['DELETE', '/v1/routes/orders-read/rollout', { reason: 'soak', force: true }],
  ['DELETE', '/v1/routes/_unmatched/rollout', { reason: 'soak', force: true }],
];
let toggleCount = 0;
let rewrites = 0;
const toggleTimer = setInterval(() => {
  const [method, path, body] = toggles[toggleCount++ % toggles.length]!;
  void mutate(method, path, body)
    .catch(() => 0)
    .then((s) => adminStatuses.set(s, (adminStatuses.get(s) ?? 0) + 1));
}, 5000);
const rewriteTimer = setInterval(() => {
  rewrites++;
  writeFileSync(configPath, soakConfig((rewrites % 2) as 0 | 1, grpcPort, adminPort, stateFile));
}, 15_000);

// Samples every sampleMs.
interface Sample { readonly t: number; readonly rss: number; readonly heap: number; readonly fds: number; readonly p99: number; readonly rate: number }
const samples: Sample[] = [];
let lastAnswered = 0;
let lastT = t0;
const sample = async (): Promise<void> => {
  const now = Date.now();
  const heap = metricValue(await (await admin('/metrics')).text(), 'spiffe_authz_nodejs_heap_size_used_bytes');
  const s: Sample = { t: (now - t0) / 1000, rss: rssBytes(pid), heap, fds: openFds(pid), p99: quantile(interval, 0.99), rate: ((answered - lastAnswered) * 1000) / (now - lastT) };
  for (const v of interval) allLatencies.push(v);
  interval = [];
  lastAnswered = answered;
  lastT = now;
  samples.push(s);
  const mb = (b: number): string => (b / 1048576).toFixed(1);
  console.log(`${s.t.toFixed(0).padStart(5)} s  ${s.rate.toFixed(0).padStart(6)} checks/s  p99 ${s.p99.toFixed(2).padStart(6)} ms  rss ${mb(s.rss)} MiB  heap ${mb(s.heap)} MiB  fds ${s.fds}`);
};
console.log(`soak: ${durationMs / 1000} s, ${concurrency} in flight over ${connections} connections, sample every ${sampleMs / 1000} s, warm-up ${warmupMs / 1000} s${built ? ' (built first)' : ''}`);
const sampleTimer = setInterval(() => void sample(), sampleMs);
await new Promise((r) => setTimeout(r, durationMs));
clearInterval(sampleTimer);
clearInterval(toggleTimer);
clearInterval(rewriteTimer);
running = false;
await allDone;
await sample();

// Counters: the server's checks since start over every route against the client's answers.
const routes = (await (await admin('/v1/routes')).json()) as { routes: { name: string; counters: { checks: number } }[] };
const serverChecks = routes.routes.reduce((n, r) => n + r.counters.checks, 0);
const metricsText = await (await admin('/metrics')).text();
const logDropped = metricValue(metricsText, 'spiffe_authz_log_dropped_total');
const reloadsOk = metricValue(metricsText, 'spiffe_authz_config_reloads_total{result="success"}');
const reloadsFailed = metricValue(metricsText, 'spiffe_authz_config_reloads_total{result="failure"}');
for (const c of clients) c.close();
child.kill('SIGTERM');
const exitCode = await exited;
await stdoutDone;

const steady = samples.filter((s) => s.t * 1000 >= warmupMs);
const flat: Record<string, Flatness> = {
  rss: flatness(steady.map((s) => s.rss), MAX_GROWTH),
  heap: flatness(steady.map((s) => s.heap), MAX_GROWTH, 0, true),
  fds: flatness(steady.map((s) => s.fds), MAX_GROWTH, 2),
};
const checks = {
  countsMatch: serverChecks === answered,
  logAccounted: decisionLines + logDropped === answered,
  noErrors: errors.size === 0,
  adminOk: [...adminStatuses.keys()].every((s) => s === 200),
  reloadsOk: reloadsFailed === 0 && reloadsOk >= rewrites - 1,
  exitedCleanly: exitCode === 0,
  rssFlat: flat['rss']!.flat,
  heapFlat: flat['heap']!.flat,
  fdsFlat: flat['fds']!.flat,
};
const result = {
  date: new Date().toISOString(),
  command: `npm run soak${args.quick === true ? ' -- --quick' : args.minutes !== undefined ? ` -- --minutes ${args.minutes}` : ''}`,
  node: process.version,
  cpus: availableParallelism(),
  loadAverage: { start: loadAtStart, end: loadavg() },
  durationS: durationMs / 1000,
  concurrency,
  connections,
  answered,
  serverChecks,
  decisionLines,
  logDropped,
  ratePerS: Math.round(answered / (durationMs / 1000)),
  latencyMs: { p50: median(allLatencies), p99: quantile(allLatencies, 0.99), max: allLatencies.reduce((a, b) => (b > a ? b : a), 0) },
  errors: Object.fromEntries(errors),
  adminCalls: { toggles: toggleCount, statuses: Object.fromEntries(adminStatuses) },
  configRewrites: rewrites,
  reloads: { success: reloadsOk, failure: reloadsFailed },
  exitCode,
  flatness: flat,
  checks,
  notableLogLines: notable.slice(0, 20),
  samples,
};
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
const out = join(ROOT, 'bench', 'results', `soak-${result.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);

const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;
const pct = (f: Flatness): string => `${f.growth >= 0 ? '+' : ''}${(f.growth * 100).toFixed(1)} %`;
console.log(`
| measure | value |
|---------|-------|
| duration, load | ${durationMs / 1000} s, ${concurrency} in flight over ${connections} connections |
| machine | ${availableParallelism()} CPUs, load average ${loadAtStart[0]!.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end (server and client share it) |
| Checks answered (client) | ${answered} (${result.ratePerS}/s) |
| server checks (sum over /v1/routes) | ${serverChecks} ${checks.countsMatch ? '(equal)' : '(MISMATCH)'} |
| decision log lines + dropped | ${decisionLines} + ${logDropped} ${checks.logAccounted ? '(equal)' : '(MISMATCH)'} |
| gRPC errors | ${errors.size === 0 ? 'none' : JSON.stringify(result.errors)} |
| latency p50 / p99 / max | ${result.latencyMs.p50.toFixed(2)} / ${result.latencyMs.p99.toFixed(2)} / ${result.latencyMs.max.toFixed(1)} ms |
| admin toggles, config rewrites | ${toggleCount} (statuses ${JSON.stringify(result.adminCalls.statuses)}), ${rewrites} (reloads ok ${reloadsOk}, failed ${reloadsFailed}) |
| RSS first → last third (median) | ${mb(flat['rss']!.firstMedian)} → ${mb(flat['rss']!.lastMedian)} (${pct(flat['rss']!)}) |
| heap used, floor of first → last third | ${mb(flat['heap']!.firstMedian)} → ${mb(flat['heap']!.lastMedian)} (${pct(flat['heap']!)}) |
| open fds first → last third | ${flat['fds']!.firstMedian} → ${flat['fds']!.lastMedian} |
| server exit code after SIGTERM | ${exitCode} |
`);
for (const line of notable.slice(0, 5)) console.log(`log: ${line}`);
const failed = Object.entries(checks).filter(([, ok]) => !ok).map(([k]) => k);
console.log(failed.length === 0 ? `PASS (${out})` : `FAIL: ${failed.join(', ')} (${out})`);
process.exitCode = failed.length === 0 ? 0 : 1;
