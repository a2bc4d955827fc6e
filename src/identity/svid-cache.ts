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

/**
 * Recent hits looked at before the LRU. A Map lookup hashes its key, and a key here is a fresh
 * string per request (a 1.8 KB certificate costs ~2.3 µs to hash; a JWT ~0.8 µs), whereas `===`
 * against a remembered key is a length check and a memcmp (~70 ns for the same certificate).
 */
const RECENT = 8;

/** One cache: raw input → Result, each entry with its own expiry in ms. */
export class ResultCache<T, C extends string> {
  private readonly lru: LRUCache<string, Entry<T, C>> | undefined;
  private readonly recentKeys: (string | undefined)[] = new Array<string | undefined>(RECENT).fill(undefined);
  private readonly recentEntries: (Entry<T, C> | undefined)[] = new Array<Entry<T, C> | undefined>(RECENT).fill(undefined);
  private nextRecent = 0;
  private clears = 0;

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
    if (this.lru === undefined) return undefined;
    for (let i = 0; i < RECENT; i++) {
      if (this.recentKeys[i] !== key) continue;
      const r = this.recentEntries[i] as Entry<T, C>;
      if (now <= r.expiresAt) return r.result;
      this.forget(key);
      return undefined;
    }
    const e = this.lru.get(key);
    if (e === undefined) return undefined;
    if (now > e.expiresAt) {
      this.forget(key);
      return undefined;
    }
    this.recentKeys[this.nextRecent] = key;
    this.recentEntries[this.nextRecent] = e;
    this.nextRecent = (this.nextRecent + 1) % RECENT;
    return e.result;
  }

  /** Drops `key` from the LRU and from the recent hits. */
  private forget(key: string): void {
    this.lru?.delete(key);
    this.dropRecent(key);
  }

  private dropRecent(key: string): void {
    for (let i = 0; i < RECENT; i++) {
      if (this.recentKeys[i] === key) {
        this.recentKeys[i] = undefined;
        this.recentEntries[i] = undefined;
      }
    }
  }

  /**
   * Counts clear() calls. A result worked out asynchronously (a JWT-SVID) is set with the generation
   * read before the work began: when a bundle or the config changed meanwhile, it is not stored.
   */
  get generation(): number {
    return this.clears;
  }

  /**
   * Remembers a result: a success until `validUntil`, a failure for FAILURE_TTL_MS (some not at
   * all). Not when `generation` (see the getter) is not the current one.
   */
  set(key: string, result: Result<T, C>, now: number, validUntil: (value: T) => number, generation: number = this.clears): void {
    if (this.lru === undefined || key.length > MAX_KEY_CHARS || generation !== this.clears) return;
    // A new result for a key replaces the old one everywhere (the recent hits refill on the next get).
    this.dropRecent(key);
    if (result.ok) {
      const until = validUntil(result.value);
      // Not kept (already expired): no older result for the same input may outlive this one.
      if (until > now) this.lru.set(key, { result, expiresAt: until });
      else this.lru.delete(key);
      return;
    }
    const code = (result.error as Failure).code;
    // Oversized input is refused before any parsing, so remembering it would only cost memory.
    if (RECHECK.has(code) || code.endsWith('_TOO_LARGE')) {
      this.lru.delete(key);
      return;
    }
    this.lru.set(key, { result, expiresAt: now + FAILURE_TTL_MS });
  }

  /** Forgets everything (a bundle or the config changed). */
  clear(): void {
    this.clears++;
    this.lru?.clear();
    this.recentKeys.fill(undefined);
    this.recentEntries.fill(undefined);
  }

  /** Number of entries held. */
  get size(): number {
    return this.lru?.size ?? 0;
  }
}
