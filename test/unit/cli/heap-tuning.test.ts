// The growing factor `serve` gives V8 follows the live heap: ~24 MB of room for a small heap, a
// factor of 2.3 for a large one, and the operator's own flag always wins.
import { describe, expect, it } from 'vitest';
import { HEADROOM_BYTES, MAX_PERCENT, MIN_PERCENT, growingPercentFor, operatorSetsGrowing } from '../../../src/cli/heap-tuning.js';

const MB = 1024 * 1024;

describe('growingPercentFor', () => {
  it('gives a small heap about HEADROOM_BYTES of room', () => {
    expect(growingPercentFor(12 * MB)).toBe(200);
    expect((growingPercentFor(12 * MB) / 100) * 12 * MB).toBeCloseTo(HEADROOM_BYTES, -4);
  });

  it('never goes under MIN_PERCENT for a large heap, nor over MAX_PERCENT for a tiny one', () => {
    expect(growingPercentFor(18 * MB)).toBe(133);
    expect(growingPercentFor(40 * MB)).toBe(MIN_PERCENT);
    expect(growingPercentFor(2 * 1024 * MB)).toBe(MIN_PERCENT);
    expect(growingPercentFor(4 * MB)).toBe(MAX_PERCENT);
  });

  it('falls back to the largest factor when the live size is unknown', () => {
    expect(growingPercentFor(0)).toBe(MAX_PERCENT);
    expect(growingPercentFor(Number.NaN)).toBe(MAX_PERCENT);
  });
});

describe('operatorSetsGrowing', () => {
  it('sees the flag on the node command line and in NODE_OPTIONS, in either spelling', () => {
    expect(operatorSetsGrowing(['--heap-growing-percent=80'], undefined)).toBe(true);
    expect(operatorSetsGrowing([], '--max-old-space-size=512 --heap_growing_percent=50')).toBe(true);
    expect(operatorSetsGrowing(['--enable-source-maps'], '--max-old-space-size=512')).toBe(false);
  });
});
