// Full caller identity through the real server: peer certificates verified against per-trust-domain
// bundles (federation), JWT-SVIDs, pinned XFCC hops, conflicts between sources, bundle reloads and
// cache expiry. Every certificate and token is made at test time by the test CA and JWT issuer.
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequest } from '../fixtures/check-request.js';
import { createJwtIssuer, type JwtIssuer } from '../fixtures/jwt-issuer.js';
import { metadataOf, startTestServer, type TestServer } from '../fixtures/server.js';
import { createTestCa, type TestCa } from '../fixtures/test-ca.js';

const PROD = 'prod.example.org';
const PARTNER = 'partner.example.com';
const WEB = `spiffe://${PROD}/ns/checkout/sa/web`;
const BILLING = `spiffe://${PARTNER}/billing/api`;
const GATEWAY = `spiffe://${PROD}/ns/edge/sa/gateway`;

let dir: string;
let prodCa: TestCa;
let partnerCa: TestCa;
let rogueCa: TestCa;
let jwtIssuer: JwtIssuer;
let server: TestServer;
let now = Date.now();

function bundlePath(name: string): string {
  return join(dir, name);
}

/** Replaces a file atomically, as Kubernetes and SPIRE's helpers do, so no half-written file is ever read. */
function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

async function bundleFailures(): Promise<number> {
  const text = await (await server.admin('/metrics')).text();
  const m = new RegExp(`spiffe_authz_bundle_loads_total\\{trust_domain="${PROD}",result="failure"\\} (\\d+)`).exec(text);
  return m === null ? 0 : Number(m[1]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spiffe-authz-bundles-'));
  prodCa = await createTestCa({ trustDomain: PROD });
  partnerCa = await createTestCa({ trustDomain: PARTNER });
  rogueCa = await createTestCa({ trustDomain: PROD }); // claims prod, but is not prod's CA
  jwtIssuer = await createJwtIssuer({ trustDomain: PARTNER, alg: 'ES256', kid: 'k1' });
  writeFileSync(bundlePath('prod.pem'), prodCa.x509BundlePem());
  // The partner's bundle is a SPIFFE bundle carrying both its X.509 root and its JWT key.
  writeFileSync(bundlePath('partner.json'), partnerCa.spiffeBundleJson({ jwtKeys: [jwtIssuer.publicJwk] }));
  const config = `
identity:
  sources: [principal, certificate, xfcc, jwt]
  xfcc: { trusted: true, trustedProxies: ["${GATEWAY}", "${WEB}"] }
  jwt: { audiences: [spiffe-ext-authz] }
trustDomains:
  - { name: ${PROD}, bundle: ${bundlePath('prod.pem')} }
  - { name: ${PARTNER}, bundle: ${bundlePath('partner.json')} }
  - unbundled.example.net
routes:
  - name: orders
    mode: enforce
    allow:
      ${PROD}: ["/ns/checkout/sa/*"]
      ${PARTNER}: ["/billing/**"]
      unbundled.example.net: ["**"]
  - name: token-only
    mode: enforce
    identity: { sources: [principal, jwt], requireJwtSvid: true }
    allow: { ${PARTNER}: ["/billing/**"] }
`;
  server = await startTestServer(config, { clock: () => now, bundlePollMs: 50 });
});

afterAll(async () => {
  await server?.close();
});

async function decide(spec: Parameters<typeof checkRequest>[0]): Promise<Record<string, unknown>> {
  return metadataOf(await server.check(checkRequest({ route: 'orders', ...spec })));
}

describe('peer certificate', () => {
  it('accepts a certificate that chains to its own trust domain bundle, agreeing with the principal', async () => {
    const svid = await prodCa.issueSvid({ spiffeId: WEB });
    const md = await decide({ principal: WEB, certificate: svid.envoyEncoded });
    expect(md).toMatchObject({ reason: 'ALLOWED', spiffeId: WEB, identitySource: 'principal', agreedSources: 'certificate' });
  });

  it('accepts a federated caller whose certificate chains to the partner bundle', async () => {
    const svid = await partnerCa.issueSvid({ spiffeId: BILLING });
    expect(await decide({ certificate: svid.envoyEncoded })).toMatchObject({ reason: 'ALLOWED', spiffeId: BILLING, identitySource: 'certificate' });
  });

  it('denies a certificate for prod signed by another CA with CERT_UNTRUSTED', async () => {
    const svid = await rogueCa.issueSvid({ spiffeId: WEB });
    expect(await decide({ certificate: svid.envoyEncoded })).toMatchObject({ reason: 'CERT_UNTRUSTED', effect: 'deny' });
  });

  it('denies a partner-signed certificate that claims a prod ID with CERT_UNTRUSTED (no cross-domain trust)', async () => {
    const svid = await partnerCa.issueSvid({ spiffeId: WEB });
    expect(await decide({ certificate: svid.envoyEncoded })).toMatchObject({ reason: 'CERT_UNTRUSTED' });
  });

  it.each([
    ['a CA certificate', { isCa: true, spiffeId: `spiffe://${PROD}/ns/checkout/sa/ca` }, 'CERT_IS_CA'],
    ['two URI SANs', { uris: [WEB, `spiffe://${PROD}/ns/checkout/sa/other`] }, 'CERT_NOT_SVID'],
    ['no URI SAN', { uris: [], dns: ['web.prod'] }, 'CERT_NOT_SVID'],
  ] as const)('denies %s with %s', async (_what, opts, reason) => {
    const svid = await prodCa.issueSvid(opts);
    expect(await decide({ certificate: svid.envoyEncoded })).toMatchObject({ reason, effect: 'deny' });
  });

  it('denies garbage in source.certificate with CERT_MALFORMED, even with a valid principal', async () => {
    expect(await decide({ principal: WEB, certificate: 'not-a-certificate' })).toMatchObject({ reason: 'CERT_MALFORMED' });
  });

  it('denies a principal and certificate that name different workloads with IDENTITY_CONFLICT', async () => {
    const svid = await prodCa.issueSvid({ spiffeId: `spiffe://${PROD}/ns/checkout/sa/other` });
    expect(await decide({ principal: WEB, certificate: svid.envoyEncoded })).toMatchObject({ reason: 'IDENTITY_CONFLICT' });
  });

  it('accepts only the Envoy-verified principal from a trust domain without a bundle', async () => {
    expect(await decide({ principal: 'spiffe://unbundled.example.net/svc' })).toMatchObject({ reason: 'ALLOWED' });
  });

  it('honours the certificate expiry even when the verification result is cached', async () => {
    const notAfter = new Date(now + 60_000);
    const svid = await prodCa.issueSvid({ spiffeId: WEB, notAfter });
    expect(await decide({ certificate: svid.envoyEncoded })).toMatchObject({ reason: 'ALLOWED' });
    expect(await decide({ certificate: svid.envoyEncoded })).toMatchObject({ reason: 'ALLOWED' });
    const saved = now;
    now = notAfter.getTime() + 1000;
    try {
      expect(await decide({ certificate: svid.envoyEncoded })).toMatchObject({ reason: 'CERT_EXPIRED' });
    } finally {
      now = saved;
    }
  });
});

describe('XFCC with pinned proxies', () => {
  it('accepts the last element written by a trusted proxy and checks its Cert', async () => {
    const svid = await prodCa.issueSvid({ spiffeId: WEB });
    const xfcc = `By=${GATEWAY};Hash=00;Cert="${svid.envoyEncoded}";URI=${WEB}`;
    expect(await decide({ xfcc })).toMatchObject({ reason: 'ALLOWED', identitySource: 'xfcc' });
  });

  it('denies an element written by any other proxy with XFCC_UNTRUSTED_HOP', async () => {
    const xfcc = `By=spiffe://${PROD}/ns/evil/sa/proxy;URI=${WEB}`;
    expect(await decide({ xfcc })).toMatchObject({ reason: 'XFCC_UNTRUSTED_HOP', effect: 'deny' });
  });

  it('denies an XFCC URI that its own Cert contradicts with IDENTITY_CONFLICT', async () => {
    const svid = await prodCa.issueSvid({ spiffeId: `spiffe://${PROD}/ns/checkout/sa/other` });
    const xfcc = `By=${GATEWAY};Cert="${svid.envoyEncoded}";URI=${WEB}`;
    expect(await decide({ xfcc })).toMatchObject({ reason: 'IDENTITY_CONFLICT' });
  });

  it('denies a principal and a same-hop XFCC that disagree with IDENTITY_CONFLICT', async () => {
    const xfcc = `By=${GATEWAY};URI=spiffe://${PROD}/ns/checkout/sa/other`;
    expect(await decide({ principal: WEB, xfcc })).toMatchObject({ reason: 'IDENTITY_CONFLICT' });
  });
});

describe('JWT-SVID', () => {
  it('accepts a valid token from the federated trust domain', async () => {
    const token = await jwtIssuer.sign({ sub: BILLING });
    const md = await decide({ headers: { authorization: `Bearer ${token}` } });
    expect(md).toMatchObject({ reason: 'ALLOWED', spiffeId: BILLING, identitySource: 'jwt' });
  });

  it.each([
    ['a wrong audience', { aud: ['someone-else'] }, 'JWT_AUDIENCE_MISMATCH'],
    ['an expired token', { exp: Math.floor(Date.now() / 1000) - 600 }, 'JWT_EXPIRED'],
    ['a root sub', { sub: `spiffe://${PARTNER}` }, 'JWT_INVALID_SUBJECT'],
  ] as const)('denies %s with %s', async (_what, claims, reason) => {
    const token = await jwtIssuer.sign({ sub: BILLING, ...claims });
    expect(await decide({ headers: { authorization: `Bearer ${token}` } })).toMatchObject({ reason, effect: 'deny' });
  });

  it('denies alg none with JWT_ALG_NOT_ALLOWED', async () => {
    const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const token = `${b64({ alg: 'none' })}.${b64({ sub: BILLING, aud: 'spiffe-ext-authz', exp: 4e9 })}.`;
    expect(await decide({ headers: { authorization: `Bearer ${token}` } })).toMatchObject({ reason: 'JWT_ALG_NOT_ALLOWED' });
  });

  it('requires a token on a route that says so, with JWT_REQUIRED', async () => {
    const md = metadataOf(await server.check(checkRequest({ route: 'token-only', principal: WEB })));
    expect(md).toMatchObject({ reason: 'JWT_REQUIRED', effect: 'deny' });
    const token = await jwtIssuer.sign({ sub: BILLING });
    const ok = metadataOf(await server.check(checkRequest({ route: 'token-only', principal: WEB, headers: { authorization: `Bearer ${token}` } })));
    // The token names the end-to-end caller; the principal (another hop) is not compared with it.
    expect(ok).toMatchObject({ reason: 'ALLOWED', spiffeId: BILLING, identitySource: 'jwt' });
  });
});

describe('bundle reload', () => {
  it('picks up a rotated bundle, and keeps the last good one when the file turns corrupt', async () => {
    const newProdCa = await createTestCa({ trustDomain: PROD });
    const svid = await newProdCa.issueSvid({ spiffeId: WEB });
    expect(await decide({ certificate: svid.envoyEncoded })).toMatchObject({ reason: 'CERT_UNTRUSTED' });

    replaceFile(bundlePath('prod.pem'), prodCa.x509BundlePem() + newProdCa.x509BundlePem());
    await expect.poll(async () => (await decide({ certificate: svid.envoyEncoded }))['reason'], { timeout: 10_000 }).toBe('ALLOWED');

    const failuresBefore = await bundleFailures();
    replaceFile(bundlePath('prod.pem'), '-----BEGIN CERTIFICATE-----\ngarbage\n');
    await expect.poll(bundleFailures, { timeout: 10_000 }).toBeGreaterThan(failuresBefore);
    expect(await decide({ certificate: svid.envoyEncoded })).toMatchObject({ reason: 'ALLOWED' });
    expect(server.logs.some((l) => l['msg'] === 'bundle load failed' && l['keptLastGood'] === true)).toBe(true);
    const metrics = await (await server.admin('/metrics')).text();
    expect(metrics).toContain(`spiffe_authz_bundle_up{trust_domain="${PROD}"} 1`);
  });
});
