// Shared pieces of the fuzz suite: hostile strings, mutations of valid inputs, and the invariants
// every CheckResponse must satisfy. Run counts are small on purpose: the whole suite stays < ~20 s.
import fc from 'fast-check';
import { expect } from 'vitest';
import { REASONS, REASON_CODES, type Reason } from '../../../src/authz/reasons.js';
import type { Verdict } from '../../../src/authz/types.js';
import type { WireCheckResponse } from '../../../src/grpc/wire.js';

/** Characters that break naive parsers: separators, quotes, escapes, dots, controls, non-ASCII, lone surrogates. */
export const NASTY_CHARS = [
  '%', '.', '/', '\\', ';', ',', '=', '"', "'", ':', '@', '?', '#', '~', '+', '*', ' ', '\t', '\r', '\n', '\u0000', '\u007f',
  '-', '_', 'a', 'Z', '0', '2', 'e', 'E', 'f', 'F', 'é', '\u00a0', '\u2028', '\ufeff', 'Ａ', '😀', '\ud800', '\udfff',
] as const;

/** One hostile character. */
export const nastyChar: fc.Arbitrary<string> = fc.constantFrom(...NASTY_CHARS);

/** Escapes and sequences that matter to percent-decoders, path resolvers and SPIFFE parsers. */
const NASTY_CHUNKS = [
  '%2e', '%2E', '%2f', '%2F', '%5c', '%5C', '%25', '%00', '%zz', '%', '%2', '..', '.', '//', '/../', '/./', '\\..\\',
  'spiffe://', 'SPIFFE://', 'prod.example.org', 'Bearer ', 'bearer\t', 'URI=', 'By=', 'Cert="', 'Chain=', 'Subject="',
  '\\"', '\\\\', '";', '",', '-----BEGIN CERTIFICATE-----', '-----END CERTIFICATE-----', 'eyJ', '.eyJ', '?', '#', ':8443',
] as const;

/** Strings of hostile characters and chunks, mixed with fast-check's own string generators. */
export const hostileString = (maxLength = 80): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: nastyChar, maxLength }) },
    { weight: 3, arbitrary: fc.array(fc.oneof(nastyChar, fc.constantFrom(...NASTY_CHUNKS)), { maxLength: Math.ceil(maxLength / 4) }).map((a) => a.join('')) },
    { weight: 1, arbitrary: fc.string({ maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
  );

/** One edit of a string. `at` and `len` are reduced modulo the current length when applied. */
type Edit =
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'delete'; readonly at: number; readonly len: number }
  | { readonly kind: 'replace'; readonly at: number; readonly text: string }
  | { readonly kind: 'duplicate'; readonly at: number; readonly len: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'case'; readonly at: number; readonly len: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(nastyChar, fc.constantFrom(...NASTY_CHUNKS)) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: nastyChar }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 24 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('case' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
);

/** Applies one edit. */
function applyEdit(s: string, e: Edit): string {
  const at = s.length === 0 ? 0 : e.at % (s.length + 1);
  switch (e.kind) {
    case 'insert':
      return s.slice(0, at) + e.text + s.slice(at);
    case 'delete':
      return s.slice(0, at) + s.slice(at + e.len);
    case 'replace':
      return s.slice(0, at) + e.text + s.slice(at + 1);
    case 'duplicate':
      return s.slice(0, at + e.len) + s.slice(at, at + e.len) + s.slice(at + e.len);
    case 'truncate':
      return s.slice(0, at);
    case 'case': {
      const part = s.slice(at, at + e.len);
      const flipped = part === part.toUpperCase() ? part.toLowerCase() : part.toUpperCase();
      return s.slice(0, at) + flipped + s.slice(at + e.len);
    }
  }
}

/** 1 to `maxEdits` random edits of one of `bases`: near-valid inputs that reach deep into a parser. */
export const mutationOf = (bases: readonly string[], maxEdits = 4): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom(...bases), fc.array(edit, { minLength: 1, maxLength: maxEdits }))
    .map(([base, edits]) => edits.reduce(applyEdit, base));

/** Asserts the common shape of a Result without knowing its value type; returns the failure code, if any. */
export function expectResultShape(r: unknown, codes: readonly string[]): string | undefined {
  expect(typeof r).toBe('object');
  const result = r as { ok?: unknown; value?: unknown; error?: { code?: unknown; detail?: unknown } };
  expect(typeof result.ok).toBe('boolean');
  if (result.ok === true) {
    expect('value' in result).toBe(true);
    return undefined;
  }
  expect(typeof result.error?.detail).toBe('string');
  expect(codes).toContain(result.error?.code);
  return String(result.error?.code);
}

/** Reads a string field of a CheckResponse's dynamic_metadata. */
export function metadataString(res: WireCheckResponse, key: string): string | undefined {
  const v = res.dynamic_metadata.fields[key];
  return v !== undefined && 'stringValue' in v ? v.stringValue : undefined;
}

/**
 * The invariants of every CheckResponse: a status code Envoy understands, exactly one of
 * ok_response/denied_response matching it, a known reason in dynamic_metadata and in the verdict,
 * an enforced deny rendered with the catalog's HTTP status, and an allow that strips a planted
 * warning header unless the server set one itself.
 */
export function expectCheckResponse(res: WireCheckResponse, verdict?: Verdict): Reason {
  expect([0, 7, 16]).toContain(res.status.code);
  const reason = metadataString(res, 'reason');
  expect(REASON_CODES).toContain(reason);
  const r = reason as Reason;
  expect(typeof metadataString(res, 'decisionId')).toBe('string');
  expect(typeof metadataString(res, 'route')).toBe('string');
  if (res.status.code === 0) {
    expect(res.denied_response).toBeUndefined();
    expect(res.ok_response).toBeDefined();
    const effect = metadataString(res, 'effect');
    expect(['allow', 'warn']).toContain(effect);
    if (effect === 'allow') expect(res.ok_response?.headers_to_remove).toContain('x-spiffe-authz-warning');
  } else {
    expect(res.ok_response).toBeUndefined();
    expect(metadataString(res, 'effect')).toBe('deny');
    expect(res.status.code).toBe(REASONS[r].grpcCode === 0 ? 7 : REASONS[r].grpcCode);
    expect(res.denied_response?.status.code).toBe(REASONS[r].httpStatus === 200 ? 403 : REASONS[r].httpStatus);
    const body = JSON.parse(res.denied_response?.body ?? '') as Record<string, unknown>;
    expect(body['reason']).toBe(r);
  }
  if (verdict !== undefined) {
    expect(verdict.reason).toBe(r);
    // An allow decision is ALLOWED (always naming a caller) or the unmatched route's fixed allow.
    if (verdict.decision === 'allow') expect(r === 'ALLOWED' || (r === 'NO_ROUTE' && verdict.route === '_unmatched')).toBe(true);
    if (r === 'ALLOWED') {
      expect(verdict.decision).toBe('allow');
      expect(verdict.identity?.spiffeId).toMatch(/^spiffe:\/\//);
    }
    expect(verdict.effect === 'deny').toBe(res.status.code !== 0);
  }
  return r;
}

/** True for a reason of the identity phase other than "no identity at all". */
export function isSpecificIdentityReason(r: Reason): boolean {
  return REASONS[r].phase === 'identity' && r !== 'UNAUTHENTICATED' && r !== 'JWT_REQUIRED';
}
