// Tests for the certificate DER reader: it must read exactly what @peculiar/x509 (the reference here,
// test-time only) reads from the same certificates, and fail closed on structures it cannot read.
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, generateKeys, x509, type TestCa } from '../../fixtures/test-ca.js';
import { readBasicConstraints, readCertificateDer, readKeyUsage, readSanUris } from '../../../src/identity/x509-der.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const HOUR = 3_600_000;
const TD = 'example.org';

let ca: TestCa;
beforeAll(async () => {
  ca = await createTestCa({ trustDomain: TD, now: new Date(NOW) });
});

/** What the reference library reads from a PEM certificate. */
function reference(pem: string) {
  const c = new x509.X509Certificate(pem);
  const san = c.getExtension(x509.SubjectAlternativeNameExtension);
  const bc = c.getExtension(x509.BasicConstraintsExtension);
  const ku = c.getExtension(x509.KeyUsagesExtension);
  return {
    notBefore: c.notBefore.getTime(),
    notAfter: c.notAfter.getTime(),
    extensions: c.extensions.map((e) => ({ oid: e.type, critical: e.critical })),
    uris: san?.names.items.filter((n) => n.type === 'url').map((n) => n.value) ?? [],
    ca: bc?.ca ?? false,
    pathLength: bc?.pathLength,
    keyUsage: ku?.usages,
  };
}

/** The same, read with x509-der. */
function ours(pem: string) {
  const der = readCertificateDer(new X509Certificate(pem));
  if (!der.ok) throw new Error(der.error.detail);
  const ext = (oid: string) => der.value.extensions.find((e) => e.oid === oid);
  const san = ext('2.5.29.17');
  const bc = ext('2.5.29.19');
  const ku = ext('2.5.29.15');
  const uris = san === undefined ? { ok: true as const, value: [] } : readSanUris(san.value);
  const bcv = bc === undefined ? undefined : readBasicConstraints(bc.value);
  const kuv = ku === undefined ? undefined : readKeyUsage(ku.value);
  return {
    notBefore: der.value.notBefore,
    notAfter: der.value.notAfter,
    extensions: der.value.extensions.map((e) => ({ oid: e.oid, critical: e.critical })),
    uris: uris.ok ? uris.value : uris.error.detail,
    ca: bcv?.ok === true ? bcv.value.ca : false,
    pathLength: bcv?.ok === true ? bcv.value.pathLength : undefined,
    keyUsage: kuv === undefined ? undefined : kuv.ok ? kuv.value : kuv.error.detail,
  };
}

const asCert = (raw: Uint8Array) => ({ raw: Buffer.from(raw) }) as unknown as X509Certificate;

describe('readCertificateDer', () => {
  it('reads what @peculiar/x509 reads from the test CA, intermediates and SVIDs', async () => {
    const inter = await ca.issueIntermediate({ pathLength: 3, notAfter: new Date(NOW + HOUR / 2) });
    const svids = await Promise.all([
      ca.issueSvid(),
      ca.issueSvid({ uris: [`spiffe://${TD}/a`, `spiffe://${TD}/b`], dns: ['svc.example.org'] }),
      ca.issueSvid({ uris: [], dns: ['only.example.org'] }),
      ca.issueSvid({ isCa: true, keyUsage: 1 | 32 | 64 }),
      ca.issueSvid({ noKeyUsage: true }),
      ca.issueSvid({ keyUsageNonCritical: true, keyUsage: 4 }),
      ca.issueSvid({ notBefore: new Date(Date.UTC(2049, 11, 31, 23, 59, 59)), notAfter: new Date(Date.UTC(2051, 0, 1)) }),
      inter.issueSvid(),
    ]);
    for (const pem of [ca.certPem, inter.certPem, ...svids.map((s) => s.certPem)]) expect(ours(pem)).toEqual(reference(pem));
  });

  it('reads every keyUsage bit combination as KeyUsageFlags', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 511 }), fc.boolean(), (flags, critical) => {
        const ext = new x509.KeyUsagesExtension(flags, critical);
        const r = readKeyUsage(new Uint8Array(ext.value));
        expect(r).toEqual({ ok: true, value: ext.usages });
      }),
    );
  });

  it('reads unknown critical extensions and keeps duplicates visible', async () => {
    const keys = await generateKeys();
    const cert = await x509.X509CertificateGenerator.create({
      subject: 'CN=x',
      issuer: ca.cert.subjectName,
      publicKey: keys.publicKey,
      signingKey: ca.privateKey,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      notBefore: new Date(NOW - HOUR),
      notAfter: new Date(NOW + HOUR),
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${TD}/a` }]),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${TD}/b` }]),
        new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([5, 0])),
        new x509.BasicConstraintsExtension(false, 2 ** 40, true),
      ],
    });
    const pem = cert.toString('pem');
    expect(ours(pem).extensions).toEqual([
      { oid: '2.5.29.17', critical: false },
      { oid: '2.5.29.17', critical: false },
      { oid: '1.3.6.1.4.1.99999.1', critical: true },
      { oid: '2.5.29.19', critical: true },
    ]);
    // A huge pathLenConstraint saturates (the reference reads it as a float): never smaller than 2^31.
    expect(ours(pem).pathLength).toBeGreaterThanOrEqual(2 ** 31);
  });

  it('fails closed on truncated or extended DER with CERT_MALFORMED', async () => {
    const der = new Uint8Array((await ca.issueSvid()).der);
    for (const cut of [1, 2, 10, der.length >> 1, der.length - 1]) {
      expect(readCertificateDer(asCert(der.subarray(0, cut)))).toMatchObject({ ok: false, error: { code: 'CERT_MALFORMED' } });
    }
    const longer = new Uint8Array([...der, 0]);
    expect(readCertificateDer(asCert(longer))).toMatchObject({ ok: false, error: { code: 'CERT_MALFORMED' } });
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const r of [readCertificateDer(asCert(bytes)), readSanUris(bytes), readBasicConstraints(bytes), readKeyUsage(bytes)]) {
          if (!r.ok) expect(r.error.code).toBe('CERT_MALFORMED');
        }
      }),
    );
  });

  it.each<[string, number[]]>([
    ['a non-GeneralName element', [0x30, 0x03, 0x04, 0x01, 0x00]],
    ['a constructed URI', [0x30, 0x04, 0xa6, 0x02, 0x00, 0x00]],
    ['trailing bytes', [0x30, 0x00, 0x00]],
    ['an indefinite length', [0x30, 0x80, 0x00, 0x00]],
  ])('rejects a subjectAltName with %s with CERT_MALFORMED', (_name, bytes) => {
    expect(readSanUris(new Uint8Array(bytes))).toMatchObject({ ok: false, error: { code: 'CERT_MALFORMED' } });
  });

  it('rejects a negative pathLenConstraint and a bad BIT STRING with CERT_MALFORMED', () => {
    expect(readBasicConstraints(new Uint8Array([0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0xff]))).toMatchObject({ ok: false });
    expect(readKeyUsage(new Uint8Array([0x03, 0x01, 0x01]))).toMatchObject({ ok: false });
    expect(readKeyUsage(new Uint8Array([0x03, 0x02, 0x08, 0x80]))).toMatchObject({ ok: false });
    expect(readBasicConstraints(new Uint8Array([0x30, 0x00]))).toEqual({ ok: true, value: { ca: false, pathLength: undefined } });
  });
});
