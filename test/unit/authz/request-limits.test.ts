// Request size limits (config `limits`) through authorize(): each limit at its boundary and one past
// it, the route and mode an oversized request is decided under, and the byte counting against a
// reference model.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authorize as authorizeMaybeAsync, type AuthorizeDeps } from '../../../src/authz/authorize.js';
import { checkRequestLimits } from '../../../src/authz/request-limits.js';
import type { CheckInput, Verdict } from '../../../src/authz/types.js';
import type { ConfigSnapshot } from '../../../src/config/compile.js';
import { buildSnapshot } from '../../../src/config/load.js';
import { configSetting } from '../../../src/rollout/rollout-state.js';

const PROD = 'prod.example.org';
const GOOD = `spiffe://${PROD}/ns/checkout/sa/web`;

function snapshotOf(limits: string, mode = 'enforce'): ConfigSnapshot {
  const yaml = `
trustDomains: [${PROD}]
defaults: { mode: shadow, unmatchedRoute: allow }
limits: ${limits}
routes:
  - name: orders
    mode: ${mode}
    match: { paths: ["/v1/orders/**"] }
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
`;
  const r = buildSnapshot(yaml, 'test', 0);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

const DEPS: AuthorizeDeps = {
  newDecisionId: () => 'dec-1',
  settingOf: configSetting,
  identity: () => ({ now: Date.UTC(2026, 0, 1), bundles: () => undefined }),
};

function authorize(snapshot: ConfigSnapshot, over: Partial<CheckInput>): Verdict {
  const input: CheckInput = {
    requestId: 'r',
    host: 'orders.internal',
    method: 'POST',
    path: '/v1/orders/1',
    headers: {},
    principal: GOOD,
    certificate: '',
    routeName: undefined,
    ...over,
  };
  const v = authorizeMaybeAsync(snapshot, input, DEPS);
  if (v instanceof Promise) throw new Error('went asynchronous');
  return v;
}

/** `n` headers of one byte name and one byte value each ("a": "x", ...), 2n bytes. */
function manyHeaders(n: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[`h${i}`] = 'x';
  return out;
}

describe('authorize with limits', () => {
  it('decides a request with exactly maxHeaderCount headers as usual, one more with REQUEST_TOO_LARGE', () => {
    const s = snapshotOf('{ maxHeaderCount: 10 }');
    expect(authorize(s, { headers: manyHeaders(10) }).reason).toBe('ALLOWED');
    expect(authorize(s, { headers: manyHeaders(11) })).toMatchObject({
      route: 'orders',
      decision: 'deny',
      effect: 'deny',
      reason: 'REQUEST_TOO_LARGE',
      detail: '11 headers; limits.maxHeaderCount is 10',
      identity: undefined,
    });
  });

  it('counts header names and values in UTF-8 bytes against maxHeaderBytes with REQUEST_TOO_LARGE', () => {
    const s = snapshotOf('{ maxHeaderBytes: 1024 }');
    // "x-pad" (5 bytes) + 1019 bytes of value = 1024 bytes.
    expect(authorize(s, { headers: { 'x-pad': 'a'.repeat(1019) } }).reason).toBe('ALLOWED');
    expect(authorize(s, { headers: { 'x-pad': 'a'.repeat(1020) } })).toMatchObject({
      reason: 'REQUEST_TOO_LARGE',
      detail: '1025 bytes of headers; limits.maxHeaderBytes is 1024',
    });
    // 510 two-byte characters: 510 UTF-16 units, 1020 bytes, 1025 with the name.
    expect(authorize(s, { headers: { 'x-pad': 'é'.repeat(510) } }).reason).toBe('REQUEST_TOO_LARGE');
    expect(authorize(s, { headers: { 'x-pad': 'é'.repeat(509) } }).reason).toBe('ALLOWED');
  });

  it('denies a path over maxPathBytes with REQUEST_TOO_LARGE, without matching it by path', () => {
    const s = snapshotOf('{ maxPathBytes: 256 }');
    const at = '/v1/orders/' + 'a'.repeat(256 - 11);
    expect(at).toHaveLength(256);
    expect(authorize(s, { path: at })).toMatchObject({ route: 'orders', reason: 'ALLOWED' });
    // Unnamed: not matched by path, so it is decided on _unmatched (whose fixed decision is allow).
    expect(authorize(s, { path: at + 'a' })).toMatchObject({
      route: '_unmatched',
      mode: 'shadow',
      decision: 'deny',
      effect: 'allow',
      reason: 'REQUEST_TOO_LARGE',
      detail: 'a path of 257 bytes; limits.maxPathBytes is 256',
    });
    // Named by Envoy: decided on that route, under its mode.
    expect(authorize(s, { path: at + 'a', routeName: 'orders' })).toMatchObject({ route: 'orders', effect: 'deny', reason: 'REQUEST_TOO_LARGE' });
  });

  it('decides before identity: a malformed principal does not change the reason REQUEST_TOO_LARGE', () => {
    const s = snapshotOf('{ maxHeaderCount: 1 }');
    expect(authorize(s, { principal: 'CN=not-spiffe', headers: manyHeaders(2) }).reason).toBe('REQUEST_TOO_LARGE');
    expect(authorize(s, { principal: 'CN=not-spiffe', headers: manyHeaders(1) }).reason).toBe('PRINCIPAL_INVALID');
  });

  it.each([
    ['shadow', 'allow'],
    ['warn', 'warn'],
    ['enforce', 'deny'],
  ] as const)('applies the route mode %s to REQUEST_TOO_LARGE: effect %s', (mode, effect) => {
    const s = snapshotOf('{ maxHeaderCount: 1 }', mode);
    expect(authorize(s, { headers: manyHeaders(2) })).toMatchObject({ mode, decision: 'deny', effect, reason: 'REQUEST_TOO_LARGE' });
  });

  it('has defaults of 64 KiB of headers, 200 headers and 8 KiB of path', () => {
    const s = snapshotOf('{}');
    expect(s.config.limits).toEqual({ maxRequestBytes: 1_048_576, maxHeaderBytes: 65_536, maxHeaderCount: 200, maxPathBytes: 8192 });
    expect(authorize(s, { headers: manyHeaders(200) }).reason).toBe('ALLOWED');
    expect(authorize(s, { headers: manyHeaders(201) }).reason).toBe('REQUEST_TOO_LARGE');
    expect(authorize(s, { headers: { big: 'x'.repeat(65_536 - 3) } }).reason).toBe('ALLOWED');
    expect(authorize(s, { headers: { big: 'x'.repeat(65_536 - 2) } }).reason).toBe('REQUEST_TOO_LARGE');
    expect(authorize(s, { path: '/v1/orders/' + 'p'.repeat(8192 - 11) }).reason).toBe('ALLOWED');
    expect(authorize(s, { path: '/v1/orders/' + 'p'.repeat(8192 - 10) }).reason).toBe('REQUEST_TOO_LARGE');
  });
});

describe('checkRequestLimits', () => {
  it('agrees with a plain UTF-8 byte count for any headers and path', () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    fc.assert(
      fc.property(fc.dictionary(text, text, { maxKeys: 12 }), text, fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 12 }), (headers, path, maxBytes, maxCount) => {
        const limits = { maxHeaderBytes: maxBytes, maxHeaderCount: maxCount, maxPathBytes: Math.max(1, Math.floor(maxBytes / 4)) };
        const entries = Object.entries(headers);
        const bytes = entries.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
        const expected =
          entries.length > limits.maxHeaderCount
            ? 'maxHeaderCount'
            : bytes > limits.maxHeaderBytes
              ? 'maxHeaderBytes'
              : Buffer.byteLength(path) > limits.maxPathBytes
                ? 'maxPathBytes'
                : undefined;
        const input: CheckInput = { requestId: '', host: '', method: '', path, headers, principal: '', certificate: '', routeName: undefined };
        expect(checkRequestLimits(input, limits)?.limit).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
