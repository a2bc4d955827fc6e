// Unit tests for src/admin/metrics.ts: check counters keep every label apart, route gauges follow
// the effective settings, and reload, rollout-change and state-file events are counted.
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../../src/authz/types.js';
import { createMetrics } from '../../../src/admin/metrics.js';

function verdict(over: Partial<Verdict>): Verdict {
  return {
    decisionId: 'd',
    route: '_unmatched',
    mode: 'shadow',
    enforcePercent: 100,
    decision: 'deny',
    effect: 'allow',
    reason: 'NO_ROUTE',
    detail: '',
    rule: '',
    identity: undefined,
    ...over,
  };
}

describe('createMetrics', () => {
  it('counts the same route, mode, effect and reason under each decision separately', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.recordCheck(verdict({ decision: 'allow' }), 0.001);
    m.recordCheck(verdict({ decision: 'deny' }), 0.001);
    m.recordCheck(verdict({ decision: 'deny' }), 0.001);
    const text = await m.registry.metrics();
    expect(text).toContain('spiffe_authz_checks_total{route="_unmatched",mode="shadow",decision="allow",effect="allow",reason="NO_ROUTE"} 1');
    expect(text).toContain('spiffe_authz_checks_total{route="_unmatched",mode="shadow",decision="deny",effect="allow",reason="NO_ROUTE"} 2');
  });

  it('publishes the route settings given last, when scraped, and again only after a change', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.setRouteSettings([{ route: 'a', mode: 'enforce', enforcePercent: 100 }]);
    m.setRouteSettings([{ route: 'a', mode: 'warn', enforcePercent: 50 }]);
    let text = await m.registry.metrics();
    expect(text).toContain('spiffe_authz_route_mode{route="a",mode="warn"} 1');
    expect(text).toContain('spiffe_authz_route_mode{route="a",mode="enforce"} 0');
    expect(text).toContain('spiffe_authz_route_enforce_percent{route="a"} 50');
    text = await m.registry.metrics();
    expect(text).toContain('spiffe_authz_route_mode{route="a",mode="warn"} 1');
    m.setRouteSettings([{ route: 'b', mode: 'shadow', enforcePercent: 100 }]);
    text = await m.registry.metrics();
    expect(text).not.toContain('route="a"');
    expect(text).toContain('spiffe_authz_route_mode{route="b",mode="shadow"} 1');
  });

  it("registers Node's process metrics only when asked to with 'deferred', once however often asked", async () => {
    const m = createMetrics({ defaultMetrics: 'deferred' });
    expect(await m.registry.metrics()).not.toContain('spiffe_authz_process_resident_memory_bytes');
    m.startProcessMetrics();
    m.startProcessMetrics();
    const text = await m.registry.metrics();
    expect(text).toMatch(/spiffe_authz_process_resident_memory_bytes \d+/);
    expect(text.match(/^# TYPE spiffe_authz_process_resident_memory_bytes /gm)).toHaveLength(1);
    expect(await createMetrics().registry.metrics()).toContain('spiffe_authz_process_resident_memory_bytes');
  });

  it('publishes mode and enforce percent per route, forgetting routes no longer listed', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.setRouteSettings([
      { route: 'a', mode: 'enforce', enforcePercent: 12.5 },
      { route: 'b', mode: 'warn', enforcePercent: 100 },
    ]);
    m.setRouteSettings([{ route: 'a', mode: 'shadow', enforcePercent: 12.5 }]);
    const text = await m.registry.metrics();
    expect(text).toContain('spiffe_authz_route_mode{route="a",mode="shadow"} 1');
    expect(text).toContain('spiffe_authz_route_mode{route="a",mode="enforce"} 0');
    expect(text).toContain('spiffe_authz_route_enforce_percent{route="a"} 12.5');
    expect(text).not.toContain('route="b"');
  });

  it('counts reloads by result, failures, rollout changes by action and state file errors', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.recordReload('success');
    m.recordReload('failure');
    m.recordReload('failure');
    m.recordRolloutChange('set');
    m.recordRolloutChange('forced');
    m.recordStateFileError();
    const text = await m.registry.metrics();
    expect(text).toContain('spiffe_authz_config_reloads_total{result="success"} 1');
    expect(text).toContain('spiffe_authz_config_reloads_total{result="failure"} 2');
    expect(text).toContain('spiffe_authz_config_reload_failures_total 2');
    expect(text).toContain('spiffe_authz_config_loads_total{result="failure"} 2');
    expect(text).toContain('spiffe_authz_rollout_changes_total{action="set"} 1');
    expect(text).toContain('spiffe_authz_rollout_changes_total{action="forced"} 1');
    expect(text).toContain('spiffe_authz_rollout_changes_total{action="rollback"} 0');
    expect(text).toContain('spiffe_authz_state_file_errors_total 1');
  });
});

describe('spiffe_authz_check_duration_seconds', () => {
  it('exposes cumulative buckets, sum and count of what was observed', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const v: Verdict = { decisionId: 'd', route: 'r', mode: 'enforce', enforcePercent: 100, decision: 'allow', effect: 'allow', reason: 'ALLOWED', detail: '', rule: '', identity: undefined };
    for (const seconds of [0.000005, 0.00003, 0.00003, 0.002, 1]) m.recordCheck(v, seconds);
    const lines = (await m.registry.metrics()).split('\n').filter((l) => l.startsWith('spiffe_authz_check_duration_seconds'));
    expect(lines).toContain('spiffe_authz_check_duration_seconds_bucket{le="0.00001"} 1');
    expect(lines).toContain('spiffe_authz_check_duration_seconds_bucket{le="0.00005"} 3');
    expect(lines).toContain('spiffe_authz_check_duration_seconds_bucket{le="0.0025"} 4');
    expect(lines).toContain('spiffe_authz_check_duration_seconds_bucket{le="0.05"} 4');
    expect(lines).toContain('spiffe_authz_check_duration_seconds_bucket{le="+Inf"} 5');
    expect(lines).toContain('spiffe_authz_check_duration_seconds_count 5');
    expect(lines.find((l) => l.startsWith('spiffe_authz_check_duration_seconds_sum'))).toMatch(/ 1\.00206\d*$/);
    expect((await m.registry.metrics())).toContain('# TYPE spiffe_authz_check_duration_seconds histogram');
  });
});
