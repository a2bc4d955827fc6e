// Tests for the outcomes authorize() remembers (src/authz/decision-memo.ts): every verdict, first
// call or repeated, equals the one the plain pipeline (route → all identity sources → policy →
// rollout, with nothing remembered) gives, under changing rollout settings and alternating
// snapshots; each snapshot has its own bounded memo.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
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
import type { Reason } from '../../../src/authz/reasons.js';
import type { VerifiedJwtSvid } from '../../../src/identity/jwt-svid.js';
import { ResultCache } from '../../../src/identity/svid-cache.js';
import type { VerifiedX509Svid } from '../../../src/identity/x509-svid.js';
import type { BundleLookup, TrustBundle } from '../../../src/trust/types.js';
import { createJwtIssuer } from '../../fixtures/jwt-issuer.js';
import { createTestCa, type TestCa } from '../../fixtures/test-ca.js';

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
async function reference(snapshot: ConfigSnapshot, input: CheckInput, setting: RouteSetting, decisionId: string, ctx: IdentityContext = CTX): Promise<Verdict> {
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
  const identity = await resolveAllSources(input, route, snapshot, ctx);
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

// Callers proven by a certificate or a JWT-SVID whose verification is cached: remembered by route
// and cached result. Real certificates and tokens from a test CA and issuer; the clock passes the
// expiry of some of them, and the bundles change (the caches are then cleared, as app.ts does).
describe('authorize with remembered outcomes of callers proven by a certificate or a JWT-SVID', () => {
  const NOW = Date.UTC(2026, 0, 15);
  const WEB = `spiffe://${PROD}/ns/web/sa/frontend`;
  const OTHER = `spiffe://${PROD}/ns/web/sa/other`;
  const API = `spiffe://${PROD}/ns/api/sa/client`;
  let snapshots: ConfigSnapshot[];
  let certs: string[];
  let headers: string[];
  let bundleSets: BundleLookup[];
  let xfccs: string[];
  /** A new snapshot of config variant i (its memo starts empty). */
  let build: (i: number) => ConfigSnapshot;

  beforeAll(async () => {
    const ca = await createTestCa({ trustDomain: PROD, now: new Date(NOW) });
    const otherCa = await createTestCa({ trustDomain: PROD, now: new Date(NOW) });
    const partnerCa = await createTestCa({ trustDomain: PARTNER, now: new Date(NOW) });
    const issuer = await createJwtIssuer({ trustDomain: PROD, kid: 'k1', now: NOW });
    const otherIssuer = await createJwtIssuer({ trustDomain: PROD, kid: 'k1', now: NOW });
    const leaves = await Promise.all([
      ca.issueSvid({ spiffeId: WEB }),
      ca.issueSvid({ spiffeId: OTHER }),
      ca.issueSvid({ spiffeId: API, notAfter: new Date(NOW + 10_000) }), // expires between the clock's two readings
      partnerCa.issueSvid({ spiffeId: `spiffe://${PARTNER}/ext/a/t1` }),
      otherCa.issueSvid({ spiffeId: WEB }), // verifies only under the second bundle set
    ]);
    certs = [...leaves.map((l) => l.envoyEncoded), 'garbage%ZZ'];
    const exp = Math.floor(NOW / 1000);
    const tokens = [
      await issuer.sign({ sub: WEB, aud: 'aud', exp: exp + 600 }),
      await issuer.sign({ sub: API, aud: 'aud', exp: exp + 10 }), // expires between the clock's two readings
      await issuer.sign({ sub: OTHER, aud: 'other-audience', exp: exp + 600 }),
      await otherIssuer.sign({ sub: OTHER, aud: 'aud', exp: exp + 600 }), // verifies only under the second bundle set
    ];
    headers = [...tokens.map((t) => `Bearer ${t}`), 'Bearer a.b', 'Basic abc'];
    const bundleOf = (root: TestCa, jwt: typeof issuer): TrustBundle => ({
      trustDomain: PROD,
      x509Authorities: [new X509Certificate(root.certPem)],
      jwtAuthorities: new Map([[jwt.kid, jwt.authority()]]),
      sequence: undefined,
    });
    const partner: TrustBundle = { trustDomain: PARTNER, x509Authorities: [new X509Certificate(partnerCa.certPem)], jwtAuthorities: new Map(), sequence: undefined };
    const first = bundleOf(ca, issuer);
    const second = bundleOf(otherCa, otherIssuer);
    bundleSets = [(td) => (td === PROD ? first : td === PARTNER ? partner : undefined), (td) => (td === PROD ? second : undefined)];
    xfccs = [`URI=${WEB}`, `URI=${OTHER}`, 'URI="', '', `By=${WEB};Cert="${certs[2]!}";URI=${API}`];
    const variants = [
      { requireBundle: false, xfcc: '{ trusted: true }' },
      { requireBundle: true, xfcc: '{ trusted: true }' },
      { requireBundle: false, xfcc: `{ trusted: true, hop: origin, trustedProxies: ["${WEB}"] }` },
    ];
    build = (i) => {
      const { requireBundle, xfcc } = variants[i]!;
      const built = buildSnapshot(
        `
trustDomains: [${PROD}, ${PARTNER}]
identity:
  sources: [principal, certificate, xfcc, jwt]
  certificate: { requireBundle: ${requireBundle} }
  xfcc: ${xfcc}
  jwt: { audiences: [aud] }
defaults: { mode: enforce, unmatchedRoute: deny }
routes:
  - name: web
    match: { paths: ["/web/**"] }
    allow: { ${PROD}: ["/ns/web/sa/*"], ${PARTNER}: ["/ext/*/t1"] }
    deny: { ${PROD}: ["/ns/web/sa/other"] }
  - name: api
    allow: { ${PROD}: ["/ns/api/**"] }
  - name: cert-only
    identity: { sources: [certificate] }
    allow: { ${PROD}: ["**"] }
  - name: jwt-required
    identity: { requireJwtSvid: true }
    allow: { ${PROD}: ["**"] }
  - name: no-jwt
    identity: { sources: [principal, xfcc] }
    allow: { ${PROD}: ["**"] }
`,
        'test',
        0,
      );
      if (!built.ok) throw new Error(JSON.stringify(built.issues));
      return built.value;
    };
    snapshots = variants.map((_, i) => build(i));
  });

  const stepArb = fc.record({
    snapshot: fc.nat(2),
    // Mostly requests the memo may answer: one of certificate, token, XFCC header.
    routeName: fc.constantFrom(undefined, undefined, 'web', 'api', 'cert-only', 'jwt-required', 'no-jwt', 'nope'),
    path: fc.constantFrom('/web/x', '/elsewhere'),
    principal: fc.constantFrom('', '', WEB, OTHER, 'CN=web'),
    certificate: fc.constantFrom(undefined, undefined, 0, 1, 2, 3, 4, 5),
    authorization: fc.constantFrom(undefined, undefined, undefined, 0, 1, 2, 3, 4, 5),
    xfcc: fc.constantFrom(undefined, undefined, undefined, undefined, 0, 1, 2, 3, 4),
    later: fc.boolean(),
    bundleChange: fc.constantFrom(undefined, undefined, undefined, undefined, 0, 1),
    setting: settingArb,
  });

  const FIELDS = ['snapshot', 'routeName', 'path', 'principal', 'certificate', 'authorization', 'xfcc', 'later', 'bundleChange'] as const;

  it('gives the plain pipeline’s verdict (nothing remembered) for every Check, across expiries and bundle changes', async () => {
    // Each Check comes again, then next to a twin that differs from it in one field (the memo's
    // keys and what must not be: principal, route, clock, bundles, the other sources), then again.
    const twinsArb = fc.tuple(stepArb, stepArb, fc.constantFrom(...FIELDS)).map(([a, b, field]) => [a, a, { ...a, [field]: b[field] }, a] as const);
    await fc.assert(
      fc.asyncProperty(fc.array(twinsArb, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), async (groups, order) => {
        const steps = groups.flat();
        const certCache = new ResultCache<VerifiedX509Svid, Reason>(100);
        const jwtCache = new ResultCache<VerifiedJwtSvid, Reason>(100);
        let bundles = bundleSets[0]!;
        let later = false;
        let current = snapshots[0]!;
        const sequence = [...steps, ...order.map((i) => steps[i % steps.length]!)];
        let n = 0;
        for (const s of sequence) {
          // As app.ts does: verified results are dropped when a bundle or the config changes.
          const snapshot = snapshots[s.snapshot]!;
          if ((s.bundleChange !== undefined && bundleSets[s.bundleChange] !== bundles) || snapshot !== current) {
            if (s.bundleChange !== undefined) bundles = bundleSets[s.bundleChange]!;
            current = snapshot;
            certCache.clear();
            jwtCache.clear();
          }
          const hs: Record<string, string> = {};
          if (s.authorization !== undefined) hs['authorization'] = headers[s.authorization]!;
          if (s.xfcc !== undefined) hs['x-forwarded-client-cert'] = xfccs[s.xfcc]!;
          const input: CheckInput = {
            requestId: 'r',
            host: 'h',
            method: 'GET',
            path: s.path,
            headers: hs,
            principal: s.principal,
            certificate: s.certificate === undefined ? '' : certs[s.certificate]!,
            routeName: s.routeName,
          };
          // The clock only moves forward (a cached CERT_EXPIRED would wrongly outlive a clock set back).
          if (s.later) later = true;
          const now = later ? NOW + 20_000 : NOW;
          const id = `d-${++n}`;
          const deps: AuthorizeDeps = { newDecisionId: () => id, settingOf: () => s.setting, identity: () => ({ now, bundles, certCache, jwtCache }) };
          // The reference reads the same caches (after authorize): the memo must add nothing to what they say.
          const verdict = await authorize(snapshot, input, deps);
          expect(verdict).toEqual(await reference(snapshot, input, s.setting, id, { now, bundles, certCache, jwtCache }));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('answers a repeated caller from the memo, and again from the full path once its certificate has expired', async () => {
    const snapshot = build(0);
    const certCache = new ResultCache<VerifiedX509Svid, Reason>(100);
    const setting: RouteSetting = { mode: 'enforce', enforcePercent: 100, outsideCohort: 'warn' };
    const input: CheckInput = { requestId: 'r', host: 'h', method: 'GET', path: '/', headers: {}, principal: '', certificate: certs[2]!, routeName: 'api' };
    let now = NOW;
    const deps: AuthorizeDeps = { newDecisionId: () => 'x', settingOf: () => setting, identity: () => ({ now, bundles: bundleSets[0]!, certCache }) };
    const memo = memoOf(snapshot);
    const before = memo.size;
    // First Check: verified and cached; second: a cache hit, remembered; third: from the memo.
    expect(await authorize(snapshot, input, deps)).toMatchObject({ reason: 'ALLOWED', identity: { spiffeId: API, source: 'certificate' } });
    expect(memo.size).toBe(before);
    expect(await authorize(snapshot, input, deps)).toMatchObject({ reason: 'ALLOWED' });
    expect(memo.size).toBe(before + 1);
    const proof = certCache.get(certs[2]!, now);
    expect(proof).toBeDefined();
    const entry = memo.getProven(snapshot.routesByName.get('api')!, proof!);
    expect(entry).toMatchObject({ principal: '', reason: 'ALLOWED' });
    expect(await authorize(snapshot, input, deps)).toMatchObject({ reason: 'ALLOWED', identity: entry!.identity });
    expect(memo.size).toBe(before + 1);
    now = NOW + 20_000;
    expect(await authorize(snapshot, input, deps)).toMatchObject({ reason: 'CERT_EXPIRED', decision: 'deny', identity: undefined });
  });

  it('remembers an XFCC caller by the shared parse, unless its element carries a Cert (verified, so bound to time)', async () => {
    const snapshot = build(0);
    const certCache = new ResultCache<VerifiedX509Svid, Reason>(100);
    const setting: RouteSetting = { mode: 'enforce', enforcePercent: 100, outsideCohort: 'warn' };
    let now = NOW;
    const deps: AuthorizeDeps = { newDecisionId: () => 'x', settingOf: () => setting, identity: () => ({ now, bundles: bundleSets[0]!, certCache }) };
    const memo = memoOf(snapshot);
    const plain: CheckInput = { requestId: 'r', host: 'h', method: 'GET', path: '/', headers: { 'x-forwarded-client-cert': xfccs[0]! }, principal: '', certificate: '', routeName: 'web' };
    const before = memo.size;
    expect(await authorize(snapshot, plain, deps)).toMatchObject({ reason: 'ALLOWED', identity: { spiffeId: WEB, source: 'xfcc' } });
    expect(await authorize(snapshot, plain, deps)).toMatchObject({ reason: 'ALLOWED', identity: { spiffeId: WEB, source: 'xfcc' } });
    expect(memo.size).toBe(before + 1);
    const withCert: CheckInput = { ...plain, headers: { 'x-forwarded-client-cert': xfccs[4]! }, routeName: 'api' };
    expect(await authorize(snapshot, withCert, deps)).toMatchObject({ reason: 'ALLOWED', identity: { spiffeId: API, source: 'xfcc' } });
    expect(await authorize(snapshot, withCert, deps)).toMatchObject({ reason: 'ALLOWED' });
    expect(memo.size).toBe(before + 1);
    now = NOW + 20_000;
    expect(await authorize(snapshot, withCert, deps)).toMatchObject({ reason: 'CERT_EXPIRED', decision: 'deny', identity: undefined });
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

  it('remembers the last few route matches by host, path and method', () => {
    const api = SNAPSHOTS.a.routesByName.get('api')!;
    const memo = new DecisionMemo();
    memo.rememberRoute('web.internal', '/web/x', 'GET', route);
    expect(memo.recentRoute('web.internal', '/web/x', 'GET')).toBe(route);
    expect(memo.recentRoute('web.internal', '/web/x', 'POST')).toBeUndefined();
    expect(memo.recentRoute('other.internal', '/web/x', 'GET')).toBeUndefined();
    expect(memo.recentRoute('web.internal', '/web/y', 'GET')).toBeUndefined();
    for (let i = 0; i < 8; i++) memo.rememberRoute('h', `/api/${i}`, 'GET', api);
    expect(memo.recentRoute('web.internal', '/web/x', 'GET')).toBeUndefined(); // the oldest of the last 8 went
    expect(memo.recentRoute('h', '/api/7', 'GET')).toBe(api);
    memo.rememberRoute('h', `/${'x'.repeat(2000)}`, 'GET', api);
    expect(memo.recentRoute('h', `/${'x'.repeat(2000)}`, 'GET')).toBeUndefined();
  });

  it('remembers proven callers by route and proof object, within the same bound', () => {
    const api = SNAPSHOTS.a.routesByName.get('api')!;
    const proven = { principal: '', decision: 'allow' as const, reason: 'ALLOWED' as const, rule: 'r', detail: 'd', identity: undefined };
    const memo = new DecisionMemo(100);
    const proof = { ok: true };
    memo.setProven(route, proof, proven);
    expect(memo.getProven(route, proof)).toBe(proven);
    expect(memo.getProven(api, proof)).toBeUndefined();
    expect(memo.getProven(route, { ok: true })).toBeUndefined(); // by identity, not by content
    memo.setProven(route, proof, proven);
    expect(memo.size).toBe(1);
    memo.setProven(route, {}, { ...proven, principal: 'x'.repeat(300) });
    expect(memo.size).toBe(1);
    const proofs = Array.from({ length: 150 }, () => ({}));
    for (const p of proofs) memo.setProven(route, p, proven);
    expect(memo.size).toBeLessThanOrEqual(100);
    expect(memo.getProven(route, proofs[149]!)).toBe(proven);
    expect(memo.getProven(route, proof)).toBeUndefined(); // forgotten with everything else at the bound
  });
});

describe('memoOf', () => {
  it('keeps one memo per snapshot', () => {
    expect(memoOf(SNAPSHOTS.a)).toBe(memoOf(SNAPSHOTS.a));
    expect(memoOf(SNAPSHOTS.b)).not.toBe(memoOf(SNAPSHOTS.a));
  });
});
