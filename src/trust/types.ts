// Trust bundles: the authorities of one trust domain (S4). Federation = one bundle per trust domain;
// an SVID is only ever validated with the bundle of its own trust domain, never a merged set.
import type { KeyObject, X509Certificate } from 'node:crypto';

/** A JWT-SVID signing key of a bundle (a `use: jwt-svid` JWK). */
export interface JwtAuthority {
  readonly kid: string;
  readonly key: KeyObject;
  /** JWK key type: "RSA" or "EC" (others are ignored when loading). */
  readonly kty: 'RSA' | 'EC';
  /** EC curve ("P-256", "P-384", "P-521") when kty is EC. */
  readonly crv: string | undefined;
}

/** The authorities of one trust domain. */
export interface TrustBundle {
  readonly trustDomain: string;
  /** X.509 roots (`use: x509-svid` entries or PEM certificates). Empty = no X.509 trust. */
  readonly x509Authorities: readonly X509Certificate[];
  /** JWT-SVID keys by kid. Empty = no JWT trust. */
  readonly jwtAuthorities: ReadonlyMap<string, JwtAuthority>;
  /** `spiffe_sequence` of a SPIFFE bundle, if given. */
  readonly sequence: number | undefined;
}

/** Looks up the bundle of a trust domain; undefined when none is configured or loaded. */
export type BundleLookup = (trustDomain: string) => TrustBundle | undefined;
