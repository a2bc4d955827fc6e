// JWT-SVID extraction and verification (spec-notes §4, §8.9). Pure: no I/O, no logging, clock injected.
// The order of checks is the one of §4.2 (after G3): cheap structural checks and the alg allow-list
// first, unverified claims only to choose the bundle, then the signature, then the time/audience claims.
import type * as Jose from 'jose';
import type { JwtAuthority, BundleLookup } from '../trust/types.js';
import { ok, fail, type Failure, type Result } from '../result.js';
import { isLeafId, parseSpiffeId } from '../spiffe/spiffe-id.js';

// jose is loaded on first use, not at import: a server whose routes take no JWT-SVID never pays for
// it, and one whose routes do loads it before reporting SERVING (preloadJwtVerifier, app.ts).
let jose: typeof Jose | undefined;
let loading: Promise<typeof Jose> | undefined;

function loadJose(): Promise<typeof Jose> {
  loading ??= import('jose').then(
    (m) => (jose = m),
    (e: unknown) => {
      loading = undefined; // a failed load is retried by the next verification
      throw e;
    },
  );
  return loading;
}

/** Loads the JWS library now, so the first JWT-SVID Check does not wait for it. Never rejects. */
export async function preloadJwtVerifier(): Promise<boolean> {
  try {
    await loadJose();
    return true;
  } catch {
    return false;
  }
}

/** The only `alg` values a JWT-SVID may use (S3 §3, §4.1); everything else (none, HS*, EdDSA...) is rejected. */
export const JWT_SVID_ALGORITHMS = [
  'RS256', 'RS384', 'RS512',
  'ES256', 'ES384', 'ES512',
  'PS256', 'PS384', 'PS512',
] as const;

/** One of the nine JWT-SVID algorithms. */
export type JwtSvidAlgorithm = (typeof JWT_SVID_ALGORITHMS)[number];

/** Default maximum token size in bytes (bounded input before any decoding). */
export const JWT_DEFAULT_MAX_BYTES = 8192;

/** Stable failure codes of extractBearer/verifyJwtSvid (shared with authz reasons; never renamed). §4 */
export const JwtErrorCode = {
  /** Token longer than the configured byte limit (default 8 KiB). */
  TOO_LARGE: 'JWT_TOO_LARGE',
  /** Not a JWS Compact token (JSON serialization, JWE, not 3 base64url parts), undecodable header/payload, bad member types, merged Authorization headers. §4.1, §4.3 */
  MALFORMED: 'JWT_MALFORMED',
  /** `alg` missing or not one of the nine (none, HS*, EdDSA...), or not in the configured subset. §4.1 */
  ALG_NOT_ALLOWED: 'JWT_ALG_NOT_ALLOWED',
  /** `typ` present but not JWT/JOSE, or any `crit` header. §4.1 */
  BAD_HEADER: 'JWT_BAD_HEADER',
  /** `sub` missing, not a SPIFFE ID, or a root ID without a workload path. §4.2 (DECISION) */
  INVALID_SUBJECT: 'JWT_INVALID_SUBJECT',
  /** No bundle is configured/loaded for the trust domain of `sub`. §2 */
  BUNDLE_UNAVAILABLE: 'BUNDLE_UNAVAILABLE',
  /** The bundle of `sub`'s trust domain has no JWT keys, or none with the token's `kid`. §4.1 (DECISION) */
  UNKNOWN_KEY: 'JWT_UNKNOWN_KEY',
  /** `alg` does not fit the selected key (RS/PS need RSA; ES256/384/512 need P-256/384/521). §4.1 */
  ALG_KEY_MISMATCH: 'JWT_ALG_KEY_MISMATCH',
  /** The signature does not verify with the selected key(s) of `sub`'s trust domain. */
  BAD_SIGNATURE: 'JWT_BAD_SIGNATURE',
  /** `exp` missing or not a finite NumericDate. §4.2 */
  MISSING_EXP: 'JWT_MISSING_EXP',
  /** `exp` is at or before now minus the allowed skew. §4.2 */
  EXPIRED: 'JWT_EXPIRED',
  /** `nbf` or `iat` is after now plus the allowed skew. §4.2 */
  NOT_YET_VALID: 'JWT_NOT_YET_VALID',
  /** `aud` missing, not a string/array of strings, or containing none of the configured audiences. §4.2 */
  AUDIENCE_MISMATCH: 'JWT_AUDIENCE_MISMATCH',
} as const;

/** Union of the JwtErrorCode values. */
export type JwtErrorCode = (typeof JwtErrorCode)[keyof typeof JwtErrorCode];

/** The caller identity proven by a valid JWT-SVID. */
export interface VerifiedJwtSvid {
  readonly spiffeId: string;
  readonly trustDomain: string;
  readonly path: string;
  /** `exp` in milliseconds since the epoch. */
  readonly expiresAt: number;
}

/** Options of verifyJwtSvid; all but algorithms/maxTokenBytes are required. */
export interface JwtSvidVerifyOptions {
  /** Current time in milliseconds (injected clock). */
  readonly now: number;
  /** Accepted audiences; must be non-empty (§4.2: the audience check is never skipped). */
  readonly audiences: readonly string[];
  /** Allowed clock skew in seconds for exp/nbf/iat (go-jose default: 60). */
  readonly skewSeconds: number;
  /** Bundle of a trust domain; only ever called with the trust domain of `sub`. */
  readonly bundles: BundleLookup;
  /** Subset of JWT_SVID_ALGORITHMS to accept; defaults to all nine. */
  readonly algorithms?: readonly string[];
  /** Maximum token size in bytes; defaults to JWT_DEFAULT_MAX_BYTES. */
  readonly maxTokenBytes?: number;
}

type JwtFailure = { readonly ok: false; readonly error: Failure<JwtErrorCode> };

const NINE: ReadonlySet<string> = new Set(JWT_SVID_ALGORITHMS);
const EC_CURVES: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
const NODE_CURVES: Readonly<Record<string, string>> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const B64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token.
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
// "Bearer" followed by any whitespace or nothing is ours (then strictly parsed); "BearerX" is another scheme.
const BEARER_SCHEME = /^bearer(?:\s|$)/i;

/** Strips SP/HTAB at both ends without a backtracking regex. */
function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s[start] === ' ' || s[start] === '\t')) start++;
  while (end > start && (s[end - 1] === ' ' || s[end - 1] === '\t')) end--;
  return s.slice(start, end);
}

/** Reads the bearer token of an `authorization` header value (§4.3); other schemes are not ours -> ok(undefined). */
export function extractBearer(headerValue: string | undefined): Result<string | undefined, 'JWT_MALFORMED'> {
  if (headerValue === undefined) return ok(undefined);
  // Envoy already strips OWS around field values; trimming SP/HTAB here only tolerates the same.
  const value = trimOws(headerValue);
  // Two Authorization lines reach us merged as "a,b" (§4.3, §5.3): ambiguous -> reject if any part is Bearer.
  const parts = value.split(',');
  if (parts.length > 1) {
    if (parts.some((p) => BEARER_SCHEME.test(trimOws(p)))) {
      return fail(JwtErrorCode.MALFORMED, 'authorization header holds several credentials (merged headers?)');
    }
    return ok(undefined);
  }
  if (!BEARER_SCHEME.test(value)) return ok(undefined);
  const m = BEARER.exec(value);
  if (!m?.[1]) return fail(JwtErrorCode.MALFORMED, 'Bearer credentials are not a single b64token');
  return ok(m[1]);
}

/** True if `alg` can be used with `auth`: RS/PS need RSA, ES needs the matching NIST curve. §4.1 */
function algFitsKey(alg: string, auth: JwtAuthority): boolean {
  const nodeType = auth.key.asymmetricKeyType;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return auth.kty === 'RSA' && nodeType === 'rsa';
  const crv = EC_CURVES[alg];
  if (crv === undefined || auth.kty !== 'EC' || auth.crv !== crv || nodeType !== 'ec') return false;
  // Cross-check the declared curve with the key itself (defence in depth against a mislabelled bundle entry).
  return auth.key.asymmetricKeyDetails?.namedCurve === NODE_CURVES[crv];
}

/** Checks the programmer-supplied options; throws on a misconfiguration (never on token input). */
function checkOptions(opts: JwtSvidVerifyOptions): ReadonlySet<string> {
  if (opts.audiences.length === 0 || opts.audiences.some((a) => typeof a !== 'string' || a === '')) {
    throw new Error('verifyJwtSvid: audiences must be a non-empty list of non-empty strings (spec-notes §4.2)');
  }
  // A NaN clock would make every time comparison false, i.e. never expired.
  if (!Number.isFinite(opts.now)) throw new Error('verifyJwtSvid: now must be a finite number of milliseconds');
  if (!Number.isFinite(opts.skewSeconds) || opts.skewSeconds < 0) {
    throw new Error('verifyJwtSvid: skewSeconds must be a finite number >= 0');
  }
  if (opts.maxTokenBytes !== undefined && !(opts.maxTokenBytes > 0)) {
    throw new Error('verifyJwtSvid: maxTokenBytes must be > 0');
  }
  const algorithms = opts.algorithms ?? JWT_SVID_ALGORITHMS;
  if (algorithms.length === 0 || algorithms.some((a) => !NINE.has(a))) {
    throw new Error(`verifyJwtSvid: algorithms must be a non-empty subset of ${JWT_SVID_ALGORITHMS.join(', ')} (spec-notes §4.1)`);
  }
  return new Set(algorithms);
}

/** Own, non-inherited member of a parsed JSON object. */
function member(obj: object, name: string): unknown {
  return Object.hasOwn(obj, name) ? (obj as Record<string, unknown>)[name] : undefined;
}

/** True for unpadded base64url whose unused trailing bits are zero (RFC 4648 §3.5): one encoding per byte string. */
function isCanonicalBase64url(part: string): boolean {
  if (!BASE64URL.test(part)) return false;
  const rest = part.length % 4;
  if (rest === 0) return true;
  if (rest === 1) return false;
  // Without this, Node 20's atob-based decoding in jose accepts several spellings of one signature.
  const last = B64URL_ALPHABET.indexOf(part.charAt(part.length - 1));
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/** Checks the compact form: exactly three base64url parts, header and payload non-empty. §4.1 */
function checkCompact(token: string, maxBytes: number): JwtFailure | undefined {
  // UTF-16 length <= UTF-8 length; anything non-ASCII fails the charset check below anyway.
  if (token.length > maxBytes) return fail(JwtErrorCode.TOO_LARGE, `token is longer than ${maxBytes} bytes`);
  if (token.startsWith('{')) return fail(JwtErrorCode.MALFORMED, 'JWS JSON serialization is not allowed');
  const parts = token.split('.');
  if (parts.length === 5) return fail(JwtErrorCode.MALFORMED, 'JWE (5 parts) is not allowed');
  if (parts.length !== 3) return fail(JwtErrorCode.MALFORMED, `compact JWS must have 3 parts, got ${parts.length}`);
  if (!parts.every(isCanonicalBase64url)) return fail(JwtErrorCode.MALFORMED, 'a part is not canonical base64url (no padding)');
  // The signature may be empty here so that `alg: none` reports ALG_NOT_ALLOWED, not MALFORMED.
  if (parts[0] === '' || parts[1] === '') return fail(JwtErrorCode.MALFORMED, 'empty header or payload');
  return undefined;
}

/** Reads and checks the protected header: alg allow-list, typ, crit, kid type. Returns alg and kid. §4.1 */
function checkHeader(lib: typeof Jose, token: string, allowed: ReadonlySet<string>): Result<{ alg: string; kid: string | undefined }, JwtErrorCode> {
  let header: object;
  try {
    header = lib.decodeProtectedHeader(token);
  } catch {
    return fail(JwtErrorCode.MALFORMED, 'protected header is not a base64url JSON object');
  }
  const alg = member(header, 'alg');
  // Allow-list before anything touches a key: defeats none, HS*-with-public-key confusion and EdDSA. §4.1, §8.9
  if (typeof alg !== 'string' || !allowed.has(alg)) {
    return fail(JwtErrorCode.ALG_NOT_ALLOWED, `alg ${JSON.stringify(alg) ?? 'undefined'} is not allowed`);
  }
  const typ = member(header, 'typ');
  if (typ !== undefined && typ !== 'JWT' && typ !== 'JOSE') {
    return fail(JwtErrorCode.BAD_HEADER, `typ ${JSON.stringify(typ)} is not JWT or JOSE`);
  }
  // No extension is understood, so any crit must be rejected (RFC 7515 §4.1.11). §4.1
  if (Object.hasOwn(header, 'crit')) return fail(JwtErrorCode.BAD_HEADER, 'crit header is not supported');
  // jku, x5u, jwk and x5c are never read: keys come only from the bundle of sub's trust domain. §4.1
  const kid = member(header, 'kid');
  if (kid !== undefined && typeof kid !== 'string') return fail(JwtErrorCode.MALFORMED, 'kid is not a string');
  return ok({ alg, kid });
}

/** Selects the candidate keys per the kid DECISION of §4.1. */
function selectKeys(alg: string, kid: string | undefined, keys: ReadonlyMap<string, JwtAuthority>, td: string): Result<JwtAuthority[], JwtErrorCode> {
  if (keys.size === 0) return fail(JwtErrorCode.UNKNOWN_KEY, `trust domain "${td}" has no JWT-SVID keys`);
  if (kid !== undefined) {
    const auth = keys.get(kid);
    if (auth === undefined) return fail(JwtErrorCode.UNKNOWN_KEY, `trust domain "${td}" has no JWT-SVID key with that kid`);
    if (!algFitsKey(alg, auth)) return fail(JwtErrorCode.ALG_KEY_MISMATCH, `alg ${alg} does not fit the ${auth.kty} key of that kid`);
    return ok([auth]);
  }
  const fitting = [...keys.values()].filter((a) => algFitsKey(alg, a));
  if (fitting.length === 0) return fail(JwtErrorCode.ALG_KEY_MISMATCH, `no JWT-SVID key of "${td}" fits alg ${alg}`);
  return ok(fitting);
}

/** Verifies the signature with each candidate until one succeeds. */
async function verifySignature(lib: typeof Jose, token: string, alg: string, candidates: readonly JwtAuthority[]): Promise<JwtFailure | undefined> {
  let other: JwtFailure | undefined;
  let badSignature = false;
  for (const auth of candidates) {
    try {
      await lib.compactVerify(token, auth.key, { algorithms: [alg] });
      return undefined;
    } catch (err) {
      if (err instanceof lib.errors.JWSSignatureVerificationFailed) badSignature = true;
      // jose throws TypeError for an unusable key (e.g. RSA < 2048 bits), JOSEError for structure.
      else other ??= err instanceof TypeError
        ? fail(JwtErrorCode.ALG_KEY_MISMATCH, `key unusable for ${alg}: ${err.message}`)
        : fail(JwtErrorCode.MALFORMED, `token rejected by the verifier: ${err instanceof Error ? err.message : 'unknown'}`);
    }
  }
  if (badSignature || other === undefined) return fail(JwtErrorCode.BAD_SIGNATURE, 'signature does not verify');
  return other;
}

/** Checks exp, nbf, iat and aud against the injected clock and configured audiences. §4.2 */
function checkClaims(claims: object, opts: JwtSvidVerifyOptions): Result<number, JwtErrorCode> {
  const skewMs = opts.skewSeconds * 1000;
  const exp = member(claims, 'exp');
  if (exp === undefined) return fail(JwtErrorCode.MISSING_EXP, 'exp is missing');
  // 1e999 parses to Infinity: a token that never expires is rejected as not a NumericDate.
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return fail(JwtErrorCode.MISSING_EXP, 'exp is not a NumericDate');
  if (exp * 1000 <= opts.now - skewMs) return fail(JwtErrorCode.EXPIRED, 'exp is in the past');
  for (const name of ['nbf', 'iat'] as const) {
    const t = member(claims, name);
    if (t === undefined) continue;
    if (typeof t !== 'number' || !Number.isFinite(t)) return fail(JwtErrorCode.MALFORMED, `${name} is not a NumericDate`);
    if (t * 1000 > opts.now + skewMs) return fail(JwtErrorCode.NOT_YET_VALID, `${name} is in the future`);
  }
  const aud = member(claims, 'aud');
  const auds = typeof aud === 'string' ? [aud] : aud;
  if (!Array.isArray(auds) || auds.length === 0 || !auds.every((a) => typeof a === 'string')) {
    return fail(JwtErrorCode.AUDIENCE_MISMATCH, 'aud is missing or not a string / array of strings');
  }
  if (!opts.audiences.some((a) => auds.includes(a))) {
    return fail(JwtErrorCode.AUDIENCE_MISMATCH, 'aud contains none of the configured audiences');
  }
  return ok(exp * 1000);
}

/** The checks of verifyJwtSvid after the options were validated, in the order of §4.2. */
async function verifyChecked(token: string, opts: JwtSvidVerifyOptions, allowed: ReadonlySet<string>): Promise<Result<VerifiedJwtSvid, JwtErrorCode>> {
  if (typeof token !== 'string') return fail(JwtErrorCode.MALFORMED, 'token is not a string');
  const bad = checkCompact(token, opts.maxTokenBytes ?? JWT_DEFAULT_MAX_BYTES);
  if (bad) return bad;
  const lib = jose ?? (await loadJose());
  const header = checkHeader(lib, token, allowed);
  if (!header.ok) return header;
  const { alg, kid } = header.value;

  let claims: object;
  try {
    // Unverified: only used to pick the bundle by sub's trust domain (§4.2); nothing else is trusted yet.
    claims = lib.decodeJwt(token);
  } catch {
    return fail(JwtErrorCode.MALFORMED, 'payload is not a base64url JSON object');
  }
  const sub = member(claims, 'sub');
  if (typeof sub !== 'string') return fail(JwtErrorCode.INVALID_SUBJECT, 'sub is missing or not a string');
  const id = parseSpiffeId(sub);
  if (!id.ok) return fail(JwtErrorCode.INVALID_SUBJECT, `sub is not a SPIFFE ID: ${id.error.detail}`);
  if (!isLeafId(id.value)) return fail(JwtErrorCode.INVALID_SUBJECT, 'sub has no workload path (root ID)');
  const td = id.value.trustDomain;

  // Only the bundle of sub's own trust domain, never a merged set (§2, §8.9).
  const bundle = opts.bundles(td);
  if (bundle?.trustDomain !== td) return fail(JwtErrorCode.BUNDLE_UNAVAILABLE, `no bundle for trust domain "${td}"`);
  const keys = selectKeys(alg, kid, bundle.jwtAuthorities, td);
  if (!keys.ok) return keys;
  const sig = await verifySignature(lib, token, alg, keys.value);
  if (sig) return sig;

  // `claims` was decoded from exactly the payload segment compactVerify has just authenticated.
  const expiresAt = checkClaims(claims, opts);
  if (!expiresAt.ok) return expiresAt;
  return ok(Object.freeze({ spiffeId: sub, trustDomain: td, path: id.value.path, expiresAt: expiresAt.value }));
}

/** Verifies a JWT-SVID per spec-notes §4 (order of §4.2); bad tokens give a failure value, bad options throw. */
export function verifyJwtSvid(token: string, opts: JwtSvidVerifyOptions): Promise<Result<VerifiedJwtSvid, JwtErrorCode>> {
  const allowed = checkOptions(opts);
  return verifyChecked(token, opts, allowed);
}
