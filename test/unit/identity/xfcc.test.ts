// Tests for the XFCC parser: the DECISION rules of spec-notes §6.6, Envoy/Istio realities (§6.2, §6.4), §8.8.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  parseXfcc,
  XfccErrorCode,
  XFCC_DEFAULT_MAX_BYTES,
  XFCC_DEFAULT_MAX_ELEMENTS,
  type XfccElement,
} from '../../../src/identity/xfcc.js';

type Single = Partial<Pick<XfccElement, 'Hash' | 'Cert' | 'Chain' | 'Subject'>>;
type Lists = Partial<Pick<XfccElement, 'By' | 'URI' | 'DNS'>>;

/** Builds an expected element: lists default to [], single-valued keys absent unless given. */
function el(fields: Single & Lists = {}): XfccElement {
  return { By: [], URI: [], DNS: [], ...fields };
}

function parsedOk(header: string, limits?: { maxBytes?: number; maxElements?: number }): readonly XfccElement[] {
  const r = parseXfcc(header, limits);
  if (!r.ok) throw new Error(`expected ok for ${JSON.stringify(header)}, got ${r.error.code}: ${r.error.detail}`);
  return r.value;
}

const HEX = '468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688';
const PEM1 = '-----BEGIN%20CERTIFICATE-----%0AMIIBkTCB%2Bw%3D%3D%0A-----END%20CERTIFICATE-----%0A';
const PEM2 = '-----BEGIN%20CERTIFICATE-----%0AMIICaDCC%2F%2B%3D%0A-----END%20CERTIFICATE-----%0A';

describe('parseXfcc: well-formed headers (§6.6, §6.2, §6.4)', () => {
  it.each<[string, string, readonly XfccElement[]]>([
    // §6.6.1 blank header
    ['empty header', '', []],
    ['spaces only', '   ', []],
    ['tabs and spaces', '\t \t', []],
    // §6.2 what Envoy emits
    [
      'Envoy full element: By, Hash, Cert, Chain, Subject, 2 URI, 2 DNS',
      `By=spiffe://td/ns/a/sa/server;Hash=${HEX};Cert="${PEM1}";Chain="${PEM1}${PEM2}";` +
        String.raw`Subject="CN=a,O=b\, Inc.";URI=spiffe://td/ns/x/sa/client;URI=https://example.com/a?b=c;` +
        'DNS=a.example.com;DNS=b.example.com',
      [
        el({
          By: ['spiffe://td/ns/a/sa/server'],
          Hash: HEX,
          Cert: PEM1,
          Chain: PEM1 + PEM2,
          Subject: String.raw`CN=a,O=b\, Inc.`,
          URI: ['spiffe://td/ns/x/sa/client', 'https://example.com/a?b=c'],
          DNS: ['a.example.com', 'b.example.com'],
        }),
      ],
    ],
    ['one By per local URI SAN', 'By=spiffe://td/a;By=spiffe://td/b;Hash=ab;URI=', [el({ By: ['spiffe://td/a', 'spiffe://td/b'], Hash: 'ab', URI: [''] })]],
    ['bare URI= is kept as ""', 'By=spiffe://td/s;Hash=ab;Subject="";URI=', [el({ By: ['spiffe://td/s'], Hash: 'ab', Subject: '', URI: [''] })]],
    ['empty Hash value kept', 'Hash=;URI=x', [el({ Hash: '', URI: ['x'] })]],
    ['old Subject slash form', 'Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=x', [el({ Subject: '/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client', URI: ['x'] })]],
    ['Subject with RFC 2253 \\" read as XFCC escape', String.raw`Subject="CN=\"q\",O=x";URI=u`, [el({ Subject: 'CN="q",O=x', URI: ['u'] })]],
    [
      'Istio sidecar example (§6.4)',
      `By=spiffe://cluster.local/ns/NS/sa/SERVER;Hash=${HEX};Subject="";URI=spiffe://cluster.local/ns/NS/sa/CLIENT`,
      [el({ By: ['spiffe://cluster.local/ns/NS/sa/SERVER'], Hash: HEX, Subject: '', URI: ['spiffe://cluster.local/ns/NS/sa/CLIENT'] })],
    ],
    [
      'APPEND_FORWARD: two elements in header order (last = closest proxy)',
      'By=spiffe://td/gw;Hash=aa;URI=spiffe://td/client,By=spiffe://td/server;Hash=bb;Subject="";URI=spiffe://td/gw',
      [
        el({ By: ['spiffe://td/gw'], Hash: 'aa', URI: ['spiffe://td/client'] }),
        el({ By: ['spiffe://td/server'], Hash: 'bb', Subject: '', URI: ['spiffe://td/gw'] }),
      ],
    ],
    ['three elements', 'URI=a,URI=b,URI=c', [el({ URI: ['a'] }), el({ URI: ['b'] }), el({ URI: ['c'] })]],
    // §6.6.4: '=' in unquoted values, split at the first '='
    ['= inside unquoted By/URI values', 'By=spiffe://td/a?x=y;URI=spiffe://td/b=c==', [el({ By: ['spiffe://td/a?x=y'], URI: ['spiffe://td/b=c=='] })]],
    ['value that is only =', 'URI==', [el({ URI: ['='] })]],
    // §6.6.2 quoting
    ['quoted value with , ; =', 'Subject="a;b,c=d";URI=x', [el({ Subject: 'a;b,c=d', URI: ['x'] })]],
    ['quoted list values with , and ;', 'URI="a,b";URI="c;d";DNS="e"', [el({ URI: ['a,b', 'c;d'], DNS: ['e'] })]],
    ['quoted , does not split elements', 'Subject="x,URI=y";URI=z', [el({ Subject: 'x,URI=y', URI: ['z'] })]],
    ['\\" inside quotes does not close', String.raw`Subject="a\"b;c";URI=x`, [el({ Subject: 'a"b;c', URI: ['x'] })]],
    ['\\\\" closes the quote', String.raw`Subject="a\\";URI=x`, [el({ Subject: 'a\\', URI: ['x'] })]],
    ['\\\\\\" is backslash + quote', String.raw`Subject="a\\\"b"`, [el({ Subject: 'a\\"b' })]],
    ['\\\\\\\\ is two backslashes', String.raw`Subject="\\\\"`, [el({ Subject: '\\\\' })]],
    ['other escapes kept literally', String.raw`Subject="a\nb\,c\;d\x"`, [el({ Subject: String.raw`a\nb\,c\;d\x` })]],
    ['quoted value keeps inner whitespace', 'Subject=" a b\t"', [el({ Subject: ' a b\t' })]],
    ['quoted empty list value', 'URI=""', [el({ URI: [''] })]],
    ['only escaped quote', String.raw`Subject="\""`, [el({ Subject: '"' })]],
    // §6.6.5 unquoted values
    ['backslashes outside quotes are literal', String.raw`URI=a\b;DNS=c\\`, [el({ URI: [String.raw`a\b`], DNS: [String.raw`c\\`] })]],
    ['percent-encoding never decoded (§6.6.7)', 'URI=spiffe://td/a%2Fb;Cert=%2B%20', [el({ URI: ['spiffe://td/a%2Fb'], Cert: '%2B%20' })]],
    ['+ not turned into space', 'Cert="a+b"', [el({ Cert: 'a+b' })]],
    ['internal whitespace in unquoted value kept', 'URI=a b', [el({ URI: ['a b'] })]],
    ['CR kept inside unquoted value (only SP/HTAB trimmed)', 'URI=a\r', [el({ URI: ['a\r'] })]],
    ['non-ASCII value kept', 'Subject="CN=Ünïcødé 😀";URI=é', [el({ Subject: 'CN=Ünïcødé 😀', URI: ['é'] })]],
    // §6.6.4 keys case-insensitive
    ['lowercase uri=', 'uri=x', [el({ URI: ['x'] })]],
    ['uppercase BY=', 'BY=x', [el({ By: ['x'] })]],
    ['mixed case every key', 'bY=b;hAsH=h;cert=c;CHAIN=ch;subJECT=s;Uri=u;dns=d', [el({ By: ['b'], Hash: 'h', Cert: 'c', Chain: 'ch', Subject: 's', URI: ['u'], DNS: ['d'] })]],
    ['mixed-case URI repeats merge', 'URI=a;uri=b;Uri=c', [el({ URI: ['a', 'b', 'c'] })]],
    // whitespace (SP/HTAB) around keys and values
    ['spaces around key and value', '  By = a ; URI =  b  ', [el({ By: ['a'], URI: ['b'] })]],
    ['tabs around key and value', '\tURI\t=\tb\t;\tDNS=c', [el({ URI: ['b'], DNS: ['c'] })]],
    ['whitespace around quoted value', 'Subject = "x" ;URI=y', [el({ Subject: 'x', URI: ['y'] })]],
    ['whitespace around element separator', 'URI=a , URI=b', [el({ URI: ['a'] }), el({ URI: ['b'] })]],
    ['whitespace after closing quote before ,', 'Subject="s"\t ,URI=b', [el({ Subject: 's' }), el({ URI: ['b'] })]],
    ['value of only whitespace is ""', 'URI=   ', [el({ URI: [''] })]],
    // unknown keys ignored but grammar-checked
    ['legacy SAN ignored', 'SAN=spiffe://td/old;URI=spiffe://td/new', [el({ URI: ['spiffe://td/new'] })]],
    ['unknown quoted key ignored', 'Foo="a,b;c";URI=x', [el({ URI: ['x'] })]],
    ['unknown key repeated is fine', 'X=1;X=2;URI=x', [el({ URI: ['x'] })]],
    ['element with only unknown key', 'SAN=x', [el()]],
    ['every tchar allowed in a key', "x-A_1!#$%&'*+.^`|~=1;URI=u", [el({ URI: ['u'] })]],
    // §6.6.3 empty pairs ignored
    [';; ignored', 'URI=a;;DNS=b', [el({ URI: ['a'], DNS: ['b'] })]],
    ['trailing ; ignored', 'URI=a;', [el({ URI: ['a'] })]],
    ['leading ; ignored', ';URI=a', [el({ URI: ['a'] })]],
    ['whitespace-only pairs ignored', 'URI=a; ;\t;', [el({ URI: ['a'] })]],
    ['trailing ; before ,', 'URI=a;,URI=b;', [el({ URI: ['a'] }), el({ URI: ['b'] })]],
  ])('%s', (_name, header, expected) => {
    expect(parsedOk(header)).toStrictEqual(expected);
  });

  it('absent single-valued keys are absent properties, lists always arrays', () => {
    const [first] = parsedOk('URI=x');
    expect(first).toBeDefined();
    expect(Object.keys(first ?? {}).sort()).toStrictEqual(['By', 'DNS', 'URI']);
  });

  it('exported codes match the authz reason names', () => {
    expect(XfccErrorCode).toStrictEqual({ MALFORMED: 'XFCC_MALFORMED', TOO_LARGE: 'XFCC_TOO_LARGE' });
    expect(XFCC_DEFAULT_MAX_BYTES).toBe(16384);
    expect(XFCC_DEFAULT_MAX_ELEMENTS).toBe(16);
  });
});

describe('parseXfcc: grammar errors -> XFCC_MALFORMED (§6.6)', () => {
  it.each<[string, string, string]>([
    // §6.6.2 unterminated quote
    ['unterminated quote', 'Subject="abc', 'unterminated quoted value in element 1'],
    ['unterminated quote in element 2', 'URI=a,Subject="abc;URI=b', 'unterminated quoted value in element 2'],
    ['only opening quote', 'Subject="', 'unterminated quoted value in element 1'],
    ['escaped closing quote', String.raw`Subject="abc\"`, 'unterminated quoted value in element 1'],
    ['backslash at end', 'Subject="abc\\', 'unterminated quoted value in element 1'],
    ['quoted , swallows the rest', 'Subject="a,URI=b', 'unterminated quoted value in element 1'],
    // §6.6.3 empty elements
    ['lone comma', ',', 'element 1 is empty'],
    ['double comma', 'URI=a,,URI=b', 'element 2 is empty'],
    ['leading comma', ',URI=a', 'element 1 is empty'],
    ['trailing comma', 'URI=a,', 'element 2 is empty'],
    ['whitespace-only element', 'URI=a, \t,URI=b', 'element 2 is empty'],
    ['trailing comma and space', 'URI=a, ', 'element 2 is empty'],
    ['element of only ;', ';', 'element 1 has no key=value pair'],
    ['element of only ;;;', ';;;', 'element 1 has no key=value pair'],
    ['second element only ; ;', 'URI=a, ; ;', 'element 2 has no key=value pair'],
    // §6.6.4 pairs and keys
    ['pair without =', 'abc', `pair "abc" has no '=' in element 1`],
    ['pair without = after a good pair', 'URI=a;abc', `pair "abc" has no '=' in element 1`],
    ['pair without = in element 2', 'URI=a,abc;URI=b', `pair "abc" has no '=' in element 2`],
    ['pair without = trimmed in detail', 'URI=a; a b \t', `pair "a b" has no '=' in element 1`],
    ['newline-only header is not blank', '\n', `pair "\\n" has no '=' in element 1`],
    ['empty key', '=x', 'invalid key "" in element 1'],
    ['whitespace-only key', ' \t=x', 'invalid key "" in element 1'],
    ['key with space', 'a b=c', 'invalid key "a b" in element 1'],
    ['key with tab', 'U\tRI=c', 'invalid key "U\\tRI" in element 1'],
    ['quoted key', '"URI"=x', 'invalid key "\\"URI\\"" in element 1'],
    ['key with quote inside', 'a"b=c', 'invalid key "a\\"b" in element 1'],
    ['key with colon', 'U:RI=x', 'invalid key "U:RI" in element 1'],
    ['key with CRLF', '\r\nURI=x', 'invalid key "\\r\\nURI" in element 1'],
    ['non-ASCII key', 'Ü=x', 'invalid key "Ü" in element 1'],
    ['bad key in unknown position', 'URI=a,By=b;x y=1', 'invalid key "x y" in element 2'],
    // §6.6.5 values
    ['unquoted value containing "', 'URI=a"b', `unquoted value contains '"' in element 1`],
    ['unquoted value ending with "', 'URI=abc"', `unquoted value contains '"' in element 1`],
    ['quote in middle hides comma', 'URI=a"b,c"', `unquoted value contains '"' in element 1`],
    ['unquoted " in unknown key value', 'SAN=a"', `unquoted value contains '"' in element 1`],
    ['text after closing quote', 'Subject="a"b', 'text after closing quote in element 1'],
    ['text after closing quote then ;', 'Subject="a"b;URI=c', 'text after closing quote in element 1'],
    ['second quoted run', 'Subject="a" "b"', 'text after closing quote in element 1'],
    ['adjacent quoted runs', 'Subject="a""b"', 'text after closing quote in element 1'],
    ['text after \\\\" close', String.raw`Subject="a\\"b"`, 'text after closing quote in element 1'],
    ['text after quote in element 2', 'URI=a,URI="b"c', 'text after closing quote in element 2'],
    // §6.6.6 duplicates of single-valued keys
    ['duplicate Hash', 'Hash=a;Hash=b', 'duplicate Hash in element 1'],
    ['duplicate Cert', 'Cert="a";Cert="a"', 'duplicate Cert in element 1'],
    ['duplicate Chain', 'Chain=a;URI=x;Chain=b', 'duplicate Chain in element 1'],
    ['duplicate Subject', 'Subject="";Subject=""', 'duplicate Subject in element 1'],
    ['duplicate Hash differing case', 'Hash=a;hash=a', 'duplicate Hash in element 1'],
    ['duplicate Subject in element 2', 'Subject=a,Subject=b;SUBJECT=c', 'duplicate Subject in element 2'],
  ])('%s', (_name, header, detail) => {
    expect(parseXfcc(header)).toStrictEqual({ ok: false, error: { code: 'XFCC_MALFORMED', detail } });
  });

  it('same key in different elements is not a duplicate', () => {
    expect(parsedOk('Hash=a,Hash=b')).toStrictEqual([el({ Hash: 'a' }), el({ Hash: 'b' })]);
  });

  it('long snippets in details are cut', () => {
    const r = parseXfcc('k'.repeat(1000));
    expect(r).toStrictEqual({ ok: false, error: { code: 'XFCC_MALFORMED', detail: `pair "${'k'.repeat(40)}..." has no '=' in element 1` } });
  });
});

describe('parseXfcc: limits -> XFCC_TOO_LARGE', () => {
  const elements = (count: number): string => Array.from({ length: count }, (_, i) => `URI=spiffe://td/${i}`).join(',');

  it.each<[string, string, { maxBytes?: number; maxElements?: number } | undefined, boolean]>([
    ['16 elements with default limit', elements(16), undefined, true],
    ['17 elements with default limit', elements(17), undefined, false],
    ['maxElements 2, 2 elements', elements(2), { maxElements: 2 }, true],
    ['maxElements 2, 3 elements', elements(3), { maxElements: 2 }, false],
    ['maxElements 0, 1 element', elements(1), { maxElements: 0 }, false],
    ['maxElements 0, empty header', '', { maxElements: 0 }, true],
    ['exactly default maxBytes', `URI=${'a'.repeat(XFCC_DEFAULT_MAX_BYTES - 4)}`, undefined, true],
    ['default maxBytes + 1', `URI=${'a'.repeat(XFCC_DEFAULT_MAX_BYTES - 3)}`, undefined, false],
    ['whitespace over maxBytes', ' '.repeat(XFCC_DEFAULT_MAX_BYTES + 1), undefined, false],
    ['2-byte UTF-8 at the limit', `URI=${'é'.repeat(48)}`, { maxBytes: 100 }, true],
    ['2-byte UTF-8 over the limit though length is under', `URI=${'é'.repeat(50)}`, { maxBytes: 100 }, false],
    ['3-byte UTF-8 over the limit', `URI=${'€'.repeat(33)}`, { maxBytes: 100 }, false],
    ['3-byte UTF-8 at the limit', `URI=${'€'.repeat(32)}`, { maxBytes: 100 }, true],
    ['surrogate pairs at the limit (4 bytes each)', `URI=${'😀'.repeat(24)}`, { maxBytes: 100 }, true],
    ['surrogate pairs over the limit', `URI=${'😀'.repeat(25)}`, { maxBytes: 100 }, false],
    ['lone surrogates count 3 bytes', `URI=${'\ud800'.repeat(33)}`, { maxBytes: 100 }, false],
  ])('%s', (_name, header, limits, accepted) => {
    const r = parseXfcc(header, limits);
    expect(r.ok).toBe(accepted);
    if (!r.ok) expect(r.error.code).toBe('XFCC_TOO_LARGE');
  });

  it('names the limit in the detail', () => {
    expect(parseXfcc(elements(17))).toStrictEqual({ ok: false, error: { code: 'XFCC_TOO_LARGE', detail: 'more than 16 elements' } });
    expect(parseXfcc('URI=abcdef', { maxBytes: 5 })).toStrictEqual({
      ok: false,
      error: { code: 'XFCC_TOO_LARGE', detail: 'header is longer than 5 bytes' },
    });
  });

  it('size is checked before parsing: an oversized malformed header is TOO_LARGE', () => {
    expect(parseXfcc('"'.repeat(XFCC_DEFAULT_MAX_BYTES + 1))).toMatchObject({ ok: false, error: { code: 'XFCC_TOO_LARGE' } });
  });

  it('element count is checked as elements start: earlier grammar errors win, later ones do not', () => {
    expect(parseXfcc(`URI=a,URI="b,${elements(20)}`)).toMatchObject({ ok: false, error: { code: 'XFCC_MALFORMED' } });
    expect(parseXfcc(`URI=a,URI=b"c,${elements(20)}`)).toStrictEqual({
      ok: false,
      error: { code: 'XFCC_MALFORMED', detail: `unquoted value contains '"' in element 2` },
    });
    expect(parseXfcc(`${elements(16)},URI="unterminated`)).toStrictEqual({
      ok: false,
      error: { code: 'XFCC_TOO_LARGE', detail: 'more than 16 elements' },
    });
    // 16 elements plus a trailing comma: the 17th element starts, so the count limit fires first.
    expect(parseXfcc(`${elements(16)},`)).toMatchObject({ ok: false, error: { code: 'XFCC_TOO_LARGE' } });
  });
});

describe('parseXfcc: adversarial inputs finish (linear scan)', () => {
  const big = { maxBytes: 10_000_000, maxElements: 1_000_000 };

  it('100k backslashes inside quotes', () => {
    expect(parsedOk(`Subject="${'\\'.repeat(100_000)}"`, big)).toStrictEqual([el({ Subject: '\\'.repeat(50_000) })]);
  });

  it('50k escaped quotes inside quotes', () => {
    expect(parsedOk(`Subject="${'\\"'.repeat(50_000)}"`, big)).toStrictEqual([el({ Subject: '"'.repeat(50_000) })]);
  });

  it.each<[string, string, string]>([
    ['100k quotes', '"'.repeat(100_001), `pair ${JSON.stringify('"'.repeat(40) + '...')} has no '=' in element 1`],
    ['"\\ pattern as a value', `URI=${'"\\'.repeat(50_000)}`, 'unterminated quoted value in element 1'],
    ['\\" pattern after an opening quote', `URI="${'\\"'.repeat(50_000)}`, 'unterminated quoted value in element 1'],
    ['"\\\\ pattern', `URI=${'"\\\\'.repeat(33_333)}`, 'text after closing quote in element 1'],
    ['100k commas', ','.repeat(100_000), 'element 1 is empty'],
    ['100k semicolons', ';'.repeat(100_000), 'element 1 has no key=value pair'],
    ['100k equals signs', '='.repeat(100_000), 'invalid key "" in element 1'],
    ['100k key chars', 'a'.repeat(100_000), `pair ${JSON.stringify('a'.repeat(40) + '...')} has no '=' in element 1`],
    ['100k spaces then garbage', `${' '.repeat(100_000)}x`, `pair "x" has no '=' in element 1`],
  ])('%s', (_name, header, detail) => {
    expect(parseXfcc(header, big)).toStrictEqual({ ok: false, error: { code: 'XFCC_MALFORMED', detail } });
  });

  it('20k URI pairs in one element', () => {
    const [only, ...rest] = parsedOk('URI=a;'.repeat(20_000), big);
    expect(rest).toHaveLength(0);
    expect(only?.URI).toHaveLength(20_000);
  });

  it('50k elements when the element limit allows', () => {
    const r = parsedOk(`${'URI=a,'.repeat(50_000)}URI=b`, big);
    expect(r).toHaveLength(50_001);
    expect(r[50_000]).toStrictEqual(el({ URI: ['b'] }));
  });
});

// ---- property tests ----

/** Straightforward two-phase reading of §6.6 (split outside quotes, then pairs) used as an oracle. */
function splitOutsideQuotes(s: string, sep: string): string[] | null {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === sep) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) return null;
  parts.push(s.slice(start));
  return parts;
}

const ORACLE_SINGLE: ReadonlyMap<string, 'Hash' | 'Cert' | 'Chain' | 'Subject'> = new Map([
  ['hash', 'Hash'],
  ['cert', 'Cert'],
  ['chain', 'Chain'],
  ['subject', 'Subject'],
]);
const trimOws = (s: string): string => s.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');

function oracle(header: string): XfccElement[] | 'error' {
  if (trimOws(header) === '') return [];
  const rawElements = splitOutsideQuotes(header, ',');
  if (rawElements === null) return 'error';
  const out: XfccElement[] = [];
  for (const rawElement of rawElements) {
    const pairs = (splitOutsideQuotes(rawElement, ';') ?? []).filter((p) => trimOws(p) !== '');
    if (pairs.length === 0) return 'error';
    const e: { By: string[]; URI: string[]; DNS: string[]; Hash?: string; Cert?: string; Chain?: string; Subject?: string } = { By: [], URI: [], DNS: [] };
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq < 0) return 'error';
      const key = trimOws(pair.slice(0, eq));
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key)) return 'error';
      let value = trimOws(pair.slice(eq + 1));
      if (value.startsWith('"')) {
        let j = 1;
        while (j < value.length && value[j] !== '"') j += value[j] === '\\' ? 2 : 1;
        if (j !== value.length - 1) return 'error';
        value = value.slice(1, j).replace(/\\(["\\])/g, '$1');
      } else if (value.includes('"')) return 'error';
      const k = key.toLowerCase();
      if (k === 'by') e.By.push(value);
      else if (k === 'uri') e.URI.push(value);
      else if (k === 'dns') e.DNS.push(value);
      else {
        const canonical = ORACLE_SINGLE.get(k);
        if (canonical === undefined) continue;
        if (e[canonical] !== undefined) return 'error';
        e[canonical] = value;
      }
    }
    out.push(e);
  }
  return out;
}

const nastyChar = fc.constantFrom(',', ';', '=', '"', '\\', ' ', 'a', 'B', '=', 'U', 'R', 'I', '\t');
const nastyString = fc.string({ unit: nastyChar, maxLength: 60 });
const noLimits = { maxBytes: 1_000_000, maxElements: 1_000_000 };

describe('parseXfcc: properties', () => {
  it('never throws and returns a known code on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), (s) => {
        const r = parseXfcc(s);
        if (!r.ok) expect(['XFCC_MALFORMED', 'XFCC_TOO_LARGE']).toContain(r.error.code);
        else expect(Array.isArray(r.value)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on the ,;="\\ aB=URI alphabet and agrees with the two-phase §6.6 oracle', () => {
    fc.assert(
      fc.property(fc.oneof(nastyString, fc.tuple(fc.constantFrom('URI=', 'Subject="', 'By=', 'Hash="'), nastyString).map(([a, b]) => a + b)), (s) => {
        const r = parseXfcc(s, noLimits);
        const expected = oracle(s);
        if (expected === 'error') expect(r).toMatchObject({ ok: false, error: { code: 'XFCC_MALFORMED' } });
        else expect(r).toStrictEqual({ ok: true, value: expected });
      }),
      { numRuns: 5000 },
    );
  });

  const valueChar = fc.constantFrom('a', 'B', '0', '=', ',', ';', '"', '\\', ' ', '\t', '%', '/', ':', 'é', '😀');
  const value = fc.oneof(fc.string({ unit: valueChar, maxLength: 12 }), fc.string({ maxLength: 12 }));
  const list = fc.array(value, { maxLength: 3 });
  const single = fc.option(value, { nil: undefined });
  const element = fc
    .record({ By: list, Hash: single, Cert: single, Chain: single, Subject: single, URI: list, DNS: list })
    .map((r) => {
      const e: Record<string, unknown> = { By: r.By, URI: r.URI, DNS: r.DNS };
      for (const k of ['Hash', 'Cert', 'Chain', 'Subject'] as const) if (r[k] !== undefined) e[k] = r[k];
      return e as unknown as XfccElement;
    })
    .filter((e) => e.By.length + e.URI.length + e.DNS.length + ['Hash', 'Cert', 'Chain', 'Subject'].filter((k) => k in e).length > 0);

  interface Style {
    readonly lowerKeys: boolean;
    readonly pad: string;
    readonly alwaysQuote: boolean;
    readonly extraPairs: boolean;
  }
  const style = fc.record({ lowerKeys: fc.boolean(), pad: fc.constantFrom('', ' ', '\t', ' \t '), alwaysQuote: fc.boolean(), extraPairs: fc.boolean() });

  /** Serializes like a careful proxy: quote when needed (or always), escaping " and \ inside quotes. */
  function serializeValue(v: string, st: Style): string {
    const needsQuote = /[,;="]/.test(v) || /^[ \t]|[ \t]$/.test(v);
    return needsQuote || st.alwaysQuote ? `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"` : v;
  }

  function serialize(elements: readonly XfccElement[], st: Style): string {
    return elements
      .map((e) => {
        const pairs: string[] = [];
        const add = (k: string, v: string): void => {
          pairs.push(`${st.pad}${st.lowerKeys ? k.toLowerCase() : k}${st.pad}=${st.pad}${serializeValue(v, st)}${st.pad}`);
        };
        for (const v of e.By) add('By', v);
        for (const k of ['Hash', 'Cert', 'Chain', 'Subject'] as const) {
          const v = e[k];
          if (v !== undefined) add(k, v);
        }
        for (const v of e.URI) add('URI', v);
        for (const v of e.DNS) add('DNS', v);
        if (st.extraPairs) pairs.push('SAN="x,y;z"', '', st.pad);
        return pairs.join(';');
      })
      .join(',');
  }

  it('serialize then parse round-trips generated elements', () => {
    fc.assert(
      fc.property(fc.array(element, { minLength: 1, maxLength: 4 }), style, (elements, st) => {
        const header = serialize(elements, st);
        expect(parseXfcc(header, noLimits)).toStrictEqual({ ok: true, value: elements });
        expect(oracle(header)).toStrictEqual(elements);
      }),
      { numRuns: 2000 },
    );
  });
});
