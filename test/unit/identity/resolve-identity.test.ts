// Tests for resolveIdentity's shortcut: when the peer principal is the only source present it answers
// from a bounded cache of principal → result, and that answer is exactly what reading every source
// (resolveAllSources, the reference path) gives, for any principal, any presence of the other
// sources and any route's source list (spec-notes §7).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CheckInput } from '../../../src/authz/types.js';
import type { ConfigSnapshot } from '../../../src/config/compile.js';
import { buildSnapshot } from '../../../src/config/load.js';
import {
  onlyPrincipalPresent,
  principalCacheSize,
  resolveAllSources,
  resolveIdentity,
  type IdentityContext,
} from '../../../src/identity/resolve-identity.js';
import type { Reason } from '../../../src/authz/reasons.js';
import type { VerifiedJwtSvid } from '../../../src/identity/jwt-svid.js';
import { ResultCache } from '../../../src/identity/svid-cache.js';
import { bundleFor, createJwtIssuer } from '../../fixtures/jwt-issuer.js';
import { hostileString } from '../fuzz/support.js';

const PROD = 'prod.example.org';
const WEB = `spiffe://${PROD}/ns/checkout/sa/web`;
const CTX: IdentityContext = { now: Date.UTC(2026, 0, 15), bundles: () => undefined };

function snapshotOf(trusted: boolean, hop: 'peer' | 'origin'): ConfigSnapshot {
  const built = buildSnapshot(
    `
trustDomains: [${PROD}]
identity:
  sources: [principal, certificate, xfcc, jwt]
  xfcc: { trusted: ${trusted}, hop: ${hop}, trustedProxies: ["spiffe://${PROD}/ns/edge/sa/gw"] }
  jwt: { audiences: [aud], header: x-jwt }
routes:
  - { name: all, allow: { ${PROD}: ["**"] } }
  - { name: principal-only, identity: { sources: [principal] }, allow: { ${PROD}: ["**"] } }
  - { name: jwt-first, identity: { sources: [jwt, principal] }, allow: { ${PROD}: ["**"] } }
  - { name: xfcc-first, identity: { sources: [xfcc, principal] }, allow: { ${PROD}: ["**"] } }
  - { name: no-principal, identity: { sources: [xfcc, jwt] }, allow: { ${PROD}: ["**"] } }
  - { name: jwt-required, identity: { sources: [principal, jwt], requireJwtSvid: true }, allow: { ${PROD}: ["**"] } }
`,
    'test',
    0,
  );
  if (!built.ok) throw new Error(JSON.stringify(built.issues));
  return built.value;
}

const SNAPSHOTS = [snapshotOf(true, 'peer'), snapshotOf(false, 'peer'), snapshotOf(true, 'origin')];

function input(principal: string, certificate: string, headers: Record<string, string>): CheckInput {
  return { requestId: 'r', host: 'h', method: 'GET', path: '/', headers, principal, certificate, routeName: undefined };
}

const principalArb = fc.oneof(
  fc.constantFrom('', WEB, `spiffe://${PROD}/ns/a/sa/b`, `spiffe://other.example/x`, `spiffe://${PROD}`, `spiffe://${PROD}/`, 'CN=web,O=x', 'web.internal', `SPIFFE://${PROD}/x`, 'x'.repeat(300)),
  fc.constantFrom('spiffe://', `spiffe://${PROD}/`).chain((p) => hostileString(40).map((s) => p + s)),
  hostileString(60),
);
const optionalHeader = (values: readonly string[]): fc.Arbitrary<string | undefined> => fc.option(fc.constantFrom(...values), { nil: undefined });
const headersArb = fc
  .record({
    xfcc: optionalHeader(['', '  ', `URI=${WEB}`, `By=spiffe://${PROD}/ns/edge/sa/gw;URI=${WEB}`, 'URI="', 'URI=a,URI=b']),
    jwt: optionalHeader(['', 'Basic abc', 'Bearer', 'Bearer a.b.c', 'a,b']),
    authorization: optionalHeader(['Bearer a.b.c']),
  })
  .map((h) => {
    const out: Record<string, string> = {};
    if (h.xfcc !== undefined) out['x-forwarded-client-cert'] = h.xfcc;
    if (h.jwt !== undefined) out['x-jwt'] = h.jwt;
    if (h.authorization !== undefined) out['authorization'] = h.authorization;
    return out;
  });

describe('resolveIdentity', () => {
  it('gives what reading every source gives, first and repeated calls alike', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SNAPSHOTS),
        fc.nat(),
        principalArb,
        fc.constantFrom('', 'not%ZZa-certificate'),
        headersArb,
        async (snapshot, routeIndex, principal, certificate, headers) => {
          const route = snapshot.routes[routeIndex % snapshot.routes.length]!;
          const req = input(principal, certificate, headers);
          const reference = await resolveAllSources(req, route, snapshot, CTX);
          expect(await resolveIdentity(req, route, snapshot, CTX)).toEqual(reference);
          expect(await resolveIdentity(req, route, snapshot, CTX)).toEqual(reference); // now from the cache when the shortcut applies
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('takes the shortcut only when every other source of the route is absent', () => {
    const [trusted, untrusted] = SNAPSHOTS as [ConfigSnapshot, ConfigSnapshot];
    const all = trusted.routesByName.get('all')!;
    expect(onlyPrincipalPresent(input(WEB, '', {}), all, trusted)).toBe(true);
    expect(onlyPrincipalPresent(input('', '', {}), all, trusted)).toBe(false);
    expect(onlyPrincipalPresent(input(WEB, 'x', {}), all, trusted)).toBe(false);
    // Present, even blank: the full path decides (a blank XFCC is absent, an oversized one is not).
    expect(onlyPrincipalPresent(input(WEB, '', { 'x-forwarded-client-cert': '' }), all, trusted)).toBe(false);
    // An untrusted XFCC header reads as absent.
    expect(onlyPrincipalPresent(input(WEB, '', { 'x-forwarded-client-cert': 'URI=x' }), untrusted.routesByName.get('all')!, untrusted)).toBe(true);
    expect(onlyPrincipalPresent(input(WEB, '', { 'x-jwt': 'Basic a' }), all, trusted)).toBe(false);
    // A header the route does not read does not count.
    expect(onlyPrincipalPresent(input(WEB, '', { 'x-jwt': 'Bearer a.b.c' }), trusted.routesByName.get('principal-only')!, trusted)).toBe(true);
    expect(onlyPrincipalPresent(input(WEB, '', {}), trusted.routesByName.get('no-principal')!, trusted)).toBe(false);
    expect(onlyPrincipalPresent(input(WEB, '', {}), trusted.routesByName.get('jwt-required')!, trusted)).toBe(false);
  });

  it('answers a principal-only request with a frozen result that carries the principal source', () => {
    const snapshot = SNAPSHOTS[0]!;
    const route = snapshot.routesByName.get('all')!;
    const r = resolveIdentity(input(WEB, '', {}), route, snapshot, CTX);
    expect(r).toEqual({ ok: true, value: { spiffeId: WEB, trustDomain: PROD, path: '/ns/checkout/sa/web', source: 'principal', agreed: [] } });
    expect(Object.isFrozen(r)).toBe(true);
    expect(Object.isFrozen((r as { value: object }).value)).toBe(true);
    const bad = resolveIdentity(input('CN=web', '', {}), route, snapshot, CTX);
    expect(bad).toMatchObject({ ok: false, error: { code: 'PRINCIPAL_INVALID', detail: expect.stringMatching(/^principal: peer principal is not a SPIFFE ID/) } });
  });

  it('keeps the principal cache bounded, and never stores very long principals', () => {
    const snapshot = SNAPSHOTS[0]!;
    const route = snapshot.routesByName.get('all')!;
    for (let i = 0; i < 20_000; i++) resolveIdentity(input(`spiffe://${PROD}/ns/n${i}/sa/s`, '', {}), route, snapshot, CTX);
    expect(principalCacheSize()).toBe(16_384);
    const long = `spiffe://${PROD}/${'a'.repeat(400)}`;
    const before = principalCacheSize();
    // Evicts the oldest entry on each new one, so the count stays; a long one is not even stored.
    expect(resolveIdentity(input(long, '', {}), route, snapshot, CTX)).toMatchObject({ ok: true, value: { spiffeId: long } });
    expect(principalCacheSize()).toBe(before);
    // Still right after eviction: the first principals are parsed again.
    expect(resolveIdentity(input(`spiffe://${PROD}/ns/n0/sa/s`, '', {}), route, snapshot, CTX)).toMatchObject({ ok: true, value: { path: '/ns/n0/sa/s' } });
  });
});

describe('JWT-SVID verification across a cache clear', () => {
  it('does not store a result verified before a bundle or config change cleared the cache', async () => {
    const snapshot = SNAPSHOTS[0]!;
    const route = snapshot.routesByName.get('jwt-first')!;
    const now = Date.UTC(2026, 0, 15);
    const issuer = await createJwtIssuer({ trustDomain: PROD, kid: 'k1', now });
    const token = await issuer.sign({ sub: WEB, aud: 'aud' });
    const jwtCache = new ResultCache<VerifiedJwtSvid, Reason>(100);
    const ctx: IdentityContext = { now, bundles: bundleFor(issuer), jwtCache };
    const request = input('', '', { 'x-jwt': `Bearer ${token}` });
    // Verified asynchronously; the cache is cleared (as app.ts does on a change) before it is done.
    const pending = resolveAllSources(request, route, snapshot, ctx);
    expect(pending).toBeInstanceOf(Promise);
    jwtCache.clear();
    expect(await pending).toMatchObject({ ok: true, value: { spiffeId: WEB, source: 'jwt' } });
    expect(jwtCache.size).toBe(0);
    // Without a change in between, the result is kept and the next request is answered synchronously.
    await resolveAllSources(request, route, snapshot, ctx);
    expect(jwtCache.size).toBe(1);
    expect(resolveAllSources(request, route, snapshot, ctx)).toMatchObject({ ok: true, value: { spiffeId: WEB } });
  });
});
