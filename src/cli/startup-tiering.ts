// V8's optimizing compiler (TurboFan) held off while the CLI reads its first config.
//
// Reading a large policy runs the YAML reader, zod and the policy compiler once over thousands of
// elements: enough calls to make V8 optimize ~60 of their functions (--trace-opt), too few to earn
// that back. On a core the process has to itself (the bench pins the server to one; a pod with a
// one-CPU limit is the same), each of those compiles takes time the start-up would otherwise have
// had, and the optimized code mostly arrives after the loop it was for. Fresh processes pinned to
// one core, 1,000 × 10,000 bench policy: YAML 122-180 → 41 ms, zod 83-155 → 68-73, compile
// 96-142 → 47-65 with the optimizer off; spawn → SERVING 762 → 543 ms, median of 7 interleaved
// starts (bench/README.md, hot-path items 19 and 20). Sparkplug (the baseline compiler) runs throughout, and
// the Check path is optimized as usual once `serve` releases the hold at SERVING.
//
// `serve` also turns V8's allocation-site pretenuring off, for the life of the process. Held alone,
// the optimizer cost the same policy a third of its throughput: with the start-up run unoptimized,
// V8 switched ~17 allocation sites of the request path to "tenure" in the first seconds of load
// (--trace-pretenuring-statistics; none without the hold), so per-request objects went straight to
// the old generation: 0.56-0.72× the empty handler's throughput in every run. (Why the unoptimized
// start-up tips those decisions was not pinned down; the interpreter leaving more allocation
// mementos than optimized code is the likely reason.) With pretenuring off as well: 0.93-1.33×, as
// without the hold (bench/README.md, hot-path item 20). Without the hold V8 pretenured none of
// those sites either, so this server's steady state is the one it had; what it gives up is
// pretenuring of long-lived objects, which only a config (re)load makes, and those survive two
// scavenges instead.
import { setFlagsFromString } from 'node:v8';
import { operatorSetsV8Flag } from './operator-flags.js';

/** Releases the hold: V8 optimizes hot functions again. Idempotent. */
export type ReleaseOptimizer = () => void;

/**
 * Whether the operator chose how V8 optimizes (node flags or NODE_OPTIONS): then the CLI leaves
 * the optimizer as it is, rather than turn on at release what they turned off.
 */
export function operatorSetsOptimizer(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return operatorSetsV8Flag(['opt', 'turbofan', 'jitless', 'always-opt', 'always-turbofan', 'max-opt'], execArgv, nodeOptions);
}

/** Whether the operator set V8's allocation-site pretenuring themselves: theirs wins. */
export function operatorSetsPretenuring(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return operatorSetsV8Flag(['allocation-site-pretenuring'], execArgv, nodeOptions);
}

/** What the hold is for. */
export interface HoldOptions {
  /**
   * `serve`: also turn allocation-site pretenuring off for good (see the top of this file).
   * `validate` reads one config and exits, so it leaves pretenuring alone.
   */
  readonly serving: boolean;
}

/**
 * Turns TurboFan off until the returned function is called; Sparkplug and the interpreter keep
 * running everything. Does nothing (and its release nothing) when the operator set an optimizer flag.
 * Flags are process-wide: a caller releases in every outcome (finally), never leaving it held.
 */
export function holdOptimizer(
  options: HoldOptions,
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env['NODE_OPTIONS'],
): ReleaseOptimizer {
  if (operatorSetsOptimizer(execArgv, nodeOptions)) return () => undefined;
  if (options.serving && !operatorSetsPretenuring(execArgv, nodeOptions)) setFlagsFromString('--no-allocation-site-pretenuring');
  setFlagsFromString('--no-turbofan');
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    setFlagsFromString('--turbofan');
  };
}
