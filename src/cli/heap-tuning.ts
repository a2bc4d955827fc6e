// V8's old-generation growing factor while serving. Under load, grpc-js and node's http2 promote
// short-lived call state to the old generation: ~45 KB per scavenge most of the time, and ~2 MB per
// scavenge for stretches of a second or more (measured with --trace-gc-nvp, in an empty grpc-js
// server as in this one). V8 lets the old generation grow to up to 4x what was live after its last
// full collection before it collects again. With a 1,000-route policy (~18 MB live) that garbage
// was held in RSS: peak 1.38x an empty grpc-js server's. A fixed factor of 2.3 brought that to
// ~1.18x, but gave a small heap (~12 MB live) only ~16 MB of room, against the ~24 MB V8 gives an
// empty server: more full collections, and ~5 % less throughput than the large policy for the
// same requests. So the factor follows the live heap: about HEADROOM_BYTES of room, never less
// than MIN_PERCENT, never more than V8's own largest factor.
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { operatorSetsV8Flag } from './operator-flags.js';

/** Room for garbage the old generation gets before a full collection, when the live heap is small. */
export const HEADROOM_BYTES = 24 * 1024 * 1024;
/** Smallest growing percent (a factor of 2.3): what large heaps get. */
export const MIN_PERCENT = 130;
/** Largest growing percent (a factor of 4, V8's own ceiling). */
export const MAX_PERCENT = 300;

/** The growing percent for a live old generation of `liveBytes`. */
export function growingPercentFor(liveBytes: number): number {
  if (!(liveBytes > 0)) return MAX_PERCENT;
  const percent = Math.round((100 * HEADROOM_BYTES) / liveBytes);
  return Math.min(MAX_PERCENT, Math.max(MIN_PERCENT, percent));
}

/** Whether the operator chose a factor (node flag or NODE_OPTIONS): theirs wins. */
export function operatorSetsGrowing(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return operatorSetsV8Flag(['heap-growing-percent'], execArgv, nodeOptions);
}

/** Bytes in use in the old generation as V8 sizes it for its limit: every space but the young ones. */
function oldGenerationUsed(): number {
  let used = 0;
  for (const s of getHeapSpaceStatistics()) if (s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space') used += s.space_used_size;
  return used;
}

/** What tuneHeap leaves running. */
export interface HeapTuning {
  /**
   * Starts following the live heap: after each full collection the factor is set again from the
   * old generation then in use. Called once the server is serving: the GC observer it installs
   * runs on every collection, and start-up runs dozens of them (~15 ms of observer callbacks with a
   * 1,000-route policy, profiled) while its heap is not yet the steady one anyway.
   */
  follow(): void;
  stop(): void;
}

const NOTHING: HeapTuning = { follow: () => undefined, stop: () => undefined };

/**
 * Sets the growing factor for `serve`. `SPIFFE_AUTHZ_HEAP_GROWING_PERCENT` fixes it (0: V8's
 * default); an operator's own --heap-growing-percent wins over both. Otherwise it starts at
 * MIN_PERCENT now and, from follow() on, is set again after each full collection from the old
 * generation then in use (what survived it), when that moves it by 10 points or more.
 */
export function tuneHeap(env: Readonly<Record<string, string | undefined>>, execArgv: readonly string[] = process.execArgv): HeapTuning {
  if (operatorSetsGrowing(execArgv, env['NODE_OPTIONS'])) return NOTHING;
  const raw = env['SPIFFE_AUTHZ_HEAP_GROWING_PERCENT'];
  if (raw !== undefined && raw !== '') {
    const fixed = Number(raw);
    if (Number.isFinite(fixed) && fixed > 0) setFlagsFromString(`--heap-growing-percent=${Math.round(fixed)}`);
    return NOTHING;
  }
  let current = MIN_PERCENT;
  setFlagsFromString(`--heap-growing-percent=${current}`);
  let observer: PerformanceObserver | undefined;
  return {
    follow() {
      if (observer !== undefined) return;
      observer = new PerformanceObserver((list) => {
        let major = false;
        for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
          if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major = true;
        }
        if (!major) return;
        const next = growingPercentFor(oldGenerationUsed());
        if (Math.abs(next - current) < 10) return;
        current = next;
        setFlagsFromString(`--heap-growing-percent=${current}`);
      });
      observer.observe({ entryTypes: ['gc'] });
    },
    stop() {
      observer?.disconnect();
    },
  };
}
