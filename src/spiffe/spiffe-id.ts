// SPIFFE ID parsing and validation (spec-notes §1), mirroring go-spiffe `FromString`/`ValidatePath`.
// Works on UTF-16 code units with a lookup table: no URL class, no regex, no normalisation (§1.6, §8.2-3).
import { ok, fail, type Failure, type Result } from '../result.js';

/** A parsed SPIFFE ID; `path` is "" (root) or starts with "/". Compare with plain string equality. */
export interface SpiffeId {
  readonly trustDomain: string;
  readonly path: string;
}

/** Stable failure codes of the SPIFFE ID parsers (never renamed; callers and metrics depend on them). */
export const SpiffeIdErrorCode = {
  /** Input is "" (or null/undefined at runtime). §1.6.1 */
  EMPTY: 'EMPTY',
  /** Does not start with exactly "spiffe://" (any case change, "spiffe:/", "http://"), or is not a string. §1.5, §1.6.2 */
  BAD_SCHEME: 'BAD_SCHEME',
  /** Nothing between "spiffe://" and the path ("spiffe:///x"), or an empty bare trust domain. §1.2.1 */
  MISSING_TRUST_DOMAIN: 'MISSING_TRUST_DOMAIN',
  /** Trust-domain character outside a-z 0-9 . - _ (uppercase, ':', '@', '%', '?', '#', '[', non-ASCII...). §1.2 */
  BAD_TRUST_DOMAIN_CHAR: 'BAD_TRUST_DOMAIN_CHAR',
  /** Trust domain longer than 255 bytes. §1.2.7 (DECISION) */
  TRUST_DOMAIN_TOO_LONG: 'TRUST_DOMAIN_TOO_LONG',
  /** A non-empty path that does not start with "/" (only reachable through validateIdPath). §1.3.1 */
  PATH_NO_LEADING_SLASH: 'PATH_NO_LEADING_SLASH',
  /** Path character outside a-z A-Z 0-9 . - _ and '/' ('%', '~', ':', '@', '?', '#', '\\', space, non-ASCII...). §1.3.4 */
  BAD_PATH_CHAR: 'BAD_PATH_CHAR',
  /** Empty path segment ("//"). §1.3.2 */
  EMPTY_SEGMENT: 'EMPTY_SEGMENT',
  /** A path segment that is exactly "." or "..". §1.3.2 */
  DOT_SEGMENT: 'DOT_SEGMENT',
  /** Path ends with "/" (including "spiffe://td/"). §1.3.3 */
  TRAILING_SLASH: 'TRAILING_SLASH',
  /** Whole ID longer than 2048 bytes. §1.4 (DECISION) */
  TOO_LONG: 'TOO_LONG',
} as const;

/** Union of the SpiffeIdErrorCode values. */
export type SpiffeIdErrorCode = (typeof SpiffeIdErrorCode)[keyof typeof SpiffeIdErrorCode];

/** The only accepted prefix, byte-exact and lowercase. §1.5, §1.6.2 */
const SCHEME_PREFIX = 'spiffe://';
/** Maximum length of a whole ID in bytes. §1.4 */
const MAX_ID_BYTES = 2048;
/** Maximum length of a trust domain in bytes. §1.2.7 */
const MAX_TRUST_DOMAIN_BYTES = 255;

/** A failed Result carrying a SpiffeIdErrorCode. */
type IdFailure = { readonly ok: false; readonly error: Failure<SpiffeIdErrorCode> };

const TD_CHAR = 1;
const PATH_CHAR = 2;
const SLASH = 0x2f;
const DOT = 0x2e;

/** ASCII class table: bit TD_CHAR for a-z 0-9 . - _ (§1.2.4), bit PATH_CHAR for a-z A-Z 0-9 . - _ (§1.3.4). */
const CHAR_CLASS: Uint8Array = (() => {
  const table = new Uint8Array(128);
  const set = (from: string, to: string, bits: number): void => {
    for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c++) table[c] = (table[c] ?? 0) | bits;
  };
  set('a', 'z', TD_CHAR | PATH_CHAR);
  set('0', '9', TD_CHAR | PATH_CHAR);
  set('.', '.', TD_CHAR | PATH_CHAR);
  set('-', '-', TD_CHAR | PATH_CHAR);
  set('_', '_', TD_CHAR | PATH_CHAR);
  set('A', 'Z', PATH_CHAR);
  return table;
})();

/** True if code unit `c` belongs to the class `bit`; anything >= 128 (non-ASCII, surrogates) never does. */
function inClass(c: number, bit: number): boolean {
  return c < 128 && ((CHAR_CLASS[c] ?? 0) & bit) !== 0;
}

/** Printable rendering of the character at `index` for details: 'x' for visible ASCII, else U+XXXX. */
function describeChar(s: string, index: number): string {
  const cp = s.codePointAt(index) ?? 0;
  if (cp > 0x20 && cp < 0x7f) return `'${String.fromCharCode(cp)}'`;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Checks the trust-domain charset of s[start, end) and its length; `end > start` is checked by callers. §1.2 */
function checkTrustDomainChars(s: string, start: number, end: number): IdFailure | undefined {
  for (let i = start; i < end; i++) {
    if (!inClass(s.charCodeAt(i), TD_CHAR)) {
      return fail(SpiffeIdErrorCode.BAD_TRUST_DOMAIN_CHAR, `bad trust domain character ${describeChar(s, i)} at index ${i}`);
    }
  }
  if (end - start > MAX_TRUST_DOMAIN_BYTES) {
    return fail(
      SpiffeIdErrorCode.TRUST_DOMAIN_TOO_LONG,
      `trust domain is ${end - start} bytes, longer than ${MAX_TRUST_DOMAIN_BYTES}`,
    );
  }
  return undefined;
}

/** Failure for the segment s[segStart, segEnd) (segStart at its '/') if it is empty or a dot segment, else undefined. */
function checkSegment(s: string, segStart: number, segEnd: number, isLast: boolean): IdFailure | undefined {
  const len = segEnd - segStart;
  if (len === 1) {
    return isLast
      ? fail(SpiffeIdErrorCode.TRAILING_SLASH, `path has a trailing '/' at index ${segStart}`)
      : fail(SpiffeIdErrorCode.EMPTY_SEGMENT, `path has an empty segment ('//') at index ${segStart}`);
  }
  // "/." or "/.." only; "/...", "/.a", "/a." and "/..a" are legal segments (§1.3.2, §8.4).
  if (s.charCodeAt(segStart + 1) === DOT && (len === 2 || (len === 3 && s.charCodeAt(segStart + 2) === DOT))) {
    return fail(
      SpiffeIdErrorCode.DOT_SEGMENT,
      `path has a dot segment '${s.slice(segStart + 1, segEnd)}' at index ${segStart + 1}`,
    );
  }
  return undefined;
}

/** Validates s[start..] as a SPIFFE path exactly like go-spiffe ValidatePath; indexes in details are into `s`. §1.3 */
function checkPath(s: string, start: number): IdFailure | undefined {
  const end = s.length;
  if (start === end) return undefined;
  if (s.charCodeAt(start) !== SLASH) {
    return fail(SpiffeIdErrorCode.PATH_NO_LEADING_SLASH, `path must be empty or start with '/', got ${describeChar(s, start)}`);
  }
  let segStart = start;
  for (let i = start + 1; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === SLASH) {
      const bad = checkSegment(s, segStart, i, false);
      if (bad) return bad;
      segStart = i;
    } else if (!inClass(c, PATH_CHAR)) {
      return fail(SpiffeIdErrorCode.BAD_PATH_CHAR, `bad path character ${describeChar(s, i)} at index ${i}`);
    }
  }
  return checkSegment(s, segStart, end, true);
}

/** Parses `spiffe://<trust-domain>[<path>]` strictly (go-spiffe FromString order + §1.2.7/§1.4 limits); never throws. */
export function parseSpiffeId(input: string): Result<SpiffeId, SpiffeIdErrorCode> {
  const raw: unknown = input;
  if (raw === undefined || raw === null) return fail(SpiffeIdErrorCode.EMPTY, 'SPIFFE ID cannot be empty');
  if (typeof raw !== 'string') return fail(SpiffeIdErrorCode.BAD_SCHEME, `SPIFFE ID must be a string, got ${typeof raw}`);
  if (raw.length === 0) return fail(SpiffeIdErrorCode.EMPTY, 'SPIFFE ID cannot be empty');
  // UTF-16 length <= UTF-8 length, and a valid ID is pure ASCII (1 byte = 1 unit): checking units first is exact. §1.4
  if (raw.length > MAX_ID_BYTES) {
    return fail(SpiffeIdErrorCode.TOO_LONG, `SPIFFE ID is longer than ${MAX_ID_BYTES} bytes (${raw.length} characters)`);
  }
  // Literal, case-sensitive prefix: "Spiffe://", "SPIFFE://", "spiffe:/" are rejected, never normalised. S1 §2.4 vs §2.1, §1.5
  if (!raw.startsWith(SCHEME_PREFIX)) {
    return fail(SpiffeIdErrorCode.BAD_SCHEME, "scheme is missing or invalid: expected the literal prefix 'spiffe://'");
  }
  const tdStart = SCHEME_PREFIX.length;
  let tdEnd = raw.indexOf('/', tdStart);
  if (tdEnd === -1) tdEnd = raw.length;
  // Userinfo, port, IPv6, '%', '?', '#', '\\' before the first '/' all fail the charset here. S1 §2.1, §1.6.3
  const tdBad = checkTrustDomainChars(raw, tdStart, tdEnd);
  if (tdBad) return tdBad;
  if (tdEnd === tdStart) return fail(SpiffeIdErrorCode.MISSING_TRUST_DOMAIN, 'trust domain is missing');
  const pathBad = checkPath(raw, tdEnd);
  if (pathBad) return pathBad;
  return ok(Object.freeze({ trustDomain: raw.slice(tdStart, tdEnd), path: raw.slice(tdEnd) }));
}

/** Validates a bare trust-domain name (no scheme, no path) per §1.2; returns it unchanged (no lowercasing). */
export function parseTrustDomain(name: string): Result<string, SpiffeIdErrorCode> {
  const raw: unknown = name;
  if (typeof raw !== 'string' || raw.length === 0) {
    return fail(SpiffeIdErrorCode.MISSING_TRUST_DOMAIN, 'trust domain is missing');
  }
  const bad = checkTrustDomainChars(raw, 0, raw.length);
  if (bad) return bad;
  return ok(raw);
}

/** Validates a SPIFFE ID path per §1.3 ("" is the valid root path; > 2048 bytes is TOO_LONG); returns it unchanged (§1.3.5). */
export function validateIdPath(path: string): Result<string, SpiffeIdErrorCode> {
  const raw: unknown = path;
  if (typeof raw !== 'string') return fail(SpiffeIdErrorCode.BAD_PATH_CHAR, `path must be a string, got ${typeof raw}`);
  if (raw.length > MAX_ID_BYTES) {
    return fail(SpiffeIdErrorCode.TOO_LONG, `path is longer than ${MAX_ID_BYTES} bytes (${raw.length} characters)`);
  }
  const bad = checkPath(raw, 0);
  if (bad) return bad;
  return ok(raw);
}

/** Renders an ID as `spiffe://<trustDomain><path>` (inverse of parseSpiffeId for valid IDs). */
export function formatSpiffeId(id: SpiffeId): string {
  return `${SCHEME_PREFIX}${id.trustDomain}${id.path}`;
}

/** True for a non-root ID (path !== ""); only such IDs identify workloads (X.509 leaf, JWT sub). S2 §5.2, §4.2 */
export function isLeafId(id: SpiffeId): boolean {
  return id.path !== '';
}
