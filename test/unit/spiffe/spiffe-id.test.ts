// Unit and property tests for src/spiffe/spiffe-id.ts against spec-notes §1 and §8.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  SpiffeIdErrorCode,
  formatSpiffeId,
  isLeafId,
  parseSpiffeId,
  parseTrustDomain,
  validateIdPath,
  type SpiffeId,
} from '../../../src/spiffe/spiffe-id.js';

const ALL_CODES: readonly string[] = Object.values(SpiffeIdErrorCode);
const TD_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789.-_';
const PATH_CHARS = `${TD_CHARS}ABCDEFGHIJKLMNOPQRSTUVWXYZ`;

/** Asserts a failed result with the exact code (and optionally a detail fragment). */
function expectFailure(
  result: { ok: true; value: unknown } | { ok: false; error: { code: string; detail: string } },
  code: string,
  detailPart?: string,
): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error.code).toBe(code);
  expect(result.error.detail.length).toBeGreaterThan(0);
  if (detailPart !== undefined) expect(result.error.detail).toContain(detailPart);
}

/** Independent, deliberately naive oracle for §1.2-§1.4 (split-based, regex without backtracking risk). */
function oracleIsValid(s: string): boolean {
  if (s.length > 2048 || !s.startsWith('spiffe://')) return false;
  const rest = s.slice(9);
  const slash = rest.indexOf('/');
  const td = slash === -1 ? rest : rest.slice(0, slash);
  if (td.length === 0 || td.length > 255 || !/^[a-z0-9._-]+$/.test(td)) return false;
  if (slash === -1) return true;
  const segments = rest.slice(slash + 1).split('/');
  return segments.every((seg) => /^[A-Za-z0-9._-]+$/.test(seg) && seg !== '.' && seg !== '..');
}

// Exactly 2048 bytes: 9 ("spiffe://") + 11 ("example.org") + 1 ("/") + 2027.
const ID_2048 = `spiffe://example.org/${'a'.repeat(2027)}`;
const ID_2049 = `${ID_2048}b`;
const TD_255 = 'a'.repeat(255);
const TD_256 = 'a'.repeat(256);

describe('parseSpiffeId: valid IDs (§1.2-§1.4)', () => {
  const valid: ReadonlyArray<{ name: string; input: string; trustDomain: string; path: string }> = [
    { name: 'root ID', input: 'spiffe://td', trustDomain: 'td', path: '' },
    { name: 'root of a dotted name', input: 'spiffe://example.org', trustDomain: 'example.org', path: '' },
    { name: 'typical workload', input: 'spiffe://example.org/ns/default/sa/web', trustDomain: 'example.org', path: '/ns/default/sa/web' },
    { name: 'underscore in trust domain', input: 'spiffe://my_domain/x', trustDomain: 'my_domain', path: '/x' },
    { name: 'hyphen in trust domain', input: 'spiffe://my-domain/x', trustDomain: 'my-domain', path: '/x' },
    { name: 'digits-only trust domain', input: 'spiffe://123/x', trustDomain: '123', path: '/x' },
    { name: 'IPv4 trust domain', input: 'spiffe://10.0.0.1/workload', trustDomain: '10.0.0.1', path: '/workload' },
    { name: 'IPv4-like out of range', input: 'spiffe://256.300.1.1/x', trustDomain: '256.300.1.1', path: '/x' },
    { name: 'trailing-dot trust domain kept', input: 'spiffe://example.org./x', trustDomain: 'example.org.', path: '/x' },
    { name: 'single-dot trust domain', input: 'spiffe://./x', trustDomain: '.', path: '/x' },
    { name: 'leading-hyphen trust domain', input: 'spiffe://-x/y', trustDomain: '-x', path: '/y' },
    { name: 'all trust-domain chars', input: `spiffe://${TD_CHARS}`, trustDomain: TD_CHARS, path: '' },
    { name: 'segment "..."', input: 'spiffe://td/...', trustDomain: 'td', path: '/...' },
    { name: 'segment ".a"', input: 'spiffe://td/.a', trustDomain: 'td', path: '/.a' },
    { name: 'segment "a."', input: 'spiffe://td/a.', trustDomain: 'td', path: '/a.' },
    { name: 'segment "..a"', input: 'spiffe://td/..a', trustDomain: 'td', path: '/..a' },
    { name: 'segment "a.."', input: 'spiffe://td/a..', trustDomain: 'td', path: '/a..' },
    { name: 'inner "..." segment', input: 'spiffe://td/a/.../b', trustDomain: 'td', path: '/a/.../b' },
    { name: 'mixed-case path kept as is', input: 'spiffe://td/Ns/Default/SA/Web', trustDomain: 'td', path: '/Ns/Default/SA/Web' },
    { name: 'all path chars', input: `spiffe://td/${PATH_CHARS}`, trustDomain: 'td', path: `/${PATH_CHARS}` },
    { name: 'single-char segments', input: 'spiffe://td/-/_/a/Z/0', trustDomain: 'td', path: '/-/_/a/Z/0' },
    { name: 'exactly 2048 bytes', input: ID_2048, trustDomain: 'example.org', path: `/${'a'.repeat(2027)}` },
    { name: '255-byte trust domain', input: `spiffe://${TD_255}/x`, trustDomain: TD_255, path: '/x' },
    { name: '255-byte trust domain root', input: `spiffe://${TD_255}`, trustDomain: TD_255, path: '' },
  ];

  it.each(valid)('accepts $name', ({ input, trustDomain, path }) => {
    const result = parseSpiffeId(input);
    expect(result).toStrictEqual({ ok: true, value: { trustDomain, path } });
    if (!result.ok) return;
    expect(Object.keys(result.value).sort()).toStrictEqual(['path', 'trustDomain']);
    expect(formatSpiffeId(result.value)).toBe(input);
  });

  it('treats a trailing-dot trust domain as distinct from the plain one', () => {
    const a = parseSpiffeId('spiffe://example.org./x');
    const b = parseSpiffeId('spiffe://example.org/x');
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.value.trustDomain).not.toBe(b.value.trustDomain);
  });

  it('keeps the 2048-byte boundary exact', () => {
    expect(ID_2048.length).toBe(2048);
    expect(Buffer.byteLength(ID_2048, 'utf8')).toBe(2048);
  });
});

describe('parseSpiffeId: invalid IDs (§1.2-§1.6, §8)', () => {
  const C = SpiffeIdErrorCode;
  const invalid: ReadonlyArray<{ name: string; input: string; code: SpiffeIdErrorCode; detail?: string }> = [
    // §1.6.1
    { name: 'empty string', input: '', code: C.EMPTY },
    // §1.5 / §1.6.2: literal lowercase scheme only
    { name: 'capitalised scheme', input: 'Spiffe://td/x', code: C.BAD_SCHEME },
    { name: 'uppercase scheme', input: 'SPIFFE://td/x', code: C.BAD_SCHEME },
    { name: 'single slash after scheme', input: 'spiffe:/td/x', code: C.BAD_SCHEME },
    { name: 'no slashes after scheme', input: 'spiffe:td/x', code: C.BAD_SCHEME },
    { name: 'missing colon', input: 'spiffe//td/x', code: C.BAD_SCHEME },
    { name: 'http scheme', input: 'http://td/x', code: C.BAD_SCHEME },
    { name: 'https scheme', input: 'https://td/x', code: C.BAD_SCHEME },
    { name: 'leading space', input: ' spiffe://td/x', code: C.BAD_SCHEME },
    { name: 'bare trust domain', input: 'example.org', code: C.BAD_SCHEME },
    { name: 'backslashes instead of slashes', input: 'spiffe:\\\\td/x', code: C.BAD_SCHEME },
    // §1.2.1
    { name: 'scheme only', input: 'spiffe://', code: C.MISSING_TRUST_DOMAIN },
    { name: 'empty trust domain with path', input: 'spiffe:///path', code: C.MISSING_TRUST_DOMAIN },
    { name: 'empty trust domain with root slash', input: 'spiffe:///', code: C.MISSING_TRUST_DOMAIN },
    // §1.2.2-§1.2.6 (§8.2, §8.3)
    { name: 'uppercase trust domain', input: 'spiffe://Example.org/x', code: C.BAD_TRUST_DOMAIN_CHAR, detail: "'E' at index 9" },
    { name: 'all-uppercase trust domain', input: 'spiffe://EXAMPLE.ORG', code: C.BAD_TRUST_DOMAIN_CHAR },
    { name: 'port', input: 'spiffe://example.org:8080/x', code: C.BAD_TRUST_DOMAIN_CHAR, detail: "':' at index 20" },
    { name: 'empty port', input: 'spiffe://example.org:/x', code: C.BAD_TRUST_DOMAIN_CHAR },
    { name: 'userinfo', input: 'spiffe://user@example.org/x', code: C.BAD_TRUST_DOMAIN_CHAR, detail: "'@' at index 13" },
    { name: 'userinfo with password', input: 'spiffe://u:p@example.org/x', code: C.BAD_TRUST_DOMAIN_CHAR, detail: "':' at index 10" },
    { name: 'percent-encoding in trust domain', input: 'spiffe://ex%61mple.org/x', code: C.BAD_TRUST_DOMAIN_CHAR, detail: "'%' at index 11" },
    { name: 'query after trust domain', input: 'spiffe://example.org?x=1', code: C.BAD_TRUST_DOMAIN_CHAR, detail: "'?'" },
    { name: 'fragment after trust domain', input: 'spiffe://example.org#frag', code: C.BAD_TRUST_DOMAIN_CHAR, detail: "'#'" },
    { name: 'backslash in trust domain', input: 'spiffe://example.org\\x', code: C.BAD_TRUST_DOMAIN_CHAR, detail: "'\\'" },
    { name: 'space in trust domain', input: 'spiffe://exa mple.org', code: C.BAD_TRUST_DOMAIN_CHAR, detail: 'U+0020 at index 12' },
    { name: 'tab in trust domain', input: 'spiffe://td\t/x', code: C.BAD_TRUST_DOMAIN_CHAR, detail: 'U+0009' },
    { name: 'NUL in trust domain', input: 'spiffe://td\u0000/x', code: C.BAD_TRUST_DOMAIN_CHAR, detail: 'U+0000' },
    { name: 'é in trust domain', input: 'spiffe://exämple.org', code: C.BAD_TRUST_DOMAIN_CHAR, detail: 'U+00E4' },
    { name: 'precomposed é in trust domain', input: 'spiffe://caf\u00e9.org', code: C.BAD_TRUST_DOMAIN_CHAR },
    { name: 'emoji in trust domain', input: 'spiffe://ex\u{1F600}/x', code: C.BAD_TRUST_DOMAIN_CHAR, detail: 'U+1F600' },
    { name: 'full-width letter in trust domain', input: 'spiffe://\uff45xample.org', code: C.BAD_TRUST_DOMAIN_CHAR },
    { name: 'IPv6 literal', input: 'spiffe://[::1]/x', code: C.BAD_TRUST_DOMAIN_CHAR, detail: "'['" },
    { name: 'sub-delim in trust domain', input: 'spiffe://a+b/x', code: C.BAD_TRUST_DOMAIN_CHAR },
    { name: 'tilde in trust domain', input: 'spiffe://a~b/x', code: C.BAD_TRUST_DOMAIN_CHAR },
    // §1.2.7
    { name: '256-byte trust domain', input: `spiffe://${TD_256}/x`, code: C.TRUST_DOMAIN_TOO_LONG, detail: '256' },
    { name: '256-byte trust domain root', input: `spiffe://${TD_256}`, code: C.TRUST_DOMAIN_TOO_LONG },
    // §1.3.4 (§8.5)
    { name: 'percent-encoding in path', input: 'spiffe://td/a%20b', code: C.BAD_PATH_CHAR, detail: "'%' at index 13" },
    { name: 'encoded slash in path', input: 'spiffe://td/a%2Fb', code: C.BAD_PATH_CHAR },
    { name: 'query in path', input: 'spiffe://td/a?x=1', code: C.BAD_PATH_CHAR, detail: "'?' at index 13" },
    { name: 'empty query', input: 'spiffe://td/a?', code: C.BAD_PATH_CHAR },
    { name: 'fragment in path', input: 'spiffe://td/a#f', code: C.BAD_PATH_CHAR, detail: "'#'" },
    { name: 'backslash in path', input: 'spiffe://td/a\\b', code: C.BAD_PATH_CHAR, detail: "'\\'" },
    { name: 'backslash dot-dot in path', input: 'spiffe://td/a\\..\\b', code: C.BAD_PATH_CHAR },
    { name: 'space in path', input: 'spiffe://td/a b', code: C.BAD_PATH_CHAR, detail: 'U+0020 at index 13' },
    { name: 'newline in path', input: 'spiffe://td/a\nb', code: C.BAD_PATH_CHAR, detail: 'U+000A' },
    { name: 'é in path', input: 'spiffe://td/caf\u00e9', code: C.BAD_PATH_CHAR, detail: 'U+00E9 at index 15' },
    { name: 'combining accent in path', input: 'spiffe://td/cafe\u0301', code: C.BAD_PATH_CHAR },
    { name: 'emoji in path', input: 'spiffe://td/\u{1F600}', code: C.BAD_PATH_CHAR, detail: 'U+1F600' },
    { name: 'full-width letter in path', input: 'spiffe://td/\uff41', code: C.BAD_PATH_CHAR, detail: 'U+FF41' },
    { name: 'full-width solidus in path', input: 'spiffe://td/a\uff0fb', code: C.BAD_PATH_CHAR },
    { name: 'lone surrogate in path', input: 'spiffe://td/a\ud800', code: C.BAD_PATH_CHAR },
    // §1.3.2 empty segments
    { name: 'leading double slash', input: 'spiffe://td//a', code: C.EMPTY_SEGMENT, detail: 'index 11' },
    { name: 'inner double slash', input: 'spiffe://td/a//b', code: C.EMPTY_SEGMENT },
    { name: 'double slash at end', input: 'spiffe://td/a//', code: C.EMPTY_SEGMENT },
    { name: 'only double slash', input: 'spiffe://td//', code: C.EMPTY_SEGMENT },
    // §1.3.2 dot segments (§8.4)
    { name: '"." first segment', input: 'spiffe://td/./a', code: C.DOT_SEGMENT, detail: "'.'" },
    { name: '".." first segment', input: 'spiffe://td/../a', code: C.DOT_SEGMENT, detail: "'..'" },
    { name: '"." inner segment', input: 'spiffe://td/a/./b', code: C.DOT_SEGMENT },
    { name: '".." inner segment', input: 'spiffe://td/a/../b', code: C.DOT_SEGMENT },
    { name: '"." at end', input: 'spiffe://td/a/.', code: C.DOT_SEGMENT },
    { name: '".." at end', input: 'spiffe://td/a/..', code: C.DOT_SEGMENT, detail: 'index 14' },
    { name: 'only "."', input: 'spiffe://td/.', code: C.DOT_SEGMENT },
    { name: 'only ".."', input: 'spiffe://td/..', code: C.DOT_SEGMENT },
    { name: '"." then trailing slash', input: 'spiffe://td/./', code: C.DOT_SEGMENT },
    // §1.3.3 (§8.4)
    { name: 'root with trailing slash', input: 'spiffe://td/', code: C.TRAILING_SLASH },
    { name: 'path with trailing slash', input: 'spiffe://td/a/', code: C.TRAILING_SLASH, detail: 'index 13' },
    { name: 'deep path with trailing slash', input: 'spiffe://td/a/b/c/', code: C.TRAILING_SLASH },
    // §1.4
    { name: '2049 bytes', input: ID_2049, code: C.TOO_LONG, detail: '2048' },
    { name: 'overlong garbage', input: '%'.repeat(5000), code: C.TOO_LONG },
    { name: 'overlong with bad scheme', input: `http://${'a'.repeat(3000)}`, code: C.TOO_LONG },
  ];

  it.each(invalid)('rejects $name with $code', ({ input, code, detail }) => {
    expectFailure(parseSpiffeId(input), code, detail);
  });

  const forbiddenPathChars = [...'~:@!$&\'()*+,;=%?#[]"<>^`{|}\\ '];
  it.each(forbiddenPathChars)('rejects path character %j with BAD_PATH_CHAR', (ch) => {
    expectFailure(parseSpiffeId(`spiffe://example.org/a${ch}b`), SpiffeIdErrorCode.BAD_PATH_CHAR, 'at index 22');
  });

  it.each(forbiddenPathChars)('rejects trust-domain character %j with BAD_TRUST_DOMAIN_CHAR', (ch) => {
    expectFailure(parseSpiffeId(`spiffe://a${ch}b/x`), SpiffeIdErrorCode.BAD_TRUST_DOMAIN_CHAR, 'at index 10');
  });

  it.each([...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'])('rejects uppercase %s in trust domain with BAD_TRUST_DOMAIN_CHAR', (ch) => {
    expectFailure(parseSpiffeId(`spiffe://td${ch}/x`), SpiffeIdErrorCode.BAD_TRUST_DOMAIN_CHAR, `'${ch}' at index 11`);
  });

  it.each([
    { name: 'undefined', input: undefined, code: SpiffeIdErrorCode.EMPTY },
    { name: 'null', input: null, code: SpiffeIdErrorCode.EMPTY },
    { name: 'number', input: 42, code: SpiffeIdErrorCode.BAD_SCHEME },
    { name: 'object', input: { toString: () => 'spiffe://td/x' }, code: SpiffeIdErrorCode.BAD_SCHEME },
    { name: 'array', input: ['spiffe://td/x'], code: SpiffeIdErrorCode.BAD_SCHEME },
    { name: 'symbol', input: Symbol('x'), code: SpiffeIdErrorCode.BAD_SCHEME },
  ])('rejects non-string $name with $code without throwing', ({ input, code }) => {
    expectFailure(parseSpiffeId(input as unknown as string), code);
  });

  it('reports the first offending character, not a later one, with BAD_PATH_CHAR', () => {
    expectFailure(parseSpiffeId('spiffe://td/a%b?c'), SpiffeIdErrorCode.BAD_PATH_CHAR, "'%' at index 13");
  });

  it('checks trust-domain characters before its length with BAD_TRUST_DOMAIN_CHAR', () => {
    expectFailure(parseSpiffeId(`spiffe://${TD_256}A`), SpiffeIdErrorCode.BAD_TRUST_DOMAIN_CHAR);
  });

  it('only exposes the documented error codes', () => {
    expect([...ALL_CODES].sort()).toStrictEqual(
      [
        'BAD_PATH_CHAR',
        'BAD_SCHEME',
        'BAD_TRUST_DOMAIN_CHAR',
        'DOT_SEGMENT',
        'EMPTY',
        'EMPTY_SEGMENT',
        'MISSING_TRUST_DOMAIN',
        'PATH_NO_LEADING_SLASH',
        'TOO_LONG',
        'TRAILING_SLASH',
        'TRUST_DOMAIN_TOO_LONG',
      ].sort(),
    );
    for (const [key, value] of Object.entries(SpiffeIdErrorCode)) expect(value).toBe(key);
  });
});

describe('parseTrustDomain (§1.2)', () => {
  it.each(['example.org', 'a', '_', '-', '.', 'my_td-1', '10.0.0.1', 'example.org.', TD_255, TD_CHARS])(
    'accepts %j unchanged',
    (name) => {
      expect(parseTrustDomain(name)).toStrictEqual({ ok: true, value: name });
    },
  );

  it.each([
    { input: '', code: SpiffeIdErrorCode.MISSING_TRUST_DOMAIN, detail: undefined },
    { input: 'Example.org', code: SpiffeIdErrorCode.BAD_TRUST_DOMAIN_CHAR, detail: "'E' at index 0" },
    { input: 'spiffe://example.org', code: SpiffeIdErrorCode.BAD_TRUST_DOMAIN_CHAR, detail: "':' at index 6" },
    { input: 'example.org/x', code: SpiffeIdErrorCode.BAD_TRUST_DOMAIN_CHAR, detail: "'/' at index 11" },
    { input: 'example.org:443', code: SpiffeIdErrorCode.BAD_TRUST_DOMAIN_CHAR, detail: "':'" },
    { input: 'user@example.org', code: SpiffeIdErrorCode.BAD_TRUST_DOMAIN_CHAR, detail: "'@'" },
    { input: '[::1]', code: SpiffeIdErrorCode.BAD_TRUST_DOMAIN_CHAR, detail: "'['" },
    { input: 'ex%61mple.org', code: SpiffeIdErrorCode.BAD_TRUST_DOMAIN_CHAR, detail: "'%'" },
    { input: 'caf\u00e9.org', code: SpiffeIdErrorCode.BAD_TRUST_DOMAIN_CHAR, detail: 'U+00E9' },
    { input: ' example.org', code: SpiffeIdErrorCode.BAD_TRUST_DOMAIN_CHAR, detail: 'U+0020 at index 0' },
    { input: TD_256, code: SpiffeIdErrorCode.TRUST_DOMAIN_TOO_LONG, detail: '256' },
  ])('rejects $input with $code', ({ input, code, detail }) => {
    expectFailure(parseTrustDomain(input), code, detail);
  });

  it.each([undefined, null, 7, {}])('rejects non-string %j with MISSING_TRUST_DOMAIN', (input) => {
    expectFailure(parseTrustDomain(input as unknown as string), SpiffeIdErrorCode.MISSING_TRUST_DOMAIN);
  });
});

describe('validateIdPath (§1.3)', () => {
  it.each(['', '/a', '/A/b', '/...', '/.a', '/a.', '/..a', '/ns/default/sa/web', `/${PATH_CHARS}`])(
    'accepts %j unchanged',
    (path) => {
      expect(validateIdPath(path)).toStrictEqual({ ok: true, value: path });
    },
  );

  it.each([
    { input: 'a', code: SpiffeIdErrorCode.PATH_NO_LEADING_SLASH, detail: "'a'" },
    { input: 'a/b', code: SpiffeIdErrorCode.PATH_NO_LEADING_SLASH, detail: undefined },
    { input: ' /a', code: SpiffeIdErrorCode.PATH_NO_LEADING_SLASH, detail: undefined },
    { input: '/', code: SpiffeIdErrorCode.TRAILING_SLASH, detail: 'index 0' },
    { input: '/a/', code: SpiffeIdErrorCode.TRAILING_SLASH, detail: 'index 2' },
    { input: '//', code: SpiffeIdErrorCode.EMPTY_SEGMENT, detail: 'index 0' },
    { input: '/a//b', code: SpiffeIdErrorCode.EMPTY_SEGMENT, detail: 'index 2' },
    { input: '/.', code: SpiffeIdErrorCode.DOT_SEGMENT, detail: undefined },
    { input: '/..', code: SpiffeIdErrorCode.DOT_SEGMENT, detail: undefined },
    { input: '/a/../b', code: SpiffeIdErrorCode.DOT_SEGMENT, detail: "'..' at index 3" },
    { input: '/a b', code: SpiffeIdErrorCode.BAD_PATH_CHAR, detail: 'U+0020 at index 2' },
    { input: '/a%2Fb', code: SpiffeIdErrorCode.BAD_PATH_CHAR, detail: "'%' at index 2" },
    { input: '/~user', code: SpiffeIdErrorCode.BAD_PATH_CHAR, detail: "'~'" },
    { input: '/a?b', code: SpiffeIdErrorCode.BAD_PATH_CHAR, detail: "'?'" },
    { input: `/${'a'.repeat(2048)}`, code: SpiffeIdErrorCode.TOO_LONG, detail: undefined },
  ])('rejects $input with $code', ({ input, code, detail }) => {
    expectFailure(validateIdPath(input), code, detail);
  });

  it('rejects a non-string with BAD_PATH_CHAR', () => {
    expectFailure(validateIdPath(5 as unknown as string), SpiffeIdErrorCode.BAD_PATH_CHAR);
  });
});

describe('formatSpiffeId and isLeafId', () => {
  it.each([
    { id: { trustDomain: 'td', path: '' }, text: 'spiffe://td', leaf: false },
    { id: { trustDomain: 'example.org', path: '/ns/a/sa/b' }, text: 'spiffe://example.org/ns/a/sa/b', leaf: true },
    { id: { trustDomain: 'example.org.', path: '/X' }, text: 'spiffe://example.org./X', leaf: true },
  ])('formats $text (leaf: $leaf)', ({ id, text, leaf }) => {
    expect(formatSpiffeId(id)).toBe(text);
    expect(isLeafId(id)).toBe(leaf);
  });

  it('classifies parsed root and workload IDs', () => {
    const root = parseSpiffeId('spiffe://example.org');
    const leaf = parseSpiffeId('spiffe://example.org/w');
    expect(root.ok && !isLeafId(root.value)).toBe(true);
    expect(leaf.ok && isLeafId(leaf.value)).toBe(true);
  });
});

// ---- property tests ----

const interestingChar = fc.constantFrom(...'spiffe:/.%-_aZ09@?#');
const arbitraryInputs = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.string({ unit: interestingChar, maxLength: 60 }),
  fc.string({ unit: interestingChar, maxLength: 60 }).map((s) => `spiffe://${s}`),
  fc.string({ unit: 'binary', maxLength: 60 }).map((s) => `spiffe://${s}`),
  fc.string({ unit: interestingChar, minLength: 2030, maxLength: 2060 }),
);

const tdArb = fc.string({ unit: fc.constantFrom(...TD_CHARS), minLength: 1, maxLength: 64 });
const segmentArb = fc
  .string({ unit: fc.constantFrom(...PATH_CHARS), minLength: 1, maxLength: 20 })
  .filter((s) => s !== '.' && s !== '..');
const validIdArb = fc
  .record({ trustDomain: tdArb, segments: fc.array(segmentArb, { maxLength: 8 }) })
  .map(({ trustDomain, segments }) => {
    const path = segments.map((s) => `/${s}`).join('');
    return { trustDomain, path, text: `spiffe://${trustDomain}${path}` };
  });

describe('property tests', () => {
  it('never throws and returns a well-formed result for arbitrary strings', () => {
    fc.assert(
      fc.property(arbitraryInputs, (input) => {
        const result = parseSpiffeId(input);
        if (result.ok) {
          expect(Object.keys(result.value).sort()).toStrictEqual(['path', 'trustDomain']);
        } else {
          expect(ALL_CODES).toContain(result.error.code);
          expect(typeof result.error.detail).toBe('string');
          expect(result.error.detail.length).toBeGreaterThan(0);
        }
        parseTrustDomain(input);
        validateIdPath(input);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with an independent split-based oracle on validity', () => {
    fc.assert(
      fc.property(fc.oneof(arbitraryInputs, validIdArb.map((v) => v.text)), (input) => {
        expect(parseSpiffeId(input).ok).toBe(oracleIsValid(input));
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips generated valid IDs through formatSpiffeId', () => {
    fc.assert(
      fc.property(validIdArb, ({ trustDomain, path, text }) => {
        const result = parseSpiffeId(text);
        expect(result).toStrictEqual({ ok: true, value: { trustDomain, path } });
        if (!result.ok) return;
        expect(formatSpiffeId(result.value)).toBe(text);
        expect(isLeafId(result.value)).toBe(path !== '');
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects a valid ID after inserting a forbidden character anywhere after the scheme', () => {
    const forbidden = fc.constantFrom(...'%~:@!$&\'()*+,;=?#[]\\ \t\u00e9\uff41', '\u{1F600}');
    fc.assert(
      fc.property(validIdArb, forbidden, fc.nat(), ({ text }, ch, n) => {
        const at = 9 + (n % (text.length - 8));
        const mutated = text.slice(0, at) + ch + text.slice(at);
        const result = parseSpiffeId(mutated);
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect([SpiffeIdErrorCode.BAD_TRUST_DOMAIN_CHAR, SpiffeIdErrorCode.BAD_PATH_CHAR]).toContain(result.error.code);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps parsed parts valid for parseTrustDomain and validateIdPath', () => {
    const candidates = fc.oneof(
      validIdArb.map((v) => v.text),
      fc.string({ unit: interestingChar, maxLength: 40 }).map((s) => `spiffe://${s}`),
      fc.string({ unit: fc.constantFrom(...'abZ.-_/'), maxLength: 40 }).map((s) => `spiffe://${s}`),
    );
    fc.assert(
      fc.property(candidates, (input) => {
        const result = parseSpiffeId(input);
        if (!result.ok) return;
        const id: SpiffeId = result.value;
        expect(parseTrustDomain(id.trustDomain)).toStrictEqual({ ok: true, value: id.trustDomain });
        expect(validateIdPath(id.path)).toStrictEqual({ ok: true, value: id.path });
        expect(formatSpiffeId(id)).toBe(input);
      }),
      { numRuns: 2000 },
    );
  });
});
