// The one reason catalog: every decision carries a code from here. Codes are stable, documented in
// README.md (a test keeps the two in sync) and never reused for another meaning.

/** Where in the Check pipeline a reason is produced. */
export type ReasonPhase = 'route' | 'identity' | 'policy' | 'internal';

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

/** Every reason code, with its phase, status codes and one-line summary. */
export const REASONS = {
  ALLOWED: { phase: 'policy', grpcCode: OK, httpStatus: 200, summary: 'an allow rule of the route matched the caller' },
  NO_ROUTE: {
    phase: 'route',
    grpcCode: PERMISSION_DENIED,
    httpStatus: 403,
    summary: 'no configured route matched the request (or context_extensions named an unknown route)',
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
