// Fuzzing the whole Check handler (handleCheck: fromEnvoy → authorize → toEnvoy) with arbitrary
// CheckRequests: no exception escapes, every call answers with a well-formed CheckResponse and never
// INTERNAL_ERROR; and an identity source that is present but malformed always denies with a specific
// identity reason of that source (never ALLOWED, never INTERNAL_ERROR, never plain UNAUTHENTICATED).
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
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
import { identityFromPrincipal, identityFromXfcc, readXfcc } from '../../../src/identity/sources.js';
import { ResultCache } from '../../../src/identity/svid-cache.js';
import { decodeEnvoyCertificate, verifyX509Svid, type VerifiedX509Svid } from '../../../src/identity/x509-svid.js';
import { configSetting } from '../../../src/rollout/rollout-state.js';
import { RolloutStats } from '../../../src/rollout/window-counters.js';
import type { BundleLookup, TrustBundle } from '../../../src/trust/types.js';
import { FIXTURE_AUDIENCE, createJwtIssuer, hs256Token, unsignedToken, type JwtIssuer } from '../../fixtures/jwt-issuer.js';
import { createTestCa, type TestCa } from '../../fixtures/test-ca.js';
import { expectCheckResponse, hostileString, isSpecificIdentityReason, mutationOf } from './support.js';
import { wireRequest, type Seeds } from './wire-arbitraries.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const PROD = 'prod.example.org';
const WEB = `spiffe://${PROD}/ns/checkout/sa/web`;
const XFCC_LIMITS = { maxBytes: 4096, maxElements: 4 };
const JWT_MAX_BYTES = 4096;

const CONFIG = `
identity:
  sources: [principal, certificate, xfcc, jwt]
  xfcc: { trusted: true, maxBytes: ${XFCC_LIMITS.maxBytes}, maxElements: ${XFCC_LIMITS.maxElements} }
  jwt: { audiences: [${FIXTURE_AUDIENCE}], maxBytes: ${JWT_MAX_BYTES} }
  cache: { maxEntries: 1000 }
defaults: { mode: enforce, unmatchedRoute: deny }
trustDomains: [${PROD}, partner.example.com]
routes:
  - name: by-name
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
  - name: jwt-required
    identity: { sources: [principal, jwt], requireJwtSvid: true }
    allow: { ${PROD}: ["**"] }
  - name: warn-route
    mode: warn
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
  - name: shadow-route
    mode: shadow
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
  - name: partial
    enforcePercent: 50
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
  - name: admin
    match: { paths: ["/admin/**"] }
    allow: { ${PROD}: ["/ns/ops/sa/admin"] }
  - name: public
    match: { paths: ["/public/**"], methods: [GET, POST] }
    allow: { ${PROD}: ["**"] }
  - name: by-host
    match: { hosts: ["orders.internal", "*.orders.internal"] }
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
`;

let snapshot: ConfigSnapshot;
let deps: CheckHandlerDeps;
let adeps: AuthorizeDeps;
let bundles: BundleLookup;
let ca: TestCa;
let issuer: JwtIssuer;
let seeds: Seeds;

beforeAll(async () => {
  const built = buildSnapshot(CONFIG, 'fuzz', NOW);
  if (!built.ok) throw new Error(JSON.stringify(built.issues));
  snapshot = built.value;
  ca = await createTestCa({ trustDomain: PROD, now: new Date(NOW) });
  const partnerCa = await createTestCa({ trustDomain: 'partner.example.com', now: new Date(NOW) });
  issuer = await createJwtIssuer({ trustDomain: PROD, kid: 'k1', now: NOW });
  const prodBundle: TrustBundle = {
    trustDomain: PROD,
    x509Authorities: [new X509Certificate(ca.certPem)],
    jwtAuthorities: new Map([[issuer.kid, issuer.authority()]]),
    sequence: undefined,
  };
  bundles = (td) => (td === PROD ? prodBundle : undefined);
  const certCache = new ResultCache<VerifiedX509Svid, Reason>(1000);
  const jwtCache = new ResultCache<VerifiedJwtSvid, Reason>(1000);
  deps = {
    store: new ConfigStore(snapshot),
    logger: pino({ level: 'silent' }),
    metrics: createMetrics({ defaultMetrics: false }),
    stats: new RolloutStats(),
  };
  let n = 0;
  adeps = {
    newDecisionId: () => `fuzz-${++n}`,
    settingOf: configSetting,
    identity: () => ({ now: NOW, bundles, certCache, jwtCache }),
  };
  const leaves = await Promise.all([
    ca.issueSvid({ spiffeId: WEB }),
    ca.issueSvid({ uris: [WEB, `spiffe://${PROD}/ns/a/sa/b`] }),
    ca.issueSvid({ spiffeId: `spiffe://${PROD}/ns/ops/sa/admin`, isCa: true }),
    partnerCa.issueSvid({ spiffeId: WEB }),
    ca.issueSvid({ spiffeId: WEB, notAfter: new Date(NOW - 1000) }),
  ]);
  const exp = Math.floor(NOW / 1000) + 60;
  seeds = {
    ids: [WEB, `spiffe://${PROD}/ns/ops/sa/admin`, `spiffe://${PROD}`, 'spiffe://partner.example.com/billing/api', 'spiffe://evil.example/x'],
    xfccs: [
      `By=spiffe://${PROD}/ns/edge/sa/gw;Hash=ab;Subject="CN=a,O=b";URI=${WEB}`,
      `URI=spiffe://${PROD}/ns/ops/sa/admin,By=x;URI=${WEB}`,
      `By=x;Cert="${leaves[0]!.envoyEncoded}";URI=${WEB}`,
    ],
    certs: leaves.map((l) => l.envoyEncoded),
    tokens: [
      await issuer.sign({ sub: WEB }),
      await issuer.sign({ sub: WEB }, { kid: 'nope' }),
      unsignedToken({}, { sub: WEB, aud: FIXTURE_AUDIENCE, exp }),
      hs256Token('k', { sub: WEB, aud: FIXTURE_AUDIENCE, exp }, { kid: issuer.kid }),
    ],
    routes: ['by-name', 'jwt-required', 'warn-route', 'shadow-route', 'partial', 'admin', 'public', 'by-host', '_unmatched', ''],
  };
});

async function check(req: WireCheckRequest): Promise<CheckOutcome> {
  return handleCheck(req, deps, adeps);
}

describe('handleCheck', () => {
  it('answers every arbitrary CheckRequest with a well-formed CheckResponse and never INTERNAL_ERROR', async () => {
    await fc.assert(
      fc.asyncProperty(wireRequest(seeds), async (req) => {
        const outcome = await check(req);
        const reason = expectCheckResponse(outcome.response, outcome.verdict);
        expect(reason).not.toBe('INTERNAL_ERROR');
      }),
      { numRuns: 600 },
    );
  });

  it('answers requests with holes at every level (no attributes, no http, empty maps)', async () => {
    const holes: WireCheckRequest[] = [
      {},
      { attributes: {} },
      { attributes: { source: {}, request: {} } },
      { attributes: { request: { http: {} } } },
      { attributes: { request: { http: { headers: {}, header_map: { headers: [] } } } } },
      { attributes: { request: { http: { header_map: { headers: [{}, { key: 'authorization' }, { raw_value: new Uint8Array([0xff, 0xfe]) }] } } } } },
      { attributes: { context_extensions: {} } },
      { attributes: { context_extensions: { route: '' } } },
    ];
    for (const req of holes) {
      const outcome = await check(req);
      expect(expectCheckResponse(outcome.response, outcome.verdict)).not.toBe('INTERNAL_ERROR');
      // No caller identity anywhere: never allowed.
      expect(outcome.verdict.decision).toBe('deny');
    }
  });

  // One present-but-malformed identity source per request, on an enforce route; the oracle skips
  // the rare mutation that is still a valid identity.
  type Malformed = { source: 'principal' | 'certificate' | 'xfcc' | 'jwt'; value: string };
  const expectedFor = (m: Malformed, reason: Reason): boolean => {
    switch (m.source) {
      case 'principal':
        return reason === 'PRINCIPAL_INVALID';
      case 'certificate':
        return reason.startsWith('CERT_') || reason === 'BUNDLE_UNAVAILABLE';
      case 'xfcc':
        return reason.startsWith('XFCC_') || (/cert=/i.test(m.value) && (reason.startsWith('CERT_') || reason === 'IDENTITY_CONFLICT'));
      case 'jwt':
        return reason.startsWith('JWT_') || reason === 'BUNDLE_UNAVAILABLE';
    }
  };

  async function isValidIdentity(m: Malformed): Promise<boolean> {
    switch (m.source) {
      case 'principal':
        return identityFromPrincipal(m.value).ok;
      case 'certificate': {
        const pem = decodeEnvoyCertificate(m.value);
        return pem.ok && verifyX509Svid(pem.value, { now: NOW, bundles, requireBundle: false }).ok;
      }
      case 'xfcc': {
        const x = readXfcc(m.value, XFCC_LIMITS);
        if (x.kind !== 'elements') return false;
        const id = identityFromXfcc(x.last, []);
        if (!id.ok) return false;
        if (x.last.Cert === undefined || x.last.Cert === '') return true;
        const pem = decodeEnvoyCertificate(x.last.Cert);
        const chain = x.last.Chain === undefined || x.last.Chain === '' ? undefined : decodeEnvoyCertificate(x.last.Chain);
        if (!pem.ok || (chain !== undefined && !chain.ok)) return false;
        const cert = verifyX509Svid(pem.value, { now: NOW, bundles, requireBundle: false, ...(chain?.ok ? { intermediatesPem: chain.value } : {}) });
        return cert.ok && cert.value.spiffeId === id.value.spiffeId;
      }
      case 'jwt': {
        const b = extractBearer(m.value);
        if (!b.ok || b.value === undefined) return false;
        const r = await verifyJwtSvid(b.value, { now: NOW, audiences: [FIXTURE_AUDIENCE], skewSeconds: 30, bundles, maxTokenBytes: JWT_MAX_BYTES });
        return r.ok;
      }
    }
  }

  /** True when the input counts as present for its source (else the property does not apply). */
  function isPresent(m: Malformed): boolean {
    switch (m.source) {
      case 'principal':
      case 'certificate':
        return m.value !== '';
      case 'xfcc':
        return readXfcc(m.value, XFCC_LIMITS).kind !== 'absent';
      case 'jwt': {
        const b = extractBearer(m.value);
        return !b.ok || b.value !== undefined;
      }
    }
  }

  it('denies a present but malformed identity source with that source’s specific reason', async () => {
    const malformed: fc.Arbitrary<Malformed> = fc.oneof(
      fc.oneof(hostileString(100), mutationOf(seeds.ids, 4)).map((value) => ({ source: 'principal' as const, value })),
      fc.oneof(hostileString(100), mutationOf(seeds.certs, 4)).map((value) => ({ source: 'certificate' as const, value })),
      fc.oneof(hostileString(100), mutationOf(seeds.xfccs, 4)).map((value) => ({ source: 'xfcc' as const, value })),
      fc
        .oneof(hostileString(100).map((s) => `Bearer ${s}`), mutationOf(seeds.tokens.map((t) => `Bearer ${t}`), 3), hostileString(100))
        .map((value) => ({ source: 'jwt' as const, value })),
    );
    await fc.assert(
      fc.asyncProperty(malformed, fc.constantFrom('by-name', 'partial'), async (m, route) => {
        fc.pre(isPresent(m));
        fc.pre(!(await isValidIdentity(m)));
        const headers: Record<string, string> = { ':path': '/v1/orders', ':method': 'POST', ':authority': 'orders.internal' };
        if (m.source === 'xfcc') headers['x-forwarded-client-cert'] = m.value;
        if (m.source === 'jwt') headers['authorization'] = m.value;
        const req: WireCheckRequest = {
          attributes: {
            source: {
              ...(m.source === 'principal' ? { principal: m.value } : {}),
              ...(m.source === 'certificate' ? { certificate: m.value } : {}),
            },
            request: { http: { method: 'POST', path: '/v1/orders', host: 'orders.internal', headers } },
            context_extensions: { route },
          },
        };
        const outcome = await check(req);
        const reason = expectCheckResponse(outcome.response, outcome.verdict);
        expect(isSpecificIdentityReason(reason), `${m.source}: ${reason}`).toBe(true);
        expect(expectedFor(m, reason), `${m.source}: ${reason}`).toBe(true);
        expect(outcome.verdict.decision).toBe('deny');
        expect(outcome.verdict.identity).toBeUndefined();
        // On a 100 % enforce route an identity failure is a 401.
        if (route === 'by-name') expect(outcome.response.status.code).toBe(16);
      }),
      { numRuns: 500 },
    );
  });
});
