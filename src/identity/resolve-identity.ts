// Finds the caller's SPIFFE ID from the route's identity sources, in order (spec-notes §7).
// Every enabled source that is present is checked: malformed input in any of them denies with that
// source's own reason (never a silent fall-through); the first valid one in order gives the identity;
// sources that describe the same hop (principal, certificate, XFCC written for this peer) must agree.
// JWT-SVID verification is asynchronous (jose); everything else, and every cache hit, is synchronous.
import type { Reason } from '../authz/reasons.js';
import type { CallerIdentity, CheckInput, IdentitySource } from '../authz/types.js';
import type { CompiledRoute, ConfigSnapshot } from '../config/compile.js';
import { fail, ok, type Result } from '../result.js';
import type { BundleLookup } from '../trust/types.js';
import { extractBearer, verifyJwtSvid, type VerifiedJwtSvid } from './jwt-svid.js';
import type { ResultCache } from './svid-cache.js';
import { decodeEnvoyCertificate, verifyX509Svid, type VerifiedX509Svid } from './x509-svid.js';
import { identityFromPrincipal, identityFromXfcc, readXfcc, type XfccRead } from './sources.js';

/** Header that carries the client certificate details of the proxy in front. */
export const XFCC_HEADER = 'x-forwarded-client-cert';

/** The caller's identity, or the reason there is none. */
export type IdentityResult = Result<CallerIdentity, Reason>;

/** What identity resolution needs besides the request: the clock, bundles and result caches. */
export interface IdentityContext {
  readonly now: number;
  readonly bundles: BundleLookup;
  readonly certCache?: ResultCache<VerifiedX509Svid, Reason>;
  readonly jwtCache?: ResultCache<VerifiedJwtSvid, Reason>;
}

/** What one source said: nothing (absent), an ID, or a reason to deny. */
type SourceOutcome = { readonly source: IdentitySource } & (
  | { readonly kind: 'absent' }
  | { readonly kind: 'id'; readonly spiffeId: string; readonly trustDomain: string; readonly path: string }
  | { readonly kind: 'fail'; readonly reason: Reason; readonly detail: string }
);
/** A source that named an ID. */
type IdOutcome = Extract<SourceOutcome, { kind: 'id' }>;

/**
 * Resolves the caller identity of one request on one route. When the peer principal is the only
 * source present (the common case behind a mesh), the answer comes from a bounded cache of principal
 * → result; otherwise every source is read (resolveAllSources). Both give the same result (tested).
 */
export function resolveIdentity(
  input: CheckInput,
  route: CompiledRoute,
  snapshot: ConfigSnapshot,
  ctx: IdentityContext,
): IdentityResult | Promise<IdentityResult> {
  if (onlyPrincipalPresent(input, route, snapshot)) return principalAlone(input.principal);
  return resolveAllSources(input, route, snapshot, ctx);
}

// Bits of principalOnlyNeeds: the other sources a request must lack.
const NEEDS_NO_CERTIFICATE = 1;
const NEEDS_NO_XFCC = 2;
const NEEDS_NO_JWT = 4;

/**
 * For a route whose caller may be named by the peer principal alone: which other sources the
 * request must lack for that (NEEDS_* bits: certificate; XFCC when trusted, an untrusted one reads
 * as absent; JWT). -1 when the principal is never alone: not accepted, or a JWT-SVID is required.
 */
export function principalOnlyNeeds(route: CompiledRoute, snapshot: ConfigSnapshot): number {
  if (route.requireJwtSvid) return -1;
  const sources = route.sources;
  let principal = false;
  let needs = 0;
  for (let i = 0; i < sources.length; i++) {
    switch (sources[i]) {
      case 'principal':
        principal = true;
        break;
      case 'certificate':
        needs |= NEEDS_NO_CERTIFICATE;
        break;
      case 'xfcc':
        if (snapshot.config.identity.xfcc.trusted) needs |= NEEDS_NO_XFCC;
        break;
      case 'jwt':
        needs |= NEEDS_NO_JWT;
        break;
    }
  }
  return principal ? needs : -1;
}

/** True when the request lacks every source in `needs`. A header that is present, even blank, counts. */
export function otherSourcesAbsent(input: CheckInput, needs: number, snapshot: ConfigSnapshot): boolean {
  if ((needs & NEEDS_NO_CERTIFICATE) !== 0 && input.certificate !== '') return false;
  if ((needs & NEEDS_NO_XFCC) !== 0 && input.headers[XFCC_HEADER] !== undefined) return false;
  if ((needs & NEEDS_NO_JWT) !== 0 && input.headers[snapshot.config.identity.jwt.header] !== undefined) return false;
  return true;
}

/** True when the request has a principal and the route's other sources are all absent. */
export function onlyPrincipalPresent(input: CheckInput, route: CompiledRoute, snapshot: ConfigSnapshot): boolean {
  if (input.principal === '') return false;
  const needs = principalOnlyNeeds(route, snapshot);
  return needs >= 0 && otherSourcesAbsent(input, needs, snapshot);
}

// Principal → identity result when it is the only source present. A pure function of the principal
// (no config, clock or bundle involved), so entries never go stale and survive reloads. Bounded by
// count and key length; the oldest entry goes first. Principals are Envoy-verified peer names: they
// repeat, and a flood of distinct ones only costs a parse each.
const PRINCIPAL_CACHE_MAX_ENTRIES = 16_384;
const PRINCIPAL_CACHE_MAX_KEY_CHARS = 256;
const principalCache = new Map<string, IdentityResult>();
const NO_OTHER_SOURCES: readonly IdentitySource[] = Object.freeze([]);

/** The identity result of a request whose only present source is this (non-empty) principal. */
function principalAlone(principal: string): IdentityResult {
  const hit = principalCache.get(principal);
  if (hit !== undefined) return hit;
  const id = identityFromPrincipal(principal);
  const result: IdentityResult = Object.freeze(
    id.ok
      ? ok(Object.freeze({ spiffeId: id.value.spiffeId, trustDomain: id.value.trustDomain, path: id.value.path, source: 'principal' as const, agreed: NO_OTHER_SOURCES }))
      : fail(id.error.code, `principal: ${id.error.detail}`),
  );
  if (principal.length <= PRINCIPAL_CACHE_MAX_KEY_CHARS) {
    if (principalCache.size >= PRINCIPAL_CACHE_MAX_ENTRIES) {
      const oldest = principalCache.keys().next();
      if (oldest.done !== true) principalCache.delete(oldest.value);
    }
    principalCache.set(principal, result);
  }
  return result;
}

/** Entries in the principal cache (tests). */
export function principalCacheSize(): number {
  return principalCache.size;
}

/**
 * An object that stands for the identity data of a request holding one of: a peer certificate, a
 * JWT-SVID, a trusted XFCC header whose last element carries no Cert (a peer principal may come
 * with any of them). For a certificate or a token it is the verification result cached for it; for
 * XFCC, the parse readXfcc shares. Either is what resolveAllSources would read for the request, so
 * for the same snapshot, route and principal the identity (and the decision) it leads to is the
 * same; the same object comes back only for the same certificate, token or header, and a cached
 * result only while it is valid (unexpired, bundles and config unchanged). Undefined when the
 * request is not of that kind or nothing is cached for it (yet).
 */
export function cachedProof(input: CheckInput, snapshot: ConfigSnapshot, ctx: IdentityContext): object | undefined {
  const headers = input.headers;
  const cfg = snapshot.config.identity;
  const authorization = headers[cfg.jwt.header];
  const xfccHeader = headers[XFCC_HEADER];
  if (xfccHeader !== undefined) {
    if (input.certificate !== '' || authorization !== undefined || !cfg.xfcc.trusted) return undefined;
    const x = readXfcc(xfccHeader, cfg.xfcc);
    // Not 'absent' (a fresh object each time); not an element with a Cert (verified, so time-bound).
    if (x.kind === 'fail') return x;
    return x.kind === 'elements' && (x.last.Cert === undefined || x.last.Cert === '') ? x : undefined;
  }
  if (input.certificate !== '') return authorization === undefined ? ctx.certCache?.get(input.certificate, ctx.now) : undefined;
  if (authorization === undefined) return undefined;
  const bearer = bearerOf(authorization);
  return bearer.ok && bearer.value !== undefined ? ctx.jwtCache?.get(bearer.value, ctx.now) : undefined;
}

/**
 * extractBearer of the last few header values. A caller sends the same authorization header request
 * after request, and the codec hands the same string back for the same bytes (codec.ts): comparing
 * it with `===` is then a pointer check, and the token found is also the same string, which the
 * JWT cache in turn compares by reference. The results are never modified.
 */
const RECENT_BEARERS = 4;
const recentHeaders: (string | undefined)[] = new Array<string | undefined>(RECENT_BEARERS).fill(undefined);
const recentBearers: (ReturnType<typeof extractBearer> | undefined)[] = new Array<undefined>(RECENT_BEARERS).fill(undefined);
let nextBearer = 0;

function bearerOf(header: string): ReturnType<typeof extractBearer> {
  for (let i = 0; i < RECENT_BEARERS; i++) {
    if (recentHeaders[i] === header) return recentBearers[i] as ReturnType<typeof extractBearer>;
  }
  const bearer = extractBearer(header);
  recentHeaders[nextBearer] = header;
  recentBearers[nextBearer] = bearer;
  nextBearer = (nextBearer + 1) % RECENT_BEARERS;
  return bearer;
}

/** Reads every source of the route in order and decides (the reference path; see resolveIdentity). */
export function resolveAllSources(
  input: CheckInput,
  route: CompiledRoute,
  snapshot: ConfigSnapshot,
  ctx: IdentityContext,
): IdentityResult | Promise<IdentityResult> {
  const cfg = snapshot.config.identity;
  // Read at most once per request, by whichever source needs it first.
  let xfcc: XfccRead | undefined;
  const outcomes: (SourceOutcome | Promise<SourceOutcome>)[] = [];
  let pending = false;
  for (const source of route.sources) {
    switch (source) {
      case 'principal':
        outcomes.push(input.principal === '' ? { source, kind: 'absent' } : fromResult(source, identityFromPrincipal(input.principal)));
        break;
      case 'certificate': {
        if (input.certificate === '') {
          outcomes.push({ source, kind: 'absent' });
          break;
        }
        // The peer's chain, when a trusted XFCC written for this same peer carries it (§3.3). This
        // reads the header even when xfcc is not an identity source; a malformed one gives no chain.
        if (cfg.xfcc.trusted && cfg.xfcc.hop === 'peer') xfcc ??= readXfcc(input.headers[XFCC_HEADER], cfg.xfcc);
        const chain = cfg.xfcc.trusted && cfg.xfcc.hop === 'peer' && xfcc?.kind === 'elements' ? xfcc.last.Chain : undefined;
        outcomes.push(fromResult(source, verifyCertificate(input.certificate, chain, snapshot, ctx)));
        break;
      }
      case 'xfcc': {
        if (!cfg.xfcc.trusted) {
          outcomes.push({ source, kind: 'absent' });
          break;
        }
        const x = (xfcc ??= readXfcc(input.headers[XFCC_HEADER], cfg.xfcc));
        if (x.kind === 'absent') outcomes.push({ source, kind: 'absent' });
        else if (x.kind === 'fail') outcomes.push({ source, kind: 'fail', reason: x.reason, detail: x.detail });
        else if (cfg.xfcc.hop === 'origin' && !cfg.xfcc.trustedProxies.includes(input.principal)) {
          // Forwarded XFCC is only as good as the hop that forwarded it: By is text that hop wrote,
          // so the Envoy-verified peer itself must be one of the trusted proxies.
          outcomes.push({
            source,
            kind: 'fail',
            reason: 'XFCC_UNTRUSTED_HOP',
            detail: input.principal === '' ? 'forwarded XFCC from a peer without a verified principal' : `forwarded XFCC from ${input.principal}, not a trusted proxy`,
          });
        } else outcomes.push(fromResult(source, xfccIdentity(x, snapshot, ctx)));
        break;
      }
      case 'jwt': {
        const outcome = jwtOutcome(input.headers[cfg.jwt.header], snapshot, ctx);
        if (outcome instanceof Promise) pending = true;
        outcomes.push(outcome);
        break;
      }
    }
  }
  if (!pending) return decide(outcomes as SourceOutcome[], route, snapshot, input);
  return Promise.all(outcomes).then((done) => decide(done, route, snapshot, input));
}

function fromResult(source: IdentitySource, r: Result<{ spiffeId: string; trustDomain: string; path: string }, Reason>): SourceOutcome {
  if (!r.ok) return { source, kind: 'fail', reason: r.error.code, detail: r.error.detail };
  return { source, kind: 'id', spiffeId: r.value.spiffeId, trustDomain: r.value.trustDomain, path: r.value.path };
}

/** Verifies a URL-encoded peer certificate (and optional URL-encoded chain) through the cache. */
function verifyCertificate(encoded: string, encodedChain: string | undefined, snapshot: ConfigSnapshot, ctx: IdentityContext): Result<VerifiedX509Svid, Reason> {
  const key = encodedChain === undefined ? encoded : `${encoded}\u0000${encodedChain}`;
  const cached = ctx.certCache?.get(key, ctx.now);
  if (cached !== undefined) return cached;
  const result = verifyCertificateUncached(encoded, encodedChain, snapshot, ctx);
  ctx.certCache?.set(key, result, ctx.now, (v) => v.notAfter);
  return result;
}

function verifyCertificateUncached(encoded: string, encodedChain: string | undefined, snapshot: ConfigSnapshot, ctx: IdentityContext): Result<VerifiedX509Svid, Reason> {
  const cfg = snapshot.config.identity.certificate;
  // Every PEM character may arrive as a 3-character %XX escape.
  const pem = decodeEnvoyCertificate(encoded, 3 * cfg.maxBytes);
  if (!pem.ok) return pem;
  let intermediatesPem: string | undefined;
  if (encodedChain !== undefined && encodedChain !== '') {
    const chain = decodeEnvoyCertificate(encodedChain, 3 * cfg.maxBytes);
    if (!chain.ok) return fail('CERT_MALFORMED', `XFCC Chain: ${chain.error.detail}`);
    intermediatesPem = chain.value;
  }
  return verifyX509Svid(pem.value, {
    now: ctx.now,
    bundles: ctx.bundles,
    requireBundle: cfg.requireBundle,
    strict: cfg.strict,
    maxBytes: cfg.maxBytes,
    ...(intermediatesPem !== undefined ? { intermediatesPem } : {}),
  });
}

/** The XFCC identity; when the element also carries the certificate, it is verified and must name the same ID. */
function xfccIdentity(x: Extract<XfccRead, { kind: 'elements' }>, snapshot: ConfigSnapshot, ctx: IdentityContext): Result<{ spiffeId: string; trustDomain: string; path: string }, Reason> {
  const id = identityFromXfcc(x.last, snapshot.config.identity.xfcc.trustedProxies);
  if (!id.ok || x.last.Cert === undefined || x.last.Cert === '') return id;
  const cert = verifyCertificate(x.last.Cert, x.last.Chain, snapshot, ctx);
  if (!cert.ok) return cert;
  if (cert.value.spiffeId !== id.value.spiffeId) {
    return fail('IDENTITY_CONFLICT', `XFCC URI ${id.value.spiffeId} differs from its Cert's ${cert.value.spiffeId}`);
  }
  return id;
}

function jwtOutcome(header: string | undefined, snapshot: ConfigSnapshot, ctx: IdentityContext): SourceOutcome | Promise<SourceOutcome> {
  if (header === undefined) return { source: 'jwt', kind: 'absent' };
  const bearer = bearerOf(header);
  if (!bearer.ok) return { source: 'jwt', kind: 'fail', reason: bearer.error.code, detail: bearer.error.detail };
  const token = bearer.value;
  if (token === undefined) return { source: 'jwt', kind: 'absent' };
  const cached = ctx.jwtCache?.get(token, ctx.now);
  if (cached !== undefined) return fromResult('jwt', cached);
  const cfg = snapshot.config.identity.jwt;
  // Verified under the bundles and config of now: kept only if no change cleared the cache meanwhile.
  const generation = ctx.jwtCache?.generation;
  return verifyJwtSvid(token, {
    now: ctx.now,
    audiences: cfg.audiences,
    skewSeconds: cfg.skewSeconds,
    bundles: ctx.bundles,
    maxTokenBytes: cfg.maxBytes,
  }).then((result) => {
    ctx.jwtCache?.set(token, result, ctx.now, (v) => v.expiresAt, generation);
    return fromResult('jwt', result);
  });
}

/** True for sources that describe this Envoy's own downstream peer. */
function isSameHop(source: IdentitySource, snapshot: ConfigSnapshot): boolean {
  if (source === 'principal' || source === 'certificate') return true;
  return source === 'xfcc' && snapshot.config.identity.xfcc.hop === 'peer';
}

function decide(outcomes: readonly SourceOutcome[], route: CompiledRoute, snapshot: ConfigSnapshot, input: CheckInput): IdentityResult {
  for (const o of outcomes) if (o.kind === 'fail') return fail(o.reason, `${o.source}: ${o.detail}`);
  // Sources describing the same peer must name the same workload (spec-notes §7.2-3): each is
  // compared with the first of them, in order.
  let firstSameHop: IdOutcome | undefined;
  let chosen: IdOutcome | undefined;
  for (const o of outcomes) {
    if (o.kind !== 'id') continue;
    if (isSameHop(o.source, snapshot)) {
      if (firstSameHop === undefined) firstSameHop = o;
      else if (o.spiffeId !== firstSameHop.spiffeId) {
        return fail('IDENTITY_CONFLICT', `${firstSameHop.source} says ${firstSameHop.spiffeId} but ${o.source} says ${o.spiffeId}`);
      }
    }
    // The first ID in order, or with requireJwtSvid the JWT-SVID's.
    if (chosen === undefined && (!route.requireJwtSvid || o.source === 'jwt')) chosen = o;
  }
  if (chosen === undefined) {
    if (route.requireJwtSvid) return fail('JWT_REQUIRED', `route "${route.name}" requires a JWT-SVID`);
    const header = input.headers[XFCC_HEADER];
    const untrusted = !snapshot.config.identity.xfcc.trusted && route.sources.includes('xfcc') && header !== undefined && header.trim() !== '';
    return fail(
      'UNAUTHENTICATED',
      untrusted
        ? 'no caller identity (an x-forwarded-client-cert header was present but identity.xfcc.trusted is false)'
        : `no caller identity in any of: ${route.sources.join(', ')}`,
    );
  }
  const agreed: IdentitySource[] = [];
  for (const o of outcomes) if (o.kind === 'id' && o !== chosen && o.spiffeId === chosen.spiffeId) agreed.push(o.source);
  return ok({ spiffeId: chosen.spiffeId, trustDomain: chosen.trustDomain, path: chosen.path, source: chosen.source, agreed });
}
