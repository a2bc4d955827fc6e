// What the admin rollout API does, minus HTTP: set or clear a route's override through the
// safe-to-enforce gate, roll every route back to shadow, persist the overrides, and write one audit
// log line per mutation (what, why, before/after, forced or not; never the token).
import type { Mode } from '../authz/types.js';
import type { Logger } from '../log/logger.js';
import { checkEnforceGate, type GateEvidence, type GateResult } from '../rollout/gate.js';
import type { EffectiveSetting, RolloutState, SettingChange } from '../rollout/rollout-state.js';
import type { StateWriter } from '../rollout/state-file.js';
import type { RolloutStats } from '../rollout/window-counters.js';
import type { Metrics } from './metrics.js';
import { evidenceView, statsSnapshot, type EvidenceView, type GateSettings } from './route-view.js';

/** Who asked for a mutation: the holder of the admin token, from this address. */
export interface Actor {
  readonly kind: 'token';
  readonly remoteAddress: string;
}

/** What the actions need from the rest of the server. */
export interface RolloutActionsDeps {
  readonly state: RolloutState;
  readonly stats: RolloutStats;
  /** Undefined when `rollout.stateFile` is unset: overrides live in memory only. */
  readonly writer: StateWriter | undefined;
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'recordRolloutChange' | 'recordStateFileError'>;
  readonly now: () => number;
  /** The gate's thresholds from the current config. */
  readonly gate: () => GateSettings;
}

/** Whether the overrides reached the state file: saved, no state file configured, or the write failed. */
export type Persistence = 'saved' | 'disabled' | 'failed';

/** Why an applied change passed the gate: it was not gated, the evidence allowed it, or it was forced. */
export type GateBasis = AllowedGate['basis'];

type AllowedGate = Extract<GateResult, { readonly allowed: true }>;

/** The outcome of a mutation, as values: the API maps each kind to a status code. */
export type ActionOutcome =
  | { readonly kind: 'applied'; readonly changes: readonly SettingChange[]; readonly gate: GateBasis; readonly forced: boolean; readonly persistence: Persistence }
  | { readonly kind: 'unchanged'; readonly setting: EffectiveSetting }
  | { readonly kind: 'unknown-route'; readonly route: string }
  | { readonly kind: 'refused'; readonly route: string; readonly current: EffectiveSetting; readonly evidence: EvidenceView };

/** A requested setting for one route. */
export interface RolloutRequest {
  readonly mode: Mode;
  readonly enforcePercent: number;
  readonly reason: string;
  readonly force: boolean;
}

/** PUT: sets a route's override, if the gate lets it (or it is forced). Applies to the next Check. */
export async function setRollout(deps: RolloutActionsDeps, route: string, req: RolloutRequest, actor: Actor): Promise<ActionOutcome> {
  const current = deps.state.get(route);
  if (current === undefined) return { kind: 'unknown-route', route };
  const requested = { mode: req.mode, enforcePercent: req.enforcePercent };
  const now = deps.now();
  const gate = gateFor(deps, route, current, requested, req.force, now);
  if (!gate.allowed) return refuse(deps, 'set', route, current, requested, req, actor, gate.evidence);
  // No await between the gate and the change: another mutation cannot slip in between.
  const change = deps.state.setOverride(route, { ...requested, reason: req.reason, actor: actor.kind, at: new Date(now).toISOString() });
  if (change === undefined) return { kind: 'unknown-route', route };
  return applied(deps, 'set', [change], gate, req, actor);
}

/** DELETE: back to the config's setting; gated too, since the config may enforce more than the override. */
export async function clearRollout(deps: RolloutActionsDeps, route: string, req: Omit<RolloutRequest, 'mode' | 'enforcePercent'>, actor: Actor): Promise<ActionOutcome> {
  const current = deps.state.get(route);
  if (current === undefined) return { kind: 'unknown-route', route };
  if (current.override === undefined) return { kind: 'unchanged', setting: current };
  const now = deps.now();
  const gate = gateFor(deps, route, current, current.config, req.force, now);
  if (!gate.allowed) return refuse(deps, 'clear', route, current, current.config, req, actor, gate.evidence);
  const change = deps.state.clearOverride(route);
  if (change === undefined) return { kind: 'unknown-route', route };
  return applied(deps, 'clear', [change], gate, req, actor);
}

/** POST /v1/rollback: every route to shadow at once. Never gated: it only lowers enforcement. */
export async function rollbackAll(deps: RolloutActionsDeps, reason: string, actor: Actor): Promise<ActionOutcome> {
  const changes = deps.state.rollback(reason, actor.kind, new Date(deps.now()).toISOString());
  return applied(deps, 'rollback', changes, { allowed: true, basis: 'not-gated' }, { reason, force: false }, actor);
}

function gateFor(
  deps: RolloutActionsDeps,
  route: string,
  current: EffectiveSetting,
  requested: { readonly mode: Mode; readonly enforcePercent: number },
  force: boolean,
  now: number,
): GateResult {
  return checkEnforceGate({ current, requested, stats: statsSnapshot(deps.stats.get(route), now), now, force, ...deps.gate() });
}

type Action = 'set' | 'clear' | 'rollback';

function refuse(
  deps: RolloutActionsDeps,
  action: Action,
  route: string,
  current: EffectiveSetting,
  requested: { readonly mode: Mode; readonly enforcePercent: number },
  req: { readonly reason: string; readonly force: boolean },
  actor: Actor,
  evidence: GateEvidence,
): ActionOutcome {
  const view = evidenceView(evidence);
  deps.metrics.recordRolloutChange('refused');
  deps.logger.warn(
    {
      audit: true,
      action,
      outcome: 'refused',
      route,
      reason: req.reason,
      before: auditSetting(current),
      requested,
      force: false,
      actor: actor.kind,
      remoteAddress: actor.remoteAddress,
      evidence: view,
    },
    'audit',
  );
  return { kind: 'refused', route, current, evidence: view };
}

async function applied(
  deps: RolloutActionsDeps,
  action: Action,
  changes: readonly SettingChange[],
  gate: AllowedGate,
  req: { readonly reason: string; readonly force: boolean },
  actor: Actor,
): Promise<ActionOutcome> {
  const forced = gate.basis === 'forced';
  deps.metrics.recordRolloutChange(action === 'set' ? 'set' : action === 'clear' ? 'cleared' : 'rollback');
  if (forced) deps.metrics.recordRolloutChange('forced');
  const line = {
    audit: true,
    action,
    outcome: 'applied',
    route: action === 'rollback' ? '*' : (changes[0]?.route ?? ''),
    reason: req.reason,
    before: action === 'rollback' ? byRoute(changes, 'before') : auditSetting(changes[0]?.before),
    after: action === 'rollback' ? byRoute(changes, 'after') : auditSetting(changes[0]?.after),
    force: req.force,
    gate: gate.basis,
    ...(gate.basis === 'forced' && gate.evidence !== undefined ? { evidence: evidenceView(gate.evidence) } : {}),
    actor: actor.kind,
    remoteAddress: actor.remoteAddress,
  };
  // A forced change or a rollback is something an on-call reviewer must notice: warn level.
  if (forced || action === 'rollback') deps.logger.warn(line, 'audit');
  else deps.logger.info(line, 'audit');
  const persistence = await persist(deps);
  return { kind: 'applied', changes, gate: gate.basis, forced, persistence };
}

/** Writes the current overrides to the state file, if one is configured; failures are logged and counted. */
export async function persist(deps: Pick<RolloutActionsDeps, 'state' | 'writer' | 'logger' | 'metrics'>): Promise<Persistence> {
  if (deps.writer === undefined) return 'disabled';
  const r = await deps.writer.save(deps.state.currentOverrides());
  if (r.ok) return 'saved';
  deps.metrics.recordStateFileError();
  deps.logger.error({ problem: r.problem }, 'state file write failed');
  return 'failed';
}

/** A setting as the audit log and the API show it. */
export function auditSetting(s: EffectiveSetting | undefined): Record<string, unknown> | null {
  if (s === undefined) return null;
  return { mode: s.mode, enforcePercent: s.enforcePercent, outsideCohort: s.outsideCohort, source: s.source };
}

function byRoute(changes: readonly SettingChange[], side: 'before' | 'after'): Record<string, unknown> {
  return Object.fromEntries(changes.map((c) => [c.route, auditSetting(c[side])]));
}
