// Tests for parseConfigText: strict schema, defaults, and every error naming the key path at fault.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/parse.js';
import { buildSnapshot } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import type { ConfigIssue } from '../../../src/config/issues.js';

const DEFAULT_YAML = readFileSync(new URL('../../../config/default.yaml', import.meta.url), 'utf8');

/** The schema's message for a trustDomains entry of neither form. */
const TD_ENTRY = 'must be a trust domain name, or { name, bundle } with the path of its bundle file';

/** Every default the schema fills in, for a config that sets nothing. */
const DEFAULTS: Config = {
  listen: { grpc: '0.0.0.0:9191', admin: '0.0.0.0:9192' },
  identity: {
    sources: ['principal', 'certificate', 'xfcc'],
    certificate: { requireBundle: false, strict: false, maxBytes: 65_536 },
    xfcc: { trusted: false, trustedProxies: [], hop: 'peer', maxBytes: 16_384, maxElements: 16 },
    jwt: { header: 'authorization', audiences: [], skewSeconds: 30, maxBytes: 8192 },
    cache: { maxEntries: 10_000 },
  },
  defaults: { mode: 'shadow', unmatchedRoute: 'deny' },
  trustDomains: [],
  routes: [],
  rollout: {
    adminToken: { env: 'SPIFFE_AUTHZ_ADMIN_TOKEN' },
    outsideCohort: 'warn',
    gate: { minChecks: 100, minObservedSeconds: 900, window: '15m' },
    topCallers: 20,
  },
  limits: { maxRequestBytes: 1_048_576, maxHeaderBytes: 65_536, maxHeaderCount: 200, maxPathBytes: 8192 },
  log: { level: 'info', decisions: 'all', maxBufferBytes: 16_777_216 },
};

function parsedOk(text: string): Config {
  const r = parseConfigText(text);
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.issues)}`);
  return r.value;
}

function issuesOf(text: string): readonly ConfigIssue[] {
  const r = parseConfigText(text);
  if (r.ok) throw new Error(`expected issues for ${JSON.stringify(text)}`);
  return r.issues;
}

const HOST_MSG = 'must be a host name without port, "*.suffix" or "*"';
const METHOD_MSG = 'must be an HTTP method name';
const MODE_MSG = 'Invalid option: expected one of "shadow"|"warn"|"enforce"';

describe('parseConfigText', () => {
  describe('defaults', () => {
    it('fills every default for a minimal config', () => {
      expect(parsedOk('trustDomains: [prod.example.org]\n')).toEqual({ ...DEFAULTS, trustDomains: ['prod.example.org'] });
    });

    it.each([
      ['an empty file', ''],
      ['a newline only', '\n'],
      ['comments only', '# nothing here\n# at all\n'],
      ['an explicit null document', 'null\n'],
      ['a YAML null (~)', '~\n'],
      ['an empty mapping', '{}\n'],
      ['an empty JSON object', '{}'],
    ])('gives all defaults for %s', (_name, text) => {
      expect(parsedOk(text)).toEqual(DEFAULTS);
    });

    it('fills route defaults: allow and deny become {}, enforcePercent 100, mode, outsideCohort and match stay absent', () => {
      expect(parsedOk('routes:\n  - name: r\n').routes).toEqual([{ name: 'r', enforcePercent: 100, allow: {}, deny: {} }]);
    });

    it('keeps explicit values instead of defaults', () => {
      const c = parsedOk(
        [
          'listen: {grpc: "127.0.0.1:1", admin: "[::1]:2"}',
          'identity: {sources: [xfcc], xfcc: {trusted: true, maxBytes: 256, maxElements: 1}}',
          'defaults: {mode: enforce, unmatchedRoute: allow}',
          'log: {level: silent, decisions: none, maxBufferBytes: 65536}',
          'limits: {maxRequestBytes: 4096, maxHeaderBytes: 1024, maxHeaderCount: 1, maxPathBytes: 256}',
        ].join('\n'),
      );
      expect(c).toEqual({
        ...DEFAULTS,
        listen: { grpc: '127.0.0.1:1', admin: '[::1]:2' },
        identity: { ...DEFAULTS.identity, sources: ['xfcc'], xfcc: { ...DEFAULTS.identity.xfcc, trusted: true, maxBytes: 256, maxElements: 1 } },
        defaults: { mode: 'enforce', unmatchedRoute: 'allow' },
        limits: { maxRequestBytes: 4096, maxHeaderBytes: 1024, maxHeaderCount: 1, maxPathBytes: 256 },
        log: { level: 'silent', decisions: 'none', maxBufferBytes: 65_536 },
      });
    });
  });

  describe('bundled config/default.yaml', () => {
    it('parses with the documented values', () => {
      const c = parsedOk(DEFAULT_YAML);
      expect(c.trustDomains).toEqual(['prod.example.org', 'partner.example.com']);
      expect(c.defaults).toEqual({ mode: 'shadow', unmatchedRoute: 'deny' });
      expect(c.identity).toEqual(DEFAULTS.identity);
      expect(c.routes.map((r) => [r.name, r.mode])).toEqual([
        ['orders-write', 'shadow'],
        ['orders-read', 'shadow'],
      ]);
      expect(c.routes[0]?.allow).toEqual({
        'prod.example.org': ['/ns/checkout/sa/*', '/ns/ops/sa/admin'],
        'partner.example.com': ['/billing/**'],
      });
    });

    it('compiles into a snapshot', () => {
      const s = buildSnapshot(DEFAULT_YAML, 'config/default.yaml', 0);
      if (!s.ok) throw new Error(JSON.stringify(s.issues));
      expect(s.value.routes.map((r) => r.name)).toEqual(['orders-write', 'orders-read']);
      expect([...s.value.trustDomains]).toEqual(['prod.example.org', 'partner.example.com']);
      expect(s.value.config.identity.xfcc.trusted).toBe(false);
    });
  });

  describe('JSON input', () => {
    it('parses a JSON document like YAML', () => {
      const json = JSON.stringify({
        trustDomains: ['prod.example.org'],
        defaults: { mode: 'warn' },
        routes: [{ name: 'r', match: { paths: ['/x/**'] }, allow: { 'prod.example.org': ['**'] } }],
      });
      expect(parsedOk(json)).toEqual({
        ...DEFAULTS,
        trustDomains: ['prod.example.org'],
        defaults: { mode: 'warn', unmatchedRoute: 'deny' },
        routes: [{ name: 'r', match: { paths: ['/x/**'] }, enforcePercent: 100, allow: { 'prod.example.org': ['**'] }, deny: {} }],
      });
    });

    it('reports an unknown key in JSON with its path', () => {
      expect(issuesOf('{"routes":[{"name":"r","match":{"hostz":["a"]}}]}')).toEqual([
        { path: 'routes[0].match.hostz', message: 'unknown key' },
      ]);
    });
  });

  describe('unknown keys', () => {
    it.each([
      ['root', 'foo: 1\n', 'foo'],
      ['root, a key that is not an identifier', '"a-b": 1\n', '["a-b"]'],
      ['root, an Object.prototype name', 'toString: 1\n', 'toString'],
      ['root, a YAML merge key (not merged in strict YAML 1.2)', '<<: {a: 1}\n', '["<<"]'],
      ['listen', 'listen:\n  grpcc: "0.0.0.0:1"\n', 'listen.grpcc'],
      ['identity', 'identity:\n  source: [principal]\n', 'identity.source'],
      ['identity.xfcc', 'identity:\n  xfcc:\n    trustd: true\n', 'identity.xfcc.trustd'],
      ['defaults', 'defaults:\n  modee: shadow\n', 'defaults.modee'],
      ['log', 'log:\n  lvl: info\n', 'log.lvl'],
      ['limits', 'limits:\n  maxBodyBytes: 1\n', 'limits.maxBodyBytes'],
      ['a route', 'routes:\n  - name: a\n    extra: 1\n', 'routes[0].extra'],
      ['a route match block', 'routes:\n  - name: a\n    match:\n      hostz: [x]\n', 'routes[0].match.hostz'],
      [
        'the match block of the second route',
        'routes:\n  - name: a\n  - name: b\n    match:\n      header: x\n',
        'routes[1].match.header',
      ],
    ])('rejects an unknown key at %s', (_where, text, path) => {
      expect(issuesOf(text)).toEqual([{ path, message: 'unknown key' }]);
    });

    it.each([
      ['the root', '__proto__: 1\n', '__proto__'],
      ['a rule list', 'trustDomains: [a.org]\nroutes:\n  - name: a\n    deny:\n      __proto__: ["**"]\n', 'routes[0].deny.__proto__'],
    ])('refuses a __proto__ key at %s (plain objects would drop it silently)', (_where, text, path) => {
      expect(issuesOf(text)).toEqual([{ path, message: 'the key "__proto__" is not allowed' }]);
    });

    it('reports each unknown key of one object separately', () => {
      expect(issuesOf('listen:\n  a: 1\n  b: 2\n')).toEqual([
        { path: 'listen.a', message: 'unknown key' },
        { path: 'listen.b', message: 'unknown key' },
      ]);
    });
  });

  describe('wrong types', () => {
    it.each([
      ['routes is a number', 'routes: 5\n', 'routes', 'Invalid input: expected array, received number'],
      ['trustDomains is a string', 'trustDomains: prod.example.org\n', 'trustDomains', 'Invalid input: expected array, received string'],
      ['a trust domain is a number', 'trustDomains: [5]\n', 'trustDomains[0]', TD_ENTRY],
      [
        'trusted is the string "yes" (YAML 1.2: not a boolean)',
        'identity:\n  xfcc:\n    trusted: "yes"\n',
        'identity.xfcc.trusted',
        'Invalid input: expected boolean, received string',
      ],
      [
        'trusted is the bare word yes (a string in YAML 1.2)',
        'identity:\n  xfcc:\n    trusted: yes\n',
        'identity.xfcc.trusted',
        'Invalid input: expected boolean, received string',
      ],
      ['maxBytes is a string', 'identity:\n  xfcc:\n    maxBytes: "x"\n', 'identity.xfcc.maxBytes', 'Invalid input: expected number, received string'],
      ['maxBytes is fractional', 'identity:\n  xfcc:\n    maxBytes: 1.5\n', 'identity.xfcc.maxBytes', 'Invalid input: expected int, received number'],
      ['maxBytes is below 256', 'identity:\n  xfcc:\n    maxBytes: 100\n', 'identity.xfcc.maxBytes', 'Too small: expected number to be >=256'],
      [
        'maxElements is above 256',
        'identity:\n  xfcc:\n    maxElements: 1000\n',
        'identity.xfcc.maxElements',
        'Too big: expected number to be <=256',
      ],
      ['maxRequestBytes is below 4096', 'limits:\n  maxRequestBytes: 1024\n', 'limits.maxRequestBytes', 'Too small: expected number to be >=4096'],
      ['maxHeaderCount is 0', 'limits:\n  maxHeaderCount: 0\n', 'limits.maxHeaderCount', 'Too small: expected number to be >=1'],
      ['maxPathBytes is fractional', 'limits:\n  maxPathBytes: 300.5\n', 'limits.maxPathBytes', 'Invalid input: expected int, received number'],
      ['maxHeaderBytes is a string', 'limits:\n  maxHeaderBytes: 64k\n', 'limits.maxHeaderBytes', 'Invalid input: expected number, received string'],
      ['log.maxBufferBytes is below 64 KiB', 'log:\n  maxBufferBytes: 1000\n', 'log.maxBufferBytes', 'Too small: expected number to be >=65536'],
      ['certificate.maxBytes is above 1 MiB', 'identity:\n  certificate:\n    maxBytes: 2000000\n', 'identity.certificate.maxBytes', 'Too big: expected number to be <=1048576'],
      ['a route name is a number', 'routes:\n  - name: 5\n', 'routes[0].name', 'Invalid input: expected string, received number'],
      ['a route has no name', 'routes:\n  - match: {}\n', 'routes[0].name', 'Invalid input: expected string, received undefined'],
      ['allow is a list', 'routes:\n  - name: a\n    allow: ["/x"]\n', 'routes[0].allow', 'Invalid input: expected record, received array'],
      [
        'the patterns of a trust domain are a string',
        'routes:\n  - name: a\n    allow:\n      prod.example.org: "/x"\n',
        'routes[0].allow["prod.example.org"]',
        'Invalid input: expected array, received string',
      ],
      [
        'a pattern is a number',
        'routes:\n  - name: a\n    deny:\n      prod.example.org: ["/x", 5]\n',
        'routes[0].deny["prod.example.org"][1]',
        'Invalid input: expected string, received number',
      ],
      [
        'the pattern list of a trust domain is empty',
        'routes:\n  - name: a\n    allow:\n      prod.example.org: []\n',
        'routes[0].allow["prod.example.org"]',
        'must list at least one pattern',
      ],
      ['match.paths is a string', 'routes:\n  - name: a\n    match:\n      paths: "/x"\n', 'routes[0].match.paths', 'Invalid input: expected array, received string'],
      ['match.hosts is empty', 'routes:\n  - name: a\n    match:\n      hosts: []\n', 'routes[0].match.hosts', 'Too small: expected array to have >=1 items'],
      ['the document is a list', '- 1\n', '(root)', 'Invalid input: expected object, received array'],
      ['the document is a number', '42\n', '(root)', 'Invalid input: expected object, received number'],
      [
        'a listen address has no port',
        'listen:\n  grpc: "0.0.0.0"\n',
        'listen.grpc',
        'must be "host:port" with a port from 0 to 65535 (IPv6 hosts in brackets)',
      ],
      [
        'a listen port is out of range',
        'listen:\n  admin: "0.0.0.0:65536"\n',
        'listen.admin',
        'must be "host:port" with a port from 0 to 65535 (IPv6 hosts in brackets)',
      ],
      ['a source repeats', 'identity:\n  sources: [principal, principal]\n', 'identity.sources', 'must not repeat a source'],
      [
        'a source is unknown',
        'identity:\n  sources: [spiffe-helper]\n',
        'identity.sources[0]',
        'Invalid option: expected one of "principal"|"certificate"|"xfcc"|"jwt"',
      ],
      ['sources is empty', 'identity:\n  sources: []\n', 'identity.sources', 'Too small: expected array to have >=1 items'],
      ['unmatchedRoute is not allow/deny', 'defaults:\n  unmatchedRoute: maybe\n', 'defaults.unmatchedRoute', 'Invalid option: expected one of "allow"|"deny"'],
      [
        'a log level is unknown',
        'log:\n  level: verbose\n',
        'log.level',
        'Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"',
      ],
      [
        'a route name starts with "_" (so "_unmatched" can never be configured)',
        'routes:\n  - name: _unmatched\n',
        'routes[0].name',
        'must be 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit',
      ],
    ])('rejects a config where %s', (_name, text, path, message) => {
      expect(issuesOf(text)).toEqual([{ path, message }]);
    });
  });

  describe('trust domains', () => {
    it('names the index of a bad trust domain', () => {
      expect(issuesOf('trustDomains: [good.example.org, Bad.example.org]\n')).toEqual([
        { path: 'trustDomains[1]', message: "not a valid SPIFFE trust domain: bad trust domain character 'B' at index 0" },
      ]);
    });

    it.each([
      ['', 'trust domain is missing'],
      ['a.org:443', "bad trust domain character ':' at index 5"],
      ['a/b', "bad trust domain character '/' at index 1"],
      ['spiffe://a.org', "bad trust domain character ':' at index 6"],
      ['user@a.org', "bad trust domain character '@' at index 4"],
      ['a%2eorg', "bad trust domain character '%' at index 1"],
      ['x'.repeat(256), 'trust domain is 256 bytes, longer than 255'],
    ])('rejects trust domain %j', (td, detail) => {
      expect(issuesOf(`trustDomains: [ok.org, ${JSON.stringify(td)}]\n`)).toEqual([
        { path: 'trustDomains[1]', message: `not a valid SPIFFE trust domain: ${detail}` },
      ]);
    });

    it.each(['example.org', 'a_b.internal', '10.0.0.1', 'x'.repeat(255), 'example.org.'])('accepts trust domain %j', (td) => {
      expect(parsedOk(`trustDomains: [${JSON.stringify(td)}]\n`).trustDomains).toEqual([td]);
    });

    it('rejects a repeated trust domain', () => {
      expect(issuesOf('trustDomains: [a.org, a.org]\n')).toEqual([{ path: 'trustDomains', message: 'must not repeat a trust domain' }]);
    });
  });

  describe('identity', () => {
    it('keeps explicit certificate, xfcc, jwt and cache settings', () => {
      const c = parsedOk(
        [
          'identity:',
          '  sources: [jwt, principal]',
          '  certificate: {requireBundle: true, strict: true, maxBytes: 2048}',
          '  xfcc: {trusted: true, trustedProxies: ["spiffe://prod.example.org/ns/mesh/sa/gateway"], hop: origin}',
          '  jwt: {header: x-jwt-svid, audiences: [orders, billing], skewSeconds: 0, maxBytes: 512}',
          '  cache: {maxEntries: 0}',
        ].join('\n'),
      );
      expect(c.identity).toEqual({
        sources: ['jwt', 'principal'],
        certificate: { requireBundle: true, strict: true, maxBytes: 2048 },
        xfcc: { trusted: true, trustedProxies: ['spiffe://prod.example.org/ns/mesh/sa/gateway'], hop: 'origin', maxBytes: 16_384, maxElements: 16 },
        jwt: { header: 'x-jwt-svid', audiences: ['orders', 'billing'], skewSeconds: 0, maxBytes: 512 },
        cache: { maxEntries: 0 },
      });
    });

    it('parses a route identity block, defaulting requireJwtSvid to false and leaving sources absent', () => {
      const c = parsedOk('routes:\n  - {name: a, identity: {sources: [xfcc, certificate]}}\n  - {name: b, identity: {}}\n  - {name: c}\n');
      expect(c.routes.map((r) => r.identity)).toEqual([{ sources: ['xfcc', 'certificate'], requireJwtSvid: false }, { requireJwtSvid: false }, undefined]);
    });

    it('accepts a trust domain written with its bundle file', () => {
      expect(parsedOk('trustDomains: [a.org, {name: b.org, bundle: /etc/b.json}]\n').trustDomains).toEqual(['a.org', { name: 'b.org', bundle: '/etc/b.json' }]);
    });

    it.each([
      ['an unknown key in a route identity block', 'routes: [{name: r, identity: {source: [xfcc]}}]\n', 'routes[0].identity.source', 'unknown key'],
      [
        'an unknown route source',
        'routes: [{name: r, identity: {sources: [spiffe-helper]}}]\n',
        'routes[0].identity.sources[0]',
        'Invalid option: expected one of "principal"|"certificate"|"xfcc"|"jwt"',
      ],
      ['an empty route source list', 'routes: [{name: r, identity: {sources: []}}]\n', 'routes[0].identity.sources', 'Too small: expected array to have >=1 items'],
      ['a repeated route source', 'routes: [{name: r, identity: {sources: [jwt, jwt]}}]\n', 'routes[0].identity.sources', 'must not repeat a source'],
      [
        'requireJwtSvid that is not a boolean',
        'routes: [{name: r, identity: {requireJwtSvid: "yes"}}]\n',
        'routes[0].identity.requireJwtSvid',
        'Invalid input: expected boolean, received string',
      ],
      [
        'a trusted proxy that is not a SPIFFE ID',
        'identity: {xfcc: {trustedProxies: ["spiffe://a.org/gw", "https://x"]}}\n',
        'identity.xfcc.trustedProxies[1]',
        "not a valid SPIFFE ID: scheme is missing or invalid: expected the literal prefix 'spiffe://'",
      ],
      ['an unknown xfcc hop', 'identity: {xfcc: {hop: both}}\n', 'identity.xfcc.hop', 'Invalid option: expected one of "peer"|"origin"'],
      ['an upper-case jwt header', 'identity: {jwt: {header: Authorization}}\n', 'identity.jwt.header', 'must be a lower-case header name'],
      ['an empty jwt audience', 'identity: {jwt: {audiences: [""]}}\n', 'identity.jwt.audiences[0]', 'Too small: expected string to have >=1 characters'],
      ['a jwt skew over 300 s', 'identity: {jwt: {skewSeconds: 301}}\n', 'identity.jwt.skewSeconds', 'Too big: expected number to be <=300'],
      ['a jwt maxBytes under 512', 'identity: {jwt: {maxBytes: 511}}\n', 'identity.jwt.maxBytes', 'Too small: expected number to be >=512'],
      ['a certificate flag that is not a boolean', 'identity: {certificate: {strict: 1}}\n', 'identity.certificate.strict', 'Invalid input: expected boolean, received number'],
      ['a negative cache size', 'identity: {cache: {maxEntries: -1}}\n', 'identity.cache.maxEntries', 'Too small: expected number to be >=0'],
      ['an unknown key under identity.certificate', 'identity: {certificate: {verify: true}}\n', 'identity.certificate.verify', 'unknown key'],
      [
        'a bad trust domain name written with a bundle',
        'trustDomains: [{name: Bad.org, bundle: x}]\n',
        'trustDomains[0].name',
        "not a valid SPIFFE trust domain: bad trust domain character 'B' at index 0",
      ],
      ['an empty bundle path', 'trustDomains: [{name: a.org, bundle: ""}]\n', 'trustDomains[0].bundle', 'Too small: expected string to have >=1 characters'],
      ['an unknown key in a trust domain entry', 'trustDomains: [{name: a.org, bundle: x, extra: 1}]\n', 'trustDomains[0].extra', 'unknown key'],
      ['a trust domain entry without its bundle', 'trustDomains: [{name: a.org}]\n', 'trustDomains[0]', TD_ENTRY],
      ['a trust domain repeated in both forms', 'trustDomains: [a.org, {name: a.org, bundle: x}]\n', 'trustDomains', 'must not repeat a trust domain'],
    ])('rejects %s', (_name, text, path, message) => {
      expect(issuesOf(text)).toEqual([{ path, message }]);
    });
  });

  describe('modes', () => {
    it.each([
      ['defaults.mode', 'defaults:\n  mode: audit\n'],
      ['routes[0].mode', 'routes:\n  - name: a\n    mode: audit\n'],
      ['routes[0].mode', 'routes:\n  - name: a\n    mode: Enforce\n'],
      ['routes[1].mode', 'routes:\n  - name: a\n    mode: warn\n  - name: b\n    mode: dry-run\n'],
    ])('rejects a bad mode at %s', (path, text) => {
      expect(issuesOf(text)).toEqual([{ path, message: MODE_MSG }]);
    });
  });

  describe('methods', () => {
    it('names each bad method by index and accepts lower-case names', () => {
      expect(issuesOf('routes:\n  - name: a\n    match:\n      methods: ["GE T", "", "GET1", get]\n')).toEqual([
        { path: 'routes[0].match.methods[0]', message: METHOD_MSG },
        { path: 'routes[0].match.methods[1]', message: METHOD_MSG },
        { path: 'routes[0].match.methods[2]', message: METHOD_MSG },
      ]);
    });

    it.each(['GET', 'get', 'PROPFIND', 'X'.repeat(20)])('accepts method %j', (m) => {
      expect(parsedOk(`routes:\n  - name: a\n    match:\n      methods: [${m}]\n`).routes[0]?.match?.methods).toEqual([m]);
    });

    it('rejects a method longer than 20 letters', () => {
      expect(issuesOf(`routes:\n  - name: a\n    match:\n      methods: [${'X'.repeat(21)}]\n`)).toEqual([
        { path: 'routes[0].match.methods[0]', message: METHOD_MSG },
      ]);
    });
  });

  describe('host patterns', () => {
    it.each([
      ['a port', 'a.com:80'],
      ['"*" inside the name', 'a.*.com'],
      ['"*" without a dot', '*example.com'],
      ['a scheme', 'http://a'],
      ['nothing', ''],
      ['an empty label', 'a..com'],
      ['a trailing dot', 'a.com.'],
      ['two wildcards', '*.*.com'],
      ['an IPv6 literal', '[::1]'],
      ['a space', 'a b.com'],
    ])('rejects a host pattern with %s', (_name, host) => {
      expect(issuesOf(`routes:\n  - name: a\n    match:\n      hosts: [ok.com, ${JSON.stringify(host)}]\n`)).toEqual([
        { path: 'routes[0].match.hosts[1]', message: HOST_MSG },
      ]);
    });

    it.each(['*', '*.a.com', 'A.Example.COM', 'x_y.internal', 'localhost', '10.0.0.1'])('accepts host pattern %j', (host) => {
      expect(parsedOk(`routes:\n  - name: a\n    match:\n      hosts: [${JSON.stringify(host)}]\n`).routes[0]?.match?.hosts).toEqual([host]);
    });
  });

  describe('YAML errors', () => {
    it.each([
      ['a duplicate key at the root', 'a: 1\na: 2\n', 'Map keys must be unique at line 2, column 1:'],
      ['a duplicate key inside a route', 'routes:\n  - name: a\n    name: b\n', 'Map keys must be unique at line 3, column 5:'],
      ['a duplicate key in JSON', '{"a": 1, "a": 2}', 'Map keys must be unique at line 1, column 10:'],
      [
        'an unclosed flow sequence',
        'routes: [\n',
        'Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1:',
      ],
      ['an unterminated quote', 'a: "x\n', 'Missing closing "quote at line 2, column 1:'],
      ['tab indentation', '\tfoo: 1\n', 'Tabs are not allowed as indentation at line 1, column 1:'],
      [
        'two documents',
        'a: 1\n---\nb: 2\n',
        'Source contains multiple documents; please use YAML.parseAllDocuments() at line 2, column 1:',
      ],
      ['an alias to an undefined anchor', 'a: &x 1\nb: *y\n', 'Unresolved alias (the anchor must be set before the alias): y'],
      [
        'an alias explosion',
        'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n' +
          'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
        'Excessive alias count indicates a resource exhaustion attack',
      ],
    ])('reports %s under (yaml) and never throws', (_name, text, message) => {
      expect(issuesOf(text)).toEqual([{ path: '(yaml)', message }]);
    });

    it('resolves anchors and aliases that are defined', () => {
      const c = parsedOk('trustDomains: [a.org]\nroutes:\n  - name: r\n    allow:\n      a.org: &p ["/x"]\n    deny:\n      a.org: *p\n');
      expect(c.routes[0]?.deny).toEqual({ 'a.org': ['/x'] });
    });
  });

  describe('several problems', () => {
    it('reports every schema problem of the file together', () => {
      expect(issuesOf('routes:\n  - name: a\n    x: 1\n    mode: bad\n  - name: b\n    match:\n      hostz: []\ntrustDomains: [A]\n')).toEqual([
        { path: 'trustDomains[0]', message: "not a valid SPIFFE trust domain: bad trust domain character 'A' at index 0" },
        { path: 'routes[0].mode', message: MODE_MSG },
        { path: 'routes[0].x', message: 'unknown key' },
        { path: 'routes[1].match.hostz', message: 'unknown key' },
      ]);
    });
  });
});
