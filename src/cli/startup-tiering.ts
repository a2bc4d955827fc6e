// V8's optimizing compiler (TurboFan) held off while the CLI reads its first config. Reading a large
// policy runs the YAML reader, zod and the policy compiler once over thousands of elements: enough
// calls to make V8 optimize ~60 of their functions (--trace-opt), but too few to earn that back.
// On a core the process has to itself (the bench pins the server to one), each optimization is
// compiled in the time the start-up would otherwise have had, and the optimized code mostly arrives
// after the loop it was for. Measured on the 1,000 × 10,000 bench policy, fresh processes pinned to
// one core: YAML 122-180 → 41 ms, zod 83-155 → 68-73, compile 96-142 → 47-65 (node --no-opt), and
// spawn → SERVING 796 → 525 ms median of 7 interleaved starts (the flag set at run time, as here).
// None of that code is on the Check path; the Check path is optimized as usual once the hold is
// released, which `serve` does as soon as the server is SERVING. Sparkplug (the baseline compiler)
// runs throughout.
import { setFlagsFromString } from 'node:v8';

/** Releases the hold: V8 optimizes hot functions again. Idempotent. */
export type ReleaseOptimizer = () => void;

/**
 * Whether the operator chose how V8 optimizes (node flags or NODE_OPTIONS): then the CLI leaves
 * the optimizer as it is, rather than turn on at release what they turned off.
 */
export function operatorSetsOptimizer(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const flags = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return flags.some((flag) => /^--(?:no-)?(?:opt|turbofan|jitless|always-opt|always-turbofan|max-opt)(?:=|$)/.test(flag.replaceAll('_', '-')));
}

/**
 * Turns TurboFan off until the returned function is called; Sparkplug and the interpreter keep
 * running everything. Does nothing (and its release nothing) when the operator set an optimizer flag.
 * Flags are process-wide: a caller releases in every outcome (finally), never leaving it held.
 */
export function holdOptimizer(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env['NODE_OPTIONS']): ReleaseOptimizer {
  if (operatorSetsOptimizer(execArgv, nodeOptions)) return () => undefined;
  setFlagsFromString('--no-turbofan');
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    setFlagsFromString('--turbofan');
  };
}
