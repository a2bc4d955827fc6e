// Percentage enforcement through authorize(): a caller's effect depends only on (route, SPIFFE ID)
// and the percent, is the same on every request, and raising the percent only adds callers to the
// enforced cohort (property tests); callers with no identity are one cohort member.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authorize as authorizeMaybeAsync, type AuthorizeDeps } from '../../../src/authz/authorize.js';
import type { CheckInput, Effect, Verdict } from '../../../src/authz/types.js';
import type { ConfigSnapshot } from '../../../src/config/compile.js';
import { buildSnapshot } from '../../../src/config/load.js';
import { cohortBucket } from '../../../src/rollout/cohort.js';
import type { RouteSetting } from '../../../src/rollout/rollout-state.js';

const SNAP: ConfigSnapshot = (() => {
  const r = buildSnapshot(
    `
trustDomains: [prod.example.org]
identity: { sources: [principal] }
routes:
  - name: orders
    mode: enforce
    allow: { prod.example.org: ["/ns/checkout/sa/*"] }
`,
    'test',
    0,
  );
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
})();

function depsAt(enforcePercent: number, outsideCohort: RouteSetting['outsideCohort'] = 'warn'): AuthorizeDeps {
  return {
    newDecisionId: () => 'd',
    settingOf: () => ({ mode: 'enforce', enforcePercent, outsideCohort }),
    identity: () => ({ now: Date.UTC(2026, 0, 1), bundles: () => undefined }),
  };
}

function input(principal: string): CheckInput {
  return { requestId: 'r', host: 'orders.internal', method: 'POST', path: '/v1/orders', headers: {}, principal, certificate: '', routeName: 'orders' };
}

function authorize(principal: string, deps: AuthorizeDeps): Verdict {
  const v = authorizeMaybeAsync(SNAP, input(principal), deps);
  if (v instanceof Promise) throw new Error('authorize() went asynchronous without a JWT');
  return v;
}

const segment = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
/** Callers the policy denies: any namespace but checkout. */
const deniedCaller = fc
  .tuple(segment, segment)
  .filter(([ns]) => ns !== 'checkout')
  .map(([ns, sa]) => `spiffe://prod.example.org/ns/${ns}/sa/${sa}`);
/** Percent with two decimals, 0–100. */
const percent = fc.integer({ min: 0, max: 10_000 }).map((n) => n / 100);

describe('authorize with enforcePercent', () => {
  it('gives a denied caller the same effect on every request, deny exactly when its bucket is in the cohort', () => {
    fc.assert(
      fc.property(deniedCaller, percent, (id, p) => {
        const first = authorize(id, depsAt(p));
        const second = authorize(id, depsAt(p));
        expect(second.effect).toBe(first.effect);
        expect(first.effect).toBe(cohortBucket('orders', id) < Math.round(p * 100) ? 'deny' : 'warn');
        expect([first.decision, first.reason, first.enforcePercent]).toEqual(['deny', 'NO_MATCHING_RULE', p]);
      }),
    );
  });

  it('only adds callers to the enforced cohort when the percent rises (monotonic)', () => {
    fc.assert(
      fc.property(deniedCaller, percent, percent, (id, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        if (authorize(id, depsAt(lo)).effect === 'deny') expect(authorize(id, depsAt(hi)).effect).toBe('deny');
      }),
    );
  });

  it('never changes the effect of an allowed caller', () => {
    fc.assert(
      fc.property(segment, percent, (sa, p) => {
        expect(authorize(`spiffe://prod.example.org/ns/checkout/sa/${sa}`, depsAt(p)).effect).toBe('allow');
      }),
    );
  });

  it('gives callers outside the cohort the configured outside effect: shadow lets them through silently', () => {
    fc.assert(
      fc.property(deniedCaller, percent, (id, p) => {
        const warn = authorize(id, depsAt(p, 'warn')).effect;
        const shadow = authorize(id, depsAt(p, 'shadow')).effect;
        const expected: Record<Effect, Effect> = { deny: 'deny', warn: 'allow', allow: 'allow' };
        expect(shadow).toBe(expected[warn]);
      }),
    );
  });

  it('enforces nobody at 0 % and everybody at 100 %', () => {
    fc.assert(
      fc.property(deniedCaller, (id) => {
        expect(authorize(id, depsAt(0)).effect).toBe('warn');
        expect(authorize(id, depsAt(100)).effect).toBe('deny');
      }),
    );
  });

  it('denies about the share asked for among 2,000 distinct callers (30 % ± 4 points)', () => {
    const ids = fc.sample(deniedCaller, { numRuns: 2000, seed: 7 });
    const distinct = [...new Set(ids)];
    const denied = distinct.filter((id) => authorize(id, depsAt(30)).effect === 'deny').length;
    expect(Math.abs(denied / distinct.length - 0.3)).toBeLessThan(0.04);
  });

  it('puts every caller without identity in one cohort member, with UNAUTHENTICATED', () => {
    const anonymousIn = cohortBucket('orders', undefined) < 5000;
    for (let i = 0; i < 5; i++) {
      const v = authorize('', depsAt(50));
      expect([v.reason, v.effect]).toEqual(['UNAUTHENTICATED', anonymousIn ? 'deny' : 'warn']);
    }
  });
});
