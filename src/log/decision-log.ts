// The decision log: one JSON line per Check with fixed camelCase fields. Built from the verdict and
// a few input fields; never from whole headers, so tokens, cookies, certificates and XFCC stay out.
// It is the busiest log line by far, so it is written by hand (every string through JSON.stringify,
// which escapes it) straight to the logger's destination: pino's generic serialisation, redaction
// and formatters cost several µs per Check and are not needed for fields picked one by one.
import { pino } from 'pino';
import type { CheckInput, Verdict } from '../authz/types.js';
import type { Logger } from './logger.js';

/** Which decisions are written: every one, only deny decisions (enforced or not), or none. */
export type DecisionLogFilter = 'all' | 'deny' | 'none';

const { streamSym, timeSym, chindingsSym, formattersSym } = pino.symbols;

/** Reads one of the pino internals the hand-written line reuses, so that it looks like pino's own. */
function part<T>(logger: Logger, sym: symbol): T {
  return (logger as unknown as Record<symbol, T>)[sym] as T;
}

const q = JSON.stringify;

/** `"level":…` as the logger's level formatter writes it (a label here, a number by default). */
function levelField(logger: Logger, label: 'info' | 'error'): string {
  const formatters = part<{ level(label: string, number: number): object }>(logger, formattersSym);
  return q(formatters.level(label, logger.levels.values[label] ?? 0)).slice(1, -1);
}

/**
 * The decision line for one Check as JSON text (newline included). `prefix` is what pino puts first
 * (level, time, base fields and bindings); every string is escaped by JSON.stringify.
 */
export function formatDecisionLine(prefix: string, v: Verdict, input: CheckInput | undefined, durationUs: number): string {
  const id = v.identity;
  return (
    `{${prefix}` +
    `,"decisionId":${q(v.decisionId)},"requestId":${q(input?.requestId ?? '')}` +
    `,"route":${q(v.route)},"mode":"${v.mode}","enforcePercent":${v.enforcePercent}` +
    `,"decision":"${v.decision}","effect":"${v.effect}","reason":"${v.reason}"` +
    `,"detail":${q(v.detail)},"rule":${q(v.rule)}` +
    `,"spiffeId":${id === undefined ? 'null' : q(id.spiffeId)},"identitySource":${id === undefined ? 'null' : `"${id.source}"`}` +
    `,"agreedSources":${id === undefined ? '[]' : q(id.agreed)}` +
    `,"host":${q(input?.host ?? '')},"method":${q(input?.method ?? '')},"path":${q(input?.path ?? '')}` +
    `,"durationUs":${durationUs},"msg":"decision"}\n`
  );
}

/** Writes the decision line for one Check, if the filter and the logger's level let it through. */
export function logDecision(logger: Logger, filter: DecisionLogFilter, v: Verdict, input: CheckInput | undefined, durationUs: number): void {
  if (filter === 'none' || (filter === 'deny' && v.decision === 'allow')) return;
  const level = v.reason === 'INTERNAL_ERROR' ? 'error' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const prefix = levelField(logger, level) + part<() => string>(logger, timeSym)() + part<string>(logger, chindingsSym);
  part<{ write(line: string): unknown }>(logger, streamSym).write(formatDecisionLine(prefix, v, input, durationUs));
}
