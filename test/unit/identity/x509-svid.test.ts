// Tests for the X509-SVID checks (spec-notes §3.2, §5.2, §2): every certificate is issued at run time, the clock is fixed.
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTestCa, envoyUrlEncode, generateKeys, x509, type TestCa, type TestIssuer } from '../../fixtures/test-ca.js';
import { parseCertificates } from '../../../src/trust/pem.js';
import {
  decodeEnvoyCertificate,
  verifyX509Svid,
  type X509ErrorCode,
  type VerifyX509SvidOptions,
} from '../../../src/identity/x509-svid.js';
import type { BundleLookup, TrustBundle } from '../../../src/trust/types.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const HOUR = 3_600_000;
const TD = 'example.org';

function bundleOf(trustDomain: string, ...cas: TestIssuer[]): TrustBundle {
  return { trustDomain, x509Authorities: cas.map((c) => new X509Certificate(c.certPem)), jwtAuthorities: new Map(), sequence: undefined };
}

function lookup(...bundles: TrustBundle[]): BundleLookup {
  return (td) => bundles.find((b) => b.trustDomain === td);
}

const noBundles: BundleLookup = () => undefined;

let ca: TestCa;
let otherCa: TestCa;
let inter: TestIssuer;
let bundles: BundleLookup;

beforeAll(async () => {
  ca = await createTestCa({ trustDomain: TD, now: new Date(NOW) });
  otherCa = await createTestCa({ trustDomain: 'other.org', now: new Date(NOW) });
  inter = await ca.issueIntermediate();
  bundles = lookup(bundleOf(TD, ca), bundleOf('other.org', otherCa));
});

function verify(pem: string, opts: Partial<VerifyX509SvidOptions> = {}) {
  return verifyX509Svid(pem, { now: NOW, bundles: noBundles, requireBundle: false, ...opts });
}

/** Asserts a failure with `code` (and optionally a detail fragment). */
function expectCode(r: ReturnType<typeof verify>, code: X509ErrorCode, detail?: string): void {
  expect(r.ok ? 'ok' : r.error.code).toBe(code);
  if (detail !== undefined && !r.ok) expect(r.error.detail).toContain(detail);
}

describe('decodeEnvoyCertificate', () => {
  it('round-trips an Envoy-encoded PEM', async () => {
    const svid = await ca.issueSvid();
    expect(svid.envoyEncoded).not.toMatch(/[\n +/=]/);
    expect(decodeEnvoyCertificate(svid.envoyEncoded)).toEqual({ ok: true, value: svid.certPem });
  });

  it('keeps + as + (never form-decoding, §8.7)', () => {
    expect(decodeEnvoyCertificate('a+b%2Bc')).toEqual({ ok: true, value: 'a+b+c' });
  });

  it('decodes "" to "" (Envoy sends "" without a peer certificate)', () => {
    expect(decodeEnvoyCertificate('')).toEqual({ ok: true, value: '' });
  });

  it.each(['%', 'abc%0', '%zz', '%%41', '%C3', '%ED%A0%80'])('rejects %j with CERT_MALFORMED', (bad) => {
    const r = decodeEnvoyCertificate(bad);
    expect(r.ok ? 'ok' : r.error.code).toBe('CERT_MALFORMED');
  });

  it('rejects input over the size limit with CERT_MALFORMED', () => {
    const r = decodeEnvoyCertificate('a'.repeat(11), 10);
    expect(r.ok ? 'ok' : r.error.code).toBe('CERT_MALFORMED');
  });

  it('inverts Envoy encoding for any PEM-alphabet text, and never throws (property)', () => {
    const pemChar = fc.constantFrom(...'ABCXYZabcxyz0189+/=-\n '.split(''));
    fc.assert(fc.property(fc.string({ unit: pemChar }), (s) => {
      expect(decodeEnvoyCertificate(envoyUrlEncode(s))).toEqual({ ok: true, value: s });
    }));
    fc.assert(fc.property(fc.string(), (s) => {
      expect(typeof decodeEnvoyCertificate(s).ok).toBe('boolean');
    }));
  });
});

describe('parseCertificates', () => {
  it('parses a chain of several certificates in order', async () => {
    const svid = await inter.issueSvid();
    const r = parseCertificates(svid.certPem + inter.chainPem + ca.certPem);
    expect(r.ok && r.value.map((c) => c.raw.equals(Buffer.from(svid.der)))).toEqual([true, false, false]);
  });

  it('accepts CRLF line ends and text between blocks', async () => {
    const svid = await ca.issueSvid();
    const r = parseCertificates(`# leaf\r\n${svid.certPem.replace(/\n/g, '\r\n')}`);
    expect(r.ok && r.value.length).toBe(1);
  });

  it.each<[string, (pem: string) => string]>([
    ['empty input', () => ''],
    ['no PEM at all', () => 'hello world'],
    ['BEGIN without END', (p) => p.replace('-----END CERTIFICATE-----', '')],
    ['END without BEGIN', (p) => p.replace('-----BEGIN CERTIFICATE-----', '')],
    ['a non-certificate block', (p) => p.replace(/CERTIFICATE/g, 'PRIVATE KEY')],
    ['a body that is not base64', (p) => p.replace(/\n[A-Za-z0-9]{8}/, '\n!!!!!!!!')],
    ['base64 that is not a certificate', () => '-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQh\n-----END CERTIFICATE-----\n'],
    ['more certificates than maxCerts', (p) => p.repeat(9)],
  ])('rejects %s with CERT_MALFORMED', async (_name, mutate) => {
    const svid = await ca.issueSvid();
    const r = parseCertificates(mutate(svid.certPem));
    expect(r.ok ? 'ok' : r.error.code).toBe('CERT_MALFORMED');
  });

  it('rejects trailing bytes after the DER certificate with CERT_MALFORMED', async () => {
    const svid = await ca.issueSvid();
    const b64 = Buffer.concat([Buffer.from(svid.der), Buffer.from([0, 0, 0])]).toString('base64');
    const r = parseCertificates(`-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`);
    expect(r.ok ? 'ok' : r.error.code).toBe('CERT_MALFORMED');
  });

  it('rejects input over maxBytes with CERT_MALFORMED', async () => {
    const svid = await ca.issueSvid();
    const r = parseCertificates(svid.certPem, { maxBytes: 100 });
    expect(r.ok ? 'ok' : r.error.code).toBe('CERT_MALFORMED');
  });
});

describe('verifyX509Svid: leaf checks (§3.2.2-5)', () => {
  it('accepts a valid leaf without a bundle (Envoy verified the chain)', async () => {
    const svid = await ca.issueSvid({ spiffeId: `spiffe://${TD}/ns/a/sa/b` });
    expect(verify(svid.certPem)).toEqual({
      ok: true,
      value: { spiffeId: `spiffe://${TD}/ns/a/sa/b`, trustDomain: TD, path: '/ns/a/sa/b', notAfter: NOW + HOUR },
    });
  });

  it('accepts the Envoy-encoded leaf after decoding', async () => {
    const svid = await ca.issueSvid();
    const pem = decodeEnvoyCertificate(svid.envoyEncoded);
    expect(pem.ok && verify(pem.value).ok).toBe(true);
  });

  it('accepts DNS SANs next to the one URI SAN', async () => {
    const svid = await ca.issueSvid({ dns: ['a.example.org', 'b.example.org'] });
    expect(verify(svid.certPem).ok).toBe(true);
  });

  it('rejects garbage PEM with CERT_MALFORMED', () => {
    expectCode(verify('-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n'), 'CERT_MALFORMED');
  });

  it('rejects two certificates as the leaf with CERT_MALFORMED', async () => {
    const svid = await ca.issueSvid();
    expectCode(verify(svid.certPem + svid.certPem), 'CERT_MALFORMED');
  });

  it('rejects a certificate with two SAN extensions with CERT_MALFORMED (a second one could hide a URI)', async () => {
    const keys = await generateKeys();
    const cert = await x509.X509CertificateGenerator.create({
      subject: 'CN=dup',
      issuer: ca.cert.subjectName,
      publicKey: keys.publicKey,
      signingKey: ca.privateKey,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      notBefore: new Date(NOW - HOUR),
      notAfter: new Date(NOW + HOUR),
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${TD}/a` }]),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${TD}/b` }]),
      ],
    });
    expectCode(verify(cert.toString('pem')), 'CERT_MALFORMED', 'duplicate extension 2.5.29.17');
  });

  it.each<[string, string[], string[], string]>([
    ['0 URI SANs', [], [], '0 URI SANs'],
    ['a DNS-only certificate', [], ['svc.example.org'], '0 URI SANs'],
    ['2 URI SANs', [`spiffe://${TD}/a`, `spiffe://${TD}/b`], [], '2 URI SANs'],
    ['2 URI SANs, one not SPIFFE', [`spiffe://${TD}/a`, 'https://example.org/x'], [], '2 URI SANs'],
    ['a root-path ID', [`spiffe://${TD}`], [], 'root path'],
    ['a non-spiffe URI', ['https://example.org/a'], [], 'BAD_SCHEME'],
    ['an uppercase trust domain', ['spiffe://Example.org/a'], [], 'BAD_TRUST_DOMAIN_CHAR'],
    ['a trailing slash', [`spiffe://${TD}/a/`], [], 'TRAILING_SLASH'],
  ])('rejects %s with CERT_NOT_SVID', async (_name, uris, dns, detail) => {
    const svid = await ca.issueSvid({ uris, dns });
    expectCode(verify(svid.certPem), 'CERT_NOT_SVID', detail);
  });

  it('rejects the root CA itself as caller with CERT_NOT_SVID (its ID has no path; SAN is checked first)', () => {
    expectCode(verify(ca.certPem), 'CERT_NOT_SVID', 'root path');
  });

  it('rejects a cA=true certificate with a workload ID with CERT_IS_CA', async () => {
    const svid = await ca.issueSvid({ isCa: true });
    expectCode(verify(svid.certPem), 'CERT_IS_CA');
  });

  it.each([
    ['keyCertSign', 1 | 32],
    ['cRLSign', 1 | 64],
  ])('rejects %s on a leaf with CERT_BAD_KEY_USAGE', async (_name, keyUsage) => {
    const svid = await ca.issueSvid({ keyUsage });
    expectCode(verify(svid.certPem), 'CERT_BAD_KEY_USAGE');
  });

  it('rejects an expired leaf by the injected clock with CERT_EXPIRED', async () => {
    const svid = await ca.issueSvid();
    expectCode(verify(svid.certPem, { now: NOW + HOUR + 1 }), 'CERT_EXPIRED');
    expect(verify(svid.certPem, { now: NOW + HOUR }).ok).toBe(true);
  });

  it('rejects a not-yet-valid leaf by the injected clock with CERT_NOT_YET_VALID', async () => {
    const svid = await ca.issueSvid();
    expectCode(verify(svid.certPem, { now: NOW - HOUR - 1 }), 'CERT_NOT_YET_VALID');
    expect(verify(svid.certPem, { now: NOW - HOUR }).ok).toBe(true);
  });

  it('checks in go-spiffe order: SAN before CA, CA before validity (CERT_NOT_SVID, CERT_IS_CA)', async () => {
    const twoUrisCa = await ca.issueSvid({ uris: [`spiffe://${TD}/a`, `spiffe://${TD}/b`], isCa: true });
    expectCode(verify(twoUrisCa.certPem), 'CERT_NOT_SVID');
    const expiredCa = await ca.issueSvid({ isCa: true, notAfter: new Date(NOW - HOUR) });
    expectCode(verify(expiredCa.certPem), 'CERT_IS_CA');
  });

  it.each<[string, { keyUsage?: number; noKeyUsage?: boolean; keyUsageNonCritical?: boolean }]>([
    ['no key usage', { noKeyUsage: true }],
    ['keyEncipherment without digitalSignature', { keyUsage: 4 }],
    ['a non-critical key usage', { keyUsageNonCritical: true }],
  ])('strict mode rejects %s with CERT_BAD_KEY_USAGE (lenient mode accepts it)', async (_name, opts) => {
    const svid = await ca.issueSvid(opts);
    expectCode(verify(svid.certPem, { strict: true }), 'CERT_BAD_KEY_USAGE', 'strict');
    expect(verify(svid.certPem).ok).toBe(true);
  });

  it('strict mode accepts the default SVID profile', async () => {
    const svid = await ca.issueSvid();
    expect(verify(svid.certPem, { strict: true }).ok).toBe(true);
  });
});

describe('verifyX509Svid: chain to the leaf trust domain bundle (§2, §3.2.1)', () => {
  it('accepts a leaf issued by a root of its own bundle; notAfter is the earliest expiry', async () => {
    const svid = await ca.issueSvid();
    expect(verify(svid.certPem, { bundles, requireBundle: true })).toMatchObject({ ok: true, value: { notAfter: NOW + HOUR } });
  });

  it('works with RSA keys', async () => {
    const rsa = await createTestCa({ trustDomain: 'rsa.example', keyAlgorithm: 'RSA-2048', now: new Date(NOW) });
    const svid = await rsa.issueSvid();
    expect(verify(svid.certPem, { bundles: lookup(bundleOf('rsa.example', rsa)) }).ok).toBe(true);
  });

  it('rejects a leaf signed by ANOTHER trust domain CA while claiming this one with CERT_UNTRUSTED', async () => {
    const forged = await otherCa.issueSvid({ spiffeId: `spiffe://${TD}/admin` });
    expectCode(verify(forged.certPem, { bundles }), 'CERT_UNTRUSTED', `'${TD}'`);
    // The same CA's own IDs verify, so only the scoping rejects the forgery.
    const own = await otherCa.issueSvid();
    expect(verify(own.certPem, { bundles }).ok).toBe(true);
  });

  it('accepts a chain via an intermediate when it is supplied; notAfter includes it', async () => {
    const short = await ca.issueIntermediate({ notAfter: new Date(NOW + HOUR / 2) });
    const svid = await short.issueSvid();
    expect(verify(svid.certPem, { bundles, intermediatesPem: short.chainPem })).toMatchObject({ ok: true, value: { notAfter: NOW + HOUR / 2 } });
  });

  it('accepts an XFCC-style chain that starts with the leaf itself', async () => {
    const svid = await inter.issueSvid();
    expect(verify(svid.certPem, { bundles, intermediatesPem: svid.certPem + inter.chainPem }).ok).toBe(true);
  });

  it('rejects a chain via an intermediate that is not supplied with CERT_UNTRUSTED', async () => {
    const svid = await inter.issueSvid();
    expectCode(verify(svid.certPem, { bundles }), 'CERT_UNTRUSTED');
  });

  it.each<[string, { isCa?: boolean; keyUsage?: number; notAfter?: Date }, string]>([
    ['without the cA flag', { isCa: false }, 'is not a CA'],
    ['without keyCertSign (node checkIssued refuses it as issuer)', { keyUsage: 1 }, 'not issued by'],
    ['that has expired', { notAfter: new Date(NOW - 1000) }, 'has expired'],
  ])('rejects an intermediate %s with CERT_UNTRUSTED', async (_name, opts, detail) => {
    const bad = await ca.issueIntermediate(opts);
    const svid = await bad.issueSvid();
    expectCode(verify(svid.certPem, { bundles, intermediatesPem: bad.chainPem }), 'CERT_UNTRUSTED', detail);
  });

  it('enforces pathLenConstraint with CERT_UNTRUSTED', async () => {
    const top = await ca.issueIntermediate({ pathLength: 0 });
    const below = await top.issueIntermediate();
    const svid = await below.issueSvid();
    expectCode(verify(svid.certPem, { bundles, intermediatesPem: below.chainPem }), 'CERT_UNTRUSTED', 'pathLenConstraint');
    const ok1 = await (await ca.issueIntermediate({ pathLength: 1 })).issueIntermediate();
    expect(verify((await ok1.issueSvid()).certPem, { bundles, intermediatesPem: ok1.chainPem }).ok).toBe(true);
  });

  it('bounds the chain search against crafted looping intermediates with CERT_UNTRUSTED', async () => {
    // 8 CA certificates sharing one name and key "issue" each other: an unbounded search would try 8! paths.
    const k = await generateKeys();
    const common = { issuer: 'CN=loop', signingKey: k.privateKey, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } };
    const validity = { notBefore: new Date(NOW - HOUR), notAfter: new Date(NOW + HOUR) };
    const akid = await x509.AuthorityKeyIdentifierExtension.create(k.publicKey);
    const loop: string[] = [];
    for (let i = 0; i < 8; i++) {
      const c = await x509.X509CertificateGenerator.create({
        ...common, ...validity, subject: 'CN=loop', publicKey: k.publicKey,
        extensions: [new x509.BasicConstraintsExtension(true, undefined, true), await x509.SubjectKeyIdentifierExtension.create(k.publicKey), akid],
      });
      loop.push(c.toString('pem'));
    }
    const leafKeys = await generateKeys();
    const leaf = await x509.X509CertificateGenerator.create({
      ...common, ...validity, subject: 'CN=leaf', publicKey: leafKeys.publicKey,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${TD}/x` }]), akid],
    });
    expectCode(verify(leaf.toString('pem'), { bundles, intermediatesPem: loop.join('\n') }), 'CERT_UNTRUSTED', 'budget');
  });

  it('rejects a leaf when its root has expired by the injected clock with CERT_UNTRUSTED', async () => {
    const old = await createTestCa({ trustDomain: 'old.example', now: new Date(NOW), notAfter: new Date(NOW - 1000) });
    const svid = await old.issueSvid();
    expectCode(verify(svid.certPem, { bundles: lookup(bundleOf('old.example', old)) }), 'CERT_UNTRUSTED', 'root');
  });

  it('rejects every leaf of a trust domain whose bundle is empty with CERT_UNTRUSTED', async () => {
    const svid = await ca.issueSvid();
    expectCode(verify(svid.certPem, { bundles: lookup(bundleOf(TD)) }), 'CERT_UNTRUSTED', 'no X.509 authorities');
  });

  it('rejects a bundle lookup that answers with another trust domain with CERT_UNTRUSTED', async () => {
    const svid = await ca.issueSvid();
    expectCode(verify(svid.certPem, { bundles: () => bundleOf('other.org', ca) }), 'CERT_UNTRUSTED');
  });

  it('requires a bundle when requireBundle is set with BUNDLE_UNAVAILABLE', async () => {
    const svid = await ca.issueSvid({ spiffeId: 'spiffe://unknown.example/a' });
    expectCode(verify(svid.certPem, { bundles, requireBundle: true }), 'BUNDLE_UNAVAILABLE', 'unknown.example');
    expect(verify(svid.certPem, { bundles, requireBundle: false }).ok).toBe(true);
  });

  it('rejects unparseable intermediates with CERT_MALFORMED', async () => {
    const svid = await ca.issueSvid();
    expectCode(verify(svid.certPem, { bundles, intermediatesPem: 'garbage -----BEGIN CERTIFICATE-----' }), 'CERT_MALFORMED', 'intermediates');
  });

  it('rejects an unprocessed critical extension during chain validation with CERT_UNTRUSTED', async () => {
    const keys = await generateKeys();
    const cert = await x509.X509CertificateGenerator.create({
      subject: 'CN=crit',
      issuer: ca.cert.subjectName,
      publicKey: keys.publicKey,
      signingKey: ca.privateKey,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      notBefore: new Date(NOW - HOUR),
      notAfter: new Date(NOW + HOUR),
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${TD}/a` }]),
        new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([5, 0])),
        await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
      ],
    });
    expectCode(verify(cert.toString('pem'), { bundles }), 'CERT_UNTRUSTED', '1.3.6.1.4.1.99999.1');
    expect(verify(cert.toString('pem')).ok).toBe(true);
  });
});
