// The decision log: one JSON line per Check with fixed camelCase fields. Built from the verdict and
// a few input fields; never from whole headers, so tokens, cookies, certificates and XFCC stay out.
// It is the busiest log line by far, so it is written by hand (every string through JSON.stringify,
// which escapes it) straight to the logger's destination: pino's generic serialisation, redaction
// and formatters cost several µs per Check and are not needed for fields picked one by one.
import { pino } from 'pino';
import type { CheckInput, Verdict } from '../authz/types.js';
import type { Logger } from './logger.js';
import { jsonString } from '../json-string.js';

/** Which decisions are written: every one, only deny decisions (enforced or not), or none. */
export type DecisionLogFilter = 'all' | 'deny' | 'none';

const { streamSym, timeSym, chindingsSym, formattersSym } = pino.symbols;

/** Reads one of the pino internals the hand-written line reuses, so that it looks like pino's own. */
function part<T>(logger: Logger, sym: symbol): T {
  return (logger as unknown as Record<symbol, T>)[sym] as T;
}

const q = jsonString;

/** What the line starts with for one logger, worked out once: its level fields and bindings. */
interface LinePrefix {
  readonly info: string;
  readonly error: string;
  readonly chindings: string;
  readonly time: () => string;
}

const prefixes = new WeakMap<Logger, LinePrefix>();

/** `"level":…` as the logger's level formatter writes it (a label here, a number by default). */
function levelField(logger: Logger, label: 'info' | 'error'): string {
  const formatters = part<{ level(label: string, number: number): object }>(logger, formattersSym);
  return JSON.stringify(formatters.level(label, logger.levels.values[label] ?? 0)).slice(1, -1);
}

// pino's isoTime builds a Date and an ISO string per line; lines of the same millisecond share one.
let isoMs = -1;
let isoField = '';
function cachedIsoTime(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoField = `,"time":"${new Date(now).toISOString()}"`;
  }
  return isoField;
}

function prefixOf(logger: Logger): LinePrefix {
  let p = prefixes.get(logger);
  if (p === undefined) {
    const time = part<() => string>(logger, timeSym);
    p = {
      info: levelField(logger, 'info'),
      error: levelField(logger, 'error'),
      chindings: part<string>(logger, chindingsSym),
      time: time === pino.stdTimeFunctions.isoTime ? cachedIsoTime : time,
    };
    prefixes.set(logger, p);
  }
  return p;
}

/** The verdict fields a run of Checks on one route shares, with their JSON text. */
interface OutcomeFragment {
  readonly mode: Verdict['mode'];
  readonly enforcePercent: number;
  readonly decision: Verdict['decision'];
  readonly effect: Verdict['effect'];
  readonly reason: Verdict['reason'];
  readonly detail: string;
  readonly rule: string;
  readonly text: string;
}

/** Fragments kept per route and routes kept (bounded, as route names come from the config). */
const FRAGMENTS_PER_ROUTE = 8;
const FRAGMENT_ROUTES = 4096;
const fragments = new Map<string, OutcomeFragment[]>();

/** `,"route":…,"mode":…, … ,"rule":…` for `v`, from a small cache: most Checks repeat the last outcome of their route. */
function outcomeFragment(v: Verdict): string {
  let list = fragments.get(v.route);
  if (list === undefined) {
    if (fragments.size >= FRAGMENT_ROUTES) fragments.clear();
    list = [];
    fragments.set(v.route, list);
  }
  for (let i = 0; i < list.length; i++) {
    const f = list[i] as OutcomeFragment;
    if (f.reason === v.reason && f.effect === v.effect && f.mode === v.mode && f.decision === v.decision && f.enforcePercent === v.enforcePercent && f.rule === v.rule && f.detail === v.detail) return f.text;
  }
  const text =
    `,"route":${q(v.route)},"mode":"${v.mode}","enforcePercent":${v.enforcePercent}` +
    `,"decision":"${v.decision}","effect":"${v.effect}","reason":"${v.reason}"` +
    `,"detail":${q(v.detail)},"rule":${q(v.rule)}`;
  if (list.length >= FRAGMENTS_PER_ROUTE) list.shift();
  list.push({ mode: v.mode, enforcePercent: v.enforcePercent, decision: v.decision, effect: v.effect, reason: v.reason, detail: v.detail, rule: v.rule, text });
  return text;
}

/** The last identity fragment made, kept: a run of Checks from one caller repeats it. */
let lastIdentity: { spiffeId: string; source: string; text: string } | undefined;

/** `,"spiffeId":…,"identitySource":…,"agreedSources":…` for `v`; the last one without agreed sources is reused. */
function identityFragment(v: Verdict): string {
  const id = v.identity;
  if (id === undefined) return ',"spiffeId":null,"identitySource":null,"agreedSources":[]';
  if (id.agreed.length > 0) return `,"spiffeId":${q(id.spiffeId)},"identitySource":"${id.source}","agreedSources":${JSON.stringify(id.agreed)}`;
  const last = lastIdentity;
  if (last !== undefined && last.spiffeId === id.spiffeId && last.source === id.source) return last.text;
  const text = `,"spiffeId":${q(id.spiffeId)},"identitySource":"${id.source}","agreedSources":[]`;
  lastIdentity = { spiffeId: id.spiffeId, source: id.source, text };
  return text;
}

/** The last request fragment made, kept: most Checks in a row ask for the same host, method and path. */
let lastRequest: { host: string; method: string; path: string; text: string } | undefined;

/** `,"host":…,"method":…,"path":…` for `input`; the last one is reused when all three are the same. */
function requestFragment(input: CheckInput | undefined): string {
  const host = input?.host ?? '';
  const method = input?.method ?? '';
  const path = input?.path ?? '';
  const last = lastRequest;
  if (last !== undefined && last.path === path && last.host === host && last.method === method) return last.text;
  const text = `,"host":${q(host)},"method":${q(method)},"path":${q(path)}`;
  lastRequest = { host, method, path, text };
  return text;
}

/**
 * The decision line for one Check as JSON text (newline included). `prefix` is what pino puts first
 * (level, time, base fields and bindings); every string is escaped by JSON.stringify.
 */
export function formatDecisionLine(prefix: string, v: Verdict, input: CheckInput | undefined, durationUs: number): string {
  return (
    `{${prefix},"decisionId":${q(v.decisionId)},"requestId":${q(input?.requestId ?? '')}` +
    outcomeFragment(v) +
    identityFragment(v) +
    requestFragment(input) +
    `,"durationUs":${durationUs},"msg":"decision"}\n`
  );
}

/** Writes the decision line for one Check, if the filter and the logger's level let it through. */
export function logDecision(logger: Logger, filter: DecisionLogFilter, v: Verdict, input: CheckInput | undefined, durationUs: number): void {
  if (filter === 'none' || (filter === 'deny' && v.decision === 'allow')) return;
  const level = v.reason === 'INTERNAL_ERROR' ? 'error' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const p = prefixOf(logger);
  const prefix = (level === 'info' ? p.info : p.error) + p.time() + p.chindings;
  part<{ write(line: string): unknown }>(logger, streamSym).write(formatDecisionLine(prefix, v, input, durationUs));
}
