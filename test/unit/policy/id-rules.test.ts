// Tests for trust-domain-scoped SPIFFE ID rule sets: compilation, precedence (any > exact >
// longest prefix > wildcards in order) and the rule ids reported.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RuleIds, compileIdRules, isIdPath, matchIdRules, type IdRuleSet } from '../../../src/policy/id-rules.js';
import { compilePathPattern } from '../../../src/policy/path-pattern.js';
import { validateIdPath } from '../../../src/spiffe/spiffe-id.js';

const LABEL = 'allow["prod.example.org"]';

function rules(patterns: readonly string[]): IdRuleSet {
  const r = compileIdRules(patterns, LABEL);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

const rid = (i: number): string => `${LABEL}[${i}]`;

describe('compileIdRules', () => {
  it('sorts patterns by kind and names each rule by label and index', () => {
    const set = rules(['/a', '/b/**', '/c/*', '/d/*/**', '**']);
    expect(set.any).toBe(rid(4));
    expect(set.exact).toEqual(new Map([['/a', rid(0)]]));
    expect(set.prefixes).toEqual(new Map([['/b', rid(1)]]));
    expect(set.wildcards.map((w) => [w.pattern.source, w.rule])).toEqual([
      ['/c/*', rid(2)],
      ['/d/*/**', rid(3)],
    ]);
  });

  it('treats "/**" like "**" (any workload of the trust domain)', () => {
    expect(rules(['/**']).any).toBe(rid(0));
  });

  it('keeps the first rule id of a repeated pattern', () => {
    const set = rules(['/a', '/a', '/b/**', '/b/**', '**', '/**']);
    expect([set.exact.get('/a'), set.prefixes.get('/b'), set.any]).toEqual([rid(0), rid(2), rid(4)]);
  });

  it.each([
    ['/a*', '"*" must be a whole segment (segment 1: "a*")'],
    ['/**/a', '"**" is only allowed as the last segment'],
    ['/a//b', 'empty segment ("//" or trailing "/")'],
    ['/a/.', `segment 2 ".": path has a dot segment '.' at index 1`],
    ['/../a', `segment 1 "..": path has a dot segment '..' at index 1`],
    ['/a@b', `segment 1 "a@b": bad path character '@' at index 2`],
    ['a', 'must start with "/" (or be "**" for anything)'],
    ['/', 'no SPIFFE ID path is "/"; use "**" for any workload of the trust domain'],
  ])('rejects %j with its index', (pattern, detail) => {
    expect(compileIdRules(['/ok', pattern], LABEL)).toEqual({ ok: false, errors: [{ index: 1, detail }] });
  });

  it('reports every bad pattern of the list', () => {
    const r = compileIdRules(['/a*', '/ok', '/', '/x//y'], LABEL);
    expect(r.ok ? [] : r.errors.map((e) => e.index)).toEqual([0, 2, 3]);
  });
});

describe('matchIdRules', () => {
  it.each<[string, readonly string[], string, string | undefined]>([
    ['exact', ['/a/b'], '/a/b', rid(0)],
    ['exact is byte equality (case)', ['/a/b'], '/a/B', undefined],
    ['exact does not match a child', ['/a/b'], '/a/b/c', undefined],
    ['exact does not match a parent', ['/a/b'], '/a', undefined],
    ['prefix matches itself', ['/a/**'], '/a', rid(0)],
    ['prefix matches a child', ['/a/**'], '/a/b', rid(0)],
    ['prefix matches a grandchild', ['/a/**'], '/a/b/c', rid(0)],
    ['prefix respects segment boundaries', ['/a/**'], '/ab', undefined],
    ['prefix respects segment boundaries deeper', ['/a/b/**'], '/a/bc/d', undefined],
    ['wildcard one segment', ['/ns/*/sa/*'], '/ns/x/sa/y', rid(0)],
    ['wildcard never two segments', ['/ns/*/sa/*'], '/ns/x/y/sa/z', undefined],
    ['wildcard open', ['/ns/*/**'], '/ns/x/sa/y', rid(0)],
    ['any', ['**'], '/anything/at/all', rid(0)],
    ['nothing', ['/x', '/y/**', '/z/*'], '/w', undefined],
    // precedence: any > exact > longest prefix > wildcards in config order
    ['any wins over an earlier exact', ['/a', '**'], '/a', rid(1)],
    ['exact wins over an earlier prefix', ['/a/**', '/a/b'], '/a/b', rid(1)],
    ['exact wins over an earlier wildcard', ['/a/*', '/a/b'], '/a/b', rid(1)],
    ['the longest prefix wins', ['/a/**', '/a/b/**'], '/a/b/c', rid(1)],
    ['a shorter prefix still applies elsewhere', ['/a/**', '/a/b/**'], '/a/c', rid(0)],
    ['prefix wins over an earlier wildcard', ['/a/*', '/a/**'], '/a/b', rid(1)],
    ['wildcards are tried in config order', ['/*/b', '/a/*'], '/a/b', rid(0)],
    ['a later wildcard matches when the first does not', ['/*/c', '/a/*'], '/a/b', rid(1)],
  ])('%s', (_name, patterns, path, expected) => {
    expect(matchIdRules(rules(patterns), path)).toBe(expected);
  });
});

// compileIdRules takes shortcuts for exact IDs and literal prefixes; this is the plain definition
// (every pattern through compilePathPattern, segment by segment) that it must agree with.
function referenceRules(patterns: readonly string[], label: string): ReturnType<typeof compileIdRules> {
  const segmentOk = (segment: string): string | undefined => {
    const r = validateIdPath('/' + segment);
    return r.ok ? undefined : r.error.detail;
  };
  const errors: { index: number; detail: string }[] = [];
  let any: string | undefined;
  const exact = new Map<string, string>();
  const prefixes = new Map<string, string>();
  const wildcards: IdRuleSet['wildcards'][number][] = [];
  patterns.forEach((source, i) => {
    const rule = `${label}[${i}]`;
    if (source === '/') {
      errors.push({ index: i, detail: 'no SPIFFE ID path is "/"; use "**" for any workload of the trust domain' });
      return;
    }
    const c = compilePathPattern(source, segmentOk);
    if (!c.ok) {
      errors.push({ index: i, detail: c.error.detail });
      return;
    }
    const p = c.value;
    if (p.kind === 'any' || (p.kind === 'prefix' && p.prefix === '')) any ??= rule;
    else if (p.kind === 'exact') {
      if (!exact.has(p.path)) exact.set(p.path, rule);
    } else if (p.kind === 'prefix') {
      if (!prefixes.has(p.prefix)) prefixes.set(p.prefix, rule);
    } else wildcards.push({ pattern: p, rule });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { any, exact, prefixes, wildcards } };
}

describe('compileIdRules, empty kinds', () => {
  it('gives an empty map or list for a kind of rule the list does not use, which cannot be changed', () => {
    const set = rules(['/a']);
    expect(set.prefixes.size).toBe(0);
    expect(set.wildcards).toEqual([]);
    expect(() => (set.prefixes as Map<string, string>).set('/x', 'y')).toThrow(TypeError);
    expect(() => (set.wildcards as unknown[]).push({})).toThrow(TypeError);
    expect(rules(['**']).exact.size).toBe(0);
  });
});

describe('compileIdRules against the plain definition', () => {
  it('compiles any list of patterns to the same rule set, or the same errors', () => {
    const unit = fc.constantFrom('/', '/', 'a', 'ns', 'sa', '0', '.', '-', '_', '*', '**', '%', ' ', '..');
    const pattern = fc.oneof(fc.string({ unit, maxLength: 14 }), fc.string({ unit, maxLength: 14 }).map((s) => '/' + s), fc.constantFrom('/a', '/a/b', '/a/**', '**', '/', '/a/'));
    fc.assert(
      fc.property(fc.array(pattern, { minLength: 1, maxLength: 8 }), (patterns) => {
        expect(compileIdRules(patterns, LABEL)).toEqual(referenceRules(patterns, LABEL));
      }),
      { numRuns: 1500 },
    );
  });
});

describe('compileIdRules with one RuleIds for every list', () => {
  it('compiles each list as it would alone, or gives the same errors', () => {
    const unit = fc.constantFrom('/', '/', 'a', 'b', '*', '**', '.', '%');
    const pattern = fc.oneof(fc.string({ unit, maxLength: 8 }).map((s) => '/' + s), fc.constantFrom('/a/*', '/a/**', '/*/b', '**', '/'));
    const list = fc.tuple(fc.constantFrom(LABEL, 'deny["a.org"]'), fc.array(pattern, { minLength: 1, maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(list, { minLength: 1, maxLength: 6 }), (lists) => {
        const shared = new RuleIds();
        for (const [label, patterns] of lists) expect(compileIdRules(patterns, label, shared)).toEqual(compileIdRules(patterns, label));
      }),
      { numRuns: 500 },
    );
  });

  it('shares one compiled, frozen pattern between the lists that repeat it', () => {
    const shared = new RuleIds();
    const a = rules2(['/ext/*/t1'], shared);
    const b = rules2(['/x', '/ext/*/t1'], shared);
    expect(b.wildcards[0]?.pattern).toBe(a.wildcards[0]?.pattern);
    expect(Object.isFrozen(a.wildcards[0]?.pattern)).toBe(true);
    expect(b.wildcards[0]?.rule).toBe(rid(1));
  });
});

function rules2(patterns: readonly string[], ids: RuleIds): IdRuleSet {
  const r = compileIdRules(patterns, LABEL, ids);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

describe('isIdPath', () => {
  it.each(['/a', '/a/b', '/...', '/.a', '/a.', '/A-Z_0.9', `/${'x'.repeat(2047)}`, '/', '//', '/a/', '/.', '/..', '/a/../b', '/a b', '/é', '/a*', 'a', `/${'x'.repeat(2048)}`])(
    'agrees with validateIdPath on %j',
    (path) => {
      expect(isIdPath(path)).toBe(validateIdPath(path).ok);
    },
  );

  it('agrees with validateIdPath on any path', () => {
    const unit = fc.constantFrom('/', '/', 'a', 'Z', '9', '.', '..', '-', '_', '%', ' ', 'é', '*', '\n');
    fc.assert(
      fc.property(fc.string({ unit, minLength: 1, maxLength: 20 }).map((s) => '/' + s), (path) => isIdPath(path) === validateIdPath(path).ok),
      { numRuns: 3000 },
    );
  });
});
