// Tests for compileConfig: cross-field rules with key paths, every issue reported at once, and a
// frozen snapshot (config swapped whole, never mutated).
import { describe, expect, it } from 'vitest';
import { compileConfig, type ConfigSnapshot } from '../../../src/config/compile.js';
import type { ConfigIssue } from '../../../src/config/issues.js';
import { buildSnapshot } from '../../../src/config/load.js';
import { parseConfigText } from '../../../src/config/parse.js';
import type { Config } from '../../../src/config/schema.js';

const TD = 'prod.example.org';

function snapshotOf(yaml: string): ConfigSnapshot {
  const r = buildSnapshot(yaml, 'test', 0);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

function issuesOf(yaml: string): readonly ConfigIssue[] {
  const r = buildSnapshot(yaml, 'test', 0);
  if (r.ok) throw new Error('expected issues');
  return r.issues;
}

/** A config with the given ID patterns as the deny list of prod.example.org on the second route. */
function withDenyPatterns(patterns: readonly string[]): string {
  return [
    `trustDomains: [${TD}]`,
    'routes:',
    '  - name: first',
    '  - name: second',
    '    deny:',
    `      ${TD}: ${JSON.stringify(['/ok/a', '/ok/b', ...patterns])}`,
  ].join('\n');
}

/** A config with the given request path patterns on the first route. */
function withPaths(paths: readonly string[]): string {
  return ['routes:', '  - name: r', '    match:', `      paths: ${JSON.stringify(['/ok', ...paths])}`].join('\n');
}

const ID_RULE_CASES: readonly (readonly [string, string, string])[] = [
  ['"*" inside a segment', '/ns/a*', '"*" must be a whole segment (segment 2: "a*")'],
  ['"*" after a literal', '/ns/*x/sa', '"*" must be a whole segment (segment 2: "*x")'],
  ['"**" inside a segment', '/ns/**x', '"*" must be a whole segment (segment 2: "**x")'],
  ['"**" not last', '/**/b', '"**" is only allowed as the last segment'],
  ['"**" twice at the end', '/a/**/**', '"**" is only allowed as the last segment'],
  ['"//"', '/a//b', 'empty segment ("//" or trailing "/")'],
  ['a trailing "/"', '/a/', 'empty segment ("//" or trailing "/")'],
  ['a "." segment', '/./a', `segment 1 ".": path has a dot segment '.' at index 1`],
  ['a ".." segment', '/a/..', `segment 2 "..": path has a dot segment '..' at index 1`],
  ['"~" (not in the SPIFFE charset)', '/a~b', `segment 1 "a~b": bad path character '~' at index 2`],
  ['"%" (percent-encoding)', '/a%20b', `segment 1 "a%20b": bad path character '%' at index 2`],
  ['":"', '/a:b', `segment 1 "a:b": bad path character ':' at index 2`],
  ['"+"', '/a+b', `segment 1 "a+b": bad path character '+' at index 2`],
  ['a non-ASCII character', '/é', 'segment 1 "é": bad path character U+00E9 at index 1'],
  ['no leading slash', 'ns/a', 'must start with "/" (or be "**" for anything)'],
  ['nothing', '', 'must start with "/" (or be "**" for anything)'],
  ['a lone "*"', '*', 'must start with "/" (or be "**" for anything)'],
  ['"/" (no ID path is "/")', '/', 'no SPIFFE ID path is "/"; use "**" for any workload of the trust domain'],
];

const SPACES_MSG = 'must not contain spaces, control characters, "?", "#" or "\\"';
const DOT_MSG = 'dot segments never match: request paths are matched with "." and ".." resolved';

const REQUEST_PATH_CASES: readonly (readonly [string, string, string])[] = [
  ['no leading slash', 'a', 'must start with "/" (or be "**" for anything)'],
  ['nothing', '', 'must start with "/" (or be "**" for anything)'],
  ['"//"', '/a//b', 'empty segment ("//" or trailing "/")'],
  ['a trailing "/"', '/a/', 'empty segment ("//" or trailing "/")'],
  ['"**" not last', '/**/x', '"**" is only allowed as the last segment'],
  ['"*" inside a segment', '/a*', '"*" must be a whole segment (segment 1: "a*")'],
  ['a space', '/a b', `segment 1 "a b": ${SPACES_MSG}`],
  ['a query', '/a?x', `segment 1 "a?x": ${SPACES_MSG}`],
  ['a fragment', '/a#x', `segment 1 "a#x": ${SPACES_MSG}`],
  ['a backslash', '/a\\b', `segment 1 "a\\b": ${SPACES_MSG}`],
  ['a control character', '/a\u0001', `segment 1 "a\u0001": ${SPACES_MSG}`],
  ['a ".." segment', '/..', `segment 1 "..": ${DOT_MSG}`],
  ['a "." segment', '/a/.', `segment 2 ".": ${DOT_MSG}`],
  ['an encoded unreserved character', '/%7E', 'segment 1 "%7E": "%7E" never matches: request paths are matched decoded, write "~"'],
  ['an encoded "/"', '/x%2Fy', 'segment 1 "x%2Fy": "%2F" never matches: an encoded "/" or "\\" is matched as a separator'],
  ['an encoded "\\"', '/%5c', 'segment 1 "%5c": "%5c" never matches: an encoded "/" or "\\" is matched as a separator'],
  ['a lower-case escape', '/%3a', 'segment 1 "%3a": "%3a" never matches: escapes are matched in upper case, write "%3A"'],
];

describe('compileConfig', () => {
  describe('route names', () => {
    it('rejects a duplicate route name at the later route', () => {
      expect(issuesOf('routes:\n  - name: a\n  - name: b\n  - name: a\n')).toEqual([
        { path: 'routes[2].name', message: 'duplicate route name "a"' },
      ]);
    });

    it('reports every repeat of a duplicated name', () => {
      expect(issuesOf('routes:\n  - name: a\n  - name: a\n  - name: a\n')).toEqual([
        { path: 'routes[1].name', message: 'duplicate route name "a"' },
        { path: 'routes[2].name', message: 'duplicate route name "a"' },
      ]);
    });

    it('finds a duplicate name even when the first route has a bad match block', () => {
      expect(issuesOf('routes:\n  - name: a\n    match: {paths: [x]}\n  - name: a\n')).toEqual([
        { path: 'routes[0].match.paths[0]', message: 'must start with "/" (or be "**" for anything)' },
        { path: 'routes[1].name', message: 'duplicate route name "a"' },
      ]);
    });

    it('rejects the reserved name "_unmatched" (given a config that bypassed the schema)', () => {
      const parsed = parseConfigText('routes:\n  - name: placeholder\n');
      if (!parsed.ok) throw new Error('fixture');
      const config: Config = { ...parsed.value, routes: [{ name: '_unmatched', enforcePercent: 100, allow: {}, deny: {} }] };
      const r = compileConfig(config, 'test', 0);
      expect(r.ok ? [] : r.issues).toEqual([{ path: 'routes[0].name', message: '"_unmatched" is reserved' }]);
    });

    it('rejects "_unmatched" in a config file already at the schema', () => {
      expect(issuesOf('routes:\n  - name: _unmatched\n')).toEqual([
        { path: 'routes[0].name', message: 'must be 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit' },
      ]);
    });
  });

  describe('trust domains of rules', () => {
    it.each([
      ['allow', 'other.org', 'routes[0].allow["other.org"]'],
      ['deny', 'other.org', 'routes[0].deny["other.org"]'],
      ['allow', 'Prod.example.org', 'routes[0].allow["Prod.example.org"]'],
      ['allow', 'prod.example.org.', 'routes[0].allow["prod.example.org."]'],
      ['allow', 'example.org', 'routes[0].allow["example.org"]'],
    ])('rejects %s rules under the unlisted trust domain %j', (list, td, path) => {
      const yaml = `trustDomains: [${TD}]\nroutes:\n  - name: r\n    ${list}:\n      ${JSON.stringify(td)}: ["**"]\n`;
      expect(issuesOf(yaml)).toEqual([{ path, message: `trust domain "${td}" is not listed in trustDomains` }]);
    });

    it('rejects every rule when no trust domain is listed at all', () => {
      expect(issuesOf(`routes:\n  - name: r\n    allow:\n      ${TD}: ["**"]\n`)).toEqual([
        { path: `routes[0].allow["${TD}"]`, message: `trust domain "${TD}" is not listed in trustDomains` },
      ]);
    });
  });

  describe('ID patterns', () => {
    it.each(ID_RULE_CASES)('rejects an ID pattern with %s', (_name, pattern, message) => {
      expect(issuesOf(withDenyPatterns([pattern]))).toEqual([{ path: `routes[1].deny["${TD}"][2]`, message }]);
    });

    it.each(['**', '/**', '/a', '/a/b/**', '/ns/*/sa/*', '/*/**', '/...', '/.a', '/a.', '/A_b-9.c'])('accepts the ID pattern %j', (pattern) => {
      expect(snapshotOf(withDenyPatterns([pattern])).routes[1]?.name).toBe('second');
    });

    it('reports every bad pattern of one list', () => {
      expect(issuesOf(withDenyPatterns(['/a*', '/ok/c', '/', '/a//b']))).toEqual([
        { path: `routes[1].deny["${TD}"][2]`, message: '"*" must be a whole segment (segment 1: "a*")' },
        { path: `routes[1].deny["${TD}"][4]`, message: 'no SPIFFE ID path is "/"; use "**" for any workload of the trust domain' },
        { path: `routes[1].deny["${TD}"][5]`, message: 'empty segment ("//" or trailing "/")' },
      ]);
    });
  });

  describe('request path patterns', () => {
    it.each(REQUEST_PATH_CASES)('rejects a request path pattern with %s', (_name, pattern, message) => {
      expect(issuesOf(withPaths([pattern]))).toEqual([{ path: 'routes[0].match.paths[1]', message }]);
    });

    it.each(['/', '/**', '**', '/%3A', '/%25', '/%zz', '/%', '/a/*/b/**', '/a.b', '/...', '/~user', '/a;b'])(
      'accepts the request path pattern %j',
      (pattern) => {
        expect(snapshotOf(withPaths([pattern])).routes[0]?.matcher?.paths).toHaveLength(2);
      },
    );
  });

  describe('several problems', () => {
    it('reports every problem of every route together, in config order', () => {
      const yaml = [
        `trustDomains: [${TD}]`,
        'routes:',
        '  - name: a',
        '    match: {paths: ["/ok", "a", "/x/%7e"]}',
        '    allow:',
        '      other.org: ["/x"]',
        `      ${TD}: ["/", "/ok", "/**/b"]`,
        '    deny:',
        `      ${TD}: ["/a*"]`,
        '  - name: b',
        '  - name: a',
        '    allow:',
        '      b.org: ["**"]',
      ].join('\n');
      expect(issuesOf(yaml)).toEqual([
        { path: 'routes[0].match.paths[1]', message: 'must start with "/" (or be "**" for anything)' },
        { path: 'routes[0].match.paths[2]', message: 'segment 2 "%7e": "%7e" never matches: request paths are matched decoded, write "~"' },
        { path: 'routes[0].allow["other.org"]', message: 'trust domain "other.org" is not listed in trustDomains' },
        { path: `routes[0].allow["${TD}"][0]`, message: 'no SPIFFE ID path is "/"; use "**" for any workload of the trust domain' },
        { path: `routes[0].allow["${TD}"][2]`, message: '"**" is only allowed as the last segment' },
        { path: `routes[0].deny["${TD}"][0]`, message: '"*" must be a whole segment (segment 1: "a*")' },
        { path: 'routes[2].name', message: 'duplicate route name "a"' },
        { path: 'routes[2].allow["b.org"]', message: 'trust domain "b.org" is not listed in trustDomains' },
      ]);
    });
  });

  describe('compiled snapshot', () => {
    const yaml = [
      `trustDomains: [${TD}, partner.example.com]`,
      'defaults: {mode: warn, unmatchedRoute: allow}',
      'routes:',
      '  - name: named-only',
      '    mode: enforce',
      '    allow:',
      `      ${TD}: ["/a", "/b/**"]`,
      '  - name: everything',
      '    match: {}',
      '    deny:',
      '      partner.example.com: ["**"]',
    ].join('\n');

    it('keeps source, load time, trust domains and route order', () => {
      const r = buildSnapshot(yaml, 'file.yaml', 1234);
      if (!r.ok) throw new Error('fixture');
      const s = r.value;
      expect([s.source, s.loadedAt]).toEqual(['file.yaml', 1234]);
      expect([...s.trustDomains]).toEqual([TD, 'partner.example.com']);
      expect(s.routes.map((x) => [x.name, x.index, x.mode, x.fixedDecision])).toEqual([
        ['named-only', 0, 'enforce', undefined],
        ['everything', 1, 'warn', undefined],
      ]);
      expect([...s.routesByName.keys()]).toEqual(['named-only', 'everything']);
      expect(s.routesByName.get('everything')).toBe(s.routes[1]);
    });

    it('builds the virtual unmatched route from defaults', () => {
      const u = snapshotOf(yaml).unmatched;
      expect([u.name, u.index, u.mode, u.fixedDecision, u.rules.size]).toEqual(['_unmatched', -1, 'warn', 'allow', 0]);
    });

    it('keys rules by trust domain with rule ids naming list, trust domain and index', () => {
      const s = snapshotOf(yaml);
      const prod = s.routes[0]?.rules.get(TD);
      expect(prod?.deny).toBeUndefined();
      expect(prod?.allow?.exact).toEqual(new Map([['/a', `allow["${TD}"][0]`]]));
      expect(prod?.allow?.prefixes).toEqual(new Map([['/b', `allow["${TD}"][1]`]]));
      expect(s.routes[0]?.rules.has('partner.example.com')).toBe(false);
      expect(s.routes[1]?.rules.get('partner.example.com')?.deny?.any).toBe('deny["partner.example.com"][0]');
    });

    it('lists only routes with a match block as match candidates', () => {
      expect(snapshotOf(yaml).matchableRoutes.map((r) => r.name)).toEqual(['everything']);
    });
  });

  describe('frozen snapshot', () => {
    const s = snapshotOf(
      `trustDomains: [${TD}]\nroutes:\n  - name: r\n    match: {paths: ["/a/*"], hosts: [a.com]}\n    allow:\n      ${TD}: ["/x/*"]\n`,
    );
    type Loose = Record<string, unknown>;

    it.each<[string, () => void]>([
      ['the snapshot', () => ((s as unknown as Loose).source = 'x')],
      ['the config', () => ((s.config as unknown as Loose).routes = [])],
      ['a nested config object', () => ((s.config.defaults as unknown as Loose).mode = 'enforce')],
      ['a config pattern list', () => (s.config.routes[0]?.allow[TD] as string[]).push('**')],
      ['the trust domain list of the config', () => (s.config.trustDomains as string[]).push('evil.org')],
      ['the route list', () => (s.routes as unknown[]).push(s.unmatched)],
      ['a route', () => ((s.routes[0] as unknown as Loose).mode = 'shadow')],
      ['a route matcher', () => ((s.routes[0]?.matcher as unknown as Loose).paths = undefined)],
      ['the path patterns of a matcher', () => (s.routes[0]?.matcher?.paths as unknown[]).push({ kind: 'any', source: '**' })],
      ['the rules of one trust domain', () => ((s.routes[0]?.rules.get(TD) as unknown as Loose).deny = undefined)],
      ['a compiled rule set', () => ((s.routes[0]?.rules.get(TD)?.allow as unknown as Loose).any = 'x')],
      ['the wildcard rules', () => (s.routes[0]?.rules.get(TD)?.allow?.wildcards as unknown[]).push({})],
      ['the unmatched route', () => ((s.unmatched as unknown as Loose).fixedDecision = 'allow')],
      ['the match candidates', () => (s.matchableRoutes as unknown[]).pop()],
    ])('throws in strict mode when %s is mutated', (_what, mutate) => {
      expect(mutate).toThrow(TypeError);
    });
  });

  describe('identity sources', () => {
    it('gives every route the global sources unless it names its own', () => {
      const s = snapshotOf(
        'identity: {sources: [xfcc, principal]}\nroutes:\n  - {name: a}\n  - {name: b, identity: {sources: [certificate]}}\n',
      );
      expect(s.routes.map((r) => [r.name, r.sources, r.requireJwtSvid])).toEqual([
        ['a', ['xfcc', 'principal'], false],
        ['b', ['certificate'], false],
      ]);
      expect(s.unmatched.sources).toEqual(['xfcc', 'principal']);
    });

    it('defaults to principal, certificate, xfcc', () => {
      expect(snapshotOf('').unmatched.sources).toEqual(['principal', 'certificate', 'xfcc']);
    });

    it('keeps a route’s requireJwtSvid and sources together', () => {
      const s = snapshotOf(
        'identity: {sources: [principal, jwt], jwt: {audiences: [orders]}}\n' +
          'routes:\n  - {name: a, identity: {requireJwtSvid: true}}\n  - {name: b, identity: {sources: [jwt, certificate], requireJwtSvid: true}}\n',
      );
      expect(s.routes.map((r) => [r.name, r.sources, r.requireJwtSvid])).toEqual([
        ['a', ['principal', 'jwt'], true],
        ['b', ['jwt', 'certificate'], true],
      ]);
      expect([s.unmatched.sources, s.unmatched.requireJwtSvid]).toEqual([['principal', 'jwt'], false]);
    });

    const GLOBAL_AUDIENCE_MSG = 'must list at least one audience when jwt is an identity source';
    const ROUTE_AUDIENCE_MSG = 'uses jwt, so identity.jwt.audiences must list at least one audience';

    it.each([
      ['jwt is a global source', 'identity: {sources: [jwt]}\n', [{ path: 'identity.jwt.audiences', message: GLOBAL_AUDIENCE_MSG }]],
      [
        'a route requires a JWT-SVID (and the global sources leave jwt out)',
        'routes: [{name: a, identity: {requireJwtSvid: true}}]\n',
        [
          { path: 'routes[0].identity', message: ROUTE_AUDIENCE_MSG },
          { path: 'routes[0].identity.requireJwtSvid', message: "needs jwt in identity.sources (or in this route's identity.sources)" },
        ],
      ],
      ['a route lists jwt', 'routes: [{name: a, identity: {sources: [principal, jwt]}}]\n', [{ path: 'routes[0].identity', message: ROUTE_AUDIENCE_MSG }]],
      [
        'the second route lists jwt',
        'routes: [{name: a}, {name: b, identity: {sources: [jwt], requireJwtSvid: true}}]\n',
        [{ path: 'routes[1].identity', message: ROUTE_AUDIENCE_MSG }],
      ],
    ])('requires jwt audiences when %s', (_name, yaml, issues) => {
      expect(issuesOf(yaml)).toEqual(issues);
    });

    it('accepts jwt with an audience, and routes without jwt with none', () => {
      expect(snapshotOf('identity: {sources: [jwt], jwt: {audiences: [orders]}}\n').unmatched.sources).toEqual(['jwt']);
      expect(snapshotOf('routes: [{name: a, identity: {sources: [xfcc]}}]\n').routes[0]?.sources).toEqual(['xfcc']);
    });

    it('rejects requireJwtSvid on a route whose sources leave jwt out', () => {
      expect(issuesOf('identity: {jwt: {audiences: [x]}}\nroutes: [{name: a, identity: {sources: [principal], requireJwtSvid: true}}]\n')).toEqual([
        { path: 'routes[0].identity.sources', message: 'must include jwt when requireJwtSvid is true' },
      ]);
    });

    it('freezes the source lists of routes and of the unmatched route', () => {
      const s = snapshotOf('routes: [{name: a, identity: {sources: [xfcc]}}, {name: b}]\n');
      expect(() => (s.routes[0]?.sources as string[]).push('principal')).toThrow(TypeError);
      expect(() => (s.routes[1]?.sources as string[]).push('jwt')).toThrow(TypeError);
      expect(() => (s.unmatched.sources as string[]).push('jwt')).toThrow(TypeError);
      expect(s.config.identity.sources).toEqual(['principal', 'certificate', 'xfcc']);
    });

    it('collects bundle files of trust domains written with one', () => {
      const s = snapshotOf('trustDomains: [a.org, {name: b.org, bundle: /etc/b.pem}]\n');
      expect([...s.trustDomains]).toEqual(['a.org', 'b.org']);
      expect([...s.bundleFiles]).toEqual([['b.org', '/etc/b.pem']]);
    });

    it('has no bundle files when every trust domain is a name alone', () => {
      expect(snapshotOf(`trustDomains: [${TD}]\n`).bundleFiles.size).toBe(0);
    });

    it('lets rules name a trust domain written with a bundle, and still rejects unlisted ones', () => {
      const s = snapshotOf(`trustDomains: [{name: ${TD}, bundle: /b.pem}]\nroutes: [{name: r, allow: {${TD}: ["**"]}}]\n`);
      expect(s.routes[0]?.rules.get(TD)?.allow?.any).toBe(`allow["${TD}"][0]`);
      expect(issuesOf(`trustDomains: [{name: ${TD}, bundle: /b.pem}]\nroutes: [{name: r, allow: {b.org: ["**"]}}]\n`)).toEqual([
        { path: 'routes[0].allow["b.org"]', message: 'trust domain "b.org" is not listed in trustDomains' },
      ]);
    });
  });
});
