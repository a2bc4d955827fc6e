// The CLI holds V8's optimizing compiler off while it reads its first config, and lets it run again
// after: checked with V8's own view of a function (%GetOptimizationStatus), not with timings. (That
// `serve` also turns allocation-site pretenuring off is not visible from JavaScript; the bench shows
// what it does: bench/README.md, hot-path item 20.)
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run-cli.js';
import { holdOptimizer, operatorSetsOptimizer, operatorSetsPretenuring } from '../../../src/cli/startup-tiering.js';

// Natives syntax is read when a function is parsed: functions made after this line may use it.
setFlagsFromString('--allow-natives-syntax');
const status = new Function('f', 'return %GetOptimizationStatus(f)') as (f: unknown) => number;
const prepare = new Function('f', '%PrepareFunctionForOptimization(f)') as (f: unknown) => void;
const optimizeNext = new Function('f', '%OptimizeFunctionOnNextCall(f)') as (f: unknown) => void;
/** V8's OptimizationStatus bits (src/runtime/runtime.h). */
const OPTIMIZED = 1 << 4;
const TURBOFANNED = 1 << 6;

/** A fresh function (own feedback), forced through V8's optimizing compiler once it is warm. */
function optimizedIfAllowed(): number {
  const f = new Function('a', 'return a * 3 + 1') as (a: number) => number;
  prepare(f);
  f(1);
  f(2);
  optimizeNext(f);
  f(3);
  return status(f);
}

describe('holdOptimizer', () => {
  it('keeps TurboFan off until released, then lets it optimize again', () => {
    expect(optimizedIfAllowed() & TURBOFANNED, 'optimized before any hold').toBe(TURBOFANNED);
    const release = holdOptimizer({ serving: false }, [], undefined);
    try {
      expect(optimizedIfAllowed() & OPTIMIZED).toBe(0);
    } finally {
      release();
    }
    expect(optimizedIfAllowed() & TURBOFANNED).toBe(TURBOFANNED);
    release(); // a second release changes nothing
    expect(optimizedIfAllowed() & TURBOFANNED).toBe(TURBOFANNED);
  });

  it('leaves the optimizer alone when the operator set an optimizer flag', () => {
    const release = holdOptimizer({ serving: true }, ['--max-old-space-size=512'], '--no-opt');
    try {
      expect(optimizedIfAllowed() & TURBOFANNED).toBe(TURBOFANNED);
    } finally {
      release();
    }
  });
});

describe('the CLI', () => {
  const quiet = { out: () => undefined, err: () => undefined };

  it('optimizes again after validate, whichever its outcome', async () => {
    expect(await runCli(['validate', 'config/default.yaml'], quiet)).toBe(0);
    expect(optimizedIfAllowed() & TURBOFANNED).toBe(TURBOFANNED);
    expect(await runCli(['validate', '/nonexistent/config.yaml'], quiet)).toBe(1);
    expect(optimizedIfAllowed() & TURBOFANNED).toBe(TURBOFANNED);
  });

  it('optimizes again after a serve that could not start', async () => {
    expect(await runCli(['serve', '--config', '/nonexistent/config.yaml'], quiet)).toBe(1);
    expect(optimizedIfAllowed() & TURBOFANNED).toBe(TURBOFANNED);
  });
});

describe('operatorSetsOptimizer', () => {
  it('sees optimizer flags on the command line and in NODE_OPTIONS, in either spelling', () => {
    expect(operatorSetsOptimizer(['--no-opt'], undefined)).toBe(true);
    expect(operatorSetsOptimizer([], '--max-old-space-size=512 --no_turbofan')).toBe(true);
    expect(operatorSetsOptimizer(['--jitless'], undefined)).toBe(true);
    expect(operatorSetsOptimizer(['--turbofan'], undefined)).toBe(true);
    expect(operatorSetsOptimizer(['--max-opt=2'], undefined)).toBe(true);
  });

  it('is not fooled by flags that merely contain "opt"', () => {
    expect(operatorSetsOptimizer(['--no-allocation-site-pretenuring'], undefined)).toBe(false);
    expect(operatorSetsOptimizer(['--optimize-for-size', '--enable-source-maps'], '--max-old-space-size=512')).toBe(false);
    expect(operatorSetsOptimizer([], undefined)).toBe(false);
    expect(operatorSetsOptimizer([], '')).toBe(false);
  });
});

describe('operatorSetsPretenuring', () => {
  it('sees the pretenuring flag either way, on the command line or in NODE_OPTIONS', () => {
    expect(operatorSetsPretenuring(['--allocation-site-pretenuring'], undefined)).toBe(true);
    expect(operatorSetsPretenuring([], '--max-old-space-size=512 --no_allocation_site_pretenuring')).toBe(true);
    expect(operatorSetsPretenuring(['--no-allocation-site-pretenuring'], undefined)).toBe(true);
  });

  it('ignores other flags', () => {
    expect(operatorSetsPretenuring(['--no-opt', '--trace-pretenuring'], '--max-old-space-size=512')).toBe(false);
    expect(operatorSetsPretenuring([], undefined)).toBe(false);
  });
});
