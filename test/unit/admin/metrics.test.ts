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
