// Finds the caller's SPIFFE ID from the enabled sources, in the configured order (spec-notes §7).
// The first source that is present decides: a valid ID is the identity, malformed input is a deny
// with that source's own reason. A present-but-bad source never falls through to the next one.
import type { CallerIdentity, CheckInput } from '../authz/types.js';
import type { Reason } from '../authz/reasons.js';
import type { ConfigSnapshot } from '../config/compile.js';
import { fail, ok, type Result } from '../result.js';
import { formatSpiffeId, isLeafId, parseSpiffeId } from '../spiffe/spiffe-id.js';
import { parseXfcc } from './xfcc.js';

/** Header that carries the client certificate details of the proxy in front. */
export const XFCC_HEADER = 'x-forwarded-client-cert';

/** The caller's identity, or the reason there is none. */
export type IdentityResult = Result<CallerIdentity, Reason>;

/** Resolves the caller identity of one request under a config snapshot. */
export function resolveIdentity(input: CheckInput, snapshot: ConfigSnapshot): IdentityResult {
  for (const source of snapshot.config.identity.sources) {
    if (source === 'principal') {
      if (input.principal === '') continue;
      return fromPrincipal(input.principal);
    }
    if (source === 'xfcc') {
      if (!snapshot.xfccEnabled) continue;
      const header = input.headers[XFCC_HEADER];
      if (header === undefined || header.trim() === '') continue;
      return fromXfcc(header, snapshot);
    }
  }
  const untrustedXfcc = !snapshot.xfccEnabled && input.headers[XFCC_HEADER] !== undefined;
  return fail(
    'UNAUTHENTICATED',
    untrustedXfcc
      ? 'no caller identity (an x-forwarded-client-cert header was present but XFCC is not trusted by the config)'
      : 'no caller identity in any enabled source',
  );
}

function fromPrincipal(principal: string): IdentityResult {
  // Envoy's principal is the peer's first URI SAN, else a DNS SAN or the Subject (spec-notes §5.2):
  // only a valid SPIFFE ID with a workload path is an identity.
  const id = parseSpiffeId(principal);
  if (!id.ok) return fail('PRINCIPAL_INVALID', `peer principal is not a SPIFFE ID (${id.error.detail})`);
  if (!isLeafId(id.value)) return fail('PRINCIPAL_INVALID', 'peer principal is a trust-domain ID without a workload path');
  return ok({ spiffeId: principal, trustDomain: id.value.trustDomain, path: id.value.path, source: 'principal' });
}

function fromXfcc(header: string, snapshot: ConfigSnapshot): IdentityResult {
  const limits = snapshot.config.identity.xfcc;
  const parsed = parseXfcc(header, { maxBytes: limits.maxBytes, maxElements: limits.maxElements });
  if (!parsed.ok) {
    return fail(parsed.error.code === 'XFCC_TOO_LARGE' ? 'XFCC_TOO_LARGE' : 'XFCC_MALFORMED', parsed.error.detail);
  }
  const elements = parsed.value;
  // Only the last element was written by the proxy in front of us; never fall back to earlier ones
  // (spec-notes §6.6.8).
  const last = elements[elements.length - 1];
  if (last === undefined) return fail('UNAUTHENTICATED', 'x-forwarded-client-cert has no elements');
  const uris = last.URI.filter((u) => u !== '');
  if (uris.length === 0) return fail('XFCC_NO_URI', 'the last x-forwarded-client-cert element has no URI');
  if (uris.length > 1 || last.URI.length > 1) {
    return fail('XFCC_MULTIPLE_URIS', `the last x-forwarded-client-cert element has ${last.URI.length} URI values`);
  }
  const uri = uris[0] as string;
  const id = parseSpiffeId(uri);
  if (!id.ok) return fail('XFCC_INVALID_SPIFFE_ID', `XFCC URI is not a SPIFFE ID (${id.error.detail})`);
  if (!isLeafId(id.value)) return fail('XFCC_INVALID_SPIFFE_ID', 'XFCC URI is a trust-domain ID without a workload path');
  return ok({ spiffeId: formatSpiffeId(id.value), trustDomain: id.value.trustDomain, path: id.value.path, source: 'xfcc' });
}
