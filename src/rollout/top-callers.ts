// The top would-deny callers of a route, in bounded memory whatever the number of distinct callers:
// the Space-Saving algorithm (Metwally, Agrawal, El Abbadi 2005). Any caller with more than N/capacity
// of the N recorded would-denies is guaranteed to be kept; counts may overestimate by at most `error`.

/** Caller key used when the request carried no identity (not a SPIFFE ID, so it collides with none). */
export const NO_IDENTITY = '(none)';

/** Default number of callers tracked per route. */
export const DEFAULT_TOP_CALLERS = 20;

/** One tracked caller: an estimated count (≥ the true count, ≤ it + error), when last seen and why. */
export interface TopCaller {
  readonly spiffeId: string;
  readonly count: number;
  /** Upper bound of the overestimate: the count the evicted entry had when this caller took its slot. */
  readonly error: number;
  /** Clock time (ms) of the caller's latest would-deny. */
  readonly lastSeen: number;
  /** Reason code of the caller's latest would-deny. */
  readonly reason: string;
}

class Entry {
  constructor(
    public spiffeId: string,
    public count: number,
    public error: number,
    public lastSeen: number,
    public reason: string,
  ) {}
}

/** Space-Saving summary of would-deny callers with a fixed capacity. */
export class TopCallers {
  private readonly entries = new Map<string, Entry>();

  /** `capacity` ≥ 1 entries are kept; a larger capacity gives exact counts for more callers. */
  constructor(readonly capacity: number = DEFAULT_TOP_CALLERS) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`top callers capacity must be an integer >= 1, got ${capacity}`);
  }

  /** Number of callers currently tracked (never more than `capacity`). */
  get size(): number {
    return this.entries.size;
  }

  /** Counts one would-deny of a caller (`undefined` = no identity). */
  record(spiffeId: string | undefined, reason: string, now: number): void {
    const key = spiffeId ?? NO_IDENTITY;
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      hit.count++;
      hit.lastSeen = now;
      hit.reason = reason;
      return;
    }
    if (this.entries.size < this.capacity) {
      this.entries.set(key, new Entry(key, 1, 0, now, reason));
      return;
    }
    // Full: the newcomer replaces the smallest count and inherits it as its possible overestimate.
    // A linear scan is O(capacity) but happens only for callers not tracked yet, and capacity is
    // small (20); the stream-summary linked list would make it O(1) at the cost of much more code.
    let min: Entry | undefined;
    for (const e of this.entries.values()) {
      // Ties evict the caller seen longest ago, so the list favours recent offenders.
      if (min === undefined || e.count < min.count || (e.count === min.count && e.lastSeen < min.lastSeen)) min = e;
    }
    if (min === undefined) return; // unreachable: capacity >= 1 and the map is full
    this.entries.delete(min.spiffeId);
    // Reuse the evicted object: no allocation per record beyond the map entry.
    min.error = min.count;
    min.count++;
    min.spiffeId = key;
    min.lastSeen = now;
    min.reason = reason;
    this.entries.set(key, min);
  }

  /** Up to `n` callers, by count descending (then most recent first, then by ID, for a stable order). */
  top(n: number = this.capacity): TopCaller[] {
    const all: TopCaller[] = [];
    for (const e of this.entries.values()) {
      all.push({ spiffeId: e.spiffeId, count: e.count, error: e.error, lastSeen: e.lastSeen, reason: e.reason });
    }
    all.sort(
      (a, b) =>
        b.count - a.count || b.lastSeen - a.lastSeen || (a.spiffeId < b.spiffeId ? -1 : a.spiffeId > b.spiffeId ? 1 : 0),
    );
    return all.slice(0, Math.max(0, n));
  }
}
