// Tests for the two fast config parsers (block-yaml.ts, fast-yaml.ts): on every text one of them
// takes it must give exactly the data of the reference path (yaml's parseDocument + toJS), and every
// text outside its subset must be declined, so that parseConfigText's results and errors are those
// of the reference whichever parser ran.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { isScalar, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { generatePolicyYaml } from '../../../bench/gen-policy.js';
import { parseBlockYaml } from '../../../src/config/block-yaml.js';
import { parseSimpleYaml, resolvePlainScalar } from '../../../src/config/fast-yaml.js';
import { parseConfigDocument, parseConfigText, readConfigData, readYamlDocument } from '../../../src/config/parse.js';

const DEFAULT_YAML = readFileSync(new URL('../../../config/default.yaml', import.meta.url), 'utf8');
const BENCH_YAML = generatePolicyYaml({ routes: 4, ids: 24, mode: 'mixed', bundles: { prod: '/b/prod.pem', partner: '/b/partner.json' } });

/** The reference data of a text; throws when the reference rejects it. */
function referenceData(text: string): unknown {
  const r = readYamlDocument(text);
  if (!r.ok) throw new Error(`reference rejects ${JSON.stringify(text)}: ${JSON.stringify(r.issues)}`);
  return r.value;
}

type FastParser = (text: string) => { readonly value: unknown } | undefined;
const PARSERS: [string, FastParser][] = [
  ['parseBlockYaml', parseBlockYaml],
  ['parseSimpleYaml', parseSimpleYaml],
];

/** Asserts the parser took the text and agrees with the reference (SameValue: -0, NaN, prototypes). */
function expectSameAsReference(parse: FastParser, text: string): void {
  const fast = parse(text);
  expect(fast, `declined ${JSON.stringify(text)}`).toBeDefined();
  const ref = referenceData(text);
  expect(isDeepStrictEqual(fast?.value, ref), `${JSON.stringify(fast?.value)} vs ${JSON.stringify(ref)}`).toBe(true);
}

/** Texts both fast parsers take. */
const TAKEN_BY_BOTH = [
    ['the bundled default config', DEFAULT_YAML],
    ['a generated bench policy', BENCH_YAML],
    ['the bench policy with CRLF line ends', BENCH_YAML.replace(/\n/g, '\r\n')],
    ['a JSON config on one line', '{"trustDomains":["a.org"],"routes":[{"name":"r","allow":{"a.org":["**"]}}]}'],
    ['a leading --- line', '---\nlog: {level: info}\n'],
    ['nested block collections, compact and indented', 'a:\n- x\n- y: 1\n  z: [2, {w: 3}]\nb:\n    - - c\n'],
    ['empty values and empty collections', 'a:\nb: []\nc: {}\nd: ""\ne: \'\'\n'],
    ['comments everywhere', '# top\na: 1 # one\n# mid\nb: [x, y] # after flow\n  # indented\n'],
    ['keys that are Object.prototype names', 'constructor: 1\ntoString: 2\nhasOwnProperty: 3\n'],
    ['the YAML 1.1 merge key, a plain key in 1.2', '<<: {a: 1}\n'],
    ['quoted keys with spaces and colons', '"a b": 1\n\'c:d\': 2\n"": 3\n'],
    ['space before the colon of a key', 'a   : 1\nb: {c  : 2}\n'],
    ['a root sequence of compact mappings', '- a: 1\n  b: [x, "y"]\n- - z\n  - ~\n-\n- # c\n  k: v\n'],
    ['a sequence as a mapping value at the key column', 'a:\n- x\n- y\nb: 1\n'],
    ['an indented root mapping', '  a: 1\n  b: 2\n'],
    ['JSON-style adjacent values', '{"a":"b","c":[1,2]}\n'],
    ['flow sequences of double-quoted scalars, spaced every way', 'a: ["x", "y"]\nb: [ "x" ,"y" ]\nc: ["a]b", "c,d", "e#f", "g: h", "\'i\'"]\nd: [ ]\ne: ["é", "\u00a0"] # c\n'],
    ['double-quoted scalars mixed with other items', 'a: ["x", y, \'z\', ["w"], {v: "u"}]\n'],
    ['core scalars in block and flow', 'a: [~, null, true, FALSE, 0o17, 0x1F, -0, +5, .5, 1e3, .inf, -.Inf, .nan, 1_000, yes]\nb: -0\nc: 1.\n'],
];

/** Texts only the event parser takes (multi-line flow, what block-yaml leaves). */
const TAKEN_BY_EVENTS = [
  ['JSON spread over lines', '{\n  "routes": [\n    {"name": "r"}\n  ]\n}\n'],
  ['a flow sequence over lines', 'a: [x,\n  y]\n'],
  ['a tab inside a value', 'a: b\tc\n'],
  ['a plain scalar starting with a dash and a letter', 'a: -x\n'],
  ['a trailing comma in a flow sequence', 'a: [x, ]\n'],
  ['comments inside a flow collection over lines', 'b: [x, # in flow\n  y]\n'],
];

/** Texts only the line parser takes (js-yaml's parser marks the scalar before the comment as multi-line). */
const TAKEN_BY_BLOCK = [['a more indented comment after a value', 'a: b\n    # c\nd: 1\n']];

/** Texts both fast parsers must leave to the reference. */
const DECLINED_BY_BOTH = [
    ['an alias', 'a: &x [1]\nb: *x\n'],
    ['an anchor alone', 'a: &x 1\n'],
    ['an alias to nothing', 'a: *y\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a local tag', 'a: !thing 1\n'],
    ['a tag on a collection', 'a: !!map {}\n'],
    ['a %YAML directive', '%YAML 1.1\n---\na: yes\n'],
    ['two documents', 'a: 1\n---\nb: 2\n'],
    ['a document end marker', 'a: 1\n...\n'],
    ['an indented ---', ' ---\n'],
    ['a byte order mark', '\ufeffa: 1\n'],
    ['a lone carriage return', 'a: 1\rb: 2\n'],
    ['a tab in the indentation', 'a:\n\tb: 1\n'],
    ['an escape in a double-quoted scalar', 'a: "x\\ty"\n'],
    ['a quote in a single-quoted scalar', "a: 'it''s'\n"],
    ['a multi-line plain scalar', 'a: b\n  c\n'],
    ['a multi-line quoted scalar', 'a: "b\n  c"\n'],
    ['a literal block scalar', 'a: |\n  x\n'],
    ['a folded block scalar', 'a: >-\n  x\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a duplicate key, once quoted', 'a: 1\n"a": 2\n'],
    ['a __proto__ key', '__proto__: 1\n'],
    ['a __proto__ key in JSON', '{"r": {"__proto__": []}}'],
    ['a number as key', '1: x\n'],
    ['a null key', '~: x\n'],
    ['an empty key', ': x\n'],
    ['a boolean key', 'true: x\n'],
    ['a collection as key', '[a]: x\n'],
    ['an explicit key', '? a\n: b\n'],
    ['a flow key without a value', '{a, b: 1}\n'],
    ['a key longer than 1000 characters', `${'k'.repeat(1001)}: 1\n`],
    ['nesting deeper than 64', `${'['.repeat(70)}${']'.repeat(70)}\n`],
    ['an empty text', ''],
    ['a comment only', '# nothing\n'],
    ['bad YAML', 'a: [\n'],
    ['a nested mapping on one line', 'a: b: c\n'],
    ['a sequence item where a key is expected', 'a: 1\n- b\n'],
    ['a more indented line after a value', 'a: b\n  c: d\n'],
];

/** Texts only the event parser takes or declines, block-yaml always declines. */
const DECLINED_BY_BLOCK = [
  ...TAKEN_BY_EVENTS,
  ['a flow pair in a sequence', 'a: [b: c]\n'],
  ['a plain scalar with a colon in flow', 'a: [http://x]\n'],
  ['"-#"', '-#\n'],
  ['a trailing comma after double-quoted scalars', 'a: ["x", "y",]\n'],
  ['double-quoted scalars without a comma', 'a: ["x" "y"]\n'],
  ['a double-quoted flow key in a sequence', 'a: ["x": y]\n'],
];

describe.each(PARSERS)('%s', (_name, parse) => {
  it.each(TAKEN_BY_BOTH)('gives the reference data for %s', (_what, text) => {
    expectSameAsReference(parse, text);
  });

  it.each(DECLINED_BY_BOTH)('declines %s', (_what, text) => {
    expect(parse(text)).toBeUndefined();
  });

  it('declines the pathological inputs of the fuzz suite quickly', () => {
    const start = Date.now();
    for (const text of ['['.repeat(10_000), '{a: '.repeat(5_000), '- '.repeat(10_000) + 'x']) expect(parse(text)).toBeUndefined();
    expect(Date.now() - start).toBeLessThan(2000);
  });
});

describe('parseSimpleYaml', () => {
  it.each(TAKEN_BY_EVENTS)('gives the reference data for %s', (_what, text) => {
    expectSameAsReference(parseSimpleYaml, text);
  });
});

describe('parseBlockYaml', () => {
  it.each(TAKEN_BY_BLOCK)('gives the reference data for %s', (_what, text) => {
    expectSameAsReference(parseBlockYaml, text);
  });

  it.each(DECLINED_BY_BLOCK)('declines %s', (_what, text) => {
    expect(parseBlockYaml(text)).toBeUndefined();
  });
});

describe('resolvePlainScalar', () => {
  // Each form of the YAML 1.2 core schema, and near misses that stay strings (YAML 1.1 forms included).
  const forms = [
    '', '~', 'null', 'Null', 'NULL', 'nULL', 'true', 'True', 'TRUE', 'tRUE', 'false', 'False', 'FALSE', 'yes', 'no', 'on', 'off', 'y',
    '0', '-0', '+0', '007', '+5', '-12', '1_000', '0b101', '0o17', '0o8', '0x1F', '0X1F', '-0x1F', '0x', '12345678901234567890', '9007199254740993',
    '1.', '.5', '-.5', '+.5', '1.5', '1e3', '1E+3', '1e-3', '.5e3', '1.e3', 'e3', '1e', '1e999', '-1e999', '.', '+', '.e1',
    '.inf', '.Inf', '.INF', '-.inf', '+.inf', '.iNF', 'inf', '.nan', '.NaN', '.NAN', '-.nan', 'nan', 'NaN', '2001-01-01', '12:30', '1:20',
    'name', 'GET', 'shadow', 'prod.example.org', 'n', 't', 'f', 'nu', 'tr', 'fa', '1.0.0', '10.0.0.1',
  ];
  it.each(forms)('resolves %j as the reference does', (source) => {
    const ref: unknown = source === '' ? null : parseDocument(source, { strict: true }).toJS();
    expect(isDeepStrictEqual([resolvePlainScalar(source)], [ref])).toBe(true);
  });

  it('resolves any short scalar-ish text as the reference does', () => {
    const unit = fc.constantFrom(...'0123456789+-.eEoxXabfinNtTrulsFAL_~'.split(''));
    fc.assert(
      fc.property(fc.string({ unit, minLength: 1, maxLength: 10 }), (source) => {
        const doc = parseDocument(source, { strict: true });
        // Only texts the reference reads as one plain scalar are comparable.
        fc.pre(doc.errors.length === 0 && isScalar(doc.contents) && doc.contents.type === 'PLAIN');
        return isDeepStrictEqual([resolvePlainScalar(source)], [doc.toJS()]);
      }),
      { numRuns: 2000 },
    );
  });
});

// Texts built like configs (block and flow, three quoting styles, odd spacing, comments), then mutated.
type Tree = string | Tree[] | { [key: string]: Tree };
const KEYS = ['name', 'routes', 'allow', 'prod.example.org', 'a b', 'k:v', '#x', '-a', '?q', '<<', 'null', 'true', '1', 'é', '', 'k'.repeat(1010)];
const SCALARS = [
  '/ns/a/sa/*', '**', 'GET', 'shadow', '0x1F', '0o17', '1_000', '-0', '.5', '1e3', '.inf', '.nan', 'null', '~', 'True', 'yes', '2001-01-01', '12:30',
  'a: b', 'a #b', 'a#b', 'x,y', '[x]', '{x}', '*x', '&x', '!x', '%x', '@x', '"q"', "'q'", 'a\tb', ' lead', 'trail ', '', '- x', '? x', '|', '>', '---',
  '...', 'http://x', 'é', '\u00a0x', 'x\u2028y', '\u0085', '\u007f', '12345678901234567890', '1e999', '-', ':', 'a:', ':a', '\\', '\\n',
];
const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
  t: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(...SCALARS),
    fc.array(tie('t'), { maxLength: 4 }),
    fc.array(fc.tuple(fc.constantFrom(...KEYS), tie('t')), { maxLength: 4 }).map((entries): Tree => Object.fromEntries(entries)),
  ),
})).t;

function quote(s: string, style: number): string {
  return style === 0 ? s : style === 1 ? `'${s.replace(/'/g, "''")}'` : JSON.stringify(s);
}
function writeFlow(t: Tree, pick: (n: number) => number): string {
  const gap = (): string => [' ', '', '  ', '\n ', '\t'][pick(5)] ?? '';
  if (typeof t === 'string') return quote(t, pick(3));
  if (Array.isArray(t)) return `[${t.map((x) => gap() + writeFlow(x, pick)).join(',')}${gap()}]`;
  return `{${Object.entries(t).map(([k, x]) => `${gap()}${quote(k, pick(3))}${pick(10) === 0 ? gap() : ''}:${[' ', '', '  '][pick(3)] ?? ''}${writeFlow(x, pick)}`).join(',')}}`;
}
function writeBlock(t: Tree, indent: number, pick: (n: number) => number): string {
  if (typeof t === 'string' || pick(4) === 0) return ` ${writeFlow(t, pick)}${pick(5) === 0 ? ' # c' : ''}\n`;
  const pad = ' '.repeat(indent);
  if (Array.isArray(t)) return t.length === 0 ? ' []\n' : '\n' + t.map((x) => `${pad}-${writeBlock(x, indent + 2, pick)}`).join('');
  const entries = Object.entries(t);
  if (entries.length === 0) return ' {}\n';
  return '\n' + entries.map(([k, x]) => `${pad}${quote(k, pick(3))}:${writeBlock(x, indent + ([2, 1, 4][pick(3)] ?? 2), pick)}`).join('');
}
const configish = fc
  .tuple(tree, fc.integer(), fc.constantFrom('', '---\n', '# c\n', '\ufeff', '%YAML 1.2\n---\n'), fc.constantFrom('', '...\n', '\n\n'), fc.boolean())
  .map(([t, seed, head, tail, crlf]) => {
    let state = seed;
    const pick = (n: number): number => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state % n;
    };
    const body = pick(3) === 0 ? writeFlow(t, pick) + '\n' : writeBlock(t, 0, pick).replace(/^\n/, '');
    const text = head + body + tail;
    return crlf ? text.replace(/\n/g, '\r\n') : text;
  });
const EDIT_TEXTS = ['\t', '\r', '\n', '\n  ', '\n- ', ': ', '- ', '#', ' #', '"', "'", '\\', '[', ']', '{', '}', ',', '&a ', '*a', '!', '|', '>', '?', '---', '...', '%', '\ufeff', '\u2028', '\u0085', 'é'];
const edited = (base: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(base, fc.array(fc.tuple(fc.nat(), fc.nat(2), fc.constantFrom(...EDIT_TEXTS), fc.integer({ min: 1, max: 6 })), { minLength: 1, maxLength: 3 })).map(([text, edits]) =>
    edits.reduce((s, [at0, kind, insert, len]) => {
      const at = at0 % (s.length + 1);
      return kind === 0 ? s.slice(0, at) + insert + s.slice(at) : kind === 1 ? s.slice(0, at) + s.slice(at + len) : s.slice(0, at) + insert + s.slice(at + 1);
    }, text),
  );
const texts = fc.oneof(configish, edited(configish), edited(fc.constant(DEFAULT_YAML)), edited(fc.constant(BENCH_YAML)));

describe.each(PARSERS)('%s against the reference', (_name, parse) => {
  it('gives the reference data on every text it takes (generated and mutated config-like texts)', () => {
    fc.assert(
      fc.property(texts, (text) => {
        const fast = parse(text);
        if (fast === undefined) return true;
        const ref = readYamlDocument(text);
        return ref.ok && isDeepStrictEqual(fast.value, ref.value);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('readConfigData', () => {
  it('gives the reference result, data or issues', () => {
    fc.assert(
      fc.property(texts, (text) => isDeepStrictEqual(readConfigData(text), readYamlDocument(text))),
      { numRuns: 300 },
    );
  });
});

describe('parseConfigText', () => {
  it('gives the same result as the reference path, config or issues', () => {
    fc.assert(
      fc.property(texts, (text) => isDeepStrictEqual(parseConfigText(text), parseConfigDocument(text))),
      { numRuns: 300 },
    );
  });

  it.each([
    ['an unknown key the fast path reads', 'routes:\n  - name: a\n    extra: 1\n'],
    ['a bad trust domain', 'trustDomains: [Bad.org]\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a __proto__ key', '{"routes": [{"name": "r", "allow": {"__proto__": ["**"]}}]}'],
    ['an alias explosion', 'a: &a [x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n'],
    ['a valid config', DEFAULT_YAML],
  ])('gives the reference result for %s', (_name, text) => {
    expect(parseConfigText(text)).toEqual(parseConfigDocument(text));
  });
});
