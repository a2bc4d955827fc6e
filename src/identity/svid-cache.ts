// Bounded LRU caches of verification results, keyed by the raw certificate or token text, so a
// repeated caller costs a map lookup instead of a parse (~1 ms per certificate). An entry is never
// used past the expiry of what it proved; failures are kept briefly (a flood of one bad input stays
// cheap) unless they depend on time or on a bundle that may still arrive.
import { LRUCache } from 'lru-cache';
import type { Failure, Result } from '../result.js';

/** How long a deterministic failure is remembered. */
export const FAILURE_TTL_MS = 60_000;

/** Failure codes that must be re-checked on the next request rather than cached. */
const RECHECK = new Set(['CERT_NOT_YET_VALID', 'BUNDLE_UNAVAILABLE', 'JWT_NOT_YET_VALID', 'JWT_UNKNOWN_KEY']);

interface Entry<T, C extends string> {
  readonly result: Result<T, C>;
  readonly expiresAt: number;
}

/** One cache: raw input → Result, each entry with its own expiry in ms. */
export class ResultCache<T, C extends string> {
  private readonly lru: LRUCache<string, Entry<T, C>> | undefined;

  constructor(maxEntries: number) {
    this.lru = maxEntries > 0 ? new LRUCache({ max: maxEntries }) : undefined;
  }

  /** The cached result for `key`, or undefined when absent or expired at `now`. */
  get(key: string, now: number): Result<T, C> | undefined {
    const e = this.lru?.get(key);
    if (e === undefined) return undefined;
    if (now > e.expiresAt) {
      this.lru?.delete(key);
      return undefined;
    }
    return e.result;
  }

  /** Remembers a result: a success until `validUntil`, a failure for FAILURE_TTL_MS (some not at all). */
  set(key: string, result: Result<T, C>, now: number, validUntil: (value: T) => number): void {
    if (this.lru === undefined) return;
    if (result.ok) {
      const until = validUntil(result.value);
      if (until > now) this.lru.set(key, { result, expiresAt: until });
      return;
    }
    if (RECHECK.has((result.error as Failure).code)) return;
    this.lru.set(key, { result, expiresAt: now + FAILURE_TTL_MS });
  }

  /** Forgets everything (a bundle or the config changed). */
  clear(): void {
    this.lru?.clear();
  }

  /** Number of entries held. */
  get size(): number {
    return this.lru?.size ?? 0;
  }
}
