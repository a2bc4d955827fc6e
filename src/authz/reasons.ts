// The one reason catalog: every decision carries a code from here. Codes are stable, documented in
// README.md (a test keeps the two in sync) and never reused for another meaning.

/** Where in the Check pipeline a reason is produced. */
export type ReasonPhase = 'request' | 'route' | 'identity' | 'policy' | 'internal';

/** One catalog entry: phase, the gRPC status and HTTP status of an enforced deny, and a summary. */
export interface ReasonInfo {
  readonly phase: ReasonPhase;
  /** gRPC status code put in CheckResponse.status when this reason is enforced (0 = OK). */
  readonly grpcCode: number;
  /** HTTP status Envoy returns to the caller when this reason is enforced. */
  readonly httpStatus: number;
  readonly summary: string;
}

const OK = 0;
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;
// RFC 6585 §5: what the caller must fix is the size of its request, not its identity or the policy.
const HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE = 431;

/** Every reason code, with its phase, status codes and one-line summary. */
export const REASONS = {
  ALLOWED: { phase: 'policy', grpcCode: OK, httpStatus: 200, summary: 'an allow rule of the route matched the caller' },
  NO_ROUTE: {
    phase: 'route',
    grpcCode: PERMISSION_DENIED,
    httpStatus: 403,
    summary: 'no configured route matched the request (or context_extensions named an unknown route)',
  },
  REQUEST_TOO_LARGE: {
    phase: 'request',
    // PERMISSION_DENIED, as every other deny that is not about identity: Envoy reads only OK / not OK
    // from this code, and 431 in the denied_response is what the caller sees.
    grpcCode: PERMISSION_DENIED,
    httpStatus: HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
    summary: 'the request has more headers, more header bytes or a longer path than limits.maxHeaderCount, maxHeaderBytes or maxPathBytes allow',
  },
  UNAUTHENTICATED: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'no enabled identity source carried a caller identity',
  },
  PRINCIPAL_INVALID: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: "Envoy's peer principal is present but is not a SPIFFE ID with a workload path",
  },
  XFCC_MALFORMED: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the trusted x-forwarded-client-cert header does not parse',
  },
  XFCC_TOO_LARGE: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the x-forwarded-client-cert header exceeds the configured byte or element limit',
  },
  XFCC_NO_URI: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the last x-forwarded-client-cert element carries no URI',
  },
  XFCC_MULTIPLE_URIS: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the last x-forwarded-client-cert element carries more than one URI',
  },
  XFCC_INVALID_SPIFFE_ID: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the URI of the last x-forwarded-client-cert element is not a SPIFFE ID with a workload path',
  },
  XFCC_UNTRUSTED_HOP: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the last x-forwarded-client-cert element was not written by one of identity.xfcc.trustedProxies (its By)',
  },
  CERT_MALFORMED: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the peer certificate (or its chain) does not decode, parse, or fit the size limits',
  },
  CERT_NOT_SVID: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the peer certificate does not carry exactly one URI SAN holding a SPIFFE ID with a workload path',
  },
  CERT_IS_CA: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the peer certificate is a CA certificate (basicConstraints cA=true)',
  },
  CERT_BAD_KEY_USAGE: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the peer certificate has keyCertSign/cRLSign, or (strict mode) lacks a critical digitalSignature key usage',
  },
  CERT_EXPIRED: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the peer certificate (or a certificate of its chain) has expired',
  },
  CERT_NOT_YET_VALID: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the peer certificate (or a certificate of its chain) is not valid yet',
  },
  CERT_UNTRUSTED: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: "the certificate does not chain to a root of its own trust domain's bundle",
  },
  BUNDLE_UNAVAILABLE: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: "the check needs the caller's trust bundle and none is configured or loaded",
  },
  JWT_REQUIRED: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the route requires a JWT-SVID and the request carries none',
  },
  JWT_TOO_LARGE: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the bearer token is longer than identity.jwt.maxBytes',
  },
  JWT_MALFORMED: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the bearer token is not a JWS compact token, or the authorization header is malformed or repeated',
  },
  JWT_ALG_NOT_ALLOWED: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the token alg is not one of RS/ES/PS 256-512 (none, HS*, EdDSA are never accepted)',
  },
  JWT_BAD_HEADER: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the token typ is not JWT/JOSE, or the token has a crit header',
  },
  JWT_INVALID_SUBJECT: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the token sub is missing or not a SPIFFE ID with a workload path',
  },
  JWT_UNKNOWN_KEY: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: "no JWT key of the sub's trust domain bundle matches the token kid",
  },
  JWT_ALG_KEY_MISMATCH: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the token alg does not fit the selected key type or curve',
  },
  JWT_BAD_SIGNATURE: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: "the token signature does not verify with the sub's trust domain keys",
  },
  JWT_MISSING_EXP: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the token has no exp claim',
  },
  JWT_EXPIRED: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the token exp is past (beyond the allowed skew)',
  },
  JWT_NOT_YET_VALID: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the token nbf or iat is in the future (beyond the allowed skew)',
  },
  JWT_AUDIENCE_MISMATCH: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'the token aud contains none of identity.jwt.audiences',
  },
  IDENTITY_CONFLICT: {
    phase: 'identity',
    grpcCode: UNAUTHENTICATED,
    httpStatus: 401,
    summary: 'two identity sources that describe the same hop name different SPIFFE IDs',
  },
  UNKNOWN_TRUST_DOMAIN: {
    phase: 'policy',
    grpcCode: PERMISSION_DENIED,
    httpStatus: 403,
    summary: "the caller's trust domain is not one of the configured trustDomains",
  },
  DENIED_BY_RULE: {
    phase: 'policy',
    grpcCode: PERMISSION_DENIED,
    httpStatus: 403,
    summary: 'a deny rule of the route matched the caller (deny beats allow)',
  },
  NO_MATCHING_RULE: {
    phase: 'policy',
    grpcCode: PERMISSION_DENIED,
    httpStatus: 403,
    summary: "no allow rule of the route matched the caller's SPIFFE ID",
  },
  INTERNAL_ERROR: {
    phase: 'internal',
    grpcCode: PERMISSION_DENIED,
    httpStatus: 403,
    summary: 'an unexpected error inside the server; fails closed (allowed only on shadow routes)',
  },
} as const satisfies Record<string, ReasonInfo>;

/** A reason code from the catalog. */
export type Reason = keyof typeof REASONS;

/** All reason codes, in catalog order. */
export const REASON_CODES = Object.freeze(Object.keys(REASONS) as Reason[]);
