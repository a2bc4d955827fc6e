import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run-cli.js';
import { DEMO_TRUST_DOMAIN, generateDemoPki } from '../../../src/cli/demo-pki.js';
import { verifyX509Svid } from '../../../src/identity/x509-svid.js';
import { parseBundle } from '../../../src/trust/bundle.js';
import type { TrustBundle } from '../../../src/trust/types.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'demo-pki-'));
const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
const cert = (name: string): X509Certificate => new X509Certificate(read(name));

describe('generateDemoPki', () => {
  let files: readonly string[] = [];
  let bundle: TrustBundle;

  beforeAll(async () => {
    files = (await generateDemoPki({ outDir: dir, now: NOW })).files;
    const parsed = parseBundle(DEMO_TRUST_DOMAIN, read('bundle.pem'));
    if (!parsed.ok) throw new Error(parsed.error.detail);
    bundle = parsed.value;
  });

  it('writes exactly the CA, the bundle and a certificate and PKCS#8 key per leaf, mode 0644', () => {
    expect(readdirSync(dir).sort()).toEqual(
      ['bundle.pem', 'ca.pem', 'client-a-key.pem', 'client-a.pem', 'client-b-key.pem', 'client-b.pem', 'envoy-key.pem', 'envoy.pem'],
    );
    expect(files).toHaveLength(8);
    for (const f of files) expect(statSync(f).mode & 0o777).toBe(0o644);
    expect(read('bundle.pem')).toBe(read('ca.pem'));
    for (const leaf of ['envoy', 'client-a', 'client-b']) {
      expect(read(`${leaf}-key.pem`)).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    }
  });

  it('makes a self-signed P-256 root CA with the trust domain URI SAN, valid 30 days', () => {
    const ca = cert('ca.pem');
    expect(ca.ca).toBe(true);
    expect(ca.checkIssued(ca)).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.subjectAltName).toBe(`URI:spiffe://${DEMO_TRUST_DOMAIN}`);
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new Date(ca.validTo).getTime() - NOW.getTime()).toBe(30 * DAY);
    expect(new Date(ca.validFrom).getTime()).toBeLessThan(NOW.getTime());
  });

  it.each([
    ['envoy', `DNS:envoy, URI:spiffe://${DEMO_TRUST_DOMAIN}/ns/demo/sa/envoy`],
    ['client-a', `URI:spiffe://${DEMO_TRUST_DOMAIN}/ns/demo/sa/client-a`],
    ['client-b', `URI:spiffe://${DEMO_TRUST_DOMAIN}/ns/demo/sa/client-b`],
  ])('issues %s as a non-CA leaf signed by the root with SANs %s', (name, sans) => {
    const leaf = cert(`${name}.pem`);
    const ca = cert('ca.pem');
    const names = leaf.subjectAltName?.split(', ').sort().join(', ');
    expect(names).toBe(sans);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(new Date(leaf.validTo).getTime() - NOW.getTime()).toBe(30 * DAY);
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  });

  it('writes each private key matching its certificate', () => {
    for (const name of ['envoy', 'client-a', 'client-b']) {
      const key = createPrivateKey(read(`${name}-key.pem`));
      const data = Buffer.from(`proof of ${name}`);
      const sig = sign('sha256', data, key);
      expect(verify('sha256', data, cert(`${name}.pem`).publicKey, sig)).toBe(true);
      expect(verify('sha256', data, createPublicKey(read('ca.pem')), sig)).toBe(false);
    }
  });

  it.each(['client-a', 'client-b'])('makes %s an X509-SVID this server accepts against the bundle', (name) => {
    const r = verifyX509Svid(read(`${name}.pem`), { now: NOW.getTime(), bundles: (td) => (td === DEMO_TRUST_DOMAIN ? bundle : undefined), requireBundle: true, strict: true });
    expect(r).toEqual({ ok: true, value: { spiffeId: `spiffe://${DEMO_TRUST_DOMAIN}/ns/demo/sa/${name}`, trustDomain: DEMO_TRUST_DOMAIN, path: `/ns/demo/sa/${name}`, notAfter: NOW.getTime() + 30 * DAY } });
  });

  it('makes certificates this server rejects as expired after 30 days', () => {
    const r = verifyX509Svid(read('client-a.pem'), { now: NOW.getTime() + 31 * DAY, bundles: () => bundle, requireBundle: true });
    expect(r.ok ? 'ok' : r.error.code).toBe('CERT_EXPIRED');
  });

  it('rejects an invalid trust domain', async () => {
    await expect(generateDemoPki({ outDir: dir, trustDomain: 'Bad_Domain' })).rejects.toThrow(/invalid trust domain "Bad_Domain"/);
  });
});

describe('spiffe-ext-authz demo-pki', () => {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
  const cliDir = mkdtempSync(join(tmpdir(), 'demo-pki-cli-'));

  it('writes the PKI for the given trust domain and prints the SPIFFE IDs', async () => {
    const code = await runCli(['demo-pki', '--out', cliDir, '--trust-domain', 'mesh.example.com'], io);
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out.slice(0, 3)).toEqual([
      'envoy: spiffe://mesh.example.com/ns/demo/sa/envoy',
      'client-a: spiffe://mesh.example.com/ns/demo/sa/client-a',
      'client-b: spiffe://mesh.example.com/ns/demo/sa/client-b',
    ]);
    expect(new X509Certificate(readFileSync(join(cliDir, 'client-b.pem'))).subjectAltName).toBe('URI:spiffe://mesh.example.com/ns/demo/sa/client-b');
  });

  it('exits 2 without --out', async () => {
    err.length = 0;
    expect(await runCli(['demo-pki'], io)).toBe(2);
    expect(err).toEqual(['demo-pki: --out DIR is required']);
  });

  it('exits 2 on an unknown option', async () => {
    err.length = 0;
    expect(await runCli(['demo-pki', '--out', cliDir, '--force'], io)).toBe(2);
    expect(err[0]).toMatch(/^demo-pki: Unknown option '--force'/);
  });

  it('exits 1 on an invalid trust domain', async () => {
    err.length = 0;
    expect(await runCli(['demo-pki', '--out', cliDir, '--trust-domain', 'UPPER.example'], io)).toBe(1);
    expect(err[0]).toMatch(/^demo-pki: invalid trust domain "UPPER.example"/);
  });

  it('lists demo-pki in the usage text', async () => {
    out.length = 0;
    expect(await runCli(['help'], io)).toBe(0);
    expect(out.join('')).toContain('demo-pki --out DIR [--trust-domain TD]');
  });
});
