// Percentage enforcement (issue 5): which callers of an enforce route are in the enforced cohort.
// A caller's bucket is a stable hash of (route name, SPIFFE ID), so the same caller gets the same
// effect across requests, restarts and replicas, and raising the percent only adds callers.
//
// Why the hash is not security-sensitive: it only picks, among callers the policy already denies,
// who is denied and who is merely warned during a partial rollout, a state the operator chose.
// The decision itself is always computed by the policy; SPIFFE IDs are issued by the trust domain's
// CA, not picked by callers; and the worst a caller could gain by steering its bucket is the
// outside-cohort effect (warn/shadow) that 100% enforcement removes. So a fast public hash is
// enough: no key, no collision resistance needed, only stability and an even spread.
import type { Decision, Effect, Mode } from '../authz/types.js';
import { applyRollout } from './apply-rollout.js';

/** Number of cohort buckets: 10,000 so that percentages with 2 decimals map exactly to a bucket count. */
export const COHORT_BUCKETS = 10_000;

// The largest multiple of COHORT_BUCKETS that fits in 32 bits: hashes at or above it are re-mixed
// so that `% COHORT_BUCKETS` is exactly uniform (2^32 is not a multiple of 10,000).
const FAIR_LIMIT = Math.floor(0x1_0000_0000 / COHORT_BUCKETS) * COHORT_BUCKETS;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Bucket in [0, 10000) of a caller on a route; `undefined` (no identity) is one caller of its own. */
export function cohortBucket(route: string, spiffeId: string | undefined): number {
  // Key = UTF-8 of `route + "\0" + (spiffeId ?? "\0anonymous")`, hashed without building the string:
  // NUL cannot occur in a SPIFFE ID, so the anonymous key never collides with a real caller.
  let h = fnvString(FNV_OFFSET, route);
  h = fnvByte(h, 0);
  if (spiffeId === undefined) {
    h = fnvByte(h, 0);
    h = fnvString(h, 'anonymous');
  } else {
    h = fnvString(h, spiffeId);
  }
  // FNV-1a's low bits mix poorly and `%` reads mostly low bits: finish with murmur3's fmix32.
  h = fmix32(h);
  // Rejection keeps the reduction exactly fair; the loop runs again with probability < 2e-6.
  while (h >= FAIR_LIMIT) h = fmix32((h + 0x9e3779b9) >>> 0);
  return h % COHORT_BUCKETS;
}

/** The bucket threshold of a percentage: buckets below it are enforced (2 decimals, clamped to 0–100). */
export function cohortThreshold(enforcePercent: number): number {
  // NaN should never get past config validation; if it does, fall back to the default (100 %):
  // the route is configured to enforce and authorization fails closed.
  if (Number.isNaN(enforcePercent)) return COHORT_BUCKETS;
  // Rounded because 0.29 * 100 is 28.999999999999996 in binary floating point.
  const t = Math.round(enforcePercent * 100);
  return t <= 0 ? 0 : t >= COHORT_BUCKETS ? COHORT_BUCKETS : t;
}

/** Buckets a route's setting enforces: the threshold under enforce, 0 under shadow and warn. */
export function enforcedShare(mode: Mode, enforcePercent: number): number {
  return mode === 'enforce' ? cohortThreshold(enforcePercent) : 0;
}

/** Whether a bucket is in the enforced cohort at a percentage: 0 → nobody, 100 → everybody. */
export function inEnforcedCohort(bucket: number, enforcePercent: number): boolean {
  return bucket < cohortThreshold(enforcePercent);
}

/** What callers outside the enforced cohort of an enforce route get. */
export type OutsideCohortEffect = 'warn' | 'shadow';

/** Percentage settings of one request's route, with the caller's bucket (from `cohortBucket`). */
export interface PercentRollout {
  readonly enforcePercent: number;
  readonly outsideCohort: OutsideCohortEffect;
  readonly bucket: number;
}

/** The effect of a decision and whether the caller is in the enforced cohort of an enforce route. */
export interface PercentRolloutResult {
  readonly effect: Effect;
  /** True when the route is in enforce and this caller is in its cohort, whatever the decision. */
  readonly enforced: boolean;
}

/** `applyRollout` with percentage enforcement: outside the cohort, enforce behaves as `outsideCohort`. */
export function applyRolloutWithPercent(mode: Mode, decision: Decision, rollout: PercentRollout): PercentRolloutResult {
  if (mode !== 'enforce') return { effect: applyRollout(mode, decision), enforced: false };
  const enforced = inEnforcedCohort(rollout.bucket, rollout.enforcePercent);
  return { effect: applyRollout(enforced ? 'enforce' : rollout.outsideCohort, decision), enforced };
}

/** FNV-1a over the UTF-8 encoding of `s`, encoded inline so the hot path allocates nothing. */
function fnvString(hash: number, s: string): number {
  let h = hash;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = fnvByte(h, c);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    // A lone surrogate is encoded as U+FFFD, as TextEncoder does, so the bytes are always valid UTF-8.
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x800) {
      h = fnvByte(h, 0xc0 | (c >> 6));
    } else if (c < 0x10000) {
      h = fnvByte(h, 0xe0 | (c >> 12));
      h = fnvByte(h, 0x80 | ((c >> 6) & 0x3f));
    } else {
      h = fnvByte(h, 0xf0 | (c >> 18));
      h = fnvByte(h, 0x80 | ((c >> 12) & 0x3f));
      h = fnvByte(h, 0x80 | ((c >> 6) & 0x3f));
    }
    h = fnvByte(h, 0x80 | (c & 0x3f));
  }
  return h;
}

function fnvByte(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, FNV_PRIME) >>> 0;
}

// murmur3's 32-bit finaliser: full avalanche, so every output bit depends on every input bit.
function fmix32(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
