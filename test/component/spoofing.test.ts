// Spoofing attempts through the real server (gRPC on loopback), each on an enforce route with its exact
// reason and effect: untrusted or forged XFCC, forged and look-alike SPIFFE IDs, certificates that are
// not caller SVIDs, JWT key and algorithm confusion, route confusion through the path or the host,
// and a caller planting the server's own warning header. Certificates and tokens are made at run time.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequest, type RequestSpec } from '../fixtures/check-request.js';
import { FIXTURE_AUDIENCE, b64json, createJwtIssuer, hs256Token, unsignedToken, type JwtIssuer } from '../fixtures/jwt-issuer.js';
import { headerValue, metadataOf, startTestServer, type TestServer } from '../fixtures/server.js';
import { createTestCa, envoyUrlEncode, type TestCa } from '../fixtures/test-ca.js';
import type { WireCheckResponse } from '../../src/grpc/wire.js';

const NOW = Date.now();
const EXP = Math.floor(NOW / 1000) + 300;
const PROD = 'prod.example.org';
const PARTNER = 'partner.example.com';
const WEB = `spiffe://${PROD}/ns/checkout/sa/web`;
const OTHER = `spiffe://${PROD}/ns/other/sa/web`;
const ADMIN = `spiffe://${PROD}/ns/ops/sa/admin`;
const GATEWAY = `spiffe://${PROD}/ns/edge/sa/gateway`;
const EVIL_PROXY = `spiffe://${PROD}/ns/evil/sa/proxy`;
const WARNING = 'x-spiffe-authz-warning';

let prodCa: TestCa;
let partnerCa: TestCa;
let rogueCa: TestCa;
let prodJwt: JwtIssuer;
let attackerJwt: JwtIssuer;
/** XFCC not trusted; principal, certificate, xfcc and jwt listed as sources. */
let main: TestServer;
/** XFCC trusted, written by a pinned gateway for the original client (hop: origin). */
let behindGateway: TestServer;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spiffe-authz-spoofing-'));
  prodCa = await createTestCa({ trustDomain: PROD, now: new Date(NOW) });
  partnerCa = await createTestCa({ trustDomain: PARTNER, now: new Date(NOW) });
  rogueCa = await createTestCa({ trustDomain: PROD, now: new Date(NOW) });
  prodJwt = await createJwtIssuer({ trustDomain: PROD, alg: 'ES256', kid: 'prod-k1', now: NOW });
  attackerJwt = await createJwtIssuer({ trustDomain: PROD, alg: 'ES256', kid: 'attacker-k1', now: NOW });
  const prodBundle = join(dir, 'prod.json');
  const partnerBundle = join(dir, 'partner.pem');
  writeFileSync(prodBundle, prodCa.spiffeBundleJson({ jwtKeys: [prodJwt.publicJwk] }));
  writeFileSync(partnerBundle, partnerCa.x509BundlePem());
  const trustDomains = `
trustDomains:
  - { name: ${PROD}, bundle: ${prodBundle} }
  - { name: ${PARTNER}, bundle: ${partnerBundle} }`;
  main = await startTestServer(
    `
identity:
  sources: [principal, certificate, xfcc, jwt]
  xfcc: { trusted: false }
  jwt: { audiences: [${FIXTURE_AUDIENCE}] }
defaults: { mode: enforce, unmatchedRoute: deny }
${trustDomains}
routes:
  - name: orders
    mode: enforce
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
  - name: orders-warn
    mode: warn
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
  - name: orders-shadow
    mode: shadow
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
  - name: public
    match: { paths: ["/public/**"] }
    mode: enforce
    allow: { ${PROD}: ["**"] }
  - name: admin
    match: { paths: ["/admin/**"] }
    mode: enforce
    allow: { ${PROD}: ["/ns/ops/sa/admin"] }
  - name: orders-host
    match: { hosts: ["orders.internal"] }
    mode: enforce
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
`,
    { clock: () => NOW, bundlePollMs: 0, configPollMs: 0 },
  );
  behindGateway = await startTestServer(
    `
identity:
  sources: [xfcc]
  xfcc: { trusted: true, hop: origin, trustedProxies: ["${GATEWAY}"] }
defaults: { mode: enforce, unmatchedRoute: deny }
${trustDomains}
routes:
  - name: orders
    mode: enforce
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
`,
    { clock: () => NOW, bundlePollMs: 0, configPollMs: 0 },
  );
});

afterAll(async () => {
  await main?.close();
  await behindGateway?.close();
});

/** The verdict as Envoy sees it: gRPC status, HTTP status of a deny (an enum name once decoded), and dynamic_metadata. */
interface Seen {
  readonly status: number;
  readonly http: unknown;
  readonly md: Record<string, unknown>;
  readonly res: WireCheckResponse;
}

async function call(server: TestServer, spec: RequestSpec): Promise<Seen> {
  const res = await server.check(checkRequest(spec));
  return { status: res.status?.code ?? 0, http: res.denied_response?.status.code, md: metadataOf(res), res };
}

/** A Check on the enforce route "orders" of the main server. */
function onOrders(spec: RequestSpec): Promise<Seen> {
  return call(main, { route: 'orders', ...spec });
}

/** Asserts an enforced deny with `reason`: 401/16 for identity reasons, 403/7 for policy reasons. */
function expectDenied(seen: Seen, reason: string, route = 'orders'): void {
  expect(seen.md).toMatchObject({ route, reason, decision: 'deny', effect: 'deny' });
  const identity = !['UNKNOWN_TRUST_DOMAIN', 'NO_MATCHING_RULE', 'DENIED_BY_RULE', 'NO_ROUTE'].includes(reason);
  expect(seen.status).toBe(identity ? 16 : 7);
  expect(seen.http).toBe(identity ? 'Unauthorized' : 'Forbidden');
  expect(headerValue(seen.res.denied_response?.headers, 'x-spiffe-authz-reason')).toBe(reason);
}

describe('untrusted XFCC', () => {
  it('ignores XFCC when it is not trusted and denies with UNAUTHENTICATED', async () => {
    const seen = await onOrders({ xfcc: `By=${GATEWAY};URI=${WEB}` });
    expectDenied(seen, 'UNAUTHENTICATED');
    expect(seen.md['spiffeId']).toBeNull();
  });

  it('never lets untrusted XFCC override the principal with NO_MATCHING_RULE', async () => {
    const seen = await onOrders({ principal: OTHER, xfcc: `By=${GATEWAY};URI=${WEB}` });
    expectDenied(seen, 'NO_MATCHING_RULE');
    expect(seen.md).toMatchObject({ spiffeId: OTHER, identitySource: 'principal', agreedSources: '' });
  });

  it('neither conflicts with nor joins the principal when it names someone else, with ALLOWED', async () => {
    const seen = await onOrders({ principal: WEB, xfcc: `By=${GATEWAY};URI=${ADMIN}` });
    expect(seen.md).toMatchObject({ reason: 'ALLOWED', effect: 'allow', spiffeId: WEB, identitySource: 'principal', agreedSources: '' });
  });

  it('never parses an untrusted XFCC, so a malformed one cannot deny with XFCC_MALFORMED', async () => {
    expect((await onOrders({ principal: WEB, xfcc: 'URI="unterminated' })).md).toMatchObject({ reason: 'ALLOWED' });
  });
});

describe('trusted XFCC behind a pinned gateway', () => {
  const viaGateway = (xfcc: string): Promise<Seen> => call(behindGateway, { route: 'orders', principal: GATEWAY, xfcc });

  it('accepts the last element written by the pinned gateway with ALLOWED', async () => {
    expect((await viaGateway(`By=${GATEWAY};Hash=ab;URI=${WEB}`)).md).toMatchObject({ reason: 'ALLOWED', spiffeId: WEB, identitySource: 'xfcc' });
  });

  it.each([
    ['another proxy', `By=${EVIL_PROXY};URI=${WEB}`],
    ['no By at all', `URI=${WEB}`],
    ['the gateway and another proxy', `By=${GATEWAY};By=${EVIL_PROXY};URI=${WEB}`],
    ['a good earlier hop but another proxy last', `By=${GATEWAY};URI=${WEB},By=${EVIL_PROXY};URI=${WEB}`],
    ['a By that only differs in case', `By=spiffe://${PROD}/ns/edge/sa/Gateway;URI=${WEB}`],
    ['a By with a trailing slash', `By=${GATEWAY}/;URI=${WEB}`],
  ])('denies a last element written by %s with XFCC_UNTRUSTED_HOP', async (_what, xfcc) => {
    expectDenied(await viaGateway(xfcc), 'XFCC_UNTRUSTED_HOP');
  });

  // Regression (threat model F1): with hop: origin this Envoy forwards the header its mTLS peer sent,
  // so "By" is only text that peer wrote; the element counts only when the Envoy-verified peer is
  // itself a pinned proxy.
  it.each([
    ['another mesh workload', OTHER],
    ['a peer without a client certificate', undefined],
  ])('denies XFCC forwarded by %s instead of the pinned gateway with XFCC_UNTRUSTED_HOP', async (_what, principal) => {
    const seen = await call(behindGateway, { route: 'orders', ...(principal !== undefined ? { principal } : {}), xfcc: `By=${GATEWAY};URI=${WEB}` });
    expectDenied(seen, 'XFCC_UNTRUSTED_HOP');
  });

  it('never uses a good identity that is only in an earlier element, with NO_MATCHING_RULE', async () => {
    const seen = await viaGateway(`By=${GATEWAY};URI=${WEB},By=${GATEWAY};URI=${OTHER}`);
    expectDenied(seen, 'NO_MATCHING_RULE');
    expect(seen.md['spiffeId']).toBe(OTHER);
  });

  it.each([
    ['no URI', 'XFCC_NO_URI', `By=${GATEWAY};URI=${WEB},By=${GATEWAY};DNS=web.internal`],
    ['an empty URI', 'XFCC_NO_URI', `By=${GATEWAY};URI=${WEB},By=${GATEWAY};URI=`],
    ['two URIs', 'XFCC_MULTIPLE_URIS', `By=${GATEWAY};URI=${WEB};URI=${OTHER}`],
    ['a look-alike URI', 'XFCC_INVALID_SPIFFE_ID', `By=${GATEWAY};URI=${WEB},By=${GATEWAY};URI=spiffe://Prod.example.org/ns/checkout/sa/web`],
    ['a root URI', 'XFCC_INVALID_SPIFFE_ID', `By=${GATEWAY};URI=spiffe://${PROD}`],
    ['an unterminated quote', 'XFCC_MALFORMED', `By=${GATEWAY};URI="${WEB}`],
  ])('denies a last element with %s with %s, never falling back to an earlier one', async (_what, reason, xfcc) => {
    expectDenied(await viaGateway(xfcc), reason);
  });

  it('never reads a URI smuggled inside a quoted value, with NO_MATCHING_RULE', async () => {
    const seen = await viaGateway(`By=${GATEWAY};Subject="CN=x,URI=${WEB};By=${GATEWAY}";URI=${OTHER}`);
    expectDenied(seen, 'NO_MATCHING_RULE');
    expect(seen.md['spiffeId']).toBe(OTHER);
  });
});

describe('look-alike SPIFFE IDs', () => {
  it.each([
    ['a suffix-extended trust domain', `spiffe://${PROD}.evil.com/ns/checkout/sa/web`],
    ['a prefix-extended trust domain', `spiffe://evil-${PROD}/ns/checkout/sa/web`],
    ['a parent trust domain', 'spiffe://example.org/ns/checkout/sa/web'],
    ['a sub-domain trust domain', `spiffe://a.${PROD}/ns/checkout/sa/web`],
    ['a trailing dot (a distinct trust domain)', `spiffe://${PROD}./ns/checkout/sa/web`],
  ])('denies %s with UNKNOWN_TRUST_DOMAIN', async (_what, principal) => {
    const seen = await onOrders({ principal });
    expectDenied(seen, 'UNKNOWN_TRUST_DOMAIN');
    expect(seen.md['spiffeId']).toBe(principal);
  });

  it.each([
    ['an upper-case trust domain', 'spiffe://Prod.example.org/ns/checkout/sa/web'],
    ['an upper-case scheme', `SPIFFE://${PROD}/ns/checkout/sa/web`],
    ['a percent-encoded dot segment', `spiffe://${PROD}/ns/%2e%2e/sa/x`],
    ['a dot-dot segment', `spiffe://${PROD}/ns/../sa/admin`],
    ['a dot segment', `spiffe://${PROD}/ns/checkout/./sa/web`],
    ['an empty segment', `spiffe://${PROD}/ns//checkout/sa/web`],
    ['a trailing slash', `${WEB}/`],
    ['a port', `spiffe://${PROD}:443/ns/checkout/sa/web`],
    ['userinfo', `spiffe://web@${PROD}/ns/checkout/sa/web`],
    ['a query', `${WEB}?sa=admin`],
    ['a fragment', `${WEB}#admin`],
    ['a backslash', `spiffe://${PROD}/ns\\checkout/sa/web`],
    ['a root ID', `spiffe://${PROD}`],
    ['a DNS SAN', 'web.checkout.svc.cluster.local'],
    ['a subject DN', 'CN=web,O=checkout'],
  ])('denies a principal with %s with PRINCIPAL_INVALID', async (_what, principal) => {
    const seen = await onOrders({ principal });
    expectDenied(seen, 'PRINCIPAL_INVALID');
    expect(seen.md['spiffeId']).toBeNull();
  });

  it('denies a certificate for a look-alike trust domain with UNKNOWN_TRUST_DOMAIN', async () => {
    const svid = await prodCa.issueSvid({ spiffeId: `spiffe://${PROD}.evil.com/ns/checkout/sa/web` });
    expectDenied(await onOrders({ certificate: svid.envoyEncoded }), 'UNKNOWN_TRUST_DOMAIN');
  });
});

describe('peer certificates that are not caller SVIDs', () => {
  // verifyX509Svid checks, in order: one URI SAN → a SPIFFE ID with a workload path → not a CA.
  it('denies the trust domain CA itself (root ID in its SAN) with CERT_NOT_SVID', async () => {
    expectDenied(await onOrders({ certificate: envoyUrlEncode(prodCa.certPem) }), 'CERT_NOT_SVID');
  });

  it('denies an intermediate CA with CERT_NOT_SVID', async () => {
    const inter = await prodCa.issueIntermediate();
    expectDenied(await onOrders({ certificate: envoyUrlEncode(inter.certPem) }), 'CERT_NOT_SVID');
  });

  it('denies a CA certificate that carries a workload ID with CERT_IS_CA, even with a matching principal', async () => {
    const ca = await prodCa.issueSvid({ spiffeId: WEB, isCa: true });
    expectDenied(await onOrders({ principal: WEB, certificate: ca.envoyEncoded }), 'CERT_IS_CA');
  });

  it('denies a leaf with keyCertSign with CERT_BAD_KEY_USAGE', async () => {
    const svid = await prodCa.issueSvid({ spiffeId: WEB, keyUsage: 1 | 32 });
    expectDenied(await onOrders({ certificate: svid.envoyEncoded }), 'CERT_BAD_KEY_USAGE');
  });

  it('denies a two-URI certificate with CERT_NOT_SVID even when the principal shows only the first', async () => {
    const svid = await prodCa.issueSvid({ uris: [WEB, ADMIN] });
    expectDenied(await onOrders({ principal: WEB, certificate: svid.envoyEncoded }), 'CERT_NOT_SVID');
    expectDenied(await onOrders({ certificate: svid.envoyEncoded }), 'CERT_NOT_SVID');
  });

  it('denies an expired certificate with CERT_EXPIRED, even with a matching principal', async () => {
    const svid = await prodCa.issueSvid({ spiffeId: WEB, notBefore: new Date(NOW - 7_200_000), notAfter: new Date(NOW - 60_000) });
    expectDenied(await onOrders({ principal: WEB, certificate: svid.envoyEncoded }), 'CERT_EXPIRED');
  });

  it('denies a certificate that is not valid yet with CERT_NOT_YET_VALID', async () => {
    const svid = await prodCa.issueSvid({ spiffeId: WEB, notBefore: new Date(NOW + 60_000), notAfter: new Date(NOW + 7_200_000) });
    expectDenied(await onOrders({ certificate: svid.envoyEncoded }), 'CERT_NOT_YET_VALID');
  });

  it('denies a prod SAN signed by the partner trust domain’s CA with CERT_UNTRUSTED', async () => {
    const svid = await partnerCa.issueSvid({ spiffeId: WEB });
    expectDenied(await onOrders({ certificate: svid.envoyEncoded }), 'CERT_UNTRUSTED');
  });

  it('denies a prod SAN signed by a self-made "prod" CA with CERT_UNTRUSTED, even with a matching principal', async () => {
    const svid = await rogueCa.issueSvid({ spiffeId: WEB });
    expectDenied(await onOrders({ principal: WEB, certificate: svid.envoyEncoded }), 'CERT_UNTRUSTED');
  });

  it('denies a form-decoded ("+" as space) certificate with CERT_MALFORMED', async () => {
    const svid = await prodCa.issueSvid({ spiffeId: WEB });
    expectDenied(await onOrders({ certificate: svid.envoyEncoded.replace(/%2B/g, '+').replace(/%20/g, '+') }), 'CERT_MALFORMED');
  });
});

describe('JWT-SVID confusion', () => {
  const bearer = (token: string): RequestSpec => ({ headers: { authorization: `Bearer ${token}` } });

  it('accepts a token signed by the trust domain’s key with ALLOWED (control)', async () => {
    expect((await onOrders(bearer(await prodJwt.sign({ sub: WEB })))).md).toMatchObject({ reason: 'ALLOWED', identitySource: 'jwt', spiffeId: WEB });
  });

  it('denies alg "none" with JWT_ALG_NOT_ALLOWED', async () => {
    const token = unsignedToken({ kid: prodJwt.kid }, { sub: WEB, aud: FIXTURE_AUDIENCE, exp: EXP });
    expectDenied(await onOrders(bearer(token)), 'JWT_ALG_NOT_ALLOWED');
  });

  it.each(['none', 'None', 'NONE', 'nOnE', ''])('denies alg %j with JWT_ALG_NOT_ALLOWED', async (alg) => {
    const token = unsignedToken({ alg, kid: prodJwt.kid }, { sub: WEB, aud: FIXTURE_AUDIENCE, exp: EXP }, 'c2ln');
    expectDenied(await onOrders(bearer(token)), 'JWT_ALG_NOT_ALLOWED');
  });

  it('denies HS256 keyed with the trust domain’s public key bytes with JWT_ALG_NOT_ALLOWED', async () => {
    const publicKey = createPublicKey({ key: prodJwt.publicJwk as JsonWebKey, format: 'jwk' });
    const claims = { sub: WEB, aud: FIXTURE_AUDIENCE, exp: EXP };
    for (const secret of [
      publicKey.export({ type: 'spki', format: 'pem' }),
      publicKey.export({ type: 'spki', format: 'der' }),
      JSON.stringify(prodJwt.publicJwk),
    ]) {
      expectDenied(await onOrders(bearer(hs256Token(secret, claims, { kid: prodJwt.kid }))), 'JWT_ALG_NOT_ALLOWED');
    }
  });

  it('denies a kid the bundle does not hold with JWT_UNKNOWN_KEY', async () => {
    expectDenied(await onOrders(bearer(await prodJwt.sign({ sub: WEB }, { kid: 'rotated-away' }))), 'JWT_UNKNOWN_KEY');
  });

  it('never takes a key from the token header (jwk, jku, x5u, x5c): JWT_UNKNOWN_KEY or JWT_BAD_SIGNATURE', async () => {
    const jwk = await exportJWK(attackerJwt.authority().key);
    const hints = { jwk, jku: 'http://127.0.0.1:1/jwks.json', x5u: 'http://127.0.0.1:1/cert.pem', x5c: [prodCa.certPem.split('\n').slice(1, -2).join('')] };
    // The attacker's own kid: the bundle has no such key.
    expectDenied(await onOrders(bearer(await attackerJwt.sign({ sub: WEB }, hints))), 'JWT_UNKNOWN_KEY');
    // The trust domain's kid: the bundle key does not verify the attacker's signature.
    expectDenied(await onOrders(bearer(await attackerJwt.sign({ sub: WEB }, { ...hints, kid: prodJwt.kid }))), 'JWT_BAD_SIGNATURE');
  });

  it('never verifies a partner sub with the prod key (bundles are per trust domain), with JWT_UNKNOWN_KEY', async () => {
    expectDenied(await onOrders(bearer(await prodJwt.sign({ sub: `spiffe://${PARTNER}/billing/api` }))), 'JWT_UNKNOWN_KEY');
  });

  it('denies two Authorization headers merged by Envoy with JWT_MALFORMED, even with a valid principal', async () => {
    const a = await prodJwt.sign({ sub: WEB });
    const b = await prodJwt.sign({ sub: ADMIN });
    expectDenied(await onOrders({ headers: { authorization: `Bearer ${a},Bearer ${b}` } }), 'JWT_MALFORMED');
    expectDenied(await onOrders({ principal: WEB, headers: { authorization: `Bearer ${a}, Bearer ${b}` } }), 'JWT_MALFORMED');
  });

  it('denies a token whose header and payload were swapped in with JWT_BAD_SIGNATURE', async () => {
    const good = await prodJwt.sign({ sub: WEB });
    const [header, , signature] = good.split('.');
    const forged = `${header}.${b64json({ sub: ADMIN, aud: FIXTURE_AUDIENCE, exp: EXP })}.${signature}`;
    expectDenied(await onOrders(bearer(forged)), 'JWT_BAD_SIGNATURE');
  });
});

describe('route confusion through the path', () => {
  // "public" lets any prod workload in; "admin" only ops/admin. WEB may call public, not admin.
  it('routes /public/x to the permissive route with ALLOWED (control)', async () => {
    expect((await call(main, { principal: WEB, path: '/public/x' })).md).toMatchObject({ route: 'public', reason: 'ALLOWED' });
  });

  it.each([
    '/admin/x',
    '/public/../admin/x',
    '/public/%2e%2e/admin/x',
    '/public/%2E%2E/admin/x',
    '/public/.%2e/admin/x',
    '/public/./../admin/x',
    '/public%2F..%2Fadmin/x',
    '/public%2f..%2fadmin/x',
    '/public/..%2Fadmin/x',
    '/public\\..\\admin/x',
    '/public/..%5Cadmin/x',
    '//admin/x',
    '/./admin/x',
    '/public/x/../../admin/x',
    '/%61dmin/x',
    '/admin/x?/public/',
    '/admin/x?x=/public/../public/',
    '/admin/x#/public/',
    '/admin/x?#/public/',
  ])('routes %s to the admin route and denies with NO_MATCHING_RULE', async (path) => {
    expectDenied(await call(main, { principal: WEB, path }), 'NO_MATCHING_RULE', 'admin');
  });

  it('decodes only once: /public/%252e%252e/admin/x stays on the public route with ALLOWED', async () => {
    expect((await call(main, { principal: WEB, path: '/public/%252e%252e/admin/x' })).md).toMatchObject({ route: 'public', reason: 'ALLOWED' });
  });

  // Regression (threat model F2): "//" must not be merged before ".." is resolved (RFC 3986 §5.2.4,
  // Envoy's normalize_path): "/admin//../public/x" is "/admin/public/x", never "/public/x".
  it('never selects the permissive route for "/admin//../public/x", whose readings differ', async () => {
    const seen = await call(main, { principal: WEB, path: '/admin//../public/x' });
    expect(seen.md['route']).not.toBe('public');
    expect(seen.md['effect']).toBe('deny');
  });

  it('never falls back to path matching when context_extensions names an unknown route, with NO_ROUTE', async () => {
    expectDenied(await call(main, { principal: WEB, path: '/public/x', route: 'does-not-exist' }), 'NO_ROUTE', '_unmatched');
  });
});

describe('route confusion through the host', () => {
  it.each(['orders.internal', 'orders.internal:8443', 'ORDERS.INTERNAL', 'Orders.Internal.', 'Orders.Internal.:8443', 'Orders.Internal:8443.'])(
    'routes host %s to the host route with ALLOWED',
    async (host) => {
      expect((await call(main, { principal: WEB, host, path: '/v1/orders' })).md).toMatchObject({ route: 'orders-host', reason: 'ALLOWED' });
    },
  );

  it.each(['orders.internal.evil.com', 'evil-orders.internal', 'a.orders.internal', 'orders.internal..', 'orders-internal'])(
    'never routes host %s to the host route: NO_ROUTE',
    async (host) => {
      expectDenied(await call(main, { principal: WEB, host, path: '/v1/orders' }), 'NO_ROUTE', '_unmatched');
    },
  );
});

describe('planted warning header', () => {
  const planted = { [WARNING]: 'NO_MATCHING_RULE; route=orders' };

  it('asks Envoy to remove a caller-sent warning header on an allowed request', async () => {
    const seen = await onOrders({ principal: WEB, headers: planted });
    expect(seen.md).toMatchObject({ reason: 'ALLOWED', effect: 'allow' });
    expect(seen.res.ok_response?.headers_to_remove).toEqual([WARNING]);
    expect(headerValue(seen.res.ok_response?.headers, WARNING)).toBeUndefined();
    expect(headerValue(seen.res.ok_response?.response_headers_to_add, WARNING)).toBeUndefined();
  });

  it('also removes it when a shadow route lets a deny decision through', async () => {
    const seen = await call(main, { route: 'orders-shadow', principal: OTHER, headers: planted });
    expect(seen.md).toMatchObject({ reason: 'NO_MATCHING_RULE', decision: 'deny', effect: 'allow', wouldDeny: true });
    expect(seen.res.ok_response?.headers_to_remove).toEqual([WARNING]);
  });

  it('overwrites it with the server’s own warning on a warn route', async () => {
    const seen = await call(main, { route: 'orders-warn', principal: OTHER, headers: { [WARNING]: 'ALLOWED; route=orders-warn' } });
    expect(seen.md).toMatchObject({ reason: 'NO_MATCHING_RULE', effect: 'warn' });
    const set = seen.res.ok_response?.headers?.find((h) => h.header.key === WARNING);
    expect(set).toMatchObject({ header: { key: WARNING, value: 'NO_MATCHING_RULE; route=orders-warn' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  });
});
