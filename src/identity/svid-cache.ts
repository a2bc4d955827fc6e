// Bounded LRU caches of verification results, keyed by the raw certificate or token text, so a
// repeated caller costs a map lookup instead of a parse (~1 ms per certificate). An entry is never
// used past the expiry of what it proved; failures are kept briefly (a flood of one bad input stays
// cheap) unless they depend on time or on a bundle that may still arrive.
import { LRUCache } from 'lru-cache';
import type { Failure, Result } from '../result.js';

/** How long a deterministic failure is remembered. */
export const FAILURE_TTL_MS = 60_000;

/** Memory a cache may hold for its entries, by default. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
/** Longest key (certificate text, token) a cache stores; longer inputs are verified every time. */
export const MAX_KEY_CHARS = 32 * 1024;
/** Rough fixed cost of one entry besides its key. */
const ENTRY_OVERHEAD = 256;

/** Failure codes that must be re-checked on the next request rather than cached. */
const RECHECK = new Set(['CERT_NOT_YET_VALID', 'BUNDLE_UNAVAILABLE', 'JWT_NOT_YET_VALID', 'JWT_UNKNOWN_KEY']);

interface Entry<T, C extends string> {
  readonly result: Result<T, C>;
  readonly expiresAt: number;
}

/** One cache: raw input → Result, each entry with its own expiry in ms. */
export class ResultCache<T, C extends string> {
  private readonly lru: LRUCache<string, Entry<T, C>> | undefined;

  constructor(maxEntries: number, maxBytes: number = DEFAULT_CACHE_BYTES) {
    // Bounded by count and by memory: keys are attacker-sized text, so an entry costs its key's
    // length (UTF-16) plus a fixed overhead, and one over MAX_KEY_CHARS is never stored.
    this.lru =
      maxEntries > 0
        ? new LRUCache({
            max: maxEntries,
            maxSize: maxBytes,
            maxEntrySize: 2 * MAX_KEY_CHARS + ENTRY_OVERHEAD,
            sizeCalculation: (_value, key) => 2 * key.length + ENTRY_OVERHEAD,
          })
        : undefined;
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
    if (this.lru === undefined || key.length > MAX_KEY_CHARS) return;
    if (result.ok) {
      const until = validUntil(result.value);
      if (until > now) this.lru.set(key, { result, expiresAt: until });
      return;
    }
    const code = (result.error as Failure).code;
    // Oversized input is refused before any parsing, so remembering it would only cost memory.
    if (RECHECK.has(code) || code.endsWith('_TOO_LARGE')) return;
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
