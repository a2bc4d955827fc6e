// Trust bundle parser (spec-notes §2): a PEM list of X.509 roots, or a SPIFFE bundle (RFC 7517 JWK Set, S4 §4).
// Pure: loading and watching files happens elsewhere. Unknown JWKs are skipped one by one; broken known ones fail all.
import { createPublicKey, type JsonWebKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { ok, fail, type Result } from '../result.js';
import { parseTrustDomain } from '../spiffe/spiffe-id.js';
import { decodeBase64Strict, parseCertificateDer, parseCertificates } from './pem.js';
import type { JwtAuthority, TrustBundle } from './types.js';

/** Stable failure code of the bundle parser (never renamed). */
export const BundleErrorCode = {
  /** Neither PEM nor JSON, bad JSON shape, a broken x509-svid/jwt-svid entry, a duplicate kid, or over a limit. §2 */
  MALFORMED: 'BUNDLE_MALFORMED',
} as const;

/** Union of the BundleErrorCode values. */
export type BundleErrorCode = (typeof BundleErrorCode)[keyof typeof BundleErrorCode];

/** A parsed bundle plus one note per JWK that was skipped (for the loader to log). */
export interface ParsedBundle {
  readonly bundle: TrustBundle;
  readonly ignored: readonly string[];
}

/** Maximum bundle text size in UTF-8 bytes (a large system CA file is ~250 KB). */
export const BUNDLE_MAX_BYTES = 4 * 1024 * 1024;
/** Maximum number of certificates in a PEM bundle, and of JWKs in a SPIFFE bundle. */
export const BUNDLE_MAX_ENTRIES = 1000;

const X509_USE = 'x509-svid';
const JWT_USE = 'jwt-svid';
/** Key types whose X.509 CA certificates node can verify signatures with. */
const X509_KTYS = new Set(['RSA', 'EC', 'OKP']);
/** Curves usable by the JWT-SVID algorithms ES256/384/512 (§4.1). */
const JWT_CURVES = new Set(['P-256', 'P-384', 'P-521']);
/** JWK members that carry private key material (RFC 7518 §6.2.2, §6.3.2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];

type Malformed = { readonly ok: false; readonly error: { readonly code: BundleErrorCode; readonly detail: string } };

function malformed(detail: string): Malformed {
  return fail(BundleErrorCode.MALFORMED, detail);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses a bundle of `trustDomain` (auto-detects PEM or SPIFFE JSON); same as parseBundleDetailed without the notes. */
export function parseBundle(trustDomain: string, text: string): Result<TrustBundle, BundleErrorCode> {
  const r = parseBundleDetailed(trustDomain, text);
  return r.ok ? ok(r.value.bundle) : r;
}

/** Parses a bundle and reports each skipped JWK (unknown use/kty, x509-svid without x5c or with a kid). §2 */
export function parseBundleDetailed(trustDomain: string, text: string): Result<ParsedBundle, BundleErrorCode> {
  const td = parseTrustDomain(trustDomain);
  if (!td.ok) return malformed(`invalid trust domain: ${td.error.detail}`);
  if (text.length > BUNDLE_MAX_BYTES || Buffer.byteLength(text) > BUNDLE_MAX_BYTES) {
    return malformed(`bundle is larger than ${BUNDLE_MAX_BYTES} bytes`);
  }
  const body = text.replace(/^\uFEFF/, '').trimStart();
  if (body.startsWith('{') || body.startsWith('[')) return parseSpiffeBundle(trustDomain, body);
  if (body.includes('-----BEGIN ')) {
    const certs = parseCertificates(body, { maxCerts: BUNDLE_MAX_ENTRIES, maxBytes: BUNDLE_MAX_BYTES });
    if (!certs.ok) return malformed(`PEM: ${certs.error.detail}`);
    return ok({ bundle: freezeBundle(trustDomain, certs.value, new Map(), undefined), ignored: [] });
  }
  return malformed('neither a SPIFFE bundle (JSON) nor PEM certificates');
}

function freezeBundle(
  trustDomain: string,
  certs: readonly X509Certificate[],
  jwt: ReadonlyMap<string, JwtAuthority>,
  sequence: number | undefined,
): TrustBundle {
  // Deduplicate roots by DER, like go-spiffe's AddX509Authority.
  const unique = certs.filter((c, i) => certs.findIndex((o) => o.raw.equals(c.raw)) === i);
  return Object.freeze({ trustDomain, x509Authorities: Object.freeze(unique), jwtAuthorities: jwt, sequence });
}

/** Parses a SPIFFE bundle JSON document (S4 §4, X509-SVID §6, JWT-SVID §6). */
function parseSpiffeBundle(trustDomain: string, json: string): Result<ParsedBundle, BundleErrorCode> {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    return malformed(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isObject(doc)) return malformed('JSON bundle is not an object');
  // S4 §4.1.3: `keys` MUST be present; an empty array is valid (the trust domain revoked everything).
  if (!('keys' in doc)) return malformed('keys is missing');
  const keys = doc['keys'];
  if (!Array.isArray(keys)) return malformed('keys is not an array');
  if (keys.length > BUNDLE_MAX_ENTRIES) return malformed(`more than ${BUNDLE_MAX_ENTRIES} keys`);
  const certs: X509Certificate[] = [];
  const jwt = new Map<string, JwtAuthority>();
  const ignored: string[] = [];
  for (const [i, entry] of keys.entries()) {
    const at = `keys[${i}]`;
    if (!isObject(entry)) return malformed(`${at}: not an object`);
    const { use, kty } = entry;
    // S4 §4.2.1-2: unknown or missing use/kty -> ignore the element (values are case-sensitive).
    if (use !== X509_USE && use !== JWT_USE) {
      ignored.push(`${at}: unknown use ${JSON.stringify(use)}`);
      continue;
    }
    if (typeof kty !== 'string' || !(use === X509_USE ? X509_KTYS.has(kty) : kty === 'RSA' || kty === 'EC')) {
      ignored.push(`${at}: unknown kty ${JSON.stringify(kty)} for ${use}`);
      continue;
    }
    if (use === X509_USE) {
      const cert = parseX509Entry(entry, at, ignored);
      if (cert === undefined) continue;
      if (!cert.ok) return cert;
      certs.push(cert.value);
    } else {
      const key = parseJwtEntry(entry, kty as 'RSA' | 'EC', at, ignored);
      if (key === undefined) continue;
      if (!key.ok) return key;
      // Two keys under one kid would make key selection ambiguous (§4.1): refuse the bundle.
      if (jwt.has(key.value.kid)) return malformed(`${at}: duplicate jwt-svid kid ${JSON.stringify(key.value.kid)}`);
      jwt.set(key.value.kid, key.value);
    }
  }
  const seq = doc['spiffe_sequence'];
  // S4 §4.1.1: a hint only; kept when it is an exact non-negative integer (JSON numbers above 2^53 lose precision).
  const sequence = typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined;
  return ok({ bundle: freezeBundle(trustDomain, certs, jwt, sequence), ignored: Object.freeze(ignored) });
}

/** An x509-svid entry: undefined = skipped (noted), else the root or a failure. X509-SVID §6.1-6.2 */
function parseX509Entry(entry: Record<string, unknown>, at: string, ignored: string[]): Result<X509Certificate, BundleErrorCode> | undefined {
  // X509-SVID §6.1: kid MUST NOT be set -> the entry is not a valid x509-svid element; skip it (never trust it).
  if ('kid' in entry) {
    ignored.push(`${at}: x509-svid entry has a kid`);
    return undefined;
  }
  const x5c = entry['x5c'];
  // X509-SVID §6.2: without x5c (or with an empty one) the entry MUST be ignored.
  if (x5c === undefined || (Array.isArray(x5c) && x5c.length === 0)) {
    ignored.push(`${at}: x509-svid entry without x5c`);
    return undefined;
  }
  if (!Array.isArray(x5c)) return malformed(`${at}: x5c is not an array`);
  // X509-SVID §6.2: only the first value counts; the rest MUST be ignored. x5c is standard base64 (RFC 7517 §4.7).
  const first: unknown = x5c[0];
  const der = typeof first === 'string' ? decodeBase64Strict(first) : undefined;
  if (der === undefined) return malformed(`${at}: x5c is not base64 DER`);
  const cert = parseCertificateDer(der);
  if (!cert.ok) return malformed(`${at}: x5c is not base64 DER (${cert.error.detail})`);
  return cert;
}

/** A jwt-svid entry: undefined = skipped (noted), else the key or a failure. JWT-SVID §6 */
function parseJwtEntry(
  entry: Record<string, unknown>,
  kty: 'RSA' | 'EC',
  at: string,
  ignored: string[],
): Result<JwtAuthority, BundleErrorCode> | undefined {
  const { kid, crv } = entry;
  // JWT-SVID §6: kid MUST be set; like go-spiffe, a keyless-id JWT authority fails the whole bundle.
  if (typeof kid !== 'string' || kid === '') return malformed(`${at}: jwt-svid entry without a kid`);
  if (kty === 'EC' && (typeof crv !== 'string' || !JWT_CURVES.has(crv))) {
    ignored.push(`${at}: unsupported EC curve ${JSON.stringify(crv)} for jwt-svid`);
    return undefined;
  }
  const priv = PRIVATE_MEMBERS.find((m) => m in entry);
  if (priv !== undefined) return malformed(`${at}: jwt-svid entry carries private key member '${priv}'`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: entry as JsonWebKey, format: 'jwk' });
  } catch (e) {
    return malformed(`${at}: jwt-svid key does not import: ${e instanceof Error ? e.message : String(e)}`);
  }
  return ok(Object.freeze({ kid, key, kty, crv: kty === 'EC' ? (crv as string) : undefined }));
}
