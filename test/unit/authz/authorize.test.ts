// Tests for authorize(): route → identity → policy → rollout through real compiled configs, every
// mode against every kind of caller, XFCC handling (spec-notes §6.6, §7) and failing closed.
import { describe, expect, it } from 'vitest';
import { authorize as authorizeMaybeAsync, selectRoute, type AuthorizeDeps } from '../../../src/authz/authorize.js';
import type { CallerIdentity, CheckInput, Effect, Mode, Verdict } from '../../../src/authz/types.js';
import type { CompiledRoute, ConfigSnapshot, TrustDomainRules } from '../../../src/config/compile.js';
import { buildSnapshot } from '../../../src/config/load.js';
import { configSetting } from '../../../src/rollout/rollout-state.js';

const PROD = 'prod.example.org';
const GOOD = `spiffe://${PROD}/ns/checkout/sa/web`;
const OTHER = `spiffe://${PROD}/ns/other/sa/x`;
const DECISION_ID = 'dec-0001';

function snapshotOf(yaml: string): ConfigSnapshot {
  const r = buildSnapshot(yaml, 'test', 0);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

function configFor(mode: Mode, extra = ''): string {
  return `
trustDomains: [${PROD}, partner.example.com]
defaults: {mode: ${mode}, unmatchedRoute: deny}
identity: {sources: [principal, xfcc], xfcc: {trusted: false}}
routes:
  - name: orders
    match: {hosts: [orders.internal], paths: ["/v1/orders/**"]}
    allow:
      ${PROD}: ["/ns/checkout/sa/*"]
    deny:
      ${PROD}: ["/ns/checkout/sa/legacy"]
${extra}`;
}

const DEPS: AuthorizeDeps = {
  newDecisionId: () => DECISION_ID,
  settingOf: configSetting,
  identity: () => ({ now: Date.UTC(2026, 0, 1), bundles: () => undefined }),
};

/** authorize() is synchronous whenever no JWT-SVID needs verifying, which holds for every case here. */
function authorize(snapshot: ConfigSnapshot, inp: CheckInput, deps: AuthorizeDeps): Verdict {
  const v = authorizeMaybeAsync(snapshot, inp, deps);
  if (v instanceof Promise) throw new Error('authorize() went asynchronous without a JWT');
  return v;
}

function input(over: Partial<CheckInput> = {}): CheckInput {
  return {
    requestId: 'req-1',
    host: 'orders.internal',
    method: 'POST',
    path: '/v1/orders/1',
    headers: {},
    principal: '',
    certificate: '',
    routeName: undefined,
    ...over,
  };
}

function caller(spiffeId: string, source: CallerIdentity['source'] = 'principal'): CallerIdentity {
  const rest = spiffeId.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  return { spiffeId, trustDomain: rest.slice(0, slash), path: rest.slice(slash), source, agreed: [] };
}

/** Effect of a deny decision under each mode. */
const DENY_EFFECT: Record<Mode, Effect> = { shadow: 'allow', warn: 'warn', enforce: 'deny' };

interface Case {
  readonly name: string;
  readonly input: Partial<CheckInput>;
  readonly expected: (mode: Mode) => Omit<Verdict, 'decisionId' | 'mode' | 'enforcePercent'>;
}

const CASES: readonly Case[] = [
  {
    name: 'an allowed caller',
    input: { principal: GOOD },
    expected: () => ({
      route: 'orders',
      decision: 'allow',
      effect: 'allow',
      reason: 'ALLOWED',
      detail: `matched allow["${PROD}"][0]`,
      rule: `allow["${PROD}"][0]`,
      identity: caller(GOOD),
    }),
  },
  {
    name: 'a caller no rule allows',
    input: { principal: OTHER },
    expected: (mode) => ({
      route: 'orders',
      decision: 'deny',
      effect: DENY_EFFECT[mode],
      reason: 'NO_MATCHING_RULE',
      detail: 'no allow rule of route "orders" matches this ID',
      rule: '',
      identity: caller(OTHER),
    }),
  },
  {
    name: 'a caller a deny rule matches',
    input: { principal: `spiffe://${PROD}/ns/checkout/sa/legacy` },
    expected: (mode) => ({
      route: 'orders',
      decision: 'deny',
      effect: DENY_EFFECT[mode],
      reason: 'DENIED_BY_RULE',
      detail: `matched deny["${PROD}"][0]`,
      rule: `deny["${PROD}"][0]`,
      identity: caller(`spiffe://${PROD}/ns/checkout/sa/legacy`),
    }),
  },
  {
    name: 'no identity',
    input: {},
    expected: (mode) => ({
      route: 'orders',
      decision: 'deny',
      effect: DENY_EFFECT[mode],
      reason: 'UNAUTHENTICATED',
      detail: 'no caller identity in any of: principal, xfcc',
      rule: '',
      identity: undefined,
    }),
  },
  {
    name: 'a malformed principal',
    input: { principal: 'CN=web,O=example' },
    expected: (mode) => ({
      route: 'orders',
      decision: 'deny',
      effect: DENY_EFFECT[mode],
      reason: 'PRINCIPAL_INVALID',
      detail: "principal: peer principal is not a SPIFFE ID (scheme is missing or invalid: expected the literal prefix 'spiffe://')",
      rule: '',
      identity: undefined,
    }),
  },
  {
    name: 'a caller of an unknown trust domain',
    input: { principal: 'spiffe://evil.example.org/ns/checkout/sa/web' },
    expected: (mode) => ({
      route: 'orders',
      decision: 'deny',
      effect: DENY_EFFECT[mode],
      reason: 'UNKNOWN_TRUST_DOMAIN',
      detail: 'trust domain "evil.example.org" is not configured',
      rule: '',
      identity: caller('spiffe://evil.example.org/ns/checkout/sa/web'),
    }),
  },
  {
    name: 'a request no route matches',
    input: { principal: GOOD, path: '/v2/orders' },
    expected: (mode) => ({
      route: '_unmatched',
      decision: 'deny',
      effect: DENY_EFFECT[mode],
      reason: 'NO_ROUTE',
      detail: 'no route matches the host, path and method',
      rule: '',
      identity: caller(GOOD),
    }),
  },
  {
    name: 'an unknown route name in context_extensions',
    input: { principal: GOOD, routeName: 'nope' },
    expected: (mode) => ({
      route: '_unmatched',
      decision: 'deny',
      effect: DENY_EFFECT[mode],
      reason: 'NO_ROUTE',
      detail: 'context_extensions names route "nope", which is not configured',
      rule: '',
      identity: caller(GOOD),
    }),
  },
];

const MODE_CASES = (['shadow', 'warn', 'enforce'] as const).flatMap((mode) => CASES.map((c) => [mode, c.name, c] as const));

describe('authorize', () => {
  it.each(MODE_CASES)('in %s mode decides %s', (mode, _name, c) => {
    const verdict = authorize(snapshotOf(configFor(mode)), input(c.input), DEPS);
    expect(verdict).toEqual<Verdict>({ decisionId: DECISION_ID, mode, enforcePercent: 100, ...c.expected(mode) });
  });

  describe('route selection', () => {
    const snap = snapshotOf(
      configFor('enforce', `  - name: by-name-only\n    allow:\n      ${PROD}: ["**"]\n  - name: admin\n    match: {paths: ["/admin/**"]}\n`),
    );

    it('takes the route named in context_extensions even when its match block would not match with ALLOWED', () => {
      const v = authorize(snap, input({ principal: OTHER, routeName: 'by-name-only', path: '/elsewhere' }), DEPS);
      expect([v.route, v.reason, v.rule]).toEqual(['by-name-only', 'ALLOWED', `allow["${PROD}"][0]`]);
    });

    it('never selects a route without a match block by host/path/method with NO_ROUTE', () => {
      const v = authorize(snap, input({ principal: OTHER, path: '/elsewhere' }), DEPS);
      expect([v.route, v.reason]).toEqual(['_unmatched', 'NO_ROUTE']);
    });

    it.each([
      ['/v1/orders/1?x=../../admin', 'orders'],
      ['/v2/../v1/orders/1', 'orders'],
      ['/v1/orders/../../admin/x', 'admin'],
      ['/v1/orders/%2e%2e/%2e%2e/admin', 'admin'],
      ['/v1%2Forders%2F1', 'orders'],
      ['//v1//orders', 'orders'],
      ['/v1/ordersX', '_unmatched'],
    ])('matches path %j after normalisation → %s', (path, route) => {
      expect(selectRoute(snap, input({ path })).route.name).toBe(route);
    });

    it('decides an unmatched request with defaults.unmatchedRoute allow as allow with NO_ROUTE', () => {
      const allowSnap = snapshotOf(configFor('enforce').replace('unmatchedRoute: deny', 'unmatchedRoute: allow'));
      const v = authorize(allowSnap, input({ path: '/nowhere' }), DEPS);
      expect([v.route, v.mode, v.decision, v.effect, v.reason]).toEqual(['_unmatched', 'enforce', 'allow', 'allow', 'NO_ROUTE']);
    });

    it('decides an unmatched request before identity, even for a malformed principal, with NO_ROUTE', () => {
      const v = authorize(snap, input({ principal: 'CN=x', path: '/nowhere' }), DEPS);
      expect([v.route, v.reason, v.identity]).toEqual(['_unmatched', 'NO_ROUTE', undefined]);
    });
  });

  describe('modes', () => {
    it('uses the mode from settingOf, not the configured one, with NO_MATCHING_RULE', () => {
      const v = authorize(snapshotOf(configFor('shadow')), input({ principal: OTHER }), {
        ...DEPS,
        settingOf: () => ({ mode: 'enforce', enforcePercent: 100, outsideCohort: 'warn' }),
      });
      expect([v.mode, v.decision, v.effect, v.reason]).toEqual(['enforce', 'deny', 'deny', 'NO_MATCHING_RULE']);
    });

    it('uses a route’s own mode over defaults.mode with NO_MATCHING_RULE', () => {
      const snap = snapshotOf(configFor('shadow', `  - name: strict\n    match: {paths: ["/strict"]}\n    mode: enforce\n`));
      const v = authorize(snap, input({ principal: OTHER, path: '/strict' }), DEPS);
      expect([v.route, v.mode, v.effect]).toEqual(['strict', 'enforce', 'deny']);
    });

    it('calls the id generator once per decision', () => {
      let n = 0;
      const deps: AuthorizeDeps = { ...DEPS, newDecisionId: () => `id-${++n}` };
      const snap = snapshotOf(configFor('enforce'));
      expect([authorize(snap, input(), deps).decisionId, authorize(snap, input(), deps).decisionId]).toEqual(['id-1', 'id-2']);
    });
  });

  describe('XFCC', () => {
    const XFCC = 'x-forwarded-client-cert';
    const GATEWAY = `spiffe://${PROD}/ns/mesh/sa/gateway`;
    /** The enforce config with XFCC trusted; `xfccExtra` goes inside identity.xfcc, `sources` replaces the list. */
    const trusted = (xfccExtra = '', sources = '[principal, xfcc]'): ConfigSnapshot =>
      snapshotOf(
        configFor('enforce').replace(
          'sources: [principal, xfcc], xfcc: {trusted: false}',
          `sources: ${sources}, xfcc: {trusted: true, maxBytes: 256, maxElements: 2${xfccExtra}}`,
        ),
      );
    /** An enforced identity deny on route "orders". */
    const identityDeny = (reason: Verdict['reason'], detail: string): Verdict => ({
      decisionId: DECISION_ID,
      route: 'orders',
      mode: 'enforce',
      enforcePercent: 100,
      decision: 'deny',
      effect: 'deny',
      reason,
      detail,
      rule: '',
      identity: undefined,
    });

    it('ignores the header when XFCC is not trusted with UNAUTHENTICATED', () => {
      const v = authorize(snapshotOf(configFor('enforce')), input({ headers: { [XFCC]: `URI=${GOOD}` } }), DEPS);
      expect(v).toEqual(
        identityDeny('UNAUTHENTICATED', 'no caller identity (an x-forwarded-client-cert header was present but identity.xfcc.trusted is false)'),
      );
    });

    it('ignores even a malformed header when XFCC is not trusted, and takes the principal with ALLOWED', () => {
      const v = authorize(snapshotOf(configFor('enforce')), input({ principal: GOOD, headers: { [XFCC]: 'URI="unterminated' } }), DEPS);
      expect([v.reason, v.identity]).toEqual(['ALLOWED', caller(GOOD)]);
    });

    it('ignores a trusted header when xfcc is not in identity.sources with UNAUTHENTICATED', () => {
      const v = authorize(trusted('', '[principal]'), input({ headers: { [XFCC]: `URI=${GOOD}` } }), DEPS);
      expect(v).toEqual(identityDeny('UNAUTHENTICATED', 'no caller identity in any of: principal'));
    });

    it('never reads a trusted but malformed header when xfcc is not in identity.sources, with ALLOWED', () => {
      const v = authorize(trusted('', '[principal]'), input({ principal: GOOD, headers: { [XFCC]: 'URI="unterminated' } }), DEPS);
      expect([v.reason, v.identity]).toEqual(['ALLOWED', caller(GOOD)]);
    });

    it('takes the single URI of the last element when trusted with ALLOWED', () => {
      const v = authorize(trusted(), input({ headers: { [XFCC]: `URI=${OTHER},By=spiffe://${PROD}/gw;URI=${GOOD}` } }), DEPS);
      expect([v.reason, v.identity]).toEqual(['ALLOWED', caller(GOOD, 'xfcc')]);
    });

    it('never uses an earlier element with NO_MATCHING_RULE', () => {
      const v = authorize(trusted(), input({ headers: { [XFCC]: `URI=${GOOD},URI=${OTHER}` } }), DEPS);
      expect([v.reason, v.identity?.spiffeId]).toEqual(['NO_MATCHING_RULE', OTHER]);
    });

    it('never falls through from a malformed principal to a valid XFCC with PRINCIPAL_INVALID', () => {
      const v = authorize(trusted(), input({ principal: 'orders.internal', headers: { [XFCC]: `URI=${GOOD}` } }), DEPS);
      expect(v).toEqual(
        identityDeny('PRINCIPAL_INVALID', "principal: peer principal is not a SPIFFE ID (scheme is missing or invalid: expected the literal prefix 'spiffe://')"),
      );
    });

    it('denies a malformed trusted header even after a valid principal with XFCC_MALFORMED', () => {
      const v = authorize(trusted(), input({ principal: GOOD, headers: { [XFCC]: 'URI="unterminated' } }), DEPS);
      expect(v).toEqual(identityDeny('XFCC_MALFORMED', 'xfcc: unterminated quoted value in element 1'));
    });

    it('reports the first failing source in list order', () => {
      const header = { [XFCC]: 'URI="unterminated' };
      expect(authorize(trusted(), input({ principal: 'CN=x', headers: header }), DEPS).reason).toBe('PRINCIPAL_INVALID');
      expect(authorize(trusted('', '[xfcc, principal]'), input({ principal: 'CN=x', headers: header }), DEPS).reason).toBe('XFCC_MALFORMED');
    });

    it('denies a principal and a hop-peer XFCC naming different IDs with IDENTITY_CONFLICT', () => {
      const v = authorize(trusted(), input({ principal: GOOD, headers: { [XFCC]: `URI=${OTHER}` } }), DEPS);
      expect(v).toEqual(identityDeny('IDENTITY_CONFLICT', `principal says ${GOOD} but xfcc says ${OTHER}`));
    });

    it('names the conflicting sources in list order with IDENTITY_CONFLICT', () => {
      const v = authorize(trusted(', hop: peer', '[xfcc, principal]'), input({ principal: GOOD, headers: { [XFCC]: `URI=${OTHER}` } }), DEPS);
      expect(v).toEqual(identityDeny('IDENTITY_CONFLICT', `xfcc says ${OTHER} but principal says ${GOOD}`));
    });

    it('records xfcc as agreeing when the principal and the XFCC name the same ID, with ALLOWED', () => {
      const v = authorize(trusted(), input({ principal: GOOD, headers: { [XFCC]: `URI=${GOOD}` } }), DEPS);
      expect([v.reason, v.identity]).toEqual(['ALLOWED', { ...caller(GOOD), agreed: ['xfcc'] }]);
    });

    it('takes the identity from the first source and records the other as agreeing, with ALLOWED', () => {
      const v = authorize(trusted('', '[xfcc, principal]'), input({ principal: GOOD, headers: { [XFCC]: `URI=${GOOD}` } }), DEPS);
      expect([v.reason, v.identity]).toEqual(['ALLOWED', { ...caller(GOOD, 'xfcc'), agreed: ['principal'] }]);
    });

    // Behind a gateway (hop: origin) the verified peer is the gateway itself: it is not compared with
    // the client the XFCC names, and it must be one of trustedProxies.
    const origin = `, hop: origin, trustedProxies: ["${GATEWAY}"]`;

    it('with hop: origin takes a present principal before XFCC in source order, without conflict, with NO_MATCHING_RULE', () => {
      const v = authorize(trusted(origin), input({ principal: GATEWAY, headers: { [XFCC]: `By=${GATEWAY};URI=${OTHER}` } }), DEPS);
      expect([v.reason, v.identity]).toEqual(['NO_MATCHING_RULE', caller(GATEWAY)]);
    });

    it('with hop: origin takes XFCC first when it is listed first, without conflict, with NO_MATCHING_RULE', () => {
      const v = authorize(trusted(origin, '[xfcc, principal]'), input({ principal: GATEWAY, headers: { [XFCC]: `By=${GATEWAY};URI=${OTHER}` } }), DEPS);
      expect([v.reason, v.identity]).toEqual(['NO_MATCHING_RULE', caller(OTHER, 'xfcc')]);
    });

    it('with hop: origin accepts the forwarded client when the peer is a trusted proxy, with ALLOWED', () => {
      const v = authorize(trusted(origin, '[xfcc, principal]'), input({ principal: GATEWAY, headers: { [XFCC]: `By=${GATEWAY};URI=${GOOD}` } }), DEPS);
      expect([v.reason, v.identity]).toEqual(['ALLOWED', caller(GOOD, 'xfcc')]);
    });

    it.each([
      ['another workload', OTHER],
      ['no verified peer', ''],
    ])('with hop: origin refuses XFCC forwarded by %s with XFCC_UNTRUSTED_HOP', (_what, principal) => {
      const v = authorize(trusted(origin, '[xfcc, principal]'), input({ principal, headers: { [XFCC]: `By=${GATEWAY};URI=${GOOD}` } }), DEPS);
      expect([v.reason, v.effect, v.identity]).toEqual(['XFCC_UNTRUSTED_HOP', 'deny', undefined]);
    });

    it('treats a blank header as absent with UNAUTHENTICATED', () => {
      const v = authorize(trusted(), input({ headers: { [XFCC]: '  \t ' } }), DEPS);
      expect(v).toEqual(identityDeny('UNAUTHENTICATED', 'no caller identity in any of: principal, xfcc'));
    });

    it('treats a blank header as absent next to a principal with ALLOWED', () => {
      const v = authorize(trusted(), input({ principal: GOOD, headers: { [XFCC]: '' } }), DEPS);
      expect([v.reason, v.identity]).toEqual(['ALLOWED', caller(GOOD)]);
    });

    describe('trustedProxies', () => {
      const pinned = (): ConfigSnapshot => trusted(`, trustedProxies: ["${GATEWAY}"]`);

      it('accepts a last element written by a trusted proxy with ALLOWED', () => {
        const v = authorize(pinned(), input({ headers: { [XFCC]: `By=${GATEWAY};URI=${GOOD}` } }), DEPS);
        expect([v.reason, v.identity]).toEqual(['ALLOWED', caller(GOOD, 'xfcc')]);
      });

      it('pins only the last element, not earlier ones, with ALLOWED', () => {
        const v = authorize(pinned(), input({ headers: { [XFCC]: `By=spiffe://${PROD}/evil;URI=${OTHER},By=${GATEWAY};URI=${GOOD}` } }), DEPS);
        expect([v.reason, v.identity]).toEqual(['ALLOWED', caller(GOOD, 'xfcc')]);
      });

      it('denies a last element written by another proxy with XFCC_UNTRUSTED_HOP', () => {
        const v = authorize(pinned(), input({ headers: { [XFCC]: `By=${GATEWAY};URI=${OTHER},By=spiffe://${PROD}/evil;URI=${GOOD}` } }), DEPS);
        expect(v).toEqual(identityDeny('XFCC_UNTRUSTED_HOP', `xfcc: the last XFCC element was written by spiffe://${PROD}/evil, not a trusted proxy`));
      });

      it('denies a last element with a trusted and an untrusted By with XFCC_UNTRUSTED_HOP', () => {
        const v = authorize(pinned(), input({ headers: { [XFCC]: `By=${GATEWAY};By=spiffe://${PROD}/evil;URI=${GOOD}` } }), DEPS);
        expect(v).toEqual(identityDeny('XFCC_UNTRUSTED_HOP', `xfcc: the last XFCC element was written by spiffe://${PROD}/evil, not a trusted proxy`));
      });

      it('denies a last element without By with XFCC_UNTRUSTED_HOP', () => {
        const v = authorize(pinned(), input({ headers: { [XFCC]: `URI=${GOOD}` } }), DEPS);
        expect(v).toEqual(identityDeny('XFCC_UNTRUSTED_HOP', 'xfcc: the last XFCC element has no By, and identity.xfcc.trustedProxies is set'));
      });
    });

    it.each([
      ['an unterminated quote', 'URI="unterminated', 'XFCC_MALFORMED', 'xfcc: unterminated quoted value in element 1'],
      ['an empty element', `URI=${GOOD},`, 'XFCC_MALFORMED', 'xfcc: element 2 is empty'],
      ['no URI in the element', `By=spiffe://${PROD}/gw;Hash=abc`, 'XFCC_NO_URI', 'xfcc: the last XFCC element has no URI'],
      ['an empty URI', 'URI=', 'XFCC_NO_URI', 'xfcc: the last XFCC element has no URI'],
      ['a URI only in an earlier element', `URI=${GOOD},By=x`, 'XFCC_NO_URI', 'xfcc: the last XFCC element has no URI'],
      ['two URIs', `URI=${GOOD};URI=${OTHER}`, 'XFCC_MULTIPLE_URIS', 'xfcc: the last XFCC element has 2 URI values'],
      ['an empty URI next to a valid one', `URI=;URI=${GOOD}`, 'XFCC_MULTIPLE_URIS', 'xfcc: the last XFCC element has 2 URI values'],
      [
        'an https URI',
        'URI=https://example.com/a',
        'XFCC_INVALID_SPIFFE_ID',
        "xfcc: XFCC URI is not a SPIFFE ID (scheme is missing or invalid: expected the literal prefix 'spiffe://')",
      ],
      ['a trust-domain ID', `URI=spiffe://${PROD}`, 'XFCC_INVALID_SPIFFE_ID', 'xfcc: XFCC URI is a trust-domain ID without a workload path'],
      [
        'an upper-case trust domain',
        'URI=spiffe://Prod.example.org/a',
        'XFCC_INVALID_SPIFFE_ID',
        "xfcc: XFCC URI is not a SPIFFE ID (bad trust domain character 'P' at index 9)",
      ],
      ['a header over maxBytes', `URI=${'x'.repeat(300)}`, 'XFCC_TOO_LARGE', 'xfcc: header is longer than 256 bytes'],
      ['more elements than maxElements', 'URI=a,URI=b,URI=c', 'XFCC_TOO_LARGE', 'xfcc: more than 2 elements'],
    ])('denies %s with %s', (_name, header, reason, detail) => {
      const v = authorize(trusted(), input({ headers: { [XFCC]: header } }), DEPS);
      expect(v).toEqual(identityDeny(reason as Verdict['reason'], detail));
    });
  });

  describe('route identity', () => {
    const XFCC = 'x-forwarded-client-cert';
    const snap = snapshotOf(
      configFor(
        'enforce',
        [
          '  - name: via-gateway',
          '    match: {paths: ["/gw/**"]}',
          '    identity: {sources: [xfcc]}',
          '    allow:',
          `      ${PROD}: ["/ns/checkout/sa/*"]`,
          '  - name: by-cert',
          '    match: {paths: ["/cert/**"]}',
          '    identity: {sources: [certificate]}',
          '    allow:',
          `      ${PROD}: ["**"]`,
          '  - name: jwt-only',
          '    match: {paths: ["/jwt/**"]}',
          '    identity: {sources: [principal, jwt], requireJwtSvid: true}',
          '    allow:',
          `      ${PROD}: ["**"]`,
          '',
        ].join('\n'),
      ).replace('xfcc: {trusted: false}', 'xfcc: {trusted: true}, jwt: {audiences: [orders.internal]}'),
    );
    const onRoute = (route: string, reason: Verdict['reason'], detail: string): Verdict => ({
      decisionId: DECISION_ID,
      route,
      mode: 'enforce',
      enforcePercent: 100,
      decision: 'deny',
      effect: 'deny',
      reason,
      detail,
      rule: '',
      identity: undefined,
    });

    it('compiles the route lists over the global one', () => {
      expect(snap.routes.map((r) => [r.name, r.sources, r.requireJwtSvid])).toEqual([
        ['orders', ['principal', 'xfcc'], false],
        ['via-gateway', ['xfcc'], false],
        ['by-cert', ['certificate'], false],
        ['jwt-only', ['principal', 'jwt'], true],
      ]);
    });

    it('uses only the route’s sources: a malformed principal is not read, with ALLOWED', () => {
      const v = authorize(snap, input({ path: '/gw/x', principal: 'CN=x', headers: { [XFCC]: `URI=${GOOD}` } }), DEPS);
      expect([v.route, v.reason, v.identity]).toEqual(['via-gateway', 'ALLOWED', caller(GOOD, 'xfcc')]);
    });

    it('does not compare a principal the route does not list, with NO_MATCHING_RULE', () => {
      const v = authorize(snap, input({ path: '/gw/x', principal: GOOD, headers: { [XFCC]: `URI=${OTHER}` } }), DEPS);
      expect([v.route, v.reason, v.identity]).toEqual(['via-gateway', 'NO_MATCHING_RULE', caller(OTHER, 'xfcc')]);
    });

    it('names the route’s sources when none is present, with UNAUTHENTICATED', () => {
      const v = authorize(snap, input({ path: '/gw/x', principal: GOOD }), DEPS);
      expect(v).toEqual(onRoute('via-gateway', 'UNAUTHENTICATED', 'no caller identity in any of: xfcc'));
    });

    it('keeps the global sources on other routes, with PRINCIPAL_INVALID', () => {
      const v = authorize(snap, input({ principal: 'CN=x', headers: { [XFCC]: `URI=${GOOD}` } }), DEPS);
      expect([v.route, v.reason]).toEqual(['orders', 'PRINCIPAL_INVALID']);
    });

    it('denies an undecodable peer certificate with CERT_MALFORMED', () => {
      const v = authorize(snap, input({ path: '/cert/x', principal: GOOD, certificate: '%zz' }), DEPS);
      expect(v).toEqual(onRoute('by-cert', 'CERT_MALFORMED', 'certificate: malformed percent-escape at index 0'));
    });

    it('denies a route with requireJwtSvid and no token, even with a valid principal, with JWT_REQUIRED', () => {
      const v = authorize(snap, input({ path: '/jwt/x', principal: GOOD }), DEPS);
      expect(v).toEqual(onRoute('jwt-only', 'JWT_REQUIRED', 'route "jwt-only" requires a JWT-SVID'));
    });

    it('treats a non-Bearer authorization header as no token with JWT_REQUIRED', () => {
      const v = authorize(snap, input({ path: '/jwt/x', principal: GOOD, headers: { authorization: 'Basic dXNlcjpwdw==' } }), DEPS);
      expect(v).toEqual(onRoute('jwt-only', 'JWT_REQUIRED', 'route "jwt-only" requires a JWT-SVID'));
    });

    it('denies a malformed Bearer header before any verification with JWT_MALFORMED', () => {
      const v = authorize(snap, input({ path: '/jwt/x', principal: GOOD, headers: { authorization: 'Bearer a,Bearer b' } }), DEPS);
      expect(v).toEqual(onRoute('jwt-only', 'JWT_MALFORMED', 'jwt: authorization header holds several credentials (merged headers?)'));
    });

    it('reports a malformed principal before a missing token with PRINCIPAL_INVALID', () => {
      const v = authorize(snap, input({ path: '/jwt/x', principal: 'CN=x' }), DEPS);
      expect([v.route, v.reason]).toEqual(['jwt-only', 'PRINCIPAL_INVALID']);
    });
  });

  describe('internal errors', () => {
    /** A copy of the snapshot whose "orders" route (in `mode`) throws when its rules are read. */
    function explodingSnapshot(mode: Mode): ConfigSnapshot {
      const base = snapshotOf(configFor(mode));
      const orders = base.routesByName.get('orders') as CompiledRoute;
      const rules = new Proxy(orders.rules, {
        get(target, prop) {
          if (prop === 'get') {
            return (): TrustDomainRules => {
              throw new Error('rules exploded');
            };
          }
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const broken: CompiledRoute = { ...orders, rules };
      return { ...base, routes: [broken], routesByName: new Map([['orders', broken]]), matchableRoutes: [broken as typeof base.matchableRoutes[number]] };
    }

    it.each<[Mode, Effect]>([
      ['shadow', 'allow'],
      ['warn', 'deny'],
      ['enforce', 'deny'],
    ])('fails a %s route to effect %s with INTERNAL_ERROR', (mode, effect) => {
      const v = authorize(explodingSnapshot(mode), input({ principal: GOOD, routeName: 'orders' }), DEPS);
      expect(v).toEqual<Verdict>({
        decisionId: DECISION_ID,
        route: 'orders',
        mode,
        enforcePercent: 100,
        decision: 'deny',
        effect,
        reason: 'INTERNAL_ERROR',
        detail: 'Error: rules exploded',
        rule: '',
        identity: undefined,
      });
    });

    it('fails closed when settingOf throws, since the effective mode is unknown, with INTERNAL_ERROR', () => {
      const deps: AuthorizeDeps = {
        ...DEPS,
        settingOf: () => {
          throw new TypeError('override store down');
        },
      };
      const v = authorize(snapshotOf(configFor('shadow')), input({ principal: GOOD }), deps);
      expect(v).toEqual<Verdict>({
        decisionId: DECISION_ID,
        route: 'orders',
        mode: 'enforce',
        enforcePercent: 100,
        decision: 'deny',
        effect: 'deny',
        reason: 'INTERNAL_ERROR',
        detail: 'TypeError: override store down',
        rule: '',
        identity: undefined,
      });
    });

    it('names the unmatched route when route selection itself throws with INTERNAL_ERROR', () => {
      const base = snapshotOf(configFor('shadow'));
      const routesByName = {
        get: (): CompiledRoute => {
          throw 'not an Error';
        },
      } as unknown as ConfigSnapshot['routesByName'];
      const v = authorize({ ...base, routesByName }, input({ routeName: 'orders' }), DEPS);
      expect([v.route, v.mode, v.decision, v.effect, v.reason, v.detail]).toEqual([
        '_unmatched',
        'enforce',
        'deny',
        'deny',
        'INTERNAL_ERROR',
        'non-Error thrown',
      ]);
    });
  });
});
