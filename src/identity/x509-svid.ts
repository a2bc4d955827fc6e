// X509-SVID checks for a caller certificate (spec-notes §3.2, §3.3) and Envoy's certificate encoding (§5.2).
// Pure: node:crypto parses and verifies signatures; x509-der.ts reads SANs and extensions from the DER.
import type { X509Certificate } from 'node:crypto';
import { ok, fail, type Result } from '../result.js';
import { parseSpiffeId, isLeafId } from '../spiffe/spiffe-id.js';
import { X509_DEFAULT_MAX_ENCODED_BYTES, parseCertificates } from '../trust/pem.js';
import type { BundleLookup } from '../trust/types.js';
import { readBasicConstraints, readCertificateDer, readKeyUsage, readSanUris } from './x509-der.js';

/** Stable failure codes of the X.509 functions (shared with authz reasons; never renamed). */
export const X509ErrorCode = {
  /** Bad percent-encoding, not PEM/DER, wrong certificate count, over a size limit, duplicate extension. §5.2 */
  CERT_MALFORMED: 'CERT_MALFORMED',
  /** Not exactly one URI SAN, or the URI is not a SPIFFE ID with a non-root path. §3.2.4-5 */
  CERT_NOT_SVID: 'CERT_NOT_SVID',
  /** Basic constraints cA=true: a signing certificate presented as a caller. §3.2.2 */
  CERT_IS_CA: 'CERT_IS_CA',
  /** keyCertSign or cRLSign on a leaf (§3.2.3); in strict mode also: no critical key usage with digitalSignature (§3.1). */
  CERT_BAD_KEY_USAGE: 'CERT_BAD_KEY_USAGE',
  /** The injected clock is after the leaf's notAfter. */
  CERT_EXPIRED: 'CERT_EXPIRED',
  /** The injected clock is before the leaf's notBefore. */
  CERT_NOT_YET_VALID: 'CERT_NOT_YET_VALID',
  /** No valid path to a root of the leaf's own trust domain's bundle, or that bundle has no X.509 roots. §2, §3.2.1 */
  CERT_UNTRUSTED: 'CERT_UNTRUSTED',
  /** requireBundle is set and no bundle is loaded for the leaf's trust domain. §3.3 */
  BUNDLE_UNAVAILABLE: 'BUNDLE_UNAVAILABLE',
} as const;

/** Union of the X509ErrorCode values. */
export type X509ErrorCode = (typeof X509ErrorCode)[keyof typeof X509ErrorCode];

/** What verifyX509Svid proved about the caller; notAfter (ms) is the earliest expiry of the checked certificates. */
export interface VerifiedX509Svid {
  readonly spiffeId: string;
  readonly trustDomain: string;
  readonly path: string;
  readonly notAfter: number;
}

/** Options of verifyX509Svid; `now` is the injected clock in ms. */
export interface VerifyX509SvidOptions {
  readonly now: number;
  readonly bundles: BundleLookup;
  /** Concatenated PEM intermediates (e.g. XFCC Chain); the leaf itself may be included and is skipped. */
  readonly intermediatesPem?: string;
  /** Without a bundle for the leaf's trust domain: true = BUNDLE_UNAVAILABLE, false = rely on Envoy's chain check. */
  readonly requireBundle: boolean;
  /** Also require a critical key usage with digitalSignature (issuer obligations, §3.2 DECISION). */
  readonly strict?: boolean;
  /** Largest leaf PEM, and largest intermediates PEM, in UTF-8 bytes (default X509_DEFAULT_MAX_BYTES). */
  readonly maxBytes?: number;
}

/** Decodes `source.certificate` / XFCC `Cert` strictly (decodeURIComponent: `+` stays `+`); "" stays "". §5.2, §8.7 */
export function decodeEnvoyCertificate(encoded: string, maxBytes: number = X509_DEFAULT_MAX_ENCODED_BYTES): Result<string, 'CERT_MALFORMED'> {
  if (encoded.length > maxBytes) return fail('CERT_MALFORMED', `encoded certificate is longer than ${maxBytes} characters`);
  try {
    return ok(decodeURIComponent(encoded));
  } catch {
    const at = encoded.search(/%(?![0-9A-Fa-f]{2})/);
    return fail('CERT_MALFORMED', at >= 0 ? `malformed percent-escape at index ${at}` : 'percent-escapes do not decode to UTF-8');
  }
}


/** What the checks need from one certificate; keyUsage = KeyUsageFlags bits or undefined when absent, times in ms. */
interface CertFacts {
  readonly label: string;
  readonly uris: readonly string[];
  readonly isCa: boolean;
  readonly pathLength: number | undefined;
  readonly keyUsage: number | undefined;
  readonly keyUsageCritical: boolean;
  readonly notBefore: number;
  readonly notAfter: number;
  /** OID of a critical extension this module does not process (RFC 5280 §4.2), if any. */
  readonly unknownCritical: string | undefined;
}

const OID = { keyUsage: '2.5.29.15', subjectAltName: '2.5.29.17', basicConstraints: '2.5.29.19' } as const;
/** Extensions understood (or safely ignorable) when critical; anything else critical fails path validation. */
const PROCESSED = new Set<string>([OID.keyUsage, OID.subjectAltName, OID.basicConstraints, '2.5.29.37', '2.5.29.14', '2.5.29.35']);
const KU = { digitalSignature: 1, keyCertSign: 32, cRLSign: 64 } as const;

/** Reads the extensions from DER (never node's subjectAltName display string, §9); duplicates are malformed (RFC 5280 §4.2). */
function readFacts(cert: X509Certificate): Result<CertFacts, 'CERT_MALFORMED'> {
  const der = readCertificateDer(cert);
  if (!der.ok) return der;
  const seen = new Set<string>();
  let uris: string[] = [];
  let isCa = false;
  let pathLength: number | undefined;
  let keyUsage: number | undefined;
  let keyUsageCritical = false;
  let unknownCritical: string | undefined;
  for (const ext of der.value.extensions) {
    // A second SAN extension could hide a second URI from a reader that takes the first: reject duplicates outright.
    if (seen.has(ext.oid)) return fail('CERT_MALFORMED', `duplicate extension ${ext.oid}`);
    seen.add(ext.oid);
    if (ext.critical && !PROCESSED.has(ext.oid)) unknownCritical ??= ext.oid;
    if (ext.oid === OID.subjectAltName) {
      const r = readSanUris(ext.value);
      if (!r.ok) return r;
      uris = r.value;
    } else if (ext.oid === OID.basicConstraints) {
      const r = readBasicConstraints(ext.value);
      if (!r.ok) return r;
      isCa = r.value.ca;
      pathLength = r.value.pathLength;
    } else if (ext.oid === OID.keyUsage) {
      const r = readKeyUsage(ext.value);
      if (!r.ok) return r;
      keyUsage = r.value;
      keyUsageCritical = ext.critical;
    }
  }
  // node prints one RDN per line; the label is for failure details only.
  const subject = cert.subject.split('\n').join(', ');
  const label = (subject || `serial ${cert.serialNumber}`).slice(0, 120);
  return ok({ label, uris, isCa, pathLength, keyUsage, keyUsageCritical, unknownCritical, notBefore: der.value.notBefore, notAfter: der.value.notAfter });
}

/** Root facts, parsed once per root object (bundles are immutable snapshots; an invisible memo keeps this pure). */
const rootFacts = new WeakMap<X509Certificate, Result<CertFacts, 'CERT_MALFORMED'>>();
const factsOfRoot = (root: X509Certificate): Result<CertFacts, 'CERT_MALFORMED'> =>
  rootFacts.get(root) ?? rootFacts.set(root, readFacts(root)).get(root) ?? readFacts(root);

/** Why `ca` may not sign the next certificate down (`below` intermediates under it), or undefined if it may. RFC 5280 §6.1 */
function caProblem(facts: CertFacts, isRoot: boolean, below: number, now: number): string | undefined {
  const what = `${isRoot ? 'root' : 'intermediate'} '${facts.label}'`;
  // Like Go's x509 (go-spiffe G2), a trust anchor need not carry cA; an intermediate must.
  if (!isRoot && !facts.isCa) return `${what} is not a CA`;
  if (facts.pathLength !== undefined && below > facts.pathLength) return `${what} pathLenConstraint ${facts.pathLength} exceeded`;
  if (facts.unknownCritical !== undefined) return `${what} has unprocessed critical extension ${facts.unknownCritical}`;
  if (now < facts.notBefore) return `${what} is not yet valid`;
  if (now > facts.notAfter) return `${what} has expired`;
  return undefined;
}

/** True if `parent` issued `child`: name + AKID linkage and keyCertSign if KU is present (OpenSSL X509_check_issued), then the signature. */
function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/** Signature checks allowed per chain search (Go's x509 uses a similar budget against crafted intermediates). */
const MAX_SIGNATURE_CHECKS = 64;

interface ChainSearch {
  readonly roots: readonly X509Certificate[];
  readonly intermediates: readonly { readonly cert: X509Certificate; readonly facts: CertFacts }[];
  readonly used: Set<number>;
  readonly now: number;
  budget: number;
  why: string | undefined;
}

/** Depth-first search for a path from `cert` to a root; returns the earliest notAfter above `cert`, or undefined. */
function findPath(cert: X509Certificate, below: number, s: ChainSearch): number | undefined {
  for (const root of s.roots) {
    if (s.budget-- <= 0) return undefined;
    if (!issuedBy(cert, root)) continue;
    const facts = factsOfRoot(root);
    const problem = facts.ok ? caProblem(facts.value, true, below, s.now) : `root does not parse: ${facts.error.detail}`;
    if (problem === undefined && facts.ok) return facts.value.notAfter;
    s.why ??= problem;
  }
  for (const [i, im] of s.intermediates.entries()) {
    if (s.used.has(i)) continue;
    if (s.budget-- <= 0) return undefined;
    if (!issuedBy(cert, im.cert)) continue;
    const problem = caProblem(im.facts, false, below, s.now);
    s.why ??= problem;
    if (problem !== undefined) continue;
    s.used.add(i);
    const above = findPath(im.cert, below + 1, s);
    s.used.delete(i);
    if (above !== undefined) return Math.min(above, im.facts.notAfter);
  }
  return undefined;
}

/** Verifies a caller X509-SVID: parse -> one URI SAN -> CA/KU -> validity (injected clock) -> chain to its own trust domain. §3.2, G2 */
export function verifyX509Svid(leafPem: string, opts: VerifyX509SvidOptions): Result<VerifiedX509Svid, X509ErrorCode> {
  const parsed = parseCertificates(leafPem, { maxCerts: 1, ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}) });
  if (!parsed.ok) return parsed;
  const leaf = parsed.value[0] as X509Certificate;
  const read = readFacts(leaf);
  if (!read.ok) return read;
  const facts = read.value;
  // §3.2.4: exactly one URI SAN; never "take the first" (§8.6).
  if (facts.uris.length !== 1) return fail(X509ErrorCode.CERT_NOT_SVID, `${facts.uris.length} URI SANs`);
  const id = parseSpiffeId(facts.uris[0] as string);
  if (!id.ok) return fail(X509ErrorCode.CERT_NOT_SVID, `URI SAN is not a SPIFFE ID: ${id.error.code}: ${id.error.detail}`);
  if (!isLeafId(id.value)) return fail(X509ErrorCode.CERT_NOT_SVID, 'SPIFFE ID has a root path');
  const spiffeId = facts.uris[0] as string;
  // §3.2.2-3: absent basic constraints = not a CA; signing key usages are forbidden on a leaf.
  if (facts.isCa) return fail(X509ErrorCode.CERT_IS_CA, 'basic constraints cA=true');
  if (facts.keyUsage !== undefined && (facts.keyUsage & (KU.keyCertSign | KU.cRLSign)) !== 0) {
    return fail(X509ErrorCode.CERT_BAD_KEY_USAGE, 'leaf has keyCertSign or cRLSign');
  }
  if (opts.strict === true && (facts.keyUsage === undefined || !facts.keyUsageCritical || (facts.keyUsage & KU.digitalSignature) === 0)) {
    return fail(X509ErrorCode.CERT_BAD_KEY_USAGE, 'strict: key usage must be critical and include digitalSignature');
  }
  if (opts.now < facts.notBefore) return fail(X509ErrorCode.CERT_NOT_YET_VALID, `valid from ${new Date(facts.notBefore).toISOString()}`);
  if (opts.now > facts.notAfter) return fail(X509ErrorCode.CERT_EXPIRED, `expired at ${new Date(facts.notAfter).toISOString()}`);
  const { trustDomain, path } = id.value;
  const verified = (notAfter: number): Result<VerifiedX509Svid, X509ErrorCode> => ok(Object.freeze({ spiffeId, trustDomain, path, notAfter }));

  // §2: only the bundle of the leaf's own trust domain may vouch for it.
  const bundle = opts.bundles(trustDomain);
  if (bundle === undefined) {
    return opts.requireBundle ? fail(X509ErrorCode.BUNDLE_UNAVAILABLE, `no bundle for trust domain '${trustDomain}'`) : verified(facts.notAfter);
  }
  if (bundle.trustDomain !== trustDomain) return fail(X509ErrorCode.CERT_UNTRUSTED, `bundle lookup returned trust domain '${bundle.trustDomain}'`);
  // §2: an empty x509 authority set means the trust domain revoked everything.
  if (bundle.x509Authorities.length === 0) return fail(X509ErrorCode.CERT_UNTRUSTED, `trust domain '${trustDomain}' has no X.509 authorities`);
  if (facts.unknownCritical !== undefined) return fail(X509ErrorCode.CERT_UNTRUSTED, `leaf has unprocessed critical extension ${facts.unknownCritical}`);
  const intermediates: { cert: X509Certificate; facts: CertFacts }[] = [];
  if (opts.intermediatesPem !== undefined && opts.intermediatesPem.trim() !== '') {
    const chain = parseCertificates(opts.intermediatesPem, opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {});
    if (!chain.ok) return fail(X509ErrorCode.CERT_MALFORMED, `intermediates: ${chain.error.detail}`);
    for (const cert of chain.value) {
      if (cert.raw.equals(leaf.raw)) continue; // XFCC Chain starts with the leaf itself
      const f = readFacts(cert);
      if (!f.ok) return fail(X509ErrorCode.CERT_MALFORMED, `intermediates: ${f.error.detail}`);
      intermediates.push({ cert, facts: f.value });
    }
  }
  const search: ChainSearch = { roots: bundle.x509Authorities, intermediates, used: new Set(), now: opts.now, budget: MAX_SIGNATURE_CHECKS, why: undefined };
  const above = findPath(leaf, 0, search);
  if (above === undefined) {
    const why = search.budget < 0 ? 'chain search budget exhausted' : (search.why ?? 'not issued by a root or supplied intermediate');
    return fail(X509ErrorCode.CERT_UNTRUSTED, `no path to a root of '${trustDomain}': ${why}`);
  }
  return verified(Math.min(facts.notAfter, above));
}

