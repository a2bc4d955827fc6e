// Tests for the rollout part of the config: route enforcePercent and outsideCohort, the top-level
// rollout block (state file, admin token, gate, top callers) and what compile makes of them.
import { describe, expect, it } from 'vitest';
import type { ConfigIssue } from '../../../src/config/issues.js';
import { buildSnapshot } from '../../../src/config/load.js';
import { parseConfigText } from '../../../src/config/parse.js';

function issuesOf(text: string): readonly ConfigIssue[] {
  const r = parseConfigText(text);
  if (r.ok) throw new Error(`expected issues for ${JSON.stringify(text)}`);
  return r.issues;
}

describe('route enforcePercent', () => {
  it.each([0, 0.01, 0.29, 12.34, 33.33, 99.99, 100])('accepts %d', (p) => {
    const r = parseConfigText(`routes: [{ name: r, mode: enforce, enforcePercent: ${p} }]`);
    expect(r.ok && r.value.routes[0]?.enforcePercent).toBe(p);
  });

  it.each([-1, 100.01, 12.345, '"50"'])('rejects %s with the key path', (p) => {
    const issues = issuesOf(`routes: [{ name: r, enforcePercent: ${p} }]`);
    expect(issues.map((i) => i.path)).toEqual(['routes[0].enforcePercent']);
  });

  it('rejects an unknown outsideCohort effect', () => {
    expect(issuesOf('routes: [{ name: r, outsideCohort: deny }]').map((i) => i.path)).toEqual(['routes[0].outsideCohort']);
  });
});

describe('rollout block', () => {
  it('refuses a gate whose observation time is shorter than its window', () => {
    expect(issuesOf('rollout: { gate: { minObservedSeconds: 60 } }')).toEqual([
      { path: 'rollout.gate.minObservedSeconds', message: 'must be at least the length of rollout.gate.window' },
    ]);
    expect(issuesOf('rollout: { gate: { window: 1h } }').map((i) => i.path)).toEqual(['rollout.gate.minObservedSeconds']);
    expect(parseConfigText('rollout: { gate: { window: 1m, minObservedSeconds: 60, minChecks: 0 } }').ok).toBe(true);
  });

  it.each([
    ['rollout: { gate: { window: 5m } }', 'rollout.gate.window'],
    ['rollout: { gate: { minChecks: -1 } }', 'rollout.gate.minChecks'],
    ['rollout: { topCallers: 0 }', 'rollout.topCallers'],
    ['rollout: { adminToken: { env: "NOT-A-NAME" } }', 'rollout.adminToken.env'],
    ['rollout: { adminToken: { file: "" } }', 'rollout.adminToken.file'],
    ['rollout: { stateFile: "" }', 'rollout.stateFile'],
    ['rollout: { outsideCohort: enforce }', 'rollout.outsideCohort'],
    ['rollout: { colour: blue }', 'rollout.colour'],
  ])('names the key of %s', (text, path) => {
    expect(issuesOf(text).map((i) => i.path)).toEqual([path]);
  });
});

describe('compiled rollout settings', () => {
  it('takes a route’s own enforcePercent and outsideCohort, else 100 and rollout.outsideCohort', () => {
    const r = buildSnapshot(
      `rollout: { outsideCohort: shadow }\nroutes: [{ name: a, enforcePercent: 10, outsideCohort: warn }, { name: b }]`,
      'test',
      0,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const [a, b] = r.value.routes;
    expect([a?.enforcePercent, a?.outsideCohort]).toEqual([10, 'warn']);
    expect([b?.enforcePercent, b?.outsideCohort]).toEqual([100, 'shadow']);
    expect([r.value.unmatched.enforcePercent, r.value.unmatched.outsideCohort]).toEqual([100, 'shadow']);
  });
});
