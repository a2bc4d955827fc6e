// Domain types of one Check: the transport-neutral input and the verdict. The Envoy wire shape never
// leaves src/grpc/; everything past the converter speaks these types.
import type { Reason } from './reasons.js';

/** Rollout modes: what a deny decision does to the request. */
export const MODES = ['shadow', 'warn', 'enforce'] as const;
/** A route's rollout mode. */
export type Mode = (typeof MODES)[number];

/** Identity sources, in the names the config uses. */
export const IDENTITY_SOURCES = ['principal', 'certificate', 'xfcc', 'jwt'] as const;
/** Where the caller's SPIFFE ID came from. */
export type IdentitySource = (typeof IDENTITY_SOURCES)[number];

/** The real decision of the policy, before the mode is applied. */
export type Decision = 'allow' | 'deny';
/** What actually happens to the request after the mode is applied. */
export type Effect = 'allow' | 'warn' | 'deny';

/** One Check request, converted from Envoy's CheckRequest: plain, readonly, already normalised. */
export interface CheckInput {
  /** `x-request-id`, else Envoy's stream id, else "". */
  readonly requestId: string;
  /** `:authority` lowercased, without port and without one trailing dot. */
  readonly host: string;
  /** HTTP method in upper case ("" for the network filter). */
  readonly method: string;
  /** Request path without query or fragment, as sent (not normalised). */
  readonly path: string;
  /** Lowercased header names; repeated headers already merged with ",". */
  readonly headers: Readonly<Record<string, string>>;
  /** Envoy's verified peer principal ("" when absent). */
  readonly principal: string;
  /** URL-encoded PEM of the peer certificate ("" when absent). */
  readonly certificate: string;
  /** `context_extensions.route`: the route Envoy names for this request, if any. */
  readonly routeName: string | undefined;
}

/** A caller identity established from one source. */
export interface CallerIdentity {
  readonly spiffeId: string;
  readonly trustDomain: string;
  readonly path: string;
  readonly source: IdentitySource;
  /** Other sources that named the same SPIFFE ID. */
  readonly agreed: readonly IdentitySource[];
}

/** The outcome of one Check: decision, effect and everything needed to render and record it. */
export interface Verdict {
  readonly decisionId: string;
  readonly route: string;
  readonly mode: Mode;
  /** The route's enforce percent in force (callers in the enforced cohort when the mode is enforce). */
  readonly enforcePercent: number;
  readonly decision: Decision;
  readonly effect: Effect;
  readonly reason: Reason;
  /** Human-readable detail of the reason (never contains secrets). */
  readonly detail: string;
  /** The rule that decided, e.g. `allow["prod.example.org"][0]`, or "". */
  readonly rule: string;
  readonly identity: CallerIdentity | undefined;
}
