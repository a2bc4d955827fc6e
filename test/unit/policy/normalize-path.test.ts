// Tests for request path canonicalisation: query/fragment cut, unreserved %XX decoded, encoded
// separators and "\" as "/", "//" merged, dot segments resolved (RFC 3986 §5.2.4).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizePath, stripQuery } from '../../../src/policy/normalize-path.js';

describe('stripQuery', () => {
  it.each([
    ['/a', '/a'],
    ['/a?b=c', '/a'],
    ['/a#frag', '/a'],
    ['/a?b#c', '/a'],
    ['/a#b?c', '/a'],
    ['/a?', '/a'],
    ['?x', ''],
    ['', ''],
    ['/a%3Fb', '/a%3Fb'],
  ])('%j → %j', (input, expected) => {
    expect(stripQuery(input)).toBe(expected);
  });

  it('returns the same string when there is nothing to cut', () => {
    const s = '/plain/path';
    expect(stripQuery(s)).toBe(s);
  });
});

describe('normalizePath', () => {
  it.each([
    // already canonical
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/b/', '/a/b/'],
    ['/.hidden/..a/a..', '/.hidden/..a/a..'],
    ['/...', '/...'],
    ['', ''],
    // dot segments
    ['/a/../b', '/b'],
    ['/a/./b', '/a/b'],
    ['/a/b/../../c', '/c'],
    ['/../a', '/a'],
    ['/../../a', '/a'],
    ['/..', '/'],
    ['/.', '/'],
    ['/a/..', '/'],
    ['/a/b/..', '/a/'],
    ['/a/.', '/a/'],
    ['/a/b/./', '/a/b/'],
    ['a/../b', '/b'],
    // encoded dots
    ['/a/%2e%2e/b', '/b'],
    ['/a/%2E%2E/b', '/b'],
    ['/a/.%2e/b', '/b'],
    ['/a/%2e/b', '/a/b'],
    ['/a/b/%2e%2e', '/a/'],
    // encoded and raw separators
    ['/a%2Fb', '/a/b'],
    ['/a%2fb', '/a/b'],
    ['/a%5Cb', '/a/b'],
    ['/a%5cb', '/a/b'],
    ['\\', '/'],
    ['\\a\\b', '/a/b'],
    ['/a\\..\\b', '/b'],
    ['/admin%2F..%2Fpublic', '/public'],
    // merged slashes
    ['//a', '/a'],
    ['/a//b', '/a/b'],
    ['///a///b///', '/a/b/'],
    ['//', '/'],
    // unreserved escapes decoded, others kept in upper case
    ['/%41', '/A'],
    ['/%7e', '/~'],
    ['/%2D%5F%30', '/-_0'],
    ['/%3a', '/%3A'],
    ['/%3A', '/%3A'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/%20', '/%20'],
    ['/%25', '/%25'],
    // no double decoding
    ['/%252e%252e/a', '/%252e%252e/a'],
    ['/%252F', '/%252F'],
    // broken escapes kept literally
    ['/%zz', '/%zz'],
    ['/%4', '/%4'],
    ['/%', '/%'],
    ['/a%', '/a%'],
  ])('%j → %j', (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });

  it.each(['/a/b', '/', '/v1/orders/123', '/.well-known/x', '/a/b/'])('returns the very same string for %j, which needs no work', (p) => {
    expect(normalizePath(p)).toBe(p);
  });

  const token = fc.constantFrom('a', 'b', '.', '..', '/', '//', '\\', '%2e', '%2E', '%2F', '%5c', '%41', '%3a', '%20');
  const rawPath = fc.array(token, { maxLength: 12 }).map((t) => '/' + t.join(''));

  it('is idempotent (property)', () => {
    fc.assert(
      fc.property(rawPath, (p) => {
        const once = normalizePath(p);
        expect(normalizePath(once)).toBe(once);
      }),
    );
  });

  it('leaves no "//", no dot segment, no "\\" and no encoded separator (property)', () => {
    fc.assert(
      fc.property(rawPath, (p) => {
        const n = normalizePath(p);
        expect(n.startsWith('/')).toBe(true);
        expect(n).not.toMatch(/\/\/|\\|%2F|%5C|%2E|(^|\/)\.\.?(\/|$)/i);
      }),
    );
  });
});
