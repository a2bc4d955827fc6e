// `npm run bench -- --profile`: runs this server (and the empty-handler server, for reference)
// under `node --cpu-prof` with a closed-loop h2load load, keeps only the samples taken while the
// measured load ran (the profile's clock is CLOCK_MONOTONIC, as process.hrtime is), and summarises
// where the time goes: self time by group (grpc-js / http2, protobuf, our authorize, logging,
// metrics, decision id, GC, ...), CPU µs per request by group, the top self-time functions, and the
// inclusive time of the pipeline's own functions. Native frames (JSON.stringify, Buffer writes, ...)
// are charged to the nearest JavaScript caller's group.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { promisify } from 'node:util';
import { join, relative, resolve } from 'node:path';
import { LARGE, generatePolicyYaml, requestSpec, type BenchIdentity, type BodyKind } from './gen-policy.js';
import { probeCheck } from './grpc-probe.js';
import { checkRequestFrame, runH2load, writeBodyFile } from './h2load.js';
import { ROOT, ensureDir, freePort, startServer, writeAuthzConfig, type Pinning } from './process.js';
import { round } from './stats.js';

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Group of a frame by where its code lives; undefined for native frames (charged to their caller). */
export function groupOf(url: string, name: string): string | undefined {
  if (url === '') {
    if (name === '(garbage collector)') return 'GC';
    if (name === '(program)') return 'V8/native, unattributed (program)';
    if (name === '(idle)') return 'idle';
    return undefined;
  }
  if (url.includes('/node_modules/@grpc/grpc-js/')) return 'grpc-js';
  if (/\/node_modules\/(protobufjs|@protobufjs\/[^/]+|@grpc\/proto-loader)\//.test(url)) return 'protobuf (protobufjs, proto-loader)';
  if (/\/node_modules\/(pino|sonic-boom|fast-redact|@pinojs\/[^/]+|quick-format-unescaped|atomic-sleep|on-exit-leak-free|safe-stable-stringify|thread-stream|pino-std-serializers|fast-safe-stringify)\//.test(url)) {
    return 'logging (pino)';
  }
  if (/\/node_modules\/(prom-client|tdigest|bintrees)\//.test(url)) return 'metrics (prom-client)';
  if (url.includes('/node_modules/lru-cache/')) return 'identity cache (lru-cache)';
  if (/\/node_modules\/(jose|@peculiar\/[^/]+|asn1js|pvtsutils|pvutils|@noble\/[^/]+|tslib|reflect-metadata|tsyringe)\//.test(url)) return 'identity crypto (jose, x509)';
  if (url.includes('/dist/src/authz/decision-id')) return 'decision id';
  if (url.includes('/dist/src/log/')) return 'logging (pino)';
  if (url.includes('/dist/src/admin/metrics')) return 'metrics (prom-client)';
  if (url.includes('/dist/src/rollout/')) return 'ours: rollout stats / settings';
  if (url.includes('/dist/src/grpc/') || url.includes('/dist/bench-build/bench/')) return 'ours: Check handler, Envoy conversion';
  if (url.includes('/dist/src/')) return 'ours: authorize (route, identity, policy)';
  if (url.startsWith('node:internal/crypto/random')) return 'crypto.randomUUID / randomBytes';
  if (url.startsWith('node:internal/http2') || url.startsWith('node:http2')) return 'node http2';
  if (/^node:(net|stream|internal\/stream_base_commons|internal\/streams|internal\/net)/.test(url)) return 'node net / streams';
  if (/^node:internal\/(timers|process\/task_queues|async_hooks)/.test(url)) return 'node event loop (timers, ticks, microtasks)';
  if (url.startsWith('node:')) return 'node other';
  return 'other';
}

/** Self-time summary of one profile restricted to [fromUs, toUs] (profile clock). */
export interface ProfileSummary {
  readonly label: string;
  readonly windowMs: number;
  readonly samples: number;
  readonly requests: number;
  readonly busyMs: number;
  /** Main-thread busy time per request from the profile (wall time of non-idle samples: inflated when the process is preempted). */
  readonly cpuUsPerRequest: number;
  /** utime + stime of the whole process (all threads) per request, from /proc: robust to preemption. */
  readonly processCpuUsPerRequest: number;
  readonly groups: readonly { readonly group: string; readonly pctOfBusy: number; readonly usPerRequest: number }[];
  readonly top: readonly { readonly fn: string; readonly where: string; readonly group: string; readonly pctOfBusy: number }[];
  readonly inclusive: readonly { readonly fn: string; readonly pctOfBusy: number; readonly usPerRequest: number }[];
  readonly note: string | undefined;
}

/** Groups that say little about who asked for the work. */
const GENERIC = new Set(['node other', 'node event loop (timers, ticks, microtasks)']);
/** Groups that a generic frame is charged to when one of them called it. */
const ATTRIBUTABLE = new Set([
  'logging (pino)',
  'metrics (prom-client)',
  'protobuf (protobufjs, proto-loader)',
  'ours: authorize (route, identity, policy)',
  'ours: Check handler, Envoy conversion',
  'ours: rollout stats / settings',
  'identity cache (lru-cache)',
  'identity crypto (jose, x509)',
  'decision id (crypto.randomUUID)',
]);

/** Pipeline functions whose inclusive time is reported (matched by function name in dist/src). */
const PIPELINE = [
  'handleCheck',
  'fromEnvoy',
  'authorize',
  'selectRoute',
  'matchRoute',
  'resolveIdentity',
  'evaluatePolicy',
  'toEnvoy',
  'record',
  'recordCheck',
  'logDecision',
];

/**
 * The bundled server (scripts/bundle-server.mjs) runs grpc-js, protobufjs, pino, ... and our code
 * from one file, dist/src/server.cjs: each frame of that file is mapped back through the bundle's
 * source map to where its code comes from (a node_modules package, or src/…), so that groupOf sees
 * the same URLs as with an unbundled build. Our sources are named as tsc emits them (dist/src/….js).
 */
export function unbundleProfile(profile: CpuProfile): CpuProfile {
  // dist/src/main.js compiles the bundle as a vm.Script named by its path; V8's profile gives it as a
  // file:// URL (seen), a plain path is matched as well.
  const bundlePath = join(ROOT, 'dist', 'src', 'server.cjs');
  const isBundle = (url: string): boolean => url === bundlePath || url === `file://${bundlePath}`;
  const mapFile = `${bundlePath}.map`;
  if (!existsSync(mapFile) || !profile.nodes.some((n) => isBundle(n.callFrame.url))) return profile;
  const map = new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')) as SourceMapPayload);
  const base = join(ROOT, 'dist', 'src');
  const nodes = profile.nodes.map((n) => {
    if (!isBundle(n.callFrame.url)) return n;
    const entry = map.findEntry(n.callFrame.lineNumber, n.callFrame.columnNumber) as { originalSource?: string; originalLine?: number };
    if (entry.originalSource === undefined) return n;
    let path = resolve(base, entry.originalSource.replace(/^file:\/\//, ''));
    const ours = /^(.*)\/src\/(.*)\.ts$/.exec(path);
    if (ours !== null && ours[1] === ROOT) path = join(ROOT, 'dist', 'src', `${ours[2] as string}.js`);
    return { ...n, callFrame: { ...n.callFrame, url: `file://${path}`, lineNumber: entry.originalLine ?? n.callFrame.lineNumber } };
  });
  return { ...profile, nodes };
}

export function summarizeProfile(label: string, raw: CpuProfile, fromUs: number, toUs: number, requests: number, processCpuUs = Number.NaN): ProfileSummary {
  const profile = unbundleProfile(raw);
  const byId = new Map<number, CpuProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  // Group of each node: its own, else its nearest ancestor's with a URL. A native or generic node
  // frame (fs write, events, JSON) is charged to the nearest library or our-code caller when there
  // is one, so the decision log's fs.write counts as logging rather than "node other".
  const groupCache = new Map<number, string>();
  const nodeGroup = (id: number): string => {
    const cached = groupCache.get(id);
    if (cached !== undefined) return cached;
    let cur: number | undefined = id;
    let first: string | undefined;
    let out: string | undefined;
    while (cur !== undefined) {
      const n = byId.get(cur);
      if (n === undefined) break;
      const g = groupOf(n.callFrame.url, n.callFrame.functionName);
      if (g !== undefined) {
        first ??= g;
        if (!GENERIC.has(first)) {
          out = first;
          break;
        }
        if (ATTRIBUTABLE.has(g)) {
          out = g;
          break;
        }
        if (!GENERIC.has(g)) break; // a runtime group such as grpc-js or node http2: keep the generic one
      }
      cur = parent.get(cur);
    }
    const result = out ?? first ?? 'native, no JS caller';
    groupCache.set(id, result);
    return result;
  };
  const fnKey = (n: CpuProfileNode): string => `${n.callFrame.functionName || '(anonymous)'}\u0000${n.callFrame.url}\u0000${n.callFrame.lineNumber}`;

  let t = profile.startTime;
  const selfUs = new Map<number, number>();
  let samples = 0;
  let inWindow = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const dt = profile.timeDeltas[i + 1] ?? 0; // the sample covers the time until the next one
    if (t < fromUs || t > toUs) continue;
    inWindow += dt;
    samples++;
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  let note: string | undefined;
  if (samples === 0) {
    note = 'no sample fell inside the load window (clock mismatch?): the whole profile is summarised';
    return summarizeProfile(label, profile, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, requests, processCpuUs);
  }
  const groups = new Map<string, number>();
  const fns = new Map<string, { fn: string; where: string; group: string; us: number }>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (n === undefined) continue;
    const g = nodeGroup(id);
    if (g === 'idle') continue;
    busy += us;
    groups.set(g, (groups.get(g) ?? 0) + us);
    const key = fnKey(n);
    const url = n.callFrame.url;
    const where = url === '' ? '(native)' : `${url.startsWith('file://') ? relative(ROOT, url.slice(7)) : url}:${n.callFrame.lineNumber + 1}`;
    const f = fns.get(key) ?? { fn: n.callFrame.functionName || '(anonymous)', where, group: g, us: 0 };
    f.us += us;
    fns.set(key, f);
    // Inclusive time of pipeline functions: once per sample, wherever they sit on the stack.
    const seen = new Set<string>();
    let cur: number | undefined = id;
    while (cur !== undefined) {
      const node = byId.get(cur);
      if (node === undefined) break;
      const name = node.callFrame.functionName;
      if (node.callFrame.url.includes('/dist/src/') && PIPELINE.includes(name) && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
      cur = parent.get(cur);
    }
  }
  const pct = (us: number): number => round((100 * us) / busy, 1);
  const perReq = (us: number): number => (requests > 0 ? round(us / requests, 2) : Number.NaN);
  return {
    label,
    windowMs: round(inWindow / 1000, 0),
    samples,
    requests,
    busyMs: round(busy / 1000, 0),
    cpuUsPerRequest: perReq(busy),
    processCpuUsPerRequest: perReq(processCpuUs),
    groups: [...groups.entries()].sort((a, b) => b[1] - a[1]).map(([group, us]) => ({ group, pctOfBusy: pct(us), usPerRequest: perReq(us) })),
    top: [...fns.values()].sort((a, b) => b.us - a.us).slice(0, 25).map((f) => ({ fn: f.fn, where: f.where, group: f.group, pctOfBusy: pct(f.us) })),
    inclusive: PIPELINE.filter((n) => inclusive.has(n)).map((fn) => ({ fn, pctOfBusy: pct(inclusive.get(fn) ?? 0), usPerRequest: perReq(inclusive.get(fn) ?? 0) })),
    note,
  };
}

/** Renders summaries as Markdown. */
export function profileMarkdown(summaries: readonly ProfileSummary[], header: string): string {
  const out: string[] = [header, ''];
  for (const s of summaries) {
    out.push(`### ${s.label}`, '');
    out.push(
      `${s.requests} requests in a ${s.windowMs} ms window, ${s.busyMs} ms on the main thread busy: **${s.cpuUsPerRequest} µs of main-thread time per request** ` +
        `(process CPU from /proc, all threads: ${s.processCpuUsPerRequest} µs per request).` +
        (s.note === undefined ? '' : ` (${s.note})`),
      '',
    );
    out.push('| group (self time; native frames charged to their JS caller) | % of busy | µs / request |', '|---|---:|---:|');
    for (const g of s.groups) out.push(`| ${g.group} | ${g.pctOfBusy} | ${g.usPerRequest} |`);
    if (s.inclusive.length > 0) {
      out.push('', '| pipeline function (inclusive) | % of busy | µs / request |', '|---|---:|---:|');
      for (const f of s.inclusive) out.push(`| ${f.fn} | ${f.pctOfBusy} | ${f.usPerRequest} |`);
    }
    out.push('', '| top self time | where | group | % of busy |', '|---|---|---|---:|');
    for (const f of s.top.slice(0, 20)) out.push(`| ${f.fn} | ${f.where} | ${f.group} | ${f.pctOfBusy} |`);
    out.push('');
  }
  return out.join('\n');
}

const execFileP = promisify(execFile);

/**
 * Packages of both servers, the empty server's first. This server no longer evaluates
 * @grpc/proto-loader or grpc-health-check when serving (its Check and health codecs are its own),
 * nor jose and @peculiar/x509 at start; they stay listed for comparison with the empty server and
 * with earlier reports.
 */
const IMPORTS = ['@grpc/grpc-js', '@grpc/proto-loader', 'grpc-health-check', 'zod', 'yaml', 'pino', 'prom-client', 'jose', 'lru-cache', 'reflect-metadata', '@peculiar/x509'];

/** Import time of each package alone in a fresh process (pinned like the server), median of 3. */
export async function importTimes(pin: Pinning): Promise<{ module: string; ms: number }[]> {
  const script = join(ensureDir(join(ROOT, 'dist', 'bench-build')), 'import-time.mjs');
  // @peculiar/x509 (through tsyringe) needs reflect-metadata loaded first, as src/identity/x509-lib.ts does: untimed.
  writeFileSync(
    script,
    "const m = process.argv[2]; if (m === '@peculiar/x509') await import('reflect-metadata');\n" +
      'const t = performance.now(); await import(m); process.stdout.write(String(performance.now() - t));\n',
  );
  const out: { module: string; ms: number }[] = [];
  for (const m of IMPORTS) {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const argv = [process.execPath, script, m];
      const { stdout } = pin.serverCpu === undefined ? await execFileP(argv[0] as string, argv.slice(1)) : await execFileP('taskset', ['-c', String(pin.serverCpu), ...argv]);
      times.push(Number(stdout));
    }
    times.sort((a, b) => a - b);
    out.push({ module: m, ms: round(times[1] as number, 0) });
  }
  return out;
}

/** Profiles the empty server and this server (1000×10000, enforce) for a few bodies; returns the .md path. */
export async function runProfile(o: {
  readonly dir: string;
  readonly identity: BenchIdentity;
  readonly pin: Pinning;
  readonly resultsDir: string;
  readonly stamp: string;
  readonly log: (line: string) => void;
  readonly bodies?: readonly BodyKind[];
  readonly loadMs?: number;
}): Promise<string> {
  const bodies = o.bodies ?? ['principal-allow', 'xfcc', 'certificate', 'jwt'];
  const loadMs = o.loadMs ?? 4000;
  const summaries: ProfileSummary[] = [];
  const runs: { kind: 'empty' | 'authz'; body: BodyKind }[] = [{ kind: 'empty', body: 'principal-allow' }, ...bodies.map((body) => ({ kind: 'authz' as const, body }))];
  for (const run of runs) {
    const profDir = ensureDir(join(o.dir, `prof-${run.kind}-${run.body}`));
    const port = await freePort();
    const configPath =
      run.kind === 'empty'
        ? undefined
        : await writeAuthzConfig(o.dir, 'prof', port, (grpc, admin) =>
            generatePolicyYaml({ ...LARGE, mode: 'enforce', bundles: { prod: o.identity.prodBundle, partner: o.identity.partnerBundle }, grpcListen: grpc, adminListen: admin }),
          );
    const frame = checkRequestFrame(requestSpec(run.body, o.identity));
    const bodyFile = join(o.dir, `prof-${run.body}.bin`);
    writeBodyFile(bodyFile, frame);
    const server = await startServer({
      kind: run.kind,
      port,
      cpu: o.pin.serverCpu,
      nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '100'],
      ...(configPath ? { configPath } : {}),
    });
    let fromUs: number;
    let toUs: number;
    let requests: number;
    let cpuUs: number;
    try {
      await probeCheck(port, frame);
      const base = { port, bodyFile, logFile: join(o.dir, 'prof-h2load.log'), clients: 2, streams: 32, cpu: o.pin.loadCpu };
      await runH2load({ ...base, durationMs: 1500, warmupMs: 200 });
      const ticks0 = server.ticks();
      fromUs = Number(process.hrtime.bigint() / 1000n);
      const r = await runH2load({ ...base, durationMs: loadMs, warmupMs: 1 });
      toUs = Number(process.hrtime.bigint() / 1000n);
      cpuUs = (server.ticks() - ticks0) * 10_000; // clock ticks of 10 ms (USER_HZ 100)
      requests = r.total;
      o.log(`  profiled ${run.kind} · ${run.body}: ${Math.round(r.rps)} req/s`);
    } finally {
      await server.stop();
    }
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`no .cpuprofile written in ${profDir} (${server.stderr().trim().slice(-300)})`);
    const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile;
    const label = run.kind === 'empty' ? 'empty-handler server (a), principal body' : `this server (b), 1000x10000 enforce, ${run.body}`;
    summaries.push(summarizeProfile(label, profile, fromUs, toUs, requests, cpuUs));
  }
  const imports = await importTimes(o.pin);
  o.log(`  import times (ms): ${imports.map((i) => `${i.module} ${i.ms}`).join(', ')}`);
  const header = `## CPU profile (${new Date().toISOString()}, \`npm run bench -- --profile\`)\n\nnode --cpu-prof --cpu-prof-interval 100 (µs); ${loadMs / 1000} s closed loop at 2 connections x 32 streams after a 1.5 s warm-up; ${o.pin.note}.`;
  const importsMd = [
    '### Start-up: import time of each package (fresh process each, ms)',
    '',
    'What a start spends before any config is read. The empty-handler server loads only the first three. Each package is timed alone (shared dependencies counted in each); @peculiar/x509 is timed after reflect-metadata.',
    '',
    '| package | ms (median of 3) |',
    '|---|---:|',
    ...imports.map((i) => `| ${i.module} | ${i.ms} |`),
    '',
  ].join('\n');
  const md = `${profileMarkdown(summaries, header)}\n${importsMd}`;
  const mdFile = join(o.resultsDir, `profile-${o.stamp}.md`);
  writeFileSync(mdFile, md);
  writeFileSync(join(o.resultsDir, `profile-${o.stamp}.json`), `${JSON.stringify(summaries, null, 2)}\n`);
  o.log(`\n${md}`);
  return mdFile;
}
