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

/** Resolves the caller identity of one request on one route. */
export function resolveIdentity(
  input: CheckInput,
  route: CompiledRoute,
  snapshot: ConfigSnapshot,
  ctx: IdentityContext,
): IdentityResult | Promise<IdentityResult> {
  const cfg = snapshot.config.identity;
  let xfcc: XfccRead | undefined;
  const xfccOnce = (): XfccRead => (xfcc ??= readXfcc(input.headers[XFCC_HEADER], cfg.xfcc));
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
        const x = cfg.xfcc.trusted && cfg.xfcc.hop === 'peer' ? xfccOnce() : undefined;
        const chain = x?.kind === 'elements' ? x.last.Chain : undefined;
        outcomes.push(fromResult(source, verifyCertificate(input.certificate, chain, snapshot, ctx)));
        break;
      }
      case 'xfcc': {
        if (!cfg.xfcc.trusted) {
          outcomes.push({ source, kind: 'absent' });
          break;
        }
        const x = xfccOnce();
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
  const bearer = extractBearer(header);
  if (!bearer.ok) return { source: 'jwt', kind: 'fail', reason: bearer.error.code, detail: bearer.error.detail };
  const token = bearer.value;
  if (token === undefined) return { source: 'jwt', kind: 'absent' };
  const cached = ctx.jwtCache?.get(token, ctx.now);
  if (cached !== undefined) return fromResult('jwt', cached);
  const cfg = snapshot.config.identity.jwt;
  return verifyJwtSvid(token, {
    now: ctx.now,
    audiences: cfg.audiences,
    skewSeconds: cfg.skewSeconds,
    bundles: ctx.bundles,
    maxTokenBytes: cfg.maxBytes,
  }).then((result) => {
    ctx.jwtCache?.set(token, result, ctx.now, (v) => v.expiresAt);
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
  const ids = outcomes.filter((o): o is Extract<SourceOutcome, { kind: 'id' }> => o.kind === 'id');
  // Sources describing the same peer must name the same workload (spec-notes §7.2-3).
  const sameHop = ids.filter((o) => isSameHop(o.source, snapshot));
  const first = sameHop[0];
  for (const o of sameHop) {
    if (first !== undefined && o.spiffeId !== first.spiffeId) {
      return fail('IDENTITY_CONFLICT', `${first.source} says ${first.spiffeId} but ${o.source} says ${o.spiffeId}`);
    }
  }
  const chosen = route.requireJwtSvid ? ids.find((o) => o.source === 'jwt') : ids[0];
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
  const agreed = ids.filter((o) => o !== chosen && o.spiffeId === chosen.spiffeId).map((o) => o.source);
  return ok({ spiffeId: chosen.spiffeId, trustDomain: chosen.trustDomain, path: chosen.path, source: chosen.source, agreed });
}
