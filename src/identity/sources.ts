// The small, synchronous identity sources: Envoy's peer principal and the x-forwarded-client-cert
// header (spec-notes §5.2, §6.6). Pure.
import type { Reason } from '../authz/reasons.js';
import { fail, ok, type Result } from '../result.js';
import { formatSpiffeId, isLeafId, parseSpiffeId } from '../spiffe/spiffe-id.js';
import { parseXfcc, type XfccElement } from './xfcc.js';

/** A SPIFFE ID split into its parts, as the identity sources return it. */
export interface SourceIdentity {
  readonly spiffeId: string;
  readonly trustDomain: string;
  readonly path: string;
}

/** Parses a string as a caller ID: a valid SPIFFE ID with a workload (non-root) path. */
function callerId(value: string, reason: Reason, what: string): Result<SourceIdentity, Reason> {
  const id = parseSpiffeId(value);
  if (!id.ok) return fail(reason, `${what} is not a SPIFFE ID (${id.error.detail})`);
  if (!isLeafId(id.value)) return fail(reason, `${what} is a trust-domain ID without a workload path`);
  return ok({ spiffeId: formatSpiffeId(id.value), trustDomain: id.value.trustDomain, path: id.value.path });
}

/** Envoy's principal is the peer's first URI SAN, else a DNS SAN or the Subject (§5.2): only a SPIFFE ID counts. */
export function identityFromPrincipal(principal: string): Result<SourceIdentity, Reason> {
  return callerId(principal, 'PRINCIPAL_INVALID', 'peer principal');
}

/** The XFCC header read once per request: absent, unusable, or parsed with its last element. */
export type XfccRead =
  | { readonly kind: 'absent' }
  | { readonly kind: 'fail'; readonly reason: Reason; readonly detail: string }
  | { readonly kind: 'elements'; readonly elements: readonly XfccElement[]; readonly last: XfccElement };

/** XFCC limits (identity.xfcc's maxBytes and maxElements). */
export interface XfccLimits {
  readonly maxBytes: number;
  readonly maxElements: number;
}

/**
 * The last few headers read, with their limits and result. Behind a gateway the same callers send
 * the same XFCC over and over; comparing a header with `===` (length, then memcmp) is far cheaper
 * than parsing it again (~0.4 µs for a By;Hash;URI element), and the results are immutable.
 */
const RECENT_XFCC = 8;
const recentXfcc: ({ header: string; limits: XfccLimits; read: XfccRead } | undefined)[] = new Array<undefined>(RECENT_XFCC).fill(undefined);
let nextXfcc = 0;

/** Parses the header within the configured limits (the same header and limits give the same, shared result). */
export function readXfcc(header: string | undefined, limits: XfccLimits): XfccRead {
  if (header === undefined) return { kind: 'absent' };
  for (let i = 0; i < RECENT_XFCC; i++) {
    const r = recentXfcc[i];
    if (r !== undefined && r.header === header && r.limits === limits) return r.read;
  }
  const read = parseXfccHeader(header, limits);
  recentXfcc[nextXfcc] = { header, limits, read };
  nextXfcc = (nextXfcc + 1) % RECENT_XFCC;
  return read;
}

function parseXfccHeader(header: string, limits: XfccLimits): XfccRead {
  const parsed = parseXfcc(header, { maxBytes: limits.maxBytes, maxElements: limits.maxElements });
  if (!parsed.ok) {
    return { kind: 'fail', reason: parsed.error.code === 'XFCC_TOO_LARGE' ? 'XFCC_TOO_LARGE' : 'XFCC_MALFORMED', detail: parsed.error.detail };
  }
  const last = parsed.value[parsed.value.length - 1];
  if (last === undefined) return { kind: 'absent' }; // empty or blank header (§6.6.1)
  return { kind: 'elements', elements: parsed.value, last };
}

/**
 * The identity in the last XFCC element: the only one written by the proxy in front of us, so
 * never an earlier one (§6.6.8). With pinned proxies, that element's By must be one of them.
 */
export function identityFromXfcc(last: XfccElement, trustedProxies: readonly string[]): Result<SourceIdentity, Reason> {
  // A shared element (readXfcc's recent results) keeps its identity for the same pinned proxies.
  const memo = xfccIdentities.get(last);
  if (memo !== undefined && memo.proxies === trustedProxies) return memo.result;
  const result = xfccElementIdentity(last, trustedProxies);
  xfccIdentities.set(last, { proxies: trustedProxies, result });
  return result;
}

const xfccIdentities = new WeakMap<XfccElement, { proxies: readonly string[]; result: Result<SourceIdentity, Reason> }>();

function xfccElementIdentity(last: XfccElement, trustedProxies: readonly string[]): Result<SourceIdentity, Reason> {
  if (trustedProxies.length > 0) {
    if (last.By.length === 0) return fail('XFCC_UNTRUSTED_HOP', 'the last XFCC element has no By, and identity.xfcc.trustedProxies is set');
    for (const by of last.By) {
      if (!trustedProxies.includes(by)) return fail('XFCC_UNTRUSTED_HOP', `the last XFCC element was written by ${by}, not a trusted proxy`);
    }
  }
  const uris = last.URI;
  if (uris.length === 0 || (uris.length === 1 && uris[0] === '')) return fail('XFCC_NO_URI', 'the last XFCC element has no URI');
  if (uris.length > 1) return fail('XFCC_MULTIPLE_URIS', `the last XFCC element has ${uris.length} URI values`);
  return callerId(uris[0] as string, 'XFCC_INVALID_SPIFFE_ID', 'XFCC URI');
}
