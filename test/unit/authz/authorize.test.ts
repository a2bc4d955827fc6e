// Tests for authorize(): route → identity → policy → rollout through real compiled configs, every
// mode against every kind of caller, XFCC handling (spec-notes §6.6, §7) and failing closed.
import { describe, expect, it } from 'vitest';
import { authorize, selectRoute, type AuthorizeDeps } from '../../../src/authz/authorize.js';
import type { CallerIdentity, CheckInput, Effect, Mode, Verdict } from '../../../src/authz/types.js';
import type { CompiledRoute, ConfigSnapshot, TrustDomainRules } from '../../../src/config/compile.js';
import { buildSnapshot } from '../../../src/config/load.js';

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

const DEPS: AuthorizeDeps = { newDecisionId: () => DECISION_ID, modeOf: (r) => r.mode };

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
  return { spiffeId, trustDomain: rest.slice(0, slash), path: rest.slice(slash), source };
}

/** Effect of a deny decision under each mode. */
const DENY_EFFECT: Record<Mode, Effect> = { shadow: 'allow', warn: 'warn', enforce: 'deny' };

interface Case {
  readonly name: string;
  readonly input: Partial<CheckInput>;
  readonly expected: (mode: Mode) => Omit<Verdict, 'decisionId' | 'mode'>;
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
      detail: 'no caller identity in any enabled source',
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
      detail: "peer principal is not a SPIFFE ID (scheme is missing or invalid: expected the literal prefix 'spiffe://')",
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
    expect(verdict).toEqual<Verdict>({ decisionId: DECISION_ID, mode, ...c.expected(mode) });
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
    it('uses the mode from modeOf, not the configured one, with NO_MATCHING_RULE', () => {
      const v = authorize(snapshotOf(configFor('shadow')), input({ principal: OTHER }), { ...DEPS, modeOf: () => 'enforce' });
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
    const trusted = (extra = ''): ConfigSnapshot =>
      snapshotOf(configFor('enforce').replace('xfcc: {trusted: false}', `xfcc: {trusted: true, maxBytes: 256, maxElements: 2}${extra}`));

    it('ignores the header when XFCC is not trusted with UNAUTHENTICATED', () => {
      const v = authorize(snapshotOf(configFor('enforce')), input({ headers: { [XFCC]: `URI=${GOOD}` } }), DEPS);
      expect([v.reason, v.effect, v.identity, v.detail]).toEqual([
        'UNAUTHENTICATED',
        'deny',
        undefined,
        'no caller identity (an x-forwarded-client-cert header was present but XFCC is not trusted by the config)',
      ]);
    });

    it('ignores a trusted header when xfcc is not in identity.sources with UNAUTHENTICATED', () => {
      const snap = snapshotOf(configFor('enforce').replace('sources: [principal, xfcc], xfcc: {trusted: false}', 'sources: [principal], xfcc: {trusted: true}'));
      const v = authorize(snap, input({ headers: { [XFCC]: `URI=${GOOD}` } }), DEPS);
      expect([v.reason, v.identity]).toEqual(['UNAUTHENTICATED', undefined]);
      expect(v.detail).toContain('x-forwarded-client-cert');
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
      expect([v.reason, v.effect, v.identity]).toEqual(['PRINCIPAL_INVALID', 'deny', undefined]);
    });

    it('takes a present principal before XFCC in the default source order with ALLOWED', () => {
      const v = authorize(trusted(), input({ principal: GOOD, headers: { [XFCC]: `URI=${OTHER}` } }), DEPS);
      expect([v.reason, v.identity]).toEqual(['ALLOWED', caller(GOOD)]);
    });

    it('takes XFCC first when it is listed first with NO_MATCHING_RULE', () => {
      const snap = snapshotOf(
        configFor('enforce').replace('sources: [principal, xfcc], xfcc: {trusted: false}', 'sources: [xfcc, principal], xfcc: {trusted: true}'),
      );
      const v = authorize(snap, input({ principal: GOOD, headers: { [XFCC]: `URI=${OTHER}` } }), DEPS);
      expect([v.reason, v.identity]).toEqual(['NO_MATCHING_RULE', caller(OTHER, 'xfcc')]);
    });

    it('treats a blank header as absent with UNAUTHENTICATED', () => {
      const v = authorize(trusted(), input({ headers: { [XFCC]: '  \t ' } }), DEPS);
      expect([v.reason, v.detail]).toEqual(['UNAUTHENTICATED', 'no caller identity in any enabled source']);
    });

    it.each([
      ['an unterminated quote', 'URI="unterminated', 'XFCC_MALFORMED', 'unterminated quoted value in element 1'],
      ['an empty element', `URI=${GOOD},`, 'XFCC_MALFORMED', 'element 2 is empty'],
      ['no URI in the element', `By=spiffe://${PROD}/gw;Hash=abc`, 'XFCC_NO_URI', 'the last x-forwarded-client-cert element has no URI'],
      ['an empty URI', 'URI=', 'XFCC_NO_URI', 'the last x-forwarded-client-cert element has no URI'],
      ['a URI only in an earlier element', `URI=${GOOD},By=x`, 'XFCC_NO_URI', 'the last x-forwarded-client-cert element has no URI'],
      ['two URIs', `URI=${GOOD};URI=${OTHER}`, 'XFCC_MULTIPLE_URIS', 'the last x-forwarded-client-cert element has 2 URI values'],
      ['an empty URI next to a valid one', `URI=;URI=${GOOD}`, 'XFCC_MULTIPLE_URIS', 'the last x-forwarded-client-cert element has 2 URI values'],
      [
        'an https URI',
        'URI=https://example.com/a',
        'XFCC_INVALID_SPIFFE_ID',
        "XFCC URI is not a SPIFFE ID (scheme is missing or invalid: expected the literal prefix 'spiffe://')",
      ],
      ['a trust-domain ID', `URI=spiffe://${PROD}`, 'XFCC_INVALID_SPIFFE_ID', 'XFCC URI is a trust-domain ID without a workload path'],
      [
        'an upper-case trust domain',
        'URI=spiffe://Prod.example.org/a',
        'XFCC_INVALID_SPIFFE_ID',
        "XFCC URI is not a SPIFFE ID (bad trust domain character 'P' at index 9)",
      ],
      ['a header over maxBytes', `URI=${'x'.repeat(300)}`, 'XFCC_TOO_LARGE', 'header is longer than 256 bytes'],
      ['more elements than maxElements', 'URI=a,URI=b,URI=c', 'XFCC_TOO_LARGE', 'more than 2 elements'],
    ])('denies %s with %s', (_name, header, reason, detail) => {
      const v = authorize(trusted(), input({ headers: { [XFCC]: header } }), DEPS);
      expect(v).toEqual<Verdict>({
        decisionId: DECISION_ID,
        route: 'orders',
        mode: 'enforce',
        decision: 'deny',
        effect: 'deny',
        reason: reason as Verdict['reason'],
        detail,
        rule: '',
        identity: undefined,
      });
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
        decision: 'deny',
        effect,
        reason: 'INTERNAL_ERROR',
        detail: 'Error: rules exploded',
        rule: '',
        identity: undefined,
      });
    });

    it('fails closed when modeOf throws, since the effective mode is unknown, with INTERNAL_ERROR', () => {
      const deps: AuthorizeDeps = {
        ...DEPS,
        modeOf: () => {
          throw new TypeError('override store down');
        },
      };
      const v = authorize(snapshotOf(configFor('shadow')), input({ principal: GOOD }), deps);
      expect(v).toEqual<Verdict>({
        decisionId: DECISION_ID,
        route: 'orders',
        mode: 'enforce',
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
