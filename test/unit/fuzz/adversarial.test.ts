// Large adversarial inputs through the whole Check (handleCheck) and the parsers: each must come back
// denied with the right reason. With the request limits raised, each source's own limit answers
// (XFCC_TOO_LARGE, JWT_TOO_LARGE, CERT_MALFORMED) and inputs within a limit are parsed to the end;
// with the default request limits, oversized requests stop at REQUEST_TOO_LARGE before any parsing. These assert results,
// not timings (timing belongs to the benchmarks); the scans under test are single left-to-right passes.
import { X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/admin/metrics.js';
import type { AuthorizeDeps } from '../../../src/authz/authorize.js';
import type { Reason } from '../../../src/authz/reasons.js';
import type { ConfigSnapshot } from '../../../src/config/compile.js';
import { buildSnapshot } from '../../../src/config/load.js';
import { ConfigStore } from '../../../src/config/store.js';
import { handleCheck, type CheckHandlerDeps, type CheckOutcome } from '../../../src/grpc/check-handler.js';
import type { WireCheckRequest } from '../../../src/grpc/wire.js';
import { extractBearer, verifyJwtSvid, type VerifiedJwtSvid } from '../../../src/identity/jwt-svid.js';
import { ResultCache } from '../../../src/identity/svid-cache.js';
import { decodeEnvoyCertificate } from '../../../src/identity/x509-svid.js';
import { parseXfcc } from '../../../src/identity/xfcc.js';
import { normalizePath } from '../../../src/policy/normalize-path.js';
import { parseSpiffeId } from '../../../src/spiffe/spiffe-id.js';
import { parseCertificates } from '../../../src/trust/pem.js';
import { configSetting } from '../../../src/rollout/rollout-state.js';
import { RolloutStats } from '../../../src/rollout/window-counters.js';
import type { BundleLookup, TrustBundle } from '../../../src/trust/types.js';
import { FIXTURE_AUDIENCE, createJwtIssuer } from '../../fixtures/jwt-issuer.js';
import { createTestCa, envoyUrlEncode, type IssuedSvid } from '../../fixtures/test-ca.js';
import { expectCheckResponse } from './support.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const PROD = 'prod.example.org';
const WEB = `spiffe://${PROD}/ns/checkout/sa/web`;
const KB = 1024;
const MB = 1024 * 1024;

/** Request limits raised to their maxima, so that each source's own limit is what is reached. */
const RAISED_LIMITS = 'limits: { maxHeaderBytes: 67108864, maxHeaderCount: 100000, maxPathBytes: 1048576 }';

const config = (xfccLimits: string, requestLimits: string): string => `
identity:
  sources: [principal, certificate, xfcc, jwt]
  xfcc: { trusted: true${xfccLimits} }
  jwt: { audiences: [${FIXTURE_AUDIENCE}] }
defaults: { mode: enforce, unmatchedRoute: deny }
trustDomains: [${PROD}]
${requestLimits}
routes:
  - name: orders
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
  - name: public
    match: { paths: ["/public/**"] }
    allow: { ${PROD}: ["**"] }
  - name: admin
    match: { paths: ["/admin/**"] }
    allow: { ${PROD}: ["/ns/ops/sa/admin"] }
`;

let bundles: BundleLookup;
let svid: IssuedSvid;
/** Default source limits (XFCC 16 KiB, JWT 8 KiB, certificate 64 KiB), request limits raised. */
let withDefaults: { deps: CheckHandlerDeps; snapshot: ConfigSnapshot };
/** XFCC limits at their maxima (1 MiB, 256 elements), request limits raised. */
let withMaxXfcc: { deps: CheckHandlerDeps; snapshot: ConfigSnapshot };
/** Every limit at its default, request limits included. */
let stock: { deps: CheckHandlerDeps; snapshot: ConfigSnapshot };
let adeps: AuthorizeDeps;

function handlerDeps(yaml: string): { deps: CheckHandlerDeps; snapshot: ConfigSnapshot } {
  const built = buildSnapshot(yaml, 'adversarial', NOW);
  if (!built.ok) throw new Error(JSON.stringify(built.issues));
  const deps: CheckHandlerDeps = {
    store: new ConfigStore(built.value),
    logger: pino({ level: 'silent' }),
    metrics: createMetrics({ defaultMetrics: false }),
    stats: new RolloutStats(),
  };
  return { deps, snapshot: built.value };
}

beforeAll(async () => {
  const ca = await createTestCa({ trustDomain: PROD, now: new Date(NOW) });
  const issuer = await createJwtIssuer({ trustDomain: PROD, kid: 'k1', now: NOW });
  svid = await ca.issueSvid({ spiffeId: WEB });
  const bundle: TrustBundle = {
    trustDomain: PROD,
    x509Authorities: [new X509Certificate(ca.certPem)],
    jwtAuthorities: new Map([[issuer.kid, issuer.authority()]]),
    sequence: undefined,
  };
  bundles = (td) => (td === PROD ? bundle : undefined);
  withDefaults = handlerDeps(config('', RAISED_LIMITS));
  withMaxXfcc = handlerDeps(config(', maxBytes: 1048576, maxElements: 256', RAISED_LIMITS));
  stock = handlerDeps(config('', ''));
  adeps = { newDecisionId: () => 'adv', settingOf: configSetting, identity: () => ({ now: NOW, bundles }) };
});

interface Spec {
  principal?: string;
  certificate?: string;
  path?: string;
  headers?: Record<string, string>;
  route?: string;
}

function request(spec: Spec): WireCheckRequest {
  const path = spec.path ?? '/v1/orders';
  return {
    attributes: {
      source: { principal: spec.principal ?? '', certificate: spec.certificate ?? '' },
      request: { http: { method: 'GET', path, host: 'orders.internal', headers: { ':path': path, ...spec.headers } } },
      ...(spec.route !== undefined ? { context_extensions: { route: spec.route } } : {}),
    },
  };
}

/** Runs one Check on the route "orders" (unless the spec routes by path) and checks the response shape. */
async function decide(spec: Spec, on = withDefaults): Promise<{ reason: Reason; route: string; outcome: CheckOutcome }> {
  const outcome = await handleCheck(request(spec), on.deps, adeps);
  const reason = expectCheckResponse(outcome.response, outcome.verdict);
  return { reason, route: outcome.verdict.route, outcome };
}

describe('XFCC', () => {
  const hostile: [string, string][] = [
    ['100 KB of quotes', '"'.repeat(100 * KB)],
    ['100 KB of backslashes', '\\'.repeat(100 * KB)],
    ['100 KB of commas', ','.repeat(100 * KB)],
    ['100 KB of \\" escapes in a quoted URI', `URI="${'\\"'.repeat(50 * KB)}`],
    ['100 KB of ";" runs', `URI=${WEB}${';'.repeat(100 * KB)}`],
    ['9,000 elements', `By=x;URI=${WEB},`.repeat(9000)],
  ];

  it.each(hostile)('denies %s over the default 16 KiB limit with XFCC_TOO_LARGE', async (_what, xfcc) => {
    expect((await decide({ route: 'orders', headers: { 'x-forwarded-client-cert': xfcc } })).reason).toBe('XFCC_TOO_LARGE');
  });

  it.each([
    ['100 KB of quotes', 'XFCC_MALFORMED', '"'.repeat(100 * KB)],
    ['100 KB of commas', 'XFCC_MALFORMED', ','.repeat(100 * KB)],
    ['an unterminated quoted URI of 100 KB of \\" escapes', 'XFCC_MALFORMED', `URI="${'\\"'.repeat(50 * KB)}`],
    ['a quoted URI of 100 KB of escaped backslashes', 'XFCC_INVALID_SPIFFE_ID', `URI="${'\\\\'.repeat(50 * KB)}"`],
    ['257 elements', 'XFCC_TOO_LARGE', `By=x;URI=${WEB},`.repeat(256) + `URI=${WEB}`],
    ['alternating quotes and commas', 'XFCC_MALFORMED', '",'.repeat(50 * KB)],
    ['a header of 1 MiB and more', 'XFCC_TOO_LARGE', `URI=${WEB};` + 'a=b;'.repeat(MB / 4)],
  ] as const)('parses %s within a 1 MiB limit to the end with %s', async (_what, reason, xfcc) => {
    expect((await decide({ route: 'orders', headers: { 'x-forwarded-client-cert': xfcc } }, withMaxXfcc)).reason).toBe(reason);
  });

  it('reads the identity after ~1 MB of empty ";" pairs with ALLOWED', async () => {
    const xfcc = ';'.repeat(MB - 200) + `URI=${WEB}`;
    expect(parseXfcc(xfcc, { maxBytes: MB }).ok).toBe(true);
    const { reason, outcome } = await decide({ route: 'orders', headers: { 'x-forwarded-client-cert': xfcc } }, withMaxXfcc);
    expect(reason).toBe('ALLOWED');
    expect(outcome.verdict.identity?.spiffeId).toBe(WEB);
  });
});

describe('SPIFFE IDs', () => {
  const base = `spiffe://${PROD}/ns/checkout/sa/`;

  it('allows a principal of exactly 2048 bytes with ALLOWED', async () => {
    const id = base + 'w'.repeat(2048 - base.length);
    expect(id.length).toBe(2048);
    expect((await decide({ route: 'orders', principal: id })).reason).toBe('ALLOWED');
  });

  it.each([
    ['2049 bytes', 'TOO_LONG', base + 'w'.repeat(2049 - base.length)],
    ['1 MB', 'TOO_LONG', base + 'w'.repeat(MB)],
    ['a 256-byte trust domain', 'TRUST_DOMAIN_TOO_LONG', `spiffe://${'a'.repeat(256)}/ns/x`],
    ['2 KB of "/" segments', 'TRAILING_SLASH', `spiffe://${PROD}${'/a'.repeat(1000)}/`],
    ['2 KB of dot segments', 'DOT_SEGMENT', `spiffe://${PROD}${'/..'.repeat(600)}`],
    ['2 KB of %2e', 'BAD_PATH_CHAR', `spiffe://${PROD}/${'%2e'.repeat(600)}`],
  ] as const)('denies a principal of %s with PRINCIPAL_INVALID (%s)', async (_what, code, id) => {
    const parsed = parseSpiffeId(id);
    expect(parsed.ok ? 'ok' : parsed.error.code).toBe(code);
    const { reason, outcome } = await decide({ route: 'orders', principal: id });
    expect(reason).toBe('PRINCIPAL_INVALID');
    expect(outcome.response.status.code).toBe(16);
  });
});

describe('request paths', () => {
  it.each([
    ['10,000 segments under /admin', `/admin/${'a/'.repeat(10_000)}x`, '/admin/' + 'a/'.repeat(10_000) + 'x'],
    ['"%2e%2e/" repeated 10,000 times', `/public/${'%2e%2e/'.repeat(10_000)}admin/x`, '/admin/x'],
    ['"../" repeated 10,000 times', `/public/${'../'.repeat(10_000)}admin/x`, '/admin/x'],
    ['10,000 segments climbed back out', `/public/${'a/'.repeat(10_000)}${'../'.repeat(10_001)}admin/x`, '/admin/x'],
    ['"%2F..%2F" repeated 10,000 times', `/public${'%2F..%2F'.repeat(10_000)}admin/x`, '/admin/x'],
    ['backslash runs', `/public${'\\..\\'.repeat(10_000)}admin/x`, '/admin/x'],
    ['a 1 MB query that names /public', `/admin/x?${'/public/'.repeat(MB / 8)}`, '/admin/x'],
  ])('routes %s to the admin route and denies with NO_MATCHING_RULE', async (_what, path, normalized) => {
    const { reason, route } = await decide({ path, principal: WEB });
    expect(normalizePath(path.split('?')[0] as string)).toBe(normalized);
    expect(route).toBe('admin');
    expect(reason).toBe('NO_MATCHING_RULE');
  });

  it('sends a 100,000-segment path outside every route to _unmatched with NO_ROUTE', async () => {
    const { reason, route } = await decide({ path: `/${'x/'.repeat(100_000)}`, principal: WEB });
    expect(route).toBe('_unmatched');
    expect(reason).toBe('NO_ROUTE');
  });
});

describe('authorization header', () => {
  it.each([
    ['a 1 MB bearer token', 'JWT_TOO_LARGE', `Bearer ${'a'.repeat(MB)}`],
    ['a 1 MB token of dots', 'JWT_TOO_LARGE', `Bearer ${'a.'.repeat(MB / 2)}a`],
    ['1 MB of merged "Bearer x," credentials', 'JWT_MALFORMED', 'Bearer x,'.repeat(MB / 9)],
    ['1 MB of spaces before a malformed token', 'JWT_MALFORMED', `${' '.repeat(MB)}Bearer abc.def.ghi`],
    ['a bearer token followed by 1 MB of "="', 'JWT_TOO_LARGE', `Bearer abc${'='.repeat(MB)}`],
    ['1 MB of a character outside b64token', 'JWT_MALFORMED', `Bearer a${'!'.repeat(MB)}`],
  ])('denies %s with %s', async (_what, reason, authorization) => {
    const r = await decide({ route: 'orders', headers: { authorization } });
    expect(r.reason).toBe(reason);
    expect(r.outcome.response.status.code).toBe(16);
  });

  it('denies an oversized token with JWT_TOO_LARGE even with a valid principal', async () => {
    expect((await decide({ route: 'orders', principal: WEB, headers: { authorization: `Bearer ${'a'.repeat(MB)}` } })).reason).toBe('JWT_TOO_LARGE');
  });

  it('checks the size before anything else with JWT_TOO_LARGE', async () => {
    const token = 'a'.repeat(8193);
    const bearer = extractBearer(`Bearer ${token}`);
    expect(bearer).toEqual({ ok: true, value: token });
    const r = await verifyJwtSvid(token, { now: NOW, audiences: [FIXTURE_AUDIENCE], skewSeconds: 30, bundles });
    expect(r.ok ? 'ok' : r.error.code).toBe('JWT_TOO_LARGE');
  });
});

describe('peer certificate', () => {
  it.each([
    ['200,000 characters of encoded text', 'A'.repeat(200_000), 'encoded certificate is longer'],
    ['a 70 KB PEM body', envoyUrlEncode(`-----BEGIN CERTIFICATE-----\n${'QUFB'.repeat(18_000)}\n-----END CERTIFICATE-----\n`), 'PEM is larger'],
    ['the leaf repeated 9 times', '', 'more than 1 certificates'],
    ['1 MB of "%"', '%'.repeat(MB), 'encoded certificate is longer'],
    ['2,000 BEGIN lines', envoyUrlEncode('-----BEGIN CERTIFICATE-----\n'.repeat(2000)), 'unexpected PEM line'],
  ])('denies %s with CERT_MALFORMED', async (_what, encoded, detail) => {
    const certificate = encoded === '' ? envoyUrlEncode(svid.certPem.repeat(9)) : encoded;
    const { reason, outcome } = await decide({ route: 'orders', certificate });
    expect(reason).toBe('CERT_MALFORMED');
    expect(outcome.verdict.detail).toContain(detail);
  });

  it('limits parseCertificates to maxCerts and maxBytes with CERT_MALFORMED', () => {
    const decoded = decodeEnvoyCertificate(envoyUrlEncode(svid.certPem.repeat(9)));
    expect(decoded.ok).toBe(true);
    const all = parseCertificates(decoded.ok ? decoded.value : '');
    expect(all.ok ? 'ok' : all.error.detail).toBe('more than 8 certificates');
    const big = parseCertificates(`${svid.certPem}${' '.repeat(70 * KB)}`);
    expect(big.ok ? 'ok' : big.error.detail).toBe('PEM is larger than 65536 bytes');
  });
});

describe('request limits (defaults)', () => {
  it.each([
    ['a 100 KB XFCC header', { headers: { 'x-forwarded-client-cert': '"'.repeat(100 * KB) } }],
    ['a 1 MB authorization header', { headers: { authorization: `Bearer ${'a'.repeat(MB)}` } }],
    ['201 headers', { headers: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`x-h${i}`, 'v'])) }],
    ['a 20 KB path', { path: `/admin/${'a/'.repeat(10_000)}x` }],
  ] as const)('denies %s before parsing any identity with REQUEST_TOO_LARGE, even with a valid principal', async (_what, spec) => {
    const { reason, outcome } = await decide({ route: 'orders', principal: WEB, ...spec }, stock);
    expect(reason).toBe('REQUEST_TOO_LARGE');
    expect(outcome.verdict.identity).toBeUndefined();
    expect(outcome.response.status.code).toBe(7);
    expect(outcome.response.denied_response?.status.code).toBe(431);
  });

  it('never matches an oversized path against the routes: _unmatched with REQUEST_TOO_LARGE', async () => {
    const { reason, route } = await decide({ path: `/public/${'a/'.repeat(10_000)}x`, principal: WEB }, stock);
    expect(route).toBe('_unmatched');
    expect(reason).toBe('REQUEST_TOO_LARGE');
  });

  it('still reads a 1 MB principal (not a header) and denies with PRINCIPAL_INVALID', async () => {
    expect((await decide({ route: 'orders', principal: `spiffe://${PROD}/${'a'.repeat(MB)}` }, stock)).reason).toBe('PRINCIPAL_INVALID');
  });
});

describe('handleCheck JWT cache', () => {
  // Regression (threat model F3): the JWT result cache is keyed by the raw token, so keeping
  // JWT_TOO_LARGE failures let ~64 KiB tokens pin ~640 MB under an entry-count bound.
  it('does not keep an oversized bearer token in the verification cache (JWT_TOO_LARGE)', async () => {
    const jwtCache = new ResultCache<VerifiedJwtSvid, Reason>(100);
    const withCache: AuthorizeDeps = { ...adeps, identity: () => ({ now: NOW, bundles, jwtCache }) };
    const outcome = await handleCheck(request({ route: 'orders', headers: { authorization: `Bearer ${'a'.repeat(60 * KB)}` } }), stock.deps, withCache);
    expect(outcome.verdict.reason).toBe('JWT_TOO_LARGE');
    expect(jwtCache.size).toBe(0);
  });
});
