// Tests for segment-wise path patterns (spec-notes §1.7 DECISION): exact, "*" = one non-empty
// segment, trailing "/**" = prefix on segment boundaries, "**" = anything.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePathPattern, isUnderPrefix, matchPathPattern, type PathPattern } from '../../../src/policy/path-pattern.js';
import { validateIdPath } from '../../../src/spiffe/spiffe-id.js';

function compiled(source: string): PathPattern {
  const r = compilePathPattern(source);
  if (!r.ok) throw new Error(`${source}: ${r.error.detail}`);
  return r.value;
}

describe('compilePathPattern', () => {
  it.each<[string, PathPattern]>([
    ['**', { kind: 'any', source: '**' }],
    ['/', { kind: 'exact', source: '/', path: '/' }],
    ['/a', { kind: 'exact', source: '/a', path: '/a' }],
    ['/a/b.c', { kind: 'exact', source: '/a/b.c', path: '/a/b.c' }],
    ['/**', { kind: 'prefix', source: '/**', prefix: '' }],
    ['/a/**', { kind: 'prefix', source: '/a/**', prefix: '/a' }],
    ['/a/b/**', { kind: 'prefix', source: '/a/b/**', prefix: '/a/b' }],
    ['/*', { kind: 'segments', source: '/*', segments: [null], open: false }],
    ['/a/*/c', { kind: 'segments', source: '/a/*/c', segments: ['a', null, 'c'], open: false }],
    ['/a/*/**', { kind: 'segments', source: '/a/*/**', segments: ['a', null], open: true }],
    ['/*/*', { kind: 'segments', source: '/*/*', segments: [null, null], open: false }],
  ])('compiles %j', (source, expected) => {
    expect(compilePathPattern(source)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['', 'must start with "/" (or be "**" for anything)'],
    ['a/b', 'must start with "/" (or be "**" for anything)'],
    ['*', 'must start with "/" (or be "**" for anything)'],
    ['***', 'must start with "/" (or be "**" for anything)'],
    ['//', 'empty segment ("//" or trailing "/")'],
    ['/a//b', 'empty segment ("//" or trailing "/")'],
    ['/a/', 'empty segment ("//" or trailing "/")'],
    ['/a//**', 'empty segment ("//" or trailing "/")'],
    ['/**/a', '"**" is only allowed as the last segment'],
    ['/a/**/**', '"**" is only allowed as the last segment'],
    ['/a*', '"*" must be a whole segment (segment 1: "a*")'],
    ['/a/*b', '"*" must be a whole segment (segment 2: "*b")'],
    ['/a/b**', '"*" must be a whole segment (segment 2: "b**")'],
  ])('rejects %j with BAD_PATTERN', (source, detail) => {
    expect(compilePathPattern(source)).toEqual({ ok: false, error: { code: 'BAD_PATTERN', detail } });
  });

  it('asks the segment check about literal segments only, never "*" or "**"', () => {
    const seen: string[] = [];
    compilePathPattern('/a/*/b/**', (s) => {
      seen.push(s);
      return undefined;
    });
    expect(seen).toEqual(['a', 'b']);
  });

  it('reports the segment check problem with the segment number', () => {
    const r = compilePathPattern('/ok/bad', (s) => (s === 'bad' ? 'no thanks' : undefined));
    expect(r).toEqual({ ok: false, error: { code: 'BAD_PATTERN', detail: 'segment 2 "bad": no thanks' } });
  });
});

describe('matchPathPattern', () => {
  it.each<[string, string, boolean]>([
    // any
    ['**', '', true],
    ['**', '/', true],
    ['**', '/a/b/c', true],
    // exact, including the root
    ['/', '/', true],
    ['/', '', false],
    ['/', '/a', false],
    ['/a', '/a', true],
    ['/a', '/a/', false],
    ['/a', '/A', false],
    ['/a', '/ab', false],
    ['/a', '/a/b', false],
    // prefix on segment boundaries
    ['/a/**', '/a', true],
    ['/a/**', '/a/', true],
    ['/a/**', '/a/b', true],
    ['/a/**', '/a/b/c', true],
    ['/a/**', '/ab', false],
    ['/a/**', '/ab/c', false],
    ['/a/**', '/', false],
    ['/a/**', '', false],
    ['/a/b/**', '/a', false],
    ['/a/b/**', '/a/bc', false],
    ['/a/b/**', '/a/b/c', true],
    ['/**', '/', true],
    ['/**', '/anything/at/all', true],
    // "*" is exactly one non-empty segment
    ['/*', '/a', true],
    ['/*', '/', false],
    ['/*', '', false],
    ['/*', '/a/b', false],
    ['/*', '/a/', false],
    ['/a/*', '/a/b', true],
    ['/a/*', '/a', false],
    ['/a/*', '/a/', false],
    ['/a/*', '/a//', false],
    ['/a/*', '/a/b/c', false],
    ['/a/*', '/ab/c', false],
    ['/a/*/c', '/a/b/c', true],
    ['/a/*/c', '/a//c', false],
    ['/a/*/c', '/a/b/d', false],
    ['/a/*/c', '/a/b/c/d', false],
    ['/a/*/c', '/a/b/cd', false],
    ['/*/*', '/a/b', true],
    ['/*/*', '/a', false],
    ['/*/*', 'a/b', false],
    // "*" then "/**"
    ['/a/*/**', '/a/b', true],
    ['/a/*/**', '/a/b/c/d', true],
    ['/a/*/**', '/a', false],
    ['/a/*/**', '/a/', false],
    ['/a/*/**', '/ab/c', false],
  ])('pattern %j on %j is %s', (source, path, expected) => {
    expect(matchPathPattern(compiled(source), path)).toBe(expected);
  });

  const segment = fc.stringMatching(/^[a-c]{1,2}$/);
  const path = fc.array(segment, { minLength: 0, maxLength: 5 }).map((s) => '/' + s.join('/'));

  it('"/p/**" matches exactly p and the paths below it (property)', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 3 }), path, (prefixSegs, p) => {
        const prefix = '/' + prefixSegs.join('/');
        const expected = p === prefix || p.startsWith(prefix + '/');
        expect(matchPathPattern(compiled(`${prefix}/**`), p)).toBe(expected);
      }),
    );
  });

  it('"*" segments match paths with exactly that many non-empty segments (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), path, (n, p) => {
        const pattern = compiled('/' + Array.from({ length: n }, () => '*').join('/'));
        const segs = p.slice(1).split('/');
        const expected = segs.length === n && segs.every((s) => s !== '');
        expect(matchPathPattern(pattern, p)).toBe(expected);
      }),
    );
  });
});

describe('compilePathPattern with a whole-path check (literalOk)', () => {
  // The SPIFFE ID validators as id-rules passes them: literalOk(path) holds exactly when every
  // segment of the literal path passes segmentOk.
  const segmentOk = (segment: string): string | undefined => {
    const r = validateIdPath('/' + segment);
    return r.ok ? undefined : r.error.detail;
  };
  const literalOk = (path: string): boolean => validateIdPath(path).ok;

  it.each(['/a', '/a/b', '/a/**', '/**', '/a/*', '/a/*/**', '/a//b', '/a/', '/a/.', '/a/../b', '/a/%2e', '/a b', '/a/**/b', '/a/**/**', '//**', `/${'x'.repeat(2100)}`, `/${'x/'.repeat(1100)}y`])(
    'compiles %j exactly as without it',
    (source) => {
      expect(compilePathPattern(source, segmentOk, literalOk)).toEqual(compilePathPattern(source, segmentOk));
    },
  );

  it('compiles any pattern exactly as without it', () => {
    const unit = fc.constantFrom('/', '/', 'a', 'B', '0', '.', '-', '_', '*', '**', '%', ' ', 'é', '..');
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit, maxLength: 16 }), fc.string({ unit, maxLength: 16 }).map((s) => '/' + s)), (source) => {
        expect(compilePathPattern(source, segmentOk, literalOk)).toEqual(compilePathPattern(source, segmentOk));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('isUnderPrefix', () => {
  it.each<[string, string, boolean]>([
    ['/a', '/a', true],
    ['/a/b', '/a', true],
    ['/ab', '/a', false],
    ['/a', '/a/b', false],
    ['/anything', '', true],
    ['', '', true],
  ])('%j under %j is %s', (path, prefix, expected) => {
    expect(isUnderPrefix(path, prefix)).toBe(expected);
  });
});
