// `npm run bench` — end-to-end, in-process and process figures of this server next to an
// empty-handler gRPC server on the same grpc-js and protos; prints tables, writes
// bench/results/<timestamp>.json, and with --check exits 1 when a target is missed.
// See bench/README.md for what each figure means and how it is derived.
//
//   npm run bench [-- --quick] [--check] [--rounds N] [--closed-repeats K] [--repeats K] [--duration S] [--rate RPS]
//                 [--clients C] [--streams M] [--phases e2e,in-process,process] [--scenarios id,id]
//   npm run bench -- --profile      (CPU profile of this server under load; summary into bench/results/)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Mode } from '../src/authz/types.js';
import {
  LARGE,
  NAMED_ROUTE,
  SMALL,
  allowedIdFor,
  createBenchIdentity,
  generatePolicyYaml,
  requestSpec,
  type BenchIdentity,
  type BodyKind,
  type PolicySize,
} from './gen-policy.js';
import { probeCheck } from './grpc-probe.js';
import { checkRequestFrame, h2loadVersion, runH2load, writeBodyFile, type LoadResult } from './h2load.js';
import { runInProcess, type InProcessResult } from './in-process.js';
import { runProfile } from './profile.js';
import {
  ROOT,
  choosePinning,
  coreTicks,
  ensureBuilt,
  ensureDir,
  freePort,
  machineTicks,
  runProcessPhase,
  startServer,
  writeAuthzConfig,
  type Pinning,
  type ProcessResult,
  type RunningServer,
} from './process.js';
import { median, round } from './stats.js';

/** The issue's targets. */
export const TARGETS = {
  throughputPrincipal: 0.9,
  throughputOther: 0.85,
  addedP50Us: 10,
  addedP99Us: 50,
  decisionP50Ns: 1000,
  decisionP99Ns: 5000,
  compileMs: 50,
  startMs: 500,
  rssIdleRatio: 1.5,
  rssLoadRatio: 1.25,
} as const;

/** One end-to-end scenario: server (b) with a policy and mode, against the empty server (a), same body. */
interface Scenario {
  readonly id: string;
  readonly body: BodyKind;
  readonly size: PolicySize;
  readonly mode: Mode;
  readonly decisions: 'all' | 'none';
  /** What the decision metadata must say, checked with one Check before the load. */
  readonly expect: { readonly reason: string; readonly effect: string; readonly identitySource: string; readonly route: string };
  /** Minimum b/a throughput ratio; undefined = informational. */
  readonly throughputTarget: number | undefined;
  readonly latencyTarget: boolean;
  readonly quick: boolean;
}

/** A measurement during which other processes took more of the server's core than this is repeated. */
const NOISE_LIMIT_PCT = 15;
const NOISE_RETRIES = 2;

/** The fixed rate is this share of the first empty-server closed-loop throughput (unless --rate). */
const RATE_SHARE = 0.1;

const named = `r${NAMED_ROUTE}`;
const SCENARIOS: readonly Scenario[] = [
  { id: 'principal 1000x10000 enforce allow', body: 'principal-allow', size: LARGE, mode: 'enforce', decisions: 'all', expect: { reason: 'ALLOWED', effect: 'allow', identitySource: 'principal', route: named }, throughputTarget: TARGETS.throughputPrincipal, latencyTarget: true, quick: true },
  { id: 'principal 10x100 enforce allow', body: 'principal-allow', size: SMALL, mode: 'enforce', decisions: 'all', expect: { reason: 'ALLOWED', effect: 'allow', identitySource: 'principal', route: named }, throughputTarget: TARGETS.throughputPrincipal, latencyTarget: true, quick: false },
  { id: 'principal 1000x10000 shadow deny', body: 'principal-deny', size: LARGE, mode: 'shadow', decisions: 'all', expect: { reason: 'NO_MATCHING_RULE', effect: 'allow', identitySource: 'principal', route: named }, throughputTarget: TARGETS.throughputPrincipal, latencyTarget: true, quick: false },
  { id: 'principal 1000x10000 warn deny', body: 'principal-deny', size: LARGE, mode: 'warn', decisions: 'all', expect: { reason: 'NO_MATCHING_RULE', effect: 'warn', identitySource: 'principal', route: named }, throughputTarget: TARGETS.throughputPrincipal, latencyTarget: true, quick: false },
  { id: 'principal 1000x10000 enforce deny', body: 'principal-deny', size: LARGE, mode: 'enforce', decisions: 'all', expect: { reason: 'NO_MATCHING_RULE', effect: 'deny', identitySource: 'principal', route: named }, throughputTarget: TARGETS.throughputPrincipal, latencyTarget: true, quick: false },
  { id: 'principal 1000x10000 enforce path-matched(last)', body: 'principal-path', size: LARGE, mode: 'enforce', decisions: 'all', expect: { reason: 'ALLOWED', effect: 'allow', identitySource: 'principal', route: `r${LARGE.routes - 1}` }, throughputTarget: TARGETS.throughputPrincipal, latencyTarget: true, quick: false },
  { id: 'xfcc 1000x10000 enforce allow', body: 'xfcc', size: LARGE, mode: 'enforce', decisions: 'all', expect: { reason: 'ALLOWED', effect: 'allow', identitySource: 'xfcc', route: named }, throughputTarget: TARGETS.throughputOther, latencyTarget: true, quick: true },
  { id: 'certificate 1000x10000 enforce allow', body: 'certificate', size: LARGE, mode: 'enforce', decisions: 'all', expect: { reason: 'ALLOWED', effect: 'allow', identitySource: 'certificate', route: named }, throughputTarget: TARGETS.throughputOther, latencyTarget: true, quick: true },
  { id: 'jwt 1000x10000 enforce allow', body: 'jwt', size: LARGE, mode: 'enforce', decisions: 'all', expect: { reason: 'ALLOWED', effect: 'allow', identitySource: 'jwt', route: named }, throughputTarget: TARGETS.throughputOther, latencyTarget: true, quick: true },
  { id: 'principal 1000x10000 enforce allow log:none', body: 'principal-allow', size: LARGE, mode: 'enforce', decisions: 'none', expect: { reason: 'ALLOWED', effect: 'allow', identitySource: 'principal', route: named }, throughputTarget: undefined, latencyTarget: false, quick: false },
];

interface Options {
  readonly check: boolean;
  readonly quick: boolean;
  readonly rounds: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** The concurrency-1 latency run. */
  readonly c1DurationMs: number;
  readonly c1WarmupMs: number;
  /** The fixed-rate run. */
  readonly rateDurationMs: number;
  readonly rateWarmupMs: number;
  /** Load on a freshly started server before its first measurement (split over its bodies). */
  readonly serverWarmupMs: number;
  readonly clients: number;
  readonly streams: number;
  /** Closed-loop runs per server and scenario (in turns with the other server); the best one is kept. */
  readonly closedRepeats: number;
  /** Concurrency-1 runs per server and scenario (likewise). */
  readonly repeats: number;
  readonly rate: number | undefined;
  readonly phases: ReadonlySet<string>;
  readonly scenarios: readonly Scenario[];
}

function parseOptions(argv: readonly string[]): Options & { readonly profile: boolean } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      check: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      rate: { type: 'string' },
      clients: { type: 'string' },
      streams: { type: 'string' },
      repeats: { type: 'string' },
      'closed-repeats': { type: 'string' },
      phases: { type: 'string' },
      scenarios: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'npm run bench [-- --quick] [--check] [--rounds N] [--closed-repeats K] [--repeats K] [--duration S] [--rate RPS] [--clients C] [--streams M]\n' +
        '              [--phases e2e,in-process,process] [--scenarios <id substring>,...] | --profile\n',
    );
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const num = (v: string | undefined, name: string, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${v}"`);
    return n;
  };
  const filters = values.scenarios?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const scenarios = SCENARIOS.filter((s) => (filters === undefined ? !quick || s.quick : filters.some((f) => s.id.includes(f))));
  return {
    check: values.check ?? false,
    quick,
    profile: values.profile ?? false,
    rounds: Math.round(num(values.rounds, 'rounds', quick ? 1 : 7)),
    durationMs: num(values.duration, 'duration', quick ? 0.5 : 1) * 1000,
    warmupMs: quick ? 200 : 300,
    c1DurationMs: Math.round((num(values.duration, 'duration', quick ? 0.5 : 1) * 1000 * 2) / 3),
    c1WarmupMs: quick ? 100 : 200,
    rateDurationMs: Math.round((num(values.duration, 'duration', quick ? 0.5 : 1) * 1000 * 2) / 3),
    rateWarmupMs: quick ? 200 : 300,
    // A fresh server reaches steady throughput after about 3 s of load on this machine.
    serverWarmupMs: quick ? 1200 : 3000,
    clients: Math.round(num(values.clients, 'clients', 2)),
    streams: Math.round(num(values.streams, 'streams', 32)),
    closedRepeats: Math.round(num(values['closed-repeats'], 'closed-repeats', quick ? 2 : 6)),
    repeats: Math.round(num(values.repeats, 'repeats', quick ? 2 : 4)),
    rate: values.rate === undefined ? undefined : num(values.rate, 'rate', 1),
    phases: new Set((values.phases ?? 'e2e,in-process,process').split(',').map((s) => s.trim())),
    scenarios,
  };
}

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

// ---------------------------------------------------------------------------------------------
// End to end

/** One server's side of a measured pair: closed loop at 2×32 streams, closed loop at concurrency 1, fixed rate. */
interface InstanceRun {
  readonly round: number;
  readonly role: 'a' | 'b';
  readonly body: BodyKind;
  /** The scenario this run belongs to (the empty server is measured beside each one). */
  readonly scenario: string;
  /** Spawn → SERVING of the server process this body was measured on. */
  readonly startToServingMs: number;
  /** Closed loop at clients × streams: throughput. */
  readonly closed: LoadResult;
  /** Closed loop at one stream: per-request latency without queueing. */
  readonly c1: LoadResult;
  /** Fixed total rate (staggered clients, see h2load.ts). */
  readonly rate: LoadResult;
  /** Peak VmRSS sampled during this side's runs (kB). */
  readonly rssLoadKb: number;
  /** Share of the server's core used by processes other than this server during its runs (%). */
  readonly otherOnServerCorePct: number;
  /** Busy share of the load generator's core during this side's runs (%). */
  readonly loadCoreBusyPct: number;
}

interface E2eContext {
  readonly dir: string;
  readonly identity: BenchIdentity;
  readonly pin: Pinning;
  readonly opts: Options;
  /** Total fixed rate (req/s), set by the first closed-loop run unless --rate. */
  rate: number | undefined;
  /** Each body's frame and file, written on first use (see bodyFile). */
  readonly bodies: Map<BodyKind, { readonly file: string; readonly frame: Buffer }>;
}

/** One side of a paired measurement: a running server and what its h2load runs used of the cores. */
interface Side {
  readonly role: 'a' | 'b';
  readonly server: RunningServer;
  peakKb: number;
  /** Ticks on the server core taken by other processes / all ticks, over this side's runs. */
  otherTicks: number;
  coreTicks: number;
  loadBusy: number;
  loadTotal: number;
}

function newSide(role: 'a' | 'b', server: RunningServer): Side {
  return { role, server, peakKb: 0, otherTicks: 0, coreTicks: 0, loadBusy: 0, loadTotal: 0 };
}

/** One h2load run against one side, with that side's core accounting and RSS sampling around it. */
async function runOn(ctx: E2eContext, side: Side, args: Parameters<typeof runH2load>[0]): Promise<LoadResult> {
  const { pin } = ctx;
  const server0 = pin.serverCpu === undefined ? undefined : coreTicks(pin.serverCpu);
  const load0 = pin.loadCpu === undefined ? undefined : coreTicks(pin.loadCpu);
  const ticks0 = side.server.ticks();
  const sampler = setInterval(() => {
    const v = side.server.rssKb();
    if (v > side.peakKb) side.peakKb = v;
  }, 100);
  try {
    return await runH2load(args);
  } finally {
    clearInterval(sampler);
    if (server0 !== undefined && pin.serverCpu !== undefined) {
      const s1 = coreTicks(pin.serverCpu);
      side.otherTicks += s1.busy - server0.busy - (side.server.ticks() - ticks0);
      side.coreTicks += s1.total - server0.total;
    }
    if (load0 !== undefined && pin.loadCpu !== undefined) {
      const l1 = coreTicks(pin.loadCpu);
      side.loadBusy += l1.busy - load0.busy;
      side.loadTotal += l1.total - load0.total;
    }
  }
}

/**
 * One scenario, measured on the empty server (a) and this server (b) side by side: both processes
 * run at once on the same core and take turns under load (a b b a a b ...), so each b figure has
 * an a figure taken seconds from it, not minutes. The host's speed drifts by 10-25 % over minutes
 * on this VM; with the servers measured one process after the other, that drift landed in the
 * ratio and in the added latency.
 */
async function measurePair(ctx: E2eContext, aServer: RunningServer, bServer: RunningServer, file: string, round: number, body: BodyKind, scenario: string): Promise<{ a: InstanceRun; b: InstanceRun }> {
  const { opts } = ctx;
  const a = newSide('a', aServer);
  const b = newSide('b', bServer);
  const base = (side: Side) => ({ port: side.server.port, bodyFile: file, logFile: join(ctx.dir, `h2load-${side.role}.log`), clients: opts.clients, streams: opts.streams, cpu: ctx.pin.loadCpu });
  // Turn i: a then b when i is even, b then a when odd (ABBA), so a drift within the pair cancels.
  const turns = async (n: number, run: (side: Side) => Promise<LoadResult>): Promise<{ a: LoadResult[]; b: LoadResult[] }> => {
    const out = { a: [] as LoadResult[], b: [] as LoadResult[] };
    for (let i = 0; i < n; i++) {
      for (const side of i % 2 === 0 ? [a, b] : [b, a]) out[side.role].push(await run(side));
    }
    return out;
  };
  // Best of `closedRepeats` closed-loop runs. One server's throughput swings by up to 2x from one 1 s run
  // to the next with nothing else running in the VM, the empty server's as much as this one's:
  // --trace-gc-nvp shows V8 switching between ~45 KB and ~2 MB promoted per scavenge, and full
  // collections of 60-200 ms now and then (most of it in their clear.external_string_table phase).
  // The fastest of a few runs is each server's capacity between those stretches; the noise column
  // still reports what other processes took on the server's core.
  const closedRuns = await turns(opts.closedRepeats, (side) => runOn(ctx, side, { ...base(side), durationMs: opts.durationMs, warmupMs: opts.warmupMs }));
  const best = (rs: LoadResult[]): LoadResult => rs.reduce((x, r) => (r.rps > x.rps ? r : x));
  if (ctx.rate === undefined) {
    const first = best(closedRuns.a);
    ctx.rate = Math.max(200, Math.floor((RATE_SHARE * first.rps) / 100) * 100);
    log(`  fixed rate for every latency run: ${ctx.rate} req/s (${RATE_SHARE * 100}% of the first empty-server closed-loop throughput, ${Math.round(first.rps)} req/s)`);
  }
  const rate = ctx.rate;
  // Likewise the quietest of `repeats` runs at concurrency 1: lowest p50 and lowest p99.
  const c1Runs = await turns(opts.repeats, (side) => runOn(ctx, side, { ...base(side), clients: 1, streams: 1, durationMs: opts.c1DurationMs, warmupMs: opts.c1WarmupMs }));
  const rateRuns = { a: [] as LoadResult[], b: [] as LoadResult[] };
  for (const side of round % 2 === 1 ? [a, b] : [b, a]) rateRuns[side.role].push(await runOn(ctx, side, { ...base(side), durationMs: opts.rateDurationMs, warmupMs: opts.rateWarmupMs, totalRps: rate }));
  const result = (side: Side): InstanceRun => {
    const role = side.role;
    const who = `${role} ${scenario}`;
    const rateRun = rateRuns[role][0] as LoadResult;
    if (rateRun.rps < 0.95 * rate) log(`  note: ${who} reached only ${Math.round(rateRun.rps)} of ${rate} req/s in the fixed-rate run (saturated)`);
    for (const [what, r] of [...closedRuns[role].map((r) => ['closed', r] as const), ...c1Runs[role].map((r) => ['c1', r] as const), ['rate', rateRun] as const]) {
      if (r.failed + r.errored + r.timeout > 0) throw new Error(`${who} ${what}: h2load saw ${r.failed} failed, ${r.errored} errored, ${r.timeout} timeouts`);
      const expected = what !== 'rate' ? r.total : (r.total * opts.rateDurationMs) / (opts.rateDurationMs + opts.rateWarmupMs);
      if (r.samples < 0.8 * expected) throw new Error(`${who} ${what}: only ${r.samples} of ~${Math.round(expected)} requests logged with HTTP 200`);
    }
    const c1Best = c1Runs[role].reduce((x, r) => (r.p50 < x.p50 ? r : x));
    return {
      round,
      role,
      body,
      scenario,
      startToServingMs: round2(side.server.startToServingMs),
      closed: best(closedRuns[role]),
      c1: { ...c1Best, p99: Math.min(...c1Runs[role].map((r) => r.p99)) },
      rate: rateRun,
      rssLoadKb: Math.max(side.peakKb, side.server.rssKb()),
      otherOnServerCorePct: side.coreTicks > 0 ? round2(Math.max(0, (100 * side.otherTicks) / side.coreTicks)) : Number.NaN,
      loadCoreBusyPct: side.loadTotal > 0 ? round2((100 * side.loadBusy) / side.loadTotal) : Number.NaN,
    };
  };
  return { a: result(a), b: result(b) };
}

function round2(v: number): number {
  return round(v, 1);
}

/** This server with one config, for the scenarios that share it. */
interface Instance {
  readonly label: string;
  readonly config: { readonly size: PolicySize; readonly mode: Mode; readonly decisions: 'all' | 'none' };
  readonly scenarios: readonly Scenario[];
}

/** One instance of this server per distinct config (the empty server serves every body). */
function planInstances(scenarios: readonly Scenario[]): Instance[] {
  const byConfig = new Map<string, Scenario[]>();
  for (const s of scenarios) {
    const key = `${s.size.routes}x${s.size.ids} ${s.mode} log:${s.decisions}`;
    byConfig.set(key, [...(byConfig.get(key) ?? []), s]);
  }
  return [...byConfig.entries()].map(([key, list]) => {
    const first = list[0] as Scenario;
    return { label: `b (this server, ${key})`, config: { size: first.size, mode: first.mode, decisions: first.decisions }, scenarios: list };
  });
}

/** A body's frame and the file h2load sends it from, written once per bench run. */
function bodyFile(ctx: E2eContext, body: BodyKind): { readonly file: string; readonly frame: Buffer } {
  let entry = ctx.bodies.get(body);
  if (entry === undefined) {
    // Bodies are built for the large policy; every one also names or matches a route of the small one.
    const frame = checkRequestFrame(requestSpec(body, ctx.identity, LARGE));
    const file = join(ctx.dir, `body-${body}.bin`);
    writeBodyFile(file, frame);
    ctx.bodies.set(body, (entry = { file, frame }));
  }
  return entry;
}

/**
 * Server warm-up: a fresh process is far slower for its first second (JIT); drive every body it
 * will serve for a while before anything is measured, so no body pays for being first.
 */
async function warmUp(ctx: E2eContext, server: RunningServer, bodies: readonly { readonly file: string; readonly frame: Buffer }[]): Promise<void> {
  const perBody = Math.max(150, Math.round(ctx.opts.serverWarmupMs / bodies.length));
  for (const { file, frame } of bodies) {
    await probeCheck(server.port, frame).catch(() => undefined); // fills the identity caches; failures are reported by the probe before measuring
    const warm = { port: server.port, bodyFile: file, logFile: join(ctx.dir, 'h2load-warm.log'), clients: ctx.opts.clients, streams: ctx.opts.streams, cpu: ctx.pin.loadCpu };
    await runH2load({ ...warm, durationMs: perBody, warmupMs: 50 }).catch(() => undefined);
  }
}

async function stopServer(server: RunningServer, label: string): Promise<void> {
  const code = await server.stop();
  if (code !== 0 && code !== null) log(`  note: ${label} server exited ${code}: ${server.stderr().trim().slice(-300)}`);
}

/** Starts one instance of this server, measures each of its scenarios paired with the running empty server, stops it. */
async function runInstance(ctx: E2eContext, inst: Instance, aServer: RunningServer, round: number, errors: Record<string, string>): Promise<InstanceRun[]> {
  const port = await freePort();
  const c = inst.config;
  const bundles = { prod: ctx.identity.prodBundle, partner: ctx.identity.partnerBundle };
  const configPath = await writeAuthzConfig(ctx.dir, 'authz', port, (grpc, admin) =>
    generatePolicyYaml({ ...c.size, mode: c.mode, decisions: c.decisions, bundles, grpcListen: grpc, adminListen: admin }),
  );
  const server = await startServer({ kind: 'authz', port, cpu: ctx.pin.serverCpu, configPath });
  log(`  ${inst.label}: start → SERVING ${Math.round(server.startToServingMs)} ms`);
  const runs: InstanceRun[] = [];
  try {
    await warmUp(ctx, server, [...new Set(inst.scenarios.map((s) => s.body))].map((body) => bodyFile(ctx, body)));
    for (const scenario of inst.scenarios) {
      const label = scenario.id;
      try {
        const { file, frame } = bodyFile(ctx, scenario.body);
        const probe = await probeCheck(port, frame);
        const md = probe.metadata;
        const e = scenario.expect;
        if (md['reason'] !== e.reason || md['effect'] !== e.effect || md['identitySource'] !== e.identitySource || md['route'] !== e.route) {
          throw new Error(`${scenario.id}: expected ${JSON.stringify(e)}, the server answered ${JSON.stringify(md)}`);
        }
        const aProbe = await probeCheck(aServer.port, frame);
        if (aProbe.statusCode !== 0) throw new Error(`empty server (a) answered status ${aProbe.statusCode}`);
        // Other processes on the server's core spoil a measurement: re-measure the pair (up to
        // NOISE_RETRIES more times) and keep the cleanest attempt.
        const noise = (p: { a: InstanceRun; b: InstanceRun }): number => Math.max(p.a.otherOnServerCorePct, p.b.otherOnServerCorePct);
        let pair = await measurePair(ctx, aServer, server, file, round, scenario.body, scenario.id);
        let last = pair;
        for (let retry = 0; retry < NOISE_RETRIES && noise(last) > NOISE_LIMIT_PCT; retry++) {
          log(`    ${label}: other processes took ${noise(last)}% of the server core, measuring again`);
          last = await measurePair(ctx, aServer, server, file, round, scenario.body, scenario.id);
          if (noise(last) < noise(pair)) pair = last;
        }
        runs.push(pair.a, pair.b);
        for (const run of [pair.a, pair.b]) {
          log(
            `    ${run.role} · ${label.padEnd(50)} ${Math.round(run.closed.rps).toString().padStart(6)} req/s` +
              `  c=1 p50/p99 ${run.c1.p50}/${run.c1.p99} µs  @${ctx.rate}/s p50/p99 ${run.rate.p50}/${run.rate.p99} µs` +
              (run.otherOnServerCorePct > 5 ? `  (other processes on the server core: ${run.otherOnServerCorePct}%)` : ''),
          );
        }
      } catch (e) {
        const msg = (e as Error).message;
        log(`    ${label}: ERROR ${msg}`);
        errors[scenario.id] = msg;
      }
    }
  } finally {
    await stopServer(server, 'b');
  }
  return runs;
}

/** Per-scenario aggregate over rounds. */
interface ScenarioSummary {
  readonly id: string;
  readonly rounds: number;
  readonly aRps: number;
  readonly bRps: number;
  /** Median over rounds of b/a in the same round. */
  readonly ratio: number;
  readonly aClosed: { p50: number; p99: number };
  readonly bClosed: { p50: number; p99: number };
  readonly aC1: { p50: number; p99: number };
  readonly bC1: { p50: number; p99: number };
  readonly aRate: { p50: number; p99: number };
  readonly bRate: { p50: number; p99: number };
  /** Median over rounds of b − a at concurrency 1 (µs): what the added-latency target is checked on. */
  readonly addedC1P50Us: number;
  readonly addedC1P99Us: number;
  /** Median over rounds of b − a at the fixed rate (µs). */
  readonly addedRateP50Us: number;
  readonly addedRateP99Us: number;
  readonly addedClosedP50Us: number;
  readonly throughputTarget: number | undefined;
  readonly latencyTarget: boolean;
  readonly throughputPass: boolean | undefined;
  readonly latencyPass: boolean | undefined;
  readonly bRssLoadKb: number;
  readonly aRssLoadKb: number;
  readonly maxOtherOnServerCorePct: number;
  readonly error: string | undefined;
}

async function runE2e(ctx: E2eContext): Promise<{ runs: InstanceRun[]; summaries: ScenarioSummary[]; errors: Record<string, string> }> {
  const { opts } = ctx;
  const plan = planInstances(opts.scenarios);
  const runs: InstanceRun[] = [];
  const errors: Record<string, string> = {};
  const allBodies = [...new Set(opts.scenarios.map((s) => s.body))];
  for (let r = 1; r <= opts.rounds; r++) {
    log(`round ${r}/${opts.rounds}`);
    // A fresh empty server (a) per round, running beside each instance of this server in turn.
    let aServer: RunningServer;
    try {
      aServer = await startServer({ kind: 'empty', port: await freePort(), cpu: ctx.pin.serverCpu });
      log(`  a (empty handler): start → SERVING ${Math.round(aServer.startToServingMs)} ms`);
    } catch (e) {
      const msg = (e as Error).message;
      log(`  a (empty handler): ERROR ${msg}`);
      for (const s of opts.scenarios) errors[s.id] ??= `empty server (a): ${msg}`;
      continue;
    }
    try {
      await warmUp(ctx, aServer, allBodies.map((body) => bodyFile(ctx, body)));
      // Instances in reverse order in even rounds, so slow drift over a round cancels across rounds.
      for (const inst of r % 2 === 1 ? plan : [...plan].reverse()) {
        try {
          runs.push(...(await runInstance(ctx, inst, aServer, r, errors)));
        } catch (e) {
          const msg = (e as Error).message;
          log(`  ${inst.label}: ERROR ${msg}`);
          for (const s of inst.scenarios) errors[s.id] ??= msg;
        }
      }
    } finally {
      await stopServer(aServer, 'a');
    }
  }
  const summaries = opts.scenarios.map((s) => summarize(s, runs, errors[s.id]));
  return { runs, summaries, errors };
}

function summarize(s: Scenario, runs: readonly InstanceRun[], error: string | undefined): ScenarioSummary {
  const bs = runs.filter((x) => x.role === 'b' && x.scenario === s.id);
  // Each b run's partner: the empty server's run of the same pair (same scenario, same round).
  const as = runs.filter((x) => x.role === 'a' && x.scenario === s.id);
  const pairs = bs.flatMap((b) => {
    const a = as.find((x) => x.round === b.round);
    return a === undefined ? [] : [{ a, b }];
  });
  const ratio = median(pairs.map((p) => p.b.closed.rps / p.a.closed.rps));
  const addedP50 = median(pairs.map((p) => p.b.c1.p50 - p.a.c1.p50));
  const addedP99 = median(pairs.map((p) => p.b.c1.p99 - p.a.c1.p99));
  const ok = error === undefined && pairs.length > 0;
  return {
    id: s.id,
    rounds: pairs.length,
    aRps: round(median(pairs.map((p) => p.a.closed.rps)), 0),
    bRps: round(median(pairs.map((p) => p.b.closed.rps)), 0),
    ratio: round(ratio, 3),
    aClosed: { p50: median(pairs.map((p) => p.a.closed.p50)), p99: median(pairs.map((p) => p.a.closed.p99)) },
    bClosed: { p50: median(pairs.map((p) => p.b.closed.p50)), p99: median(pairs.map((p) => p.b.closed.p99)) },
    aC1: { p50: median(pairs.map((p) => p.a.c1.p50)), p99: median(pairs.map((p) => p.a.c1.p99)) },
    bC1: { p50: median(pairs.map((p) => p.b.c1.p50)), p99: median(pairs.map((p) => p.b.c1.p99)) },
    aRate: { p50: median(pairs.map((p) => p.a.rate.p50)), p99: median(pairs.map((p) => p.a.rate.p99)) },
    bRate: { p50: median(pairs.map((p) => p.b.rate.p50)), p99: median(pairs.map((p) => p.b.rate.p99)) },
    addedC1P50Us: round(addedP50, 1),
    addedC1P99Us: round(addedP99, 1),
    addedRateP50Us: round(median(pairs.map((p) => p.b.rate.p50 - p.a.rate.p50)), 1),
    addedRateP99Us: round(median(pairs.map((p) => p.b.rate.p99 - p.a.rate.p99)), 1),
    addedClosedP50Us: round(median(pairs.map((p) => p.b.closed.p50 - p.a.closed.p50)), 1),
    throughputTarget: s.throughputTarget,
    latencyTarget: s.latencyTarget,
    throughputPass: s.throughputTarget === undefined ? undefined : ok && ratio >= s.throughputTarget,
    latencyPass: !s.latencyTarget ? undefined : ok && addedP50 <= TARGETS.addedP50Us && addedP99 <= TARGETS.addedP99Us,
    bRssLoadKb: median(pairs.map((p) => p.b.rssLoadKb)),
    aRssLoadKb: median(pairs.map((p) => p.a.rssLoadKb)),
    maxOtherOnServerCorePct: Math.max(0, ...pairs.flatMap((p) => [p.a.otherOnServerCorePct, p.b.otherOnServerCorePct]).filter(Number.isFinite)),
    error,
  };
}

// ---------------------------------------------------------------------------------------------
// Output

function table(header: readonly string[], rows: readonly (readonly string[])[], rightAlignFrom = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: readonly string[]): string =>
    cells.map((c, i) => (i >= rightAlignFrom && i < cells.length - 1 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

const passMark = (p: boolean | undefined): string => (p === undefined ? 'info' : p ? 'PASS' : 'FAIL');
const us = (v: number): string => (Number.isFinite(v) ? String(Math.round(v)) : '-');
const signed = (v: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${Math.round(v)}` : '-');

function e2eTable(summaries: readonly ScenarioSummary[], rate: number | undefined, conc: string): string {
  const rows = summaries.map((s) => {
    const targets = [
      s.throughputTarget === undefined ? undefined : `≥${s.throughputTarget.toFixed(2)}x`,
      s.latencyTarget ? `+≤${TARGETS.addedP50Us}/${TARGETS.addedP99Us}µs` : undefined,
    ].filter((x) => x !== undefined);
    const passes = [s.throughputPass, s.latencyPass].filter((x) => x !== undefined);
    const pass =
      s.error !== undefined
        ? 'ERROR'
        : passes.length === 0
          ? 'info'
          : passes.every(Boolean)
            ? 'PASS'
            : `FAIL(${[s.throughputPass === false ? 'tput' : '', s.latencyPass === false ? 'lat' : ''].filter((x) => x !== '').join('+')})`;
    return [
      s.id,
      us(s.aRps),
      us(s.bRps),
      Number.isFinite(s.ratio) ? s.ratio.toFixed(3) : '-',
      `${us(s.aC1.p50)}/${us(s.aC1.p99)}`,
      `${us(s.bC1.p50)}/${us(s.bC1.p99)}`,
      `${signed(s.addedC1P50Us)}/${signed(s.addedC1P99Us)}`,
      `${us(s.aRate.p50)}/${us(s.aRate.p99)}`,
      `${us(s.bRate.p50)}/${us(s.bRate.p99)}`,
      `${signed(s.addedRateP50Us)}/${signed(s.addedRateP99Us)}`,
      Number.isFinite(s.maxOtherOnServerCorePct) ? `${Math.round(s.maxOtherOnServerCorePct)}%` : '-',
      targets.length > 0 ? targets.join(' ') : 'info',
      pass,
    ];
  });
  return table(
    [
      'scenario (b = this server, a = empty handler, same body)',
      `a rps@${conc}`,
      `b rps@${conc}`,
      'b/a',
      'a p50/p99 c=1',
      'b p50/p99 c=1',
      'added c=1',
      `a p50/p99 @${rate ?? '?'}/s`,
      `b p50/p99 @${rate ?? '?'}/s`,
      `added @${rate ?? '?'}/s`,
      'noise',
      'target',
      'pass',
    ],
    rows,
  );
}

function inProcessTable(r: InProcessResult): string {
  const rows: string[][] = [
    ['authorize() realistic mix (target)', `${r.mix.p50}`, `${r.mix.p99}`, `≤${TARGETS.decisionP50Ns}/${TARGETS.decisionP99Ns}`, passMark(r.mix.p50 <= TARGETS.decisionP50Ns && r.mix.p99 <= TARGETS.decisionP99Ns)],
    ...r.mix.classes.map((c) => [`  ${c.name} (${Math.round(c.share * 100)}%)`, `${c.timing.p50}`, `${c.timing.p99}`, '', 'info']),
    ...(['principal', 'xfcc', 'certificate', 'jwt'] as const).map((k) => [`authorize() ${k}, named route, warm`, `${r.identity[k].p50}`, `${r.identity[k].p99}`, '', 'info']),
  ];
  const t1 = table([`in-process at 1000 routes x 10000 IDs (other processes used ${r.otherCpuPct}% of the CPU meanwhile)`, 'p50 ns', 'p99 ns', 'target ns', 'pass'], rows);
  const c = r.compile;
  const t2 = table(
    ['config compile (text → snapshot)', 'ms', 'target', 'pass'],
    [
      ['buildSnapshot, median of warm repeats (target)', `${c.medianMs}`, `≤${TARGETS.compileMs}`, passMark(c.medianMs <= TARGETS.compileMs)],
      ['  text → data (readConfigData)', `${c.yamlMs}`, '', 'info'],
      ['  schema (zod)', `${c.schemaMs}`, '', 'info'],
      ['  compileConfig', `${c.compileMs}`, '', 'info'],
      ['buildSnapshot, first (cold JIT)', `${c.coldMs}`, '', 'info'],
      ['yaml parseDocument + toJS (reference path: declined texts, errors)', `${c.referenceYamlMs}`, '', 'info'],
    ],
  );
  const t3 = table(['one Check, piece by piece (tight loop)', 'mean ns'], Object.entries(r.components).map(([k, v]) => [k, `${v}`]));
  return `${t1}\n\n${t2}\n\n${t3}`;
}

function processTable(p: ProcessResult): string {
  const mib = (kb: number): string => (kb / 1024).toFixed(1);
  const ratioRow = (label: string, ours: number, empty: number, target: number | undefined): string[] => {
    const ratio = ours / empty;
    return [label, mib(ours), mib(empty), ratio.toFixed(2), target === undefined ? '' : `≤${target}x`, target === undefined ? 'info' : passMark(ratio <= target)];
  };
  const startRow = (label: string, ours: number): string[] => [label, `${round(ours, 0)}`, `${round(p.startMedianMs.empty, 0)}`, '', `≤${TARGETS.startMs}`, passMark(ours <= TARGETS.startMs)];
  const rows: string[][] = [
    startRow('start → SERVING, 1000x10000 policy (ms)', p.startMedianMs.authzLarge),
    startRow('start → SERVING, 10x100 policy (ms)', p.startMedianMs.authzSmall),
    ratioRow('RSS idle after warm-up, 1000x10000 (MiB)', p.rss.authzIdleKb, p.rss.emptyIdleKb, TARGETS.rssIdleRatio),
    ratioRow('RSS peak under load, 1000x10000 (MiB)', p.rss.authzLoadKb, p.rss.emptyLoadKb, TARGETS.rssLoadRatio),
    ratioRow('RSS right after SERVING, 1000x10000 (MiB)', p.rss.authzColdKb, p.rss.emptyColdKb, undefined),
  ];
  if (Number.isFinite(p.rss.smallIdleKb)) {
    rows.push(
      ratioRow('RSS idle after warm-up, 10x100 (MiB)', p.rss.smallIdleKb, p.rss.emptyIdleKb, TARGETS.rssIdleRatio),
      ratioRow('RSS peak under load, 10x100 (MiB)', p.rss.smallLoadKb, p.rss.emptyLoadKb, TARGETS.rssLoadRatio),
      ratioRow('RSS right after SERVING, 10x100 (MiB)', p.rss.smallColdKb, p.rss.emptyColdKb, undefined),
    );
  }
  return table(['process', 'this server', 'empty handler', 'ratio', 'target', 'pass'], rows);
}

/** Every target with its verdict. */
function evaluate(summaries: readonly ScenarioSummary[] | undefined, inproc: InProcessResult | undefined, proc: ProcessResult | undefined): { name: string; pass: boolean; detail: string }[] {
  const out: { name: string; pass: boolean; detail: string }[] = [];
  for (const s of summaries ?? []) {
    if (s.error !== undefined) {
      out.push({ name: `e2e ${s.id}`, pass: false, detail: `error: ${s.error}` });
      continue;
    }
    if (s.throughputPass !== undefined) out.push({ name: `throughput ${s.id}`, pass: s.throughputPass, detail: `b/a ${s.ratio} (target ≥ ${s.throughputTarget})` });
    if (s.latencyPass !== undefined) {
      out.push({
        name: `added latency ${s.id}`,
        pass: s.latencyPass,
        detail: `${signed(s.addedC1P50Us)} µs p50, ${signed(s.addedC1P99Us)} µs p99 at concurrency 1 (target ≤ +${TARGETS.addedP50Us} / +${TARGETS.addedP99Us}); at the fixed rate ${signed(s.addedRateP50Us)} / ${signed(s.addedRateP99Us)} µs`,
      });
    }
  }
  if (inproc !== undefined) {
    out.push({ name: 'in-process decision p50', pass: inproc.mix.p50 <= TARGETS.decisionP50Ns, detail: `${inproc.mix.p50} ns (target ≤ ${TARGETS.decisionP50Ns})` });
    out.push({ name: 'in-process decision p99', pass: inproc.mix.p99 <= TARGETS.decisionP99Ns, detail: `${inproc.mix.p99} ns (target ≤ ${TARGETS.decisionP99Ns})` });
    out.push({ name: 'config compile 1000x10000', pass: inproc.compile.medianMs <= TARGETS.compileMs, detail: `${inproc.compile.medianMs} ms (target ≤ ${TARGETS.compileMs})` });
  }
  if (proc !== undefined) {
    out.push({ name: 'start → SERVING (1000x10000)', pass: proc.startMedianMs.authzLarge <= TARGETS.startMs, detail: `${round(proc.startMedianMs.authzLarge, 0)} ms (target ≤ ${TARGETS.startMs})` });
    out.push({ name: 'start → SERVING (10x100)', pass: proc.startMedianMs.authzSmall <= TARGETS.startMs, detail: `${round(proc.startMedianMs.authzSmall, 0)} ms (target ≤ ${TARGETS.startMs})` });
    const idle = proc.rss.authzIdleKb / proc.rss.emptyIdleKb;
    const load = proc.rss.authzLoadKb / proc.rss.emptyLoadKb;
    out.push({ name: 'RSS idle vs empty handler (1000x10000)', pass: idle <= TARGETS.rssIdleRatio, detail: `${idle.toFixed(2)}x (target ≤ ${TARGETS.rssIdleRatio}x)` });
    out.push({ name: 'RSS under load vs empty handler (1000x10000)', pass: load <= TARGETS.rssLoadRatio, detail: `${load.toFixed(2)}x (target ≤ ${TARGETS.rssLoadRatio}x)` });
    const sIdle = proc.rss.smallIdleKb / proc.rss.emptyIdleKb;
    const sLoad = proc.rss.smallLoadKb / proc.rss.emptyLoadKb;
    if (Number.isFinite(sIdle)) out.push({ name: 'RSS idle vs empty handler (10x100)', pass: sIdle <= TARGETS.rssIdleRatio, detail: `${sIdle.toFixed(2)}x (target ≤ ${TARGETS.rssIdleRatio}x)` });
    if (Number.isFinite(sLoad)) out.push({ name: 'RSS under load vs empty handler (10x100)', pass: sLoad <= TARGETS.rssLoadRatio, detail: `${sLoad.toFixed(2)}x (target ≤ ${TARGETS.rssLoadRatio}x)` });
  }
  return out;
}

/** Pins every thread of this process to `cpu` (taskset); returns what puts the previous affinity back. */
function pinSelf(cpu: number | undefined): () => void {
  if (cpu === undefined) return () => undefined;
  const pid = String(process.pid);
  try {
    const before = execFileSync('taskset', ['-p', '-c', pid], { encoding: 'utf8' }).split(':').pop()?.trim() ?? '';
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), pid], { stdio: 'ignore' });
    log(`  this process pinned to core ${cpu} for the phase (was ${before})`);
    return () => {
      if (before !== '') execFileSync('taskset', ['-a', '-p', '-c', before, pid], { stdio: 'ignore' });
    };
  } catch (e) {
    log(`  note: could not pin this process to core ${cpu}: ${(e as Error).message}`);
    return () => undefined;
  }
}

/** Share of all cores busy over `ms` (other processes, since the bench itself is idle then). */
async function machineBusyPct(ms: number): Promise<number> {
  const a = machineTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineTicks();
  return round((100 * (b.busy - a.busy)) / Math.max(1, b.total - a.total), 0);
}

function gitDescribe(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: true };
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const started = Date.now();
  let h2load: string;
  try {
    h2load = await h2loadVersion();
  } catch (e) {
    process.stderr.write(`\nnpm run bench: ${(e as Error).message}\n\n`);
    return 2;
  }
  const pin = await choosePinning();
  const build = await ensureBuilt(log);
  for (const w of build.warnings) log(`warning: ${w}`);
  const resultsDir = ensureDir(join(ROOT, 'bench', 'results'));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = mkdtempSync(join(tmpdir(), 'spiffe-authz-bench-'));
  try {
    const identity = await createBenchIdentity(dir, allowedIdFor(NAMED_ROUTE));
    const machine = {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      node: process.version,
      h2load,
      pinning: pin.note,
      loadavgAtStart: loadavg().map((x) => round(x, 2)),
      busyPctAtStart: await machineBusyPct(1000),
      git: gitDescribe(),
    };
    if (opts.profile) {
      const out = await runProfile({ dir, identity, pin, resultsDir, stamp, log });
      log(`\nprofile summary written to ${out}`);
      return 0;
    }
    log(`spiffe-ext-authz bench — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${h2load}`);
    log(`${pin.note}; load avg ${machine.loadavgAtStart.join(' ')}, CPU busy before start ${machine.busyPctAtStart}%; ${opts.quick ? 'QUICK (indicative only); ' : ''}rounds ${opts.rounds}, ${opts.durationMs / 1000}s per run, ${opts.clients} connections x ${opts.streams} streams`);
    if (machine.busyPctAtStart > 10) {
      log(`note: ${machine.busyPctAtStart}% of the machine's CPU was busy with other processes just before the start; they add noise to every figure`);
    }

    let e2e: Awaited<ReturnType<typeof runE2e>> | undefined;
    const ctx: E2eContext = { dir, identity, pin, opts, rate: opts.rate, bodies: new Map() };
    if (opts.phases.has('e2e') && opts.scenarios.length > 0) {
      log('\n== end to end (h2load → gRPC) ==');
      e2e = await runE2e(ctx);
    }
    let inproc: InProcessResult | undefined;
    if (opts.phases.has('in-process')) {
      log('\n== in-process ==');
      // On the server's core, as the server runs, and not moved between cores mid-measurement.
      const restore = pinSelf(pin.serverCpu);
      try {
        inproc = await runInProcess({ quick: opts.quick, identity, log });
      } finally {
        restore();
      }
    }
    let proc: ProcessResult | undefined;
    if (opts.phases.has('process')) {
      log('\n== process ==');
      proc = await runProcessPhase({
        dir,
        identity,
        pin,
        starts: opts.quick ? 1 : 3,
        memRounds: opts.quick ? 1 : 3,
        memSmall: !opts.quick,
        warmMs: opts.quick ? 500 : 1000,
        settleMs: opts.quick ? 500 : 1000,
        loadMs: opts.quick ? 700 : 1500,
        clients: opts.clients,
        streams: opts.streams,
        log,
      });
    }

    const results = evaluate(e2e?.summaries, inproc, proc);
    const failed = results.filter((r) => !r.pass);
    const elapsedS = round((Date.now() - started) / 1000, 0);
    const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
    log(`\n== results (${new Date().toISOString()}, ${command}, ${elapsedS} s) ==`);
    if (e2e !== undefined) {
      log(
        `\nend to end: medians over ${opts.rounds} interleaved round(s); in each round, a and b take turns (ABBA) per scenario, best of ${opts.closedRepeats} closed-loop and of ${opts.repeats} c=1 runs each. ` +
          `rps: closed loop at ${opts.clients} connections x ${opts.streams} streams; ` +
          `latency (µs, h2load per-request log): closed loop at concurrency 1 (c=1: lowest p50 and lowest p99 of the runs) and at a fixed ${ctx.rate} req/s (one run); ` +
          `added = median over rounds of b − a; the added-latency target is checked at c=1; ` +
          `noise = the most CPU other processes took on the server's core during one side of a pair\n`,
      );
      log(e2eTable(e2e.summaries, ctx.rate, `${opts.clients}x${opts.streams}`));
    }
    if (inproc !== undefined) log(`\n${inProcessTable(inproc)}`);
    if (proc !== undefined) log(`\n${processTable(proc)}`);
    const json = {
      date: new Date().toISOString(),
      command,
      elapsedS,
      machine: { ...machine, loadavgAtEnd: loadavg().map((x) => round(x, 2)) },
      options: { ...opts, phases: [...opts.phases], scenarios: opts.scenarios.map((s) => s.id), rate: ctx.rate },
      targets: TARGETS,
      e2e: e2e === undefined ? undefined : { summaries: e2e.summaries, runs: e2e.runs.map((r) => ({ ...r, closed: { ...r.closed, args: undefined }, c1: { ...r.c1, args: undefined }, rate: { ...r.rate, args: undefined } })), h2loadArgs: { closed: e2e.runs[0]?.closed.args, c1: e2e.runs[0]?.c1.args, rate: e2e.runs[0]?.rate.args } },
      inProcess: inproc,
      process: proc,
      checks: results,
    };
    const file = join(resultsDir, `${stamp}.json`);
    writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
    log(`\nwrote ${file}`);
    if (failed.length > 0) {
      log(`\n${failed.length} of ${results.length} targets missed:`);
      for (const f of failed) log(`  FAIL ${f.name}: ${f.detail}`);
    } else {
      log(`\nall ${results.length} targets met`);
    }
    if (opts.quick) log('(--quick: one short round; use the full run for figures to rely on)');
    return opts.check && failed.length > 0 ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`npm run bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 2;
  },
);
