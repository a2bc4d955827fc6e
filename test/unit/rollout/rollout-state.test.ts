// Unit tests for src/rollout/rollout-state.ts: effective settings (override ?? config), overrides
// across reloads, the rollback, and the stats' observation clock marked on every change.
import { describe, it, expect } from 'vitest';
import type { ConfigSnapshot } from '../../../src/config/compile.js';
import { buildSnapshot } from '../../../src/config/load.js';
import { RolloutState, type EffectiveSetting } from '../../../src/rollout/rollout-state.js';
import type { RouteOverride } from '../../../src/rollout/state-file.js';
import { RolloutStats } from '../../../src/rollout/window-counters.js';

const T0 = 1_700_000_000_000;

function snapshotOf(yaml: string): ConfigSnapshot {
  const r = buildSnapshot(yaml, 'test', 0);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

const CONFIG = `
trustDomains: [prod.example.org]
defaults: { mode: warn }
rollout: { outsideCohort: shadow }
routes:
  - { name: a, mode: enforce, enforcePercent: 30 }
  - { name: b, outsideCohort: warn }
`;

function setup(yaml = CONFIG): { state: RolloutState; stats: RolloutStats; clock: { t: number }; changes: (readonly EffectiveSetting[])[] } {
  const stats = new RolloutStats();
  const clock = { t: T0 };
  const changes: (readonly EffectiveSetting[])[] = [];
  const state = new RolloutState(snapshotOf(yaml), { stats, now: () => clock.t, onChange: (s) => changes.push(s) });
  return { state, stats, clock, changes };
}

function override(mode: RouteOverride['mode'], enforcePercent = 100): RouteOverride {
  return { mode, enforcePercent, reason: 'test', actor: 'token', at: new Date(T0).toISOString() };
}

describe('RolloutState', () => {
  it('starts from the config: route mode, percent and outsideCohort, else the defaults', () => {
    const { state } = setup();
    expect(state.list().map((s) => [s.route, s.mode, s.enforcePercent, s.outsideCohort, s.source])).toEqual([
      ['a', 'enforce', 30, 'shadow', 'config'],
      ['b', 'warn', 100, 'warn', 'config'],
      ['_unmatched', 'warn', 100, 'shadow', 'config'],
    ]);
  });

  it('answers settingOf from the override once set, and from the config again once cleared', () => {
    const snap = snapshotOf(CONFIG);
    const stats = new RolloutStats();
    const state = new RolloutState(snap, { stats, now: () => T0 });
    const a = snap.routesByName.get('a')!;
    expect(state.settingOf(a)).toMatchObject({ mode: 'enforce', enforcePercent: 30 });
    const change = state.setOverride('a', override('shadow'));
    expect(change?.before).toMatchObject({ mode: 'enforce', source: 'config' });
    expect(change?.after).toMatchObject({ mode: 'shadow', enforcePercent: 100, outsideCohort: 'shadow', source: 'override' });
    expect(state.settingOf(a)).toMatchObject({ mode: 'shadow' });
    expect(state.clearOverride('a')?.after).toMatchObject({ mode: 'enforce', enforcePercent: 30, source: 'config' });
    expect(state.currentOverrides()).toEqual({});
  });

  it('refuses overrides of unknown routes and accepts _unmatched', () => {
    const { state } = setup();
    expect(state.setOverride('nope', override('enforce'))).toBeUndefined();
    expect(state.clearOverride('nope')).toBeUndefined();
    expect(state.setOverride('_unmatched', override('enforce'))?.after.mode).toBe('enforce');
  });

  it('falls back to the route’s own config for a route object it does not know', () => {
    const { state } = setup();
    const other = snapshotOf(`routes: [{ name: zzz, mode: enforce, enforcePercent: 5 }]`);
    expect(state.settingOf(other.routesByName.get('zzz')!)).toEqual({ mode: 'enforce', enforcePercent: 5, outsideCohort: 'warn' });
  });

  it('answers settingOf by route object and by name alike: this snapshot, _unmatched, a replaced snapshot', () => {
    const snap = snapshotOf(CONFIG);
    const state = new RolloutState(snap, { stats: new RolloutStats(), now: () => T0 });
    state.setOverride('b', override('enforce', 40));
    state.setOverride('_unmatched', override('shadow'));
    // A route object of an older snapshot with the same name (an in-flight Check across a reload)
    // gets the current setting of that name, as every route object of the current snapshot does.
    const older = snapshotOf(CONFIG);
    for (const s of [snap, older]) {
      expect(state.settingOf(s.routesByName.get('a')!)).toBe(state.get('a'));
      expect(state.settingOf(s.routesByName.get('b')!)).toMatchObject({ mode: 'enforce', enforcePercent: 40, source: 'override' });
      expect(state.settingOf(s.unmatched)).toMatchObject({ mode: 'shadow', source: 'override' });
    }
    // After a reload the new snapshot's objects are found, the replaced ones by name.
    const next = snapshotOf(`routes: [{ name: c }, { name: b, mode: shadow }]`);
    state.applySnapshot(next);
    expect(state.settingOf(next.routesByName.get('b')!)).toMatchObject({ mode: 'enforce', enforcePercent: 40 });
    expect(state.settingOf(next.routesByName.get('c')!)).toMatchObject({ mode: 'shadow', source: 'config' });
    expect(state.settingOf(snap.routesByName.get('a')!)).toEqual({ mode: 'enforce', enforcePercent: 30, outsideCohort: 'shadow' });
  });

  it('rolls every route back to shadow in one change', () => {
    const { state, changes } = setup();
    const before = changes.length;
    const rolled = state.rollback('INC-1', 'token', new Date(T0).toISOString());
    expect(changes.length).toBe(before + 1);
    expect(rolled.map((c) => [c.route, c.before.mode, c.after.mode])).toEqual([
      ['a', 'enforce', 'shadow'],
      ['b', 'warn', 'shadow'],
      ['_unmatched', 'warn', 'shadow'],
    ]);
    expect(Object.keys(state.currentOverrides()).sort()).toEqual(['_unmatched', 'a', 'b']);
    expect(state.currentOverrides()['a']).toMatchObject({ mode: 'shadow', enforcePercent: 30, reason: 'INC-1' });
  });

  it('keeps overrides of routes that survive a reload and drops the others, with their stats', () => {
    const { state, stats } = setup();
    state.setOverride('a', override('shadow'));
    state.setOverride('b', override('enforce', 10));
    expect(stats.names().sort()).toEqual(['_unmatched', 'a', 'b']);
    const { dropped } = state.applySnapshot(snapshotOf(`routes: [{ name: b, mode: shadow }, { name: c }]`));
    expect(dropped).toEqual(['a']);
    expect(state.list().map((s) => [s.route, s.mode, s.enforcePercent, s.source])).toEqual([
      ['b', 'enforce', 10, 'override'],
      ['c', 'shadow', 100, 'config'],
      ['_unmatched', 'shadow', 100, 'config'],
    ]);
    expect(stats.names().sort()).toEqual(['_unmatched', 'b', 'c']);
  });

  it('restores persisted overrides for configured routes and reports the rest', () => {
    const { state } = setup();
    const { dropped } = state.restore({ a: override('warn'), gone: override('enforce') });
    expect(dropped).toEqual(['gone']);
    expect(state.get('a')).toMatchObject({ mode: 'warn', source: 'override' });
  });

  it('marks the stats on every change, so the gate’s observation clock follows the effective setting', () => {
    const { state, stats, clock } = setup();
    expect(stats.get('b')?.snapshot(T0)).toMatchObject({ mode: 'warn', observingSince: T0 });
    clock.t = T0 + 5000;
    state.setOverride('b', override('enforce', 100));
    expect(stats.get('b')?.snapshot(clock.t)).toMatchObject({ mode: 'enforce', observingSince: undefined, modeSince: T0 + 5000 });
    clock.t = T0 + 9000;
    state.clearOverride('b');
    expect(stats.get('b')?.snapshot(clock.t)).toMatchObject({ mode: 'warn', observingSince: T0 + 9000 });
    // A reload with the same setting changes nothing observed.
    clock.t = T0 + 20_000;
    state.applySnapshot(snapshotOf(CONFIG));
    expect(stats.get('b')?.snapshot(clock.t)).toMatchObject({ observingSince: T0 + 9000, modeSince: T0 + 9000 });
  });

  it('publishes every rebuild to onChange with all routes', () => {
    const { state, changes } = setup();
    state.setOverride('a', override('warn'));
    expect(changes.at(-1)?.map((s) => `${s.route}:${s.mode}`)).toEqual(['a:warn', 'b:warn', '_unmatched:warn']);
  });
});
