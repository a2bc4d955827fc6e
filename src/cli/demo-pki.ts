// `spiffe-ext-authz demo-pki`: a throwaway PKI for the docker-compose and Envoy examples. One root CA
// (also the X.509 trust bundle) and X509-SVIDs for Envoy and two demo clients, ECDSA P-256, shaped
// like what SPIRE issues (spec-notes §3.1). For demos and tests only: keys are written world-readable.
import { KeyObject, webcrypto } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseTrustDomain } from '../spiffe/spiffe-id.js';
import { x509 } from '../identity/x509-lib.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** Trust domain used when `--trust-domain` is not given. */
export const DEMO_TRUST_DOMAIN = 'demo.example.org';

/** How long every demo certificate is valid, from a few minutes before `now`. */
export const DEMO_VALIDITY_DAYS = 30;

/** One leaf the demo PKI issues: file stem, SPIFFE ID path and DNS SANs. */
export interface DemoLeaf {
  readonly name: string;
  readonly idPath: string;
  readonly dns: readonly string[];
}

/** The leaves of the demo: Envoy's server certificate and the two clients of the walkthrough. */
export const DEMO_LEAVES: readonly DemoLeaf[] = Object.freeze([
  { name: 'envoy', idPath: '/ns/demo/sa/envoy', dns: ['envoy'] },
  { name: 'client-a', idPath: '/ns/demo/sa/client-a', dns: [] },
  { name: 'client-b', idPath: '/ns/demo/sa/client-b', dns: [] },
]);

/** Options of generateDemoPki; `now` anchors the validity window (defaults to the real clock). */
export interface DemoPkiOptions {
  readonly outDir: string;
  readonly trustDomain?: string;
  readonly now?: Date;
}

/** What generateDemoPki wrote: absolute paths, in writing order, and each leaf's SPIFFE ID. */
export interface DemoPkiResult {
  readonly files: readonly string[];
  readonly spiffeIds: Readonly<Record<string, string>>;
}

const DAY = 86_400_000;
const SKEW = 5 * 60_000;
const KU = { digitalSignature: 1, keyCertSign: 32, cRLSign: 64 } as const;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
// Demo material only: Envoy (uid 101), curl (uid 100) and this server (uid 1000) all read the same
// files from one volume. Never use this mode for real keys.
const FILE_MODE = 0o644;

function pemOf(cert: x509.X509Certificate): string {
  return `${cert.toString('pem').replace(/\r\n/g, '\n').trimEnd()}\n`;
}

function pkcs8Pem(key: CryptoKey): string {
  const pem = KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' });
  return typeof pem === 'string' ? pem : pem.toString('utf8');
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
}

async function writeDemoFile(path: string, text: string, files: string[]): Promise<void> {
  await writeFile(path, text, { mode: FILE_MODE });
  // writeFile's mode is filtered by the umask, and an existing file keeps its mode: set it explicitly.
  await chmod(path, FILE_MODE);
  files.push(path);
}

/** Writes ca.pem, bundle.pem and `<leaf>.pem` + `<leaf>-key.pem` (PKCS#8) for every DEMO_LEAVES entry. */
export async function generateDemoPki(opts: DemoPkiOptions): Promise<DemoPkiResult> {
  const trustDomain = opts.trustDomain ?? DEMO_TRUST_DOMAIN;
  const td = parseTrustDomain(trustDomain);
  if (!td.ok) throw new Error(`invalid trust domain "${trustDomain}": ${td.error.detail}`);
  const now = (opts.now ?? new Date()).getTime();
  const notBefore = new Date(now - SKEW);
  const notAfter = new Date(now + DEMO_VALIDITY_DAYS * DAY);
  const outDir = resolve(opts.outDir);
  await mkdir(outDir, { recursive: true });

  const caKeys = await generateKeys();
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `O=spiffe-ext-authz demo, CN=${trustDomain} demo root`,
      keys: caKeys,
      signingAlgorithm: ALG,
      notBefore,
      notAfter,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(KU.keyCertSign | KU.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, webcrypto),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }]),
      ],
    },
    webcrypto,
  );
  const files: string[] = [];
  const caPem = pemOf(ca);
  await writeDemoFile(join(outDir, 'ca.pem'), caPem, files);
  await writeDemoFile(join(outDir, 'bundle.pem'), caPem, files);

  const spiffeIds: Record<string, string> = {};
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, webcrypto);
  for (const leaf of DEMO_LEAVES) {
    const keys = await generateKeys();
    const spiffeId = `spiffe://${trustDomain}${leaf.idPath}`;
    const cert = await x509.X509CertificateGenerator.create(
      {
        subject: `O=spiffe-ext-authz demo, CN=${leaf.name}`,
        issuer: ca.subjectName,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: ALG,
        notBefore,
        notAfter,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(KU.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
          new x509.SubjectAlternativeNameExtension([
            { type: 'url', value: spiffeId },
            ...leaf.dns.map((value) => ({ type: 'dns' as const, value })),
          ]),
          authorityKeyId,
        ],
      },
      webcrypto,
    );
    await writeDemoFile(join(outDir, `${leaf.name}.pem`), pemOf(cert), files);
    await writeDemoFile(join(outDir, `${leaf.name}-key.pem`), pkcs8Pem(keys.privateKey), files);
    spiffeIds[leaf.name] = spiffeId;
  }
  return { files, spiffeIds };
}

/** Output sinks of runDemoPki (the CLI's). */
export interface DemoPkiIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** `demo-pki --out DIR [--trust-domain TD]`: returns the exit code (2 on usage errors, 1 on failure). */
export async function runDemoPki(argv: readonly string[], io: DemoPkiIo): Promise<number> {
  let values: { out?: string | undefined; 'trust-domain'?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowPositionals: false,
      options: { out: { type: 'string', short: 'o' }, 'trust-domain': { type: 'string' } },
    }));
  } catch (e) {
    io.err(`demo-pki: ${(e as Error).message}`);
    return 2;
  }
  if (values.out === undefined || values.out === '') {
    io.err('demo-pki: --out DIR is required');
    return 2;
  }
  try {
    const result = await generateDemoPki({ outDir: values.out, trustDomain: values['trust-domain'] ?? DEMO_TRUST_DOMAIN });
    for (const [name, id] of Object.entries(result.spiffeIds)) io.out(`${name}: ${id}`);
    io.out(`wrote ${result.files.length} files to ${resolve(values.out)} (demo only: keys are world-readable, valid ${DEMO_VALIDITY_DAYS} days)`);
    return 0;
  } catch (e) {
    io.err(`demo-pki: ${(e as Error).message}`);
    return 1;
  }
}
