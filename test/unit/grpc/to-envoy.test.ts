// Tests for the Verdict → CheckResponse table (spec-notes §5.4): allow, warn and deny rendering,
// status codes, headers, body and dynamic_metadata.
import { describe, expect, it } from 'vitest';
import type { Reason } from '../../../src/authz/reasons.js';
import type { IdentitySource, Verdict } from '../../../src/authz/types.js';
import { REASON_HEADER, toEnvoy, verdictMetadata, WARNING_HEADER } from '../../../src/grpc/to-envoy.js';
import type { WireCheckResponse, WireHeaderOption } from '../../../src/grpc/wire.js';

const CALLER = { spiffeId: 'spiffe://prod.example.org/ns/a/sa/b', trustDomain: 'prod.example.org', path: '/ns/a/sa/b', source: 'principal', agreed: [] } as const;

const ALLOW: Verdict = {
  decisionId: 'd-allow',
  route: 'orders-read',
  mode: 'enforce',
  enforcePercent: 100,
  decision: 'allow',
  effect: 'allow',
  reason: 'ALLOWED',
  detail: 'matched allow["prod.example.org"][0]',
  rule: 'allow["prod.example.org"][0]',
  identity: CALLER,
};

const WARN: Verdict = {
  decisionId: 'd-warn',
  route: 'orders-write',
  mode: 'warn',
  enforcePercent: 100,
  decision: 'deny',
  effect: 'warn',
  reason: 'NO_MATCHING_RULE',
  detail: 'no allow rule of route "orders-write" matches this ID',
  rule: '',
  identity: CALLER,
};

const DENY: Verdict = {
  decisionId: 'd-deny',
  route: 'orders-write',
  mode: 'enforce',
  enforcePercent: 100,
  decision: 'deny',
  effect: 'deny',
  reason: 'DENIED_BY_RULE',
  detail: 'matched deny["prod.example.org"][0]',
  rule: 'deny["prod.example.org"][0]',
  identity: CALLER,
};

const UNAUTHENTICATED: Verdict = {
  ...DENY,
  decisionId: 'd-unauth',
  reason: 'UNAUTHENTICATED',
  detail: 'no caller identity in any of: principal, certificate, xfcc',
  rule: '',
  identity: undefined,
};

const overwrite = (key: string, value: string): WireHeaderOption => ({ header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });

describe('toEnvoy', () => {
  it('renders a plain allow as OK that strips a planted warning header', () => {
    expect(toEnvoy(ALLOW)).toEqual<WireCheckResponse>({
      status: { code: 0 },
      ok_response: { headers: [], headers_to_remove: ['x-spiffe-authz-warning'], response_headers_to_add: [] },
      dynamic_metadata: {
        fields: {
          decisionId: { stringValue: 'd-allow' },
          route: { stringValue: 'orders-read' },
          mode: { stringValue: 'enforce' },
          enforcePercent: { numberValue: 100 },
          decision: { stringValue: 'allow' },
          effect: { stringValue: 'allow' },
          reason: { stringValue: 'ALLOWED' },
          wouldDeny: { boolValue: false },
          spiffeId: { stringValue: 'spiffe://prod.example.org/ns/a/sa/b' },
          identitySource: { stringValue: 'principal' },
          agreedSources: { stringValue: '' },
        },
      },
    });
  });

  it('renders a shadow allow of a deny decision as OK with wouldDeny in the metadata with NO_MATCHING_RULE', () => {
    const r = toEnvoy({ ...WARN, mode: 'shadow', effect: 'allow' });
    expect(r.status).toEqual({ code: 0 });
    expect(r.ok_response).toEqual({ headers: [], headers_to_remove: [WARNING_HEADER], response_headers_to_add: [] });
    expect(r.denied_response).toBeUndefined();
    expect(r.dynamic_metadata.fields['wouldDeny']).toEqual({ boolValue: true });
    expect(r.dynamic_metadata.fields['decision']).toEqual({ stringValue: 'deny' });
    expect(r.dynamic_metadata.fields['effect']).toEqual({ stringValue: 'allow' });
  });

  it('renders warn as OK with the warning header to the upstream and to the caller with NO_MATCHING_RULE', () => {
    const r = toEnvoy(WARN);
    const warning = overwrite('x-spiffe-authz-warning', 'NO_MATCHING_RULE; route=orders-write');
    expect(r.status).toEqual({ code: 0 });
    expect(r.ok_response).toEqual({ headers: [warning], headers_to_remove: [], response_headers_to_add: [warning] });
    expect(r.denied_response).toBeUndefined();
    expect(r.dynamic_metadata.fields['wouldDeny']).toEqual({ boolValue: true });
    expect(r.dynamic_metadata.fields['effect']).toEqual({ stringValue: 'warn' });
  });

  it('renders an enforced policy deny as PERMISSION_DENIED and HTTP 403 with DENIED_BY_RULE', () => {
    expect(toEnvoy(DENY)).toEqual<WireCheckResponse>({
      status: { code: 7, message: 'DENIED_BY_RULE' },
      denied_response: {
        status: { code: 403 },
        headers: [overwrite('content-type', 'application/json'), overwrite(REASON_HEADER, 'DENIED_BY_RULE')],
        body: '{"reason":"DENIED_BY_RULE","route":"orders-write","decisionId":"d-deny"}',
      },
      dynamic_metadata: {
        fields: {
          decisionId: { stringValue: 'd-deny' },
          route: { stringValue: 'orders-write' },
          mode: { stringValue: 'enforce' },
          enforcePercent: { numberValue: 100 },
          decision: { stringValue: 'deny' },
          effect: { stringValue: 'deny' },
          reason: { stringValue: 'DENIED_BY_RULE' },
          wouldDeny: { boolValue: false },
          spiffeId: { stringValue: 'spiffe://prod.example.org/ns/a/sa/b' },
          identitySource: { stringValue: 'principal' },
          agreedSources: { stringValue: '' },
        },
      },
    });
  });

  it('renders a missing identity as UNAUTHENTICATED and HTTP 401 with null spiffeId with UNAUTHENTICATED', () => {
    const r = toEnvoy(UNAUTHENTICATED);
    expect(r.status).toEqual({ code: 16, message: 'UNAUTHENTICATED' });
    expect(r.denied_response?.status).toEqual({ code: 401 });
    expect(r.denied_response?.headers).toEqual([overwrite('content-type', 'application/json'), overwrite('x-spiffe-authz-reason', 'UNAUTHENTICATED')]);
    expect(JSON.parse(r.denied_response?.body ?? '')).toEqual({ reason: 'UNAUTHENTICATED', route: 'orders-write', decisionId: 'd-unauth' });
    expect(r.ok_response).toBeUndefined();
    expect(r.dynamic_metadata.fields['spiffeId']).toEqual({ nullValue: 'NULL_VALUE' });
    expect(r.dynamic_metadata.fields['identitySource']).toEqual({ nullValue: 'NULL_VALUE' });
    expect(r.dynamic_metadata.fields['agreedSources']).toEqual({ stringValue: '' });
  });

  it.each<[Reason, number, number]>([
    ['NO_ROUTE', 7, 403],
    ['UNAUTHENTICATED', 16, 401],
    ['PRINCIPAL_INVALID', 16, 401],
    ['XFCC_MALFORMED', 16, 401],
    ['XFCC_TOO_LARGE', 16, 401],
    ['XFCC_NO_URI', 16, 401],
    ['XFCC_MULTIPLE_URIS', 16, 401],
    ['XFCC_INVALID_SPIFFE_ID', 16, 401],
    ['XFCC_UNTRUSTED_HOP', 16, 401],
    ['CERT_MALFORMED', 16, 401],
    ['CERT_NOT_SVID', 16, 401],
    ['CERT_IS_CA', 16, 401],
    ['CERT_BAD_KEY_USAGE', 16, 401],
    ['CERT_EXPIRED', 16, 401],
    ['CERT_NOT_YET_VALID', 16, 401],
    ['CERT_UNTRUSTED', 16, 401],
    ['BUNDLE_UNAVAILABLE', 16, 401],
    ['JWT_REQUIRED', 16, 401],
    ['JWT_TOO_LARGE', 16, 401],
    ['JWT_MALFORMED', 16, 401],
    ['JWT_ALG_NOT_ALLOWED', 16, 401],
    ['JWT_BAD_HEADER', 16, 401],
    ['JWT_INVALID_SUBJECT', 16, 401],
    ['JWT_UNKNOWN_KEY', 16, 401],
    ['JWT_ALG_KEY_MISMATCH', 16, 401],
    ['JWT_BAD_SIGNATURE', 16, 401],
    ['JWT_MISSING_EXP', 16, 401],
    ['JWT_EXPIRED', 16, 401],
    ['JWT_NOT_YET_VALID', 16, 401],
    ['JWT_AUDIENCE_MISMATCH', 16, 401],
    ['IDENTITY_CONFLICT', 16, 401],
    ['UNKNOWN_TRUST_DOMAIN', 7, 403],
    ['DENIED_BY_RULE', 7, 403],
    ['NO_MATCHING_RULE', 7, 403],
    ['INTERNAL_ERROR', 7, 403],
    // An enforced deny can never be rendered as OK, even with an inconsistent reason.
    ['ALLOWED', 7, 403],
  ])('renders an enforced deny with %s as gRPC %i and HTTP %i', (reason, grpc, http) => {
    const r = toEnvoy({ ...DENY, reason });
    expect([r.status.code, r.status.message, r.denied_response?.status.code]).toEqual([grpc, reason, http]);
    expect(JSON.parse(r.denied_response?.body ?? '')).toEqual({ reason, route: 'orders-write', decisionId: 'd-deny' });
  });

  it('escapes the body as JSON', () => {
    const r = toEnvoy({ ...DENY, route: 'a"b\\c' });
    expect(JSON.parse(r.denied_response?.body ?? '')).toEqual({ reason: 'DENIED_BY_RULE', route: 'a"b\\c', decisionId: 'd-deny' });
  });
});

describe('verdictMetadata', () => {
  it.each<[string, Verdict, boolean]>([
    ['allow', ALLOW, false],
    ['shadow deny', { ...WARN, mode: 'shadow', effect: 'allow' }, true],
    ['warn', WARN, true],
    ['enforced deny', DENY, false],
  ])('sets wouldDeny for %s to %s', (_name, v, expected) => {
    expect(verdictMetadata(v).fields['wouldDeny']).toEqual({ boolValue: expected });
  });

  it('carries exactly the documented fields', () => {
    expect(Object.keys(verdictMetadata(ALLOW).fields).sort()).toEqual(
      ['agreedSources', 'decision', 'decisionId', 'effect', 'enforcePercent', 'identitySource', 'mode', 'reason', 'route', 'spiffeId', 'wouldDeny'].sort(),
    );
  });

  it.each(['certificate', 'xfcc', 'jwt'] as const)('names the %s source', (source) => {
    expect(verdictMetadata({ ...ALLOW, identity: { ...CALLER, source } }).fields['identitySource']).toEqual({ stringValue: source });
  });

  it.each<[string, readonly IdentitySource[], string]>([
    ['no other source', [], ''],
    ['one other source', ['xfcc'], 'xfcc'],
    ['several sources, in their order', ['certificate', 'xfcc', 'jwt'], 'certificate,xfcc,jwt'],
  ])('joins the agreeing sources with commas for %s', (_name, agreed, expected) => {
    expect(verdictMetadata({ ...ALLOW, identity: { ...CALLER, agreed } }).fields['agreedSources']).toEqual({ stringValue: expected });
  });

  it('sets agreedSources to "" without an identity', () => {
    expect(verdictMetadata(UNAUTHENTICATED).fields['agreedSources']).toEqual({ stringValue: '' });
  });
});
