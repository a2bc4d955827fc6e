// Tests for evaluatePolicy: trust-domain scoping (spec-notes §1.7), deny beats allow, nothing
// allows by default, "**" = any workload of that trust domain.
import { describe, expect, it } from 'vitest';
import type { CallerIdentity } from '../../../src/authz/types.js';
import type { CompiledRoute, ConfigSnapshot } from '../../../src/config/compile.js';
import { buildSnapshot } from '../../../src/config/load.js';
import { evaluatePolicy, type PolicyOutcome } from '../../../src/policy/evaluate-policy.js';

const PROD = 'prod.example.org';
const PARTNER = 'partner.example.com';

const CONFIG = `
trustDomains: [${PROD}, ${PARTNER}, empty.example.net]
routes:
  - name: orders
    allow:
      ${PROD}: ["/ns/checkout/sa/*", "/ns/ops/sa/admin"]
      ${PARTNER}: ["/billing/**"]
    deny:
      ${PROD}: ["/ns/checkout/sa/legacy"]
  - name: open-prod
    allow:
      ${PROD}: ["**"]
    deny:
      ${PROD}: ["/ns/untrusted/**"]
  - name: deny-only
    deny:
      ${PARTNER}: ["**"]
  - name: no-rules
`;

const snapshot: ConfigSnapshot = (() => {
  const r = buildSnapshot(CONFIG, 'test', 0);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
})();

function routeNamed(name: string): CompiledRoute {
  const r = snapshot.routesByName.get(name);
  if (r === undefined) throw new Error(name);
  return r;
}

function id(trustDomain: string, path: string): CallerIdentity {
  return { spiffeId: `spiffe://${trustDomain}${path}`, trustDomain, path, source: 'principal', agreed: [] };
}

function evaluate(route: string, trustDomain: string, path: string): PolicyOutcome {
  return evaluatePolicy(routeNamed(route), id(trustDomain, path), snapshot.trustDomains);
}

const noMatch = (route: string): PolicyOutcome => ({
  decision: 'deny',
  reason: 'NO_MATCHING_RULE',
  rule: '',
  detail: `no allow rule of route "${route}" matches this ID`,
});

const allowed = (rule: string): PolicyOutcome => ({ decision: 'allow', reason: 'ALLOWED', rule, detail: `matched ${rule}` });
const denied = (rule: string): PolicyOutcome => ({ decision: 'deny', reason: 'DENIED_BY_RULE', rule, detail: `matched ${rule}` });

describe('evaluatePolicy', () => {
  it('allows a caller an allow rule matches with ALLOWED', () => {
    expect(evaluate('orders', PROD, '/ns/checkout/sa/web')).toEqual(allowed(`allow["${PROD}"][0]`));
    expect(evaluate('orders', PROD, '/ns/ops/sa/admin')).toEqual(allowed(`allow["${PROD}"][1]`));
    expect(evaluate('orders', PARTNER, '/billing/x/y')).toEqual(allowed(`allow["${PARTNER}"][0]`));
  });

  it('denies a caller a deny rule matches, even when an allow rule matches too, with DENIED_BY_RULE', () => {
    // "/ns/checkout/sa/legacy" matches allow "/ns/checkout/sa/*" as well.
    expect(evaluate('orders', PROD, '/ns/checkout/sa/legacy')).toEqual(denied(`deny["${PROD}"][0]`));
    expect(evaluate('open-prod', PROD, '/ns/untrusted/sa/x')).toEqual(denied(`deny["${PROD}"][0]`));
  });

  it('denies a caller of a listed trust domain no rule matches with NO_MATCHING_RULE', () => {
    expect(evaluate('orders', PROD, '/ns/checkout/sa/web/extra')).toEqual(noMatch('orders'));
    expect(evaluate('orders', PROD, '/ns/ops/sa/admin2')).toEqual(noMatch('orders'));
    expect(evaluate('orders', PARTNER, '/billingx')).toEqual(noMatch('orders'));
  });

  it('denies a listed trust domain without rules on the route with NO_MATCHING_RULE', () => {
    expect(evaluate('orders', 'empty.example.net', '/anything')).toEqual(noMatch('orders'));
    expect(evaluate('no-rules', PROD, '/ns/checkout/sa/web')).toEqual(noMatch('no-rules'));
  });

  it('denies when only deny rules exist and none matches with NO_MATCHING_RULE', () => {
    expect(evaluate('deny-only', PROD, '/a')).toEqual(noMatch('deny-only'));
    expect(evaluate('deny-only', PARTNER, '/a')).toEqual(denied(`deny["${PARTNER}"][0]`));
  });

  it.each([
    ['other.org', 'trust domain "other.org" is not configured'],
    ['example.org', 'trust domain "example.org" is not configured'],
    ['prod.example.org.evil.com', 'trust domain "prod.example.org.evil.com" is not configured'],
    ['evil-prod.example.org', 'trust domain "evil-prod.example.org" is not configured'],
  ])('denies an ID of the unlisted trust domain %s with UNKNOWN_TRUST_DOMAIN', (td, detail) => {
    expect(evaluate('open-prod', td, '/ns/checkout/sa/web')).toEqual({ decision: 'deny', reason: 'UNKNOWN_TRUST_DOMAIN', rule: '', detail });
  });

  it('checks the trust domain list before any rule with UNKNOWN_TRUST_DOMAIN', () => {
    const narrowed = new Set([PARTNER]);
    expect(evaluatePolicy(routeNamed('open-prod'), id(PROD, '/a'), narrowed).reason).toBe('UNKNOWN_TRUST_DOMAIN');
  });

  describe('trust-domain isolation', () => {
    it('never applies a partner.example.com rule to a prod.example.org ID with NO_MATCHING_RULE', () => {
      // The same path is allowed under partner.example.com ("/billing/**").
      expect(evaluate('orders', PROD, '/billing/x')).toEqual(noMatch('orders'));
    });

    it('never applies a prod.example.org rule to a partner.example.com ID with NO_MATCHING_RULE', () => {
      expect(evaluate('orders', PARTNER, '/ns/checkout/sa/web')).toEqual(noMatch('orders'));
      expect(evaluate('orders', PARTNER, '/ns/ops/sa/admin')).toEqual(noMatch('orders'));
    });

    it('never lets "**" of one trust domain allow another with NO_MATCHING_RULE', () => {
      expect(evaluate('open-prod', PARTNER, '/anything')).toEqual(noMatch('open-prod'));
    });

    it('never lets a deny rule of one trust domain deny an ID of another', () => {
      // deny-only denies "**" of partner.example.com; a prod ID is merely not allowed, not denied by that rule.
      expect(evaluate('deny-only', PROD, '/x').reason).toBe('NO_MATCHING_RULE');
      expect(evaluate('open-prod', PROD, '/billing/x')).toEqual(allowed(`allow["${PROD}"][0]`));
    });
  });

  describe('"**"', () => {
    it.each(['/a', '/a/b/c', '/ns/checkout/sa/legacy', '/...'])('allows any workload %j of its trust domain with ALLOWED', (path) => {
      expect(evaluate('open-prod', PROD, path)).toEqual(allowed(`allow["${PROD}"][0]`));
    });
  });
});
