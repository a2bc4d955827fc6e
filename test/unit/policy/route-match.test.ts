// Tests for route selection by host, path and method: host exact or "*.suffix" (case-insensitive,
// never the bare suffix), path patterns, methods in upper case, first matching route wins.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileRouteMatcher,
  indexRoutes,
  matchIndexedRoute,
  matchRoute,
  routeCandidates,
  routeMatches,
  type MatchableRoute,
  type RouteMatcher,
} from '../../../src/policy/route-match.js';

interface MatchBlock {
  readonly hosts?: readonly string[];
  readonly paths?: readonly string[];
  readonly methods?: readonly string[];
}

function matcher(match: MatchBlock | undefined): RouteMatcher {
  const r = compileRouteMatcher(match);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

function route(name: string, match: MatchBlock): MatchableRoute {
  return { name, matcher: matcher(match) };
}

describe('compileRouteMatcher', () => {
  it('leaves absent parts undefined (they match anything)', () => {
    expect(matcher(undefined)).toEqual({ hosts: undefined, paths: undefined, methods: undefined });
    expect(matcher({})).toEqual({ hosts: undefined, paths: undefined, methods: undefined });
  });

  it('lowercases hosts, splits exact names from "*." suffixes and upper-cases methods', () => {
    const m = matcher({ hosts: ['Orders.Internal', '*.Example.COM'], methods: ['get', 'Post'] });
    expect(m.hosts).toEqual({ exact: new Set(['orders.internal']), suffixes: ['.example.com'] });
    expect(m.methods).toEqual(new Set(['GET', 'POST']));
  });

  it('drops the host check entirely when "*" is listed', () => {
    expect(matcher({ hosts: ['a.com', '*'] }).hosts).toBeUndefined();
  });

  it('reports every bad path with its index', () => {
    expect(compileRouteMatcher({ paths: ['/ok', 'bad', '/x//y'] })).toEqual({
      ok: false,
      errors: [
        { code: 'paths[1]', detail: 'must start with "/" (or be "**" for anything)' },
        { code: 'paths[2]', detail: 'empty segment ("//" or trailing "/")' },
      ],
    });
  });
});

describe('routeMatches', () => {
  it.each<[string, MatchBlock, string, boolean]>([
    ['exact host', { hosts: ['orders.internal'] }, 'orders.internal', true],
    ['exact host written in upper case', { hosts: ['Orders.Internal'] }, 'orders.internal', true],
    ['another host', { hosts: ['orders.internal'] }, 'billing.internal', false],
    ['exact host is not a suffix match', { hosts: ['example.com'] }, 'a.example.com', false],
    ['"*." matches one label', { hosts: ['*.example.com'] }, 'a.example.com', true],
    ['"*." matches several labels', { hosts: ['*.example.com'] }, 'a.b.example.com', true],
    ['"*." never matches the bare suffix', { hosts: ['*.example.com'] }, 'example.com', false],
    ['"*." respects label boundaries', { hosts: ['*.example.com'] }, 'badexample.com', false],
    ['"*." never matches ".suffix" alone', { hosts: ['*.example.com'] }, '.example.com', false],
    ['"*." written in upper case', { hosts: ['*.EXAMPLE.com'] }, 'a.example.com', true],
    ['"*" matches any host', { hosts: ['*'] }, 'anything.at.all', true],
    ['"*" matches an empty host', { hosts: ['*'] }, '', true],
    ['a host list matches any of its entries', { hosts: ['a.com', '*.b.com'] }, 'x.b.com', true],
    ['a host list with no matching entry', { hosts: ['a.com', '*.b.com'] }, 'b.com', false],
    ['no host check and an empty host', {}, '', true],
  ])('%s', (_name, match, host, expected) => {
    expect(routeMatches(matcher(match), host, '/', 'GET')).toBe(expected);
  });

  it.each<[string, MatchBlock, string, boolean]>([
    ['method listed', { methods: ['GET', 'HEAD'] }, 'HEAD', true],
    ['method not listed', { methods: ['GET', 'HEAD'] }, 'POST', false],
    ['method listed in lower case', { methods: ['get'] }, 'GET', true],
    ['the request method must already be upper case', { methods: ['GET'] }, 'get', false],
    ['no method check', {}, 'PROPFIND', true],
    ['the network filter has no method', { methods: ['GET'] }, '', false],
  ])('%s', (_name, match, method, expected) => {
    expect(routeMatches(matcher(match), 'h', '/', method)).toBe(expected);
  });

  it.each<[string, MatchBlock, string, boolean]>([
    ['path prefix', { paths: ['/v1/orders/**'] }, '/v1/orders/1', true],
    ['path prefix itself', { paths: ['/v1/orders/**'] }, '/v1/orders', true],
    ['path prefix on a segment boundary', { paths: ['/v1/orders/**'] }, '/v1/ordersX', false],
    ['any of several paths', { paths: ['/a', '/b/*'] }, '/b/c', true],
    ['none of several paths', { paths: ['/a', '/b/*'] }, '/b/c/d', false],
    ['exact root', { paths: ['/'] }, '/', true],
    ['exact root is not everything', { paths: ['/'] }, '/a', false],
    ['no path check', {}, '/whatever', true],
  ])('%s', (_name, match, path, expected) => {
    expect(routeMatches(matcher(match), 'h', path, 'GET')).toBe(expected);
  });

  it('needs host, path and method to match together', () => {
    const m = matcher({ hosts: ['a.com'], paths: ['/x/**'], methods: ['POST'] });
    expect([
      routeMatches(m, 'a.com', '/x/1', 'POST'),
      routeMatches(m, 'b.com', '/x/1', 'POST'),
      routeMatches(m, 'a.com', '/y', 'POST'),
      routeMatches(m, 'a.com', '/x/1', 'GET'),
    ]).toEqual([true, false, false, false]);
  });
});

describe('matchRoute', () => {
  const routes = [
    route('write', { hosts: ['orders.internal'], paths: ['/v1/orders/**'], methods: ['POST', 'PUT'] }),
    route('read', { hosts: ['orders.internal'], paths: ['/v1/orders/**'], methods: ['GET'] }),
    route('orders-any', { hosts: ['orders.internal'] }),
    route('catch-all', {}),
  ];

  it.each([
    ['orders.internal', '/v1/orders/1', 'POST', 'write'],
    ['orders.internal', '/v1/orders/1', 'GET', 'read'],
    ['orders.internal', '/v1/orders/1', 'DELETE', 'orders-any'],
    ['orders.internal', '/health', 'GET', 'orders-any'],
    ['other.internal', '/v1/orders/1', 'POST', 'catch-all'],
  ])('picks the first route that matches %s %s %s → %s', (host, path, method, expected) => {
    expect(matchRoute(routes, host, path, method)?.name).toBe(expected);
  });

  it('takes the earlier of two routes that both match', () => {
    const both = [route('first', { paths: ['/a/**'] }), route('second', { paths: ['/a/b'] })];
    expect(matchRoute(both, 'h', '/a/b', 'GET')?.name).toBe('first');
  });

  it('returns undefined when no route matches', () => {
    expect(matchRoute(routes.slice(0, 2), 'orders.internal', '/v2', 'GET')).toBeUndefined();
    expect(matchRoute([], 'h', '/', 'GET')).toBeUndefined();
  });
});

describe('indexRoutes', () => {
  const HOSTS = ['a.example.com', 'b.example.com', 'x.a.example.com', 'example.com', 'other.org'] as const;
  const PATTERNS = ['a.example.com', 'b.example.com', '*.example.com', '*.a.example.com', 'example.com', '*'] as const;

  it('selects exactly the route a full scan selects, for any routes and host', () => {
    const routeArb = fc.record({
      hosts: fc.option(fc.uniqueArray(fc.constantFrom(...PATTERNS), { minLength: 1, maxLength: 3 }), { nil: undefined }),
      paths: fc.option(fc.constantFrom(['/a/**'], ['/b'], ['/*/c']), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.array(routeArb, { maxLength: 8 }),
        fc.constantFrom(...HOSTS),
        fc.constantFrom('/a/x', '/b', '/q/c', '/z'),
        (blocks, host, path) => {
          const routes = blocks.map((b, i) => route(`r${i}`, { ...(b.hosts ? { hosts: b.hosts } : {}), ...(b.paths ? { paths: b.paths } : {}) }));
          const index = indexRoutes(routes);
          expect(matchRoute(routeCandidates(index, host), host, path, 'GET')?.name).toBe(matchRoute(routes, host, path, 'GET')?.name);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('offers only the routes that could match a host named exactly somewhere', () => {
    const routes = [route('a', { hosts: ['a.example.com'] }), route('b', { hosts: ['b.example.com'] }), route('any', {}), route('wild', { hosts: ['*.example.com'] })];
    const index = indexRoutes(routes);
    expect(routeCandidates(index, 'a.example.com').map((r) => r.name)).toEqual(['a', 'any', 'wild']);
    expect(routeCandidates(index, 'c.example.com').map((r) => r.name)).toEqual(['any', 'wild']);
  });
});

describe('matchIndexedRoute', () => {
  const HOSTS = ['a.example.com', 'b.example.com', 'x.a.example.com', 'other.org'] as const;
  const HOST_PATTERNS = ['a.example.com', 'b.example.com', '*.example.com', '*.a.example.com', '*'] as const;
  const PATTERNS = ['**', '/**', '/', '/a', '/a/**', '/a/b', '/a/b/**', '/a/*', '/a/*/c', '/*/b/**', '/*', '/ab', '/b', '/a/b/c/d', '/%3A'] as const;
  const PATHS = ['', 'a', '/', '/a', '/a/', '/ab', '/a/b', '/a/b/', '/a/bc', '/a/b/c', '/a/b/c/d', '/a/x/c', '/q/b', '/q/b/z', '/b', '/%3A', '/a/b/c/d/e'] as const;

  it('selects exactly the route a full scan selects, for any routes, host, path and method', () => {
    const routeArb = fc.record({
      hosts: fc.option(fc.uniqueArray(fc.constantFrom(...HOST_PATTERNS), { minLength: 1, maxLength: 3 }), { nil: undefined }),
      paths: fc.option(fc.uniqueArray(fc.constantFrom(...PATTERNS), { maxLength: 3 }), { nil: undefined }),
      methods: fc.option(fc.constantFrom(['GET'], ['POST', 'GET'], ['PURGE'], ['get', 'PURGE'], []), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.array(routeArb, { maxLength: 10 }),
        fc.constantFrom(...HOSTS),
        fc.constantFrom(...PATHS),
        fc.constantFrom('GET', 'POST', 'PUT', 'PURGE', 'PROPFIND'),
        (blocks, host, path, method) => {
          const routes = blocks.map((b, i) =>
            route(`r${i}`, { ...(b.hosts ? { hosts: b.hosts } : {}), ...(b.paths ? { paths: b.paths } : {}), ...(b.methods ? { methods: b.methods } : {}) }),
          );
          const index = indexRoutes(routes);
          expect(matchIndexedRoute(index, host, path, method)?.name).toBe(matchRoute(routes, host, path, method)?.name);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('tries only the routes under the path\'s literal segments (many routes on one host)', () => {
    const routes = Array.from({ length: 200 }, (_, k) => route(`r${k}`, { hosts: ['api.internal'], paths: [`/api/r${k}/**`] }));
    routes.push(route('fallback', { paths: ['/**'] }));
    const index = indexRoutes(routes);
    expect(matchIndexedRoute(index, 'api.internal', '/api/r150/items/4', 'GET')?.name).toBe('r150');
    expect(matchIndexedRoute(index, 'api.internal', '/api/r1500', 'GET')?.name).toBe('fallback');
    expect(matchIndexedRoute(index, 'api.internal', '/api', 'GET')?.name).toBe('fallback');
    expect(matchIndexedRoute(index, 'elsewhere', '/api/r150', 'GET')?.name).toBe('fallback');
    // The tree of the host's list: under "/api/r150" only r150 and the catch-all are candidates.
    const list = index.lists.get('api.internal');
    const names = list?.tree.children.get('api')?.children.get('r150')?.candidates.map((r) => r.name);
    expect(names).toEqual(['r150', 'fallback']);
  });
});
