// Tests for trust-domain-scoped SPIFFE ID rule sets: compilation, precedence (any > exact >
// longest prefix > wildcards in order) and the rule ids reported.
import { describe, expect, it } from 'vitest';
import { compileIdRules, matchIdRules, type IdRuleSet } from '../../../src/policy/id-rules.js';

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
