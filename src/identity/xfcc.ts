// x-forwarded-client-cert parser implementing the project DECISION in spec-notes §6.6 (§6.1-§6.2, §8.8).
// One left-to-right scan over UTF-16 code units: no regex, no split/rejoin, time linear in the input.
import { ok, fail, type Failure, type Result } from '../result.js';

/** One XFCC element (what one proxy appended), canonical keys only; values unquoted, never percent-decoded. §6.6.4-7 */
export interface XfccElement {
  readonly By: readonly string[];
  readonly Hash?: string;
  readonly Cert?: string;
  readonly Chain?: string;
  readonly Subject?: string;
  readonly URI: readonly string[];
  readonly DNS: readonly string[];
}

/** Stable failure codes of parseXfcc (shared with authz reasons; never renamed). §6.6 */
export const XfccErrorCode = {
  /** Any grammar error: unterminated quote, empty element, pair without '=', bad key, stray '"', duplicate single-valued key. §6.6.2-6 */
  MALFORMED: 'XFCC_MALFORMED',
  /** Header longer than maxBytes UTF-8 bytes, or more than maxElements elements. */
  TOO_LARGE: 'XFCC_TOO_LARGE',
} as const;

/** Union of the XfccErrorCode values. */
export type XfccErrorCode = (typeof XfccErrorCode)[keyof typeof XfccErrorCode];

/** Size limits for parseXfcc; both default when omitted. */
export interface XfccLimits {
  readonly maxBytes?: number;
  readonly maxElements?: number;
}

/** Default maximum header size in UTF-8 bytes. */
export const XFCC_DEFAULT_MAX_BYTES = 16384;
/** Default maximum number of elements (proxy hops). */
export const XFCC_DEFAULT_MAX_ELEMENTS = 16;

type XfccFailure = { readonly ok: false; readonly error: Failure<XfccErrorCode> };
type SingleKey = 'Hash' | 'Cert' | 'Chain' | 'Subject';
type ListKey = 'By' | 'URI' | 'DNS';
type MutableElement = { By: string[]; URI: string[]; DNS: string[] } & { [K in SingleKey]?: string };

const COMMA = 0x2c;
const SEMI = 0x3b;
const EQ = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SP = 0x20;
const HTAB = 0x09;

/** Lowercased key -> canonical key; anything else (incl. legacy SAN) is ignored. §6.6.4 */
const KNOWN_KEYS: ReadonlyMap<string, SingleKey | ListKey> = new Map<string, SingleKey | ListKey>([
  ['by', 'By'], ['hash', 'Hash'], ['cert', 'Cert'], ['chain', 'Chain'],
  ['subject', 'Subject'], ['uri', 'URI'], ['dns', 'DNS'],
]);

/** RFC 7230 tchar table: ALPHA DIGIT ! # $ % & ' * + - . ^ _ ` | ~ */
const TCHAR: Uint8Array = (() => {
  const table = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~") table[c.charCodeAt(0)] = 1;
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) {
    table[c] = 1;
    table[c + 0x20] = 1;
  }
  return table;
})();

function malformed(detail: string): XfccFailure {
  return fail(XfccErrorCode.MALFORMED, detail);
}

/** JSON-quotes a snippet for a failure detail, cut to 40 code units so details stay small. */
function show(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s);
}

function isWs(c: number): boolean {
  return c === SP || c === HTAB;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** s.slice(start, end) without trailing SP/HTAB (leading whitespace is skipped by the caller). */
function sliceTrimEnd(s: string, start: number, end: number): string {
  while (end > start && isWs(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/**
 * True when the UTF-8 encoding of s is longer than max bytes. UTF-16 length is a lower bound of the
 * UTF-8 length and 3x it an upper bound, so the exact count (lone surrogates as U+FFFD, 3 bytes) only
 * runs on strings of at most `max` code units: cheap, and done before any parsing.
 */
function exceedsUtf8Bytes(s: string, max: number): boolean {
  if (s.length > max) return true;
  if (s.length * 3 <= max) return false;
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes > max;
}

/** Parses a value starting at i (just after '='); stops at ';', ',' or the end. §6.6.5 */
function parseValue(s: string, i: number, where: string): { value: string; end: number } | XfccFailure {
  const n = s.length;
  i = skipWs(s, i);
  if (i < n && s.charCodeAt(i) === QUOTE) {
    let value = '';
    let chunk = ++i;
    for (;;) {
      if (i >= n) return malformed(`unterminated quoted value ${where}`);
      const c = s.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        if (i + 1 >= n) return malformed(`unterminated quoted value ${where}`);
        const next = s.charCodeAt(i + 1);
        if (next === QUOTE || next === BACKSLASH) {
          value += s.slice(chunk, i);
          chunk = i + 1; // keep the escaped character, drop the backslash
        } // any other escape stays literally (backslash and character)
        i += 2;
      } else i++;
    }
    value += s.slice(chunk, i);
    i = skipWs(s, i + 1);
    if (i < n && s.charCodeAt(i) !== SEMI && s.charCodeAt(i) !== COMMA) {
      return malformed(`text after closing quote ${where}`);
    }
    return { value, end: i };
  }
  const start = i;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === SEMI || c === COMMA) break;
    if (c === QUOTE) return malformed(`unquoted value contains '"' ${where}`);
  }
  return { value: sliceTrimEnd(s, start, i), end: i };
}

/**
 * Parses an x-forwarded-client-cert header into its elements, oldest first (the last one is the
 * proxy in front of us), per the DECISION in spec-notes §6.6. Blank header -> []. The size check
 * runs before parsing; the element count is checked when the (maxElements+1)-th element starts.
 */
export function parseXfcc(header: string, limits: XfccLimits = {}): Result<readonly XfccElement[], XfccErrorCode> {
  const maxBytes = limits.maxBytes ?? XFCC_DEFAULT_MAX_BYTES;
  const maxElements = limits.maxElements ?? XFCC_DEFAULT_MAX_ELEMENTS;
  if (exceedsUtf8Bytes(header, maxBytes)) {
    return fail(XfccErrorCode.TOO_LARGE, `header is longer than ${maxBytes} bytes`);
  }
  const n = header.length;
  if (skipWs(header, 0) === n) return ok([]);

  const elements: XfccElement[] = [];
  let element: MutableElement = { By: [], URI: [], DNS: [] };
  let pairs = 0;
  let sawSemicolon = false;
  let i = 0;
  for (;;) {
    const where = `in element ${elements.length + 1}`;
    if (elements.length >= maxElements) {
      return fail(XfccErrorCode.TOO_LARGE, `more than ${maxElements} elements`);
    }
    // One pair, or an empty pair: key up to the first '=' (or the pair's end).
    const keyStart = skipWs(header, i);
    i = keyStart;
    let c = -1;
    while (i < n) {
      c = header.charCodeAt(i);
      if (c === EQ || c === SEMI || c === COMMA) break;
      i++;
    }
    if (i < n && c === EQ) {
      const key = sliceTrimEnd(header, keyStart, i);
      if (!isToken(key)) return malformed(`invalid key ${show(key)} ${where}`);
      const parsed = parseValue(header, i + 1, where);
      if ('ok' in parsed) return parsed;
      i = parsed.end;
      pairs++;
      const canonical = KNOWN_KEYS.get(key.toLowerCase());
      if (canonical === 'By' || canonical === 'URI' || canonical === 'DNS') {
        element[canonical].push(parsed.value);
      } else if (canonical !== undefined) {
        if (element[canonical] !== undefined) return malformed(`duplicate ${canonical} ${where}`);
        element[canonical] = parsed.value;
      }
    } else {
      const raw = sliceTrimEnd(header, keyStart, i);
      if (raw !== '') return malformed(`pair ${show(raw)} has no '=' ${where}`);
    }
    // Separator: ';' continues the element, ',' or the end closes it.
    if (i < n && header.charCodeAt(i) === SEMI) {
      sawSemicolon = true;
      i++;
      continue;
    }
    if (pairs === 0) {
      return malformed(sawSemicolon ? `element ${elements.length + 1} has no key=value pair` : `element ${elements.length + 1} is empty`);
    }
    elements.push(element);
    if (i >= n) return ok(elements);
    i++; // ','
    element = { By: [], URI: [], DNS: [] };
    pairs = 0;
    sawSemicolon = false;
  }
}
