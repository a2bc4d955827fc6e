// Tests for the outcomes authorize() remembers (src/authz/decision-memo.ts): every verdict, first
// call or repeated, equals the one the plain pipeline (route → all identity sources → policy →
// rollout, with nothing remembered) gives, under changing rollout settings and alternating
// snapshots; each snapshot has its own bounded memo.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authorize, selectRoute, type AuthorizeDeps } from '../../../src/authz/authorize.js';
import { DecisionMemo, memoOf } from '../../../src/authz/decision-memo.js';
import { checkRequestLimits } from '../../../src/authz/request-limits.js';
import type { CheckInput, Verdict } from '../../../src/authz/types.js';
import type { CompiledRoute, ConfigSnapshot } from '../../../src/config/compile.js';
import { buildSnapshot } from '../../../src/config/load.js';
import { resolveAllSources, type IdentityContext } from '../../../src/identity/resolve-identity.js';
import { evaluatePolicy } from '../../../src/policy/evaluate-policy.js';
import { applyRolloutWithPercent, cohortBucket } from '../../../src/rollout/cohort.js';
import type { RouteSetting } from '../../../src/rollout/rollout-state.js';

const PROD = 'prod.example.org';
const PARTNER = 'partner.example.com';
const CTX: IdentityContext = { now: Date.UTC(2026, 0, 15), bundles: () => undefined };

function snapshotOf(variant: 'a' | 'b'): ConfigSnapshot {
  // Same route names, different rules and sources: an outcome remembered under one is wrong under the other.
  const web = variant === 'a' ? '/ns/web/sa/*' : '/ns/web/sa/frontend';
  const built = buildSnapshot(
    `
trustDomains: [${PROD}, ${PARTNER}]
identity:
  sources: [principal, certificate, xfcc, jwt]
  xfcc: { trusted: ${variant === 'a'} }
  jwt: { audiences: [aud] }
defaults: { mode: enforce, unmatchedRoute: ${variant === 'a' ? 'deny' : 'allow'} }
routes:
  - name: web
    match: { hosts: [web.internal], paths: ["/web/**"], methods: [GET] }
    allow: { ${PROD}: ["${web}", "/team/**"], ${PARTNER}: ["/ext/*/t1"] }
    deny: { ${PROD}: ["/ns/web/sa/legacy"] }
  - name: api
    match: { paths: ["/api/**"] }
    allow: { ${PROD}: ["/ns/api/sa/client"] }
  - name: named-only
    identity: { sources: [${variant === 'a' ? 'principal, xfcc' : 'xfcc, principal'}] }
    allow: { ${PROD}: ["**"] }
  - name: jwt-only
    identity: { sources: [jwt] }
    allow: { ${PROD}: ["**"] }
  - name: ${variant === 'a' ? 'only-in-a' : 'only-in-b'}
    allow: { ${PARTNER}: ["**"] }
`,
    'test',
    0,
  );
  if (!built.ok) throw new Error(JSON.stringify(built.issues));
  return built.value;
}

const SNAPSHOTS = { a: snapshotOf('a'), b: snapshotOf('b') };

/** authorize() as it was before anything was remembered: the reference. */
async function reference(snapshot: ConfigSnapshot, input: CheckInput, setting: RouteSetting, decisionId: string): Promise<Verdict> {
  const tooLarge = checkRequestLimits(input, snapshot.config.limits);
  const { route, detail: routeDetail } = selectRoute(snapshot, input, tooLarge?.limit === 'maxPathBytes');
  const effectOf = (decision: 'allow' | 'deny', spiffeId: string | undefined): Verdict['effect'] => {
    const bucket = setting.mode === 'enforce' && decision === 'deny' ? cohortBucket(route.name, spiffeId) : 0;
    return applyRolloutWithPercent(setting.mode, decision, { enforcePercent: setting.enforcePercent, outsideCohort: setting.outsideCohort, bucket }).effect;
  };
  const base = { decisionId, route: route.name, mode: setting.mode, enforcePercent: setting.enforcePercent };
  if (tooLarge !== undefined) {
    return { ...base, decision: 'deny', effect: effectOf('deny', undefined), reason: 'REQUEST_TOO_LARGE', detail: tooLarge.detail, rule: '', identity: undefined };
  }
  const identity = await resolveAllSources(input, route, snapshot, CTX);
  const caller = identity.ok ? identity.value : undefined;
  const o =
    route.fixedDecision !== undefined
      ? { decision: route.fixedDecision, reason: 'NO_ROUTE' as const, rule: '', detail: routeDetail }
      : !identity.ok
        ? { decision: 'deny' as const, reason: identity.error.code, rule: '', detail: identity.error.detail }
        : evaluatePolicy(route, identity.value, snapshot.trustDomains);
  return { ...base, decision: o.decision, effect: effectOf(o.decision, caller?.spiffeId), reason: o.reason, detail: o.detail, rule: o.rule, identity: caller };
}

const settingArb: fc.Arbitrary<RouteSetting> = fc.record({
  mode: fc.constantFrom('shadow', 'warn', 'enforce'),
  enforcePercent: fc.constantFrom(0, 30, 99.99, 100),
  outsideCohort: fc.constantFrom('warn', 'shadow'),
});

const principals = [
  `spiffe://${PROD}/ns/web/sa/frontend`,
  `spiffe://${PROD}/ns/web/sa/other`,
  `spiffe://${PROD}/ns/web/sa/legacy`,
  `spiffe://${PROD}/team/x/y`,
  `spiffe://${PROD}/ns/api/sa/client`,
  `spiffe://${PARTNER}/ext/a/t1`,
  `spiffe://${PARTNER}/ext/a/b/t1`,
  `spiffe://unknown.example/ns/web/sa/frontend`,
  `spiffe://${PROD}`,
  'CN=web,O=example',
  '',
];

const requestArb = fc.record({
  routeName: fc.option(fc.constantFrom('web', 'api', 'named-only', 'jwt-only', 'only-in-a', 'only-in-b', 'nope', '_unmatched'), { nil: undefined }),
  target: fc.constantFrom(
    { host: 'web.internal', path: '/web/x', method: 'GET' },
    { host: 'web.internal', path: '/web/x', method: 'POST' },
    { host: 'other.internal', path: '/api/v1/../x', method: 'GET' },
    { host: 'other.internal', path: '/api/v1', method: 'PUT' },
    { host: 'web.internal', path: '/elsewhere', method: 'GET' },
    { host: 'web.internal', path: `/web/${'x'.repeat(9000)}`, method: 'GET' },
  ),
  principal: fc.constantFrom(...principals),
  certificate: fc.constantFrom('', '', '', 'garbage%ZZ'),
  xfcc: fc.option(fc.constantFrom('', `URI=${principals[0]}`, `URI=${principals[1]}`, 'URI="'), { nil: undefined, freq: 3 }),
  authorization: fc.option(fc.constantFrom('Basic abc', 'Bearer a.b'), { nil: undefined, freq: 3 }),
  snapshot: fc.constantFrom('a', 'b', 'a', 'a'),
  setting: settingArb,
});

function inputOf(r: RequestArb): CheckInput {
  const headers: Record<string, string> = {};
  if (r.xfcc !== undefined) headers['x-forwarded-client-cert'] = r.xfcc;
  if (r.authorization !== undefined) headers['authorization'] = r.authorization;
  return { requestId: 'req', ...r.target, headers, principal: r.principal, certificate: r.certificate, routeName: r.routeName };
}
type RequestArb = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

describe('authorize with remembered outcomes', () => {
  it('gives the plain pipeline’s verdict for every Check of a sequence, repeats and setting changes included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(requestArb, { minLength: 1, maxLength: 40 }), fc.array(fc.nat(), { maxLength: 60 }), async (requests, order) => {
        // Each Check runs twice in a row and then again in a shuffled order: many memo hits.
        const sequence = [...requests.flatMap((r) => [r, r]), ...order.map((i) => requests[i % requests.length]!)];
        let n = 0;
        for (const r of sequence) {
          const snapshot = SNAPSHOTS[r.snapshot];
          const input = inputOf(r);
          const id = `d-${++n}`;
          const deps: AuthorizeDeps = { newDecisionId: () => id, settingOf: () => r.setting, identity: () => CTX };
          expect(await authorize(snapshot, input, deps)).toEqual(await reference(snapshot, input, r.setting, id));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('reads the route’s setting on every Check, remembered or not', () => {
    const snapshot = SNAPSHOTS.a;
    const input: CheckInput = { requestId: 'r', host: 'h', method: 'GET', path: '/', headers: {}, principal: `spiffe://${PROD}/ns/nope/sa/x`, certificate: '', routeName: 'web' };
    const verdicts = (['shadow', 'warn', 'enforce', 'shadow'] as const).map((mode) => {
      let asked: CompiledRoute | undefined;
      const deps: AuthorizeDeps = { newDecisionId: () => 'x', settingOf: (route) => ((asked = route), { mode, enforcePercent: 100, outsideCohort: 'warn' }), identity: () => CTX };
      const v = authorize(snapshot, input, deps) as Verdict;
      expect(asked).toBe(snapshot.routesByName.get('web'));
      return [v.mode, v.effect, v.reason];
    });
    expect(verdicts).toEqual([
      ['shadow', 'allow', 'NO_MATCHING_RULE'],
      ['warn', 'warn', 'NO_MATCHING_RULE'],
      ['enforce', 'deny', 'NO_MATCHING_RULE'],
      ['shadow', 'allow', 'NO_MATCHING_RULE'],
    ]);
  });

  it('still fails closed when the identity context cannot be had, even for a remembered Check', () => {
    const snapshot = SNAPSHOTS.a;
    const input: CheckInput = { requestId: 'r', host: 'h', method: 'GET', path: '/', headers: {}, principal: principals[0]!, certificate: '', routeName: 'web' };
    const ok: AuthorizeDeps = { newDecisionId: () => 'x', settingOf: () => ({ mode: 'warn', enforcePercent: 100, outsideCohort: 'warn' }), identity: () => CTX };
    expect((authorize(snapshot, input, ok) as Verdict).reason).toBe('ALLOWED');
    const broken: AuthorizeDeps = { ...ok, identity: () => { throw new Error('bundle store exploded'); } };
    expect(authorize(snapshot, input, broken)).toMatchObject({ reason: 'INTERNAL_ERROR', effect: 'deny', mode: 'warn' });
  });
});

describe('DecisionMemo', () => {
  const route = SNAPSHOTS.a.routesByName.get('web')!;
  const entry = { route, needs: 0, decision: 'allow' as const, reason: 'ALLOWED' as const, rule: 'r', detail: 'd', identity: undefined };

  it('remembers by route name and by route, apart', () => {
    const memo = new DecisionMemo();
    memo.set('web', 'p', entry);
    memo.set(undefined, 'q', entry);
    expect(memo.getNamed('web', 'p')).toBe(entry);
    expect(memo.getMatched(route, 'q')).toBe(entry);
    expect(memo.getNamed('web', 'q')).toBeUndefined();
    expect(memo.getMatched(route, 'p')).toBeUndefined();
    expect(memo.size).toBe(2);
    memo.set('web', 'p', entry);
    expect(memo.size).toBe(2);
  });

  it('is bounded: at its limit it starts over; long keys are never stored; 0 stores nothing', () => {
    const memo = new DecisionMemo(100);
    for (let i = 0; i < 250; i++) memo.set('web', `p${i}`, entry);
    expect(memo.size).toBeLessThanOrEqual(100);
    expect(memo.getNamed('web', 'p249')).toBe(entry);
    memo.set('web', 'x'.repeat(300), entry);
    memo.set('y'.repeat(300), 'p', entry);
    expect(memo.getNamed('web', 'x'.repeat(300))).toBeUndefined();
    expect(memo.getNamed('y'.repeat(300), 'p')).toBeUndefined();
    const off = new DecisionMemo(0);
    off.set('web', 'p', entry);
    expect(off.size).toBe(0);
  });
});

describe('memoOf', () => {
  it('keeps one memo per snapshot', () => {
    expect(memoOf(SNAPSHOTS.a)).toBe(memoOf(SNAPSHOTS.a));
    expect(memoOf(SNAPSHOTS.b)).not.toBe(memoOf(SNAPSHOTS.a));
  });
});
