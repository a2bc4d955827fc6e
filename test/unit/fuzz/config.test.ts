// Fuzzing config loading: arbitrary YAML-ish text, mutated valid configs and hostile map keys must
// always come back as a ConfigResult (a snapshot, or issues that each name a key path), never as an
// exception; and every allow/deny key that is not a configured trust domain must be reported.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConfigResult } from '../../../src/config/issues.js';
import { formatKeyPath } from '../../../src/config/issues.js';
import { buildSnapshot } from '../../../src/config/load.js';
import { parseConfigText } from '../../../src/config/parse.js';
import { hostileString, mutationOf } from './support.js';

const DEFAULT_YAML = readFileSync(new URL('../../../config/default.yaml', import.meta.url), 'utf8');

const VALID_CONFIGS = [
  DEFAULT_YAML,
  `
identity:
  sources: [principal, certificate, xfcc, jwt]
  xfcc: { trusted: true, trustedProxies: ["spiffe://prod.example.org/ns/edge/sa/gw"], hop: origin, maxBytes: 4096 }
  jwt: { audiences: [spiffe-ext-authz], skewSeconds: 10 }
defaults: { mode: enforce, unmatchedRoute: deny }
trustDomains: [prod.example.org, { name: partner.example.com, bundle: /tmp/partner.json }]
routes:
  - name: orders
    match: { hosts: ["orders.internal", "*.orders.internal"], paths: ["/v1/orders", "/v1/orders/*/items/**"], methods: [POST] }
    mode: warn
    enforcePercent: 12.5
    identity: { sources: [principal, jwt], requireJwtSvid: true }
    allow: { prod.example.org: ["/ns/checkout/sa/*", "/ns/ops/sa/admin"], partner.example.com: ["/billing/**"] }
    deny: { prod.example.org: ["/ns/checkout/sa/legacy"] }
`,
  '{"trustDomains":["prod.example.org"],"routes":[{"name":"a","allow":{"prod.example.org":["**"]}}]}',
];

const YAML_CHUNKS = [
  '\n', '  ', '- ', ': ', '{', '}', '[', ']', ',', '&a ', '*a', '<<: *a', '!!str ', '!!binary ', '|', '>', "'", '"', '#', '? ', '---\n', '...\n',
  'routes', 'trustDomains', 'identity', 'sources', 'xfcc', 'trusted', 'true', 'name', 'match', 'paths', 'allow', 'deny', 'mode',
  'enforce', 'shadow', 'prod.example.org', '"/ns/*/sa/**"', '**', '__proto__', 'constructor', '1e999', '-0', '0x1F', '~', 'null',
] as const;

const yamlish = fc.array(fc.oneof(fc.constantFrom(...YAML_CHUNKS), hostileString(12)), { maxLength: 60 }).map((a) => a.join(''));

/** Asserts the ConfigResult contract: a compiled snapshot, or issues that each carry a path and a message. */
function expectConfigResult<T>(r: ConfigResult<T>): void {
  if (r.ok) {
    expect(r.value).toBeDefined();
    return;
  }
  expect(r.issues.length).toBeGreaterThan(0);
  for (const i of r.issues) {
    expect(typeof i.path).toBe('string');
    expect(i.path).not.toBe('');
    expect(typeof i.message).toBe('string');
  }
}

describe('parseConfigText', () => {
  it('returns a ConfigResult for arbitrary YAML-ish text', () => {
    fc.assert(
      fc.property(fc.oneof(yamlish, hostileString(200)), (text) => {
        expectConfigResult(parseConfigText(text));
      }),
      { numRuns: 800 },
    );
  });

  it('returns issues, not an exception, for pathological nesting and aliases', () => {
    const texts = [
      '['.repeat(10_000),
      '{a: '.repeat(5_000),
      '- '.repeat(10_000) + 'x',
      `a: &a [x]\n${Array.from({ length: 50 }, (_, i) => `b${i}: &b${i} [${i === 0 ? '*a' : `*b${i - 1}`}, ${i === 0 ? '*a' : `*b${i - 1}`}]`).join('\n')}`,
      '*missing',
    ];
    for (const text of texts) {
      const r = parseConfigText(text);
      expectConfigResult(r);
      expect(r.ok).toBe(false);
    }
  });

  // yaml's toJS builds a circular structure for a self-referential anchor, on which validation
  // would never end (`a: &a [*a, *a, ...]` blocked the event loop for minutes); a recursive alias
  // can never be a valid config, so it is reported before validation.
  it('reports a self-referential YAML alias as a (yaml) issue', () => {
    for (const text of ['trustDomains: &a [prod.example.org, *a]', 'routes: &r [*r, *r]', 'a: &a {b: [*a]}']) {
      const r = parseConfigText(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.issues.map((i) => i.path)).toContain('(yaml)');
    }
  });
});

describe('buildSnapshot', () => {
  it('reports a "__proto__" key under allow instead of dropping it', () => {
    const r = buildSnapshot('{"trustDomains": ["prod.example.org"], "routes": [{"name": "r", "allow": {"__proto__": ["**"]}}]}', 'fuzz', 0);
    expect(r.ok ? [] : r.issues).toEqual([{ path: 'routes[0].allow.__proto__', message: 'the key "__proto__" is not allowed' }]);
  });

  it('returns a ConfigResult for mutated valid configs', () => {
    fc.assert(
      fc.property(mutationOf(VALID_CONFIGS, 5), (text) => {
        expectConfigResult(buildSnapshot(text, 'fuzz', 0));
      }),
      { numRuns: 800 },
    );
  });

  // A "__proto__" key would be dropped silently by plain-object records, so it is refused outright;
  // every other key that is not a configured trust domain is reported as such.
  it('reports every allow/deny key that is not a configured trust domain, inherited Object names included', () => {
    const names = ['prod.example.org', '__proto__', 'constructor', 'prototype', 'tostring'] as const;
    const keys = [...names, 'toString', 'hasOwnProperty', '__defineGetter__', 'other.example'] as const;
    fc.assert(
      fc.property(
        fc.subarray([...names], { minLength: 1 }),
        fc.constantFrom(...keys),
        fc.constantFrom('allow', 'deny'),
        (trustDomains, key, list) => {
          // JSON is YAML; written by hand so that "__proto__" is a plain key of the text.
          const text = `{"trustDomains": ${JSON.stringify(trustDomains)}, "routes": [{"name": "r", "match": {}, "${list}": {"${key}": ["**"]}}]}`;
          const r = buildSnapshot(text, 'fuzz', 0);
          if (key !== '__proto__' && (trustDomains as readonly string[]).includes(key)) {
            expect(r.ok).toBe(true);
            if (r.ok) expect([...(r.value.routes[0]?.rules.keys() ?? [])]).toEqual([key]);
          } else {
            expect(r.ok).toBe(false);
            if (!r.ok) expect(r.issues.map((i) => i.path)).toContain(formatKeyPath(['routes', 0, list, key]));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
