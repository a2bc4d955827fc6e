// The V8 flags an operator gave this process (node's command line or NODE_OPTIONS). Where the CLI
// sets a V8 flag itself at run time (heap-tuning.ts, startup-tiering.ts), an operator's own setting
// of that flag wins.

/**
 * Whether any of `names` (spelled with dashes, no leading `--`) was set on the command line or in
 * NODE_OPTIONS, in either spelling (`--heap_growing_percent` is `--heap-growing-percent`), with or
 * without a value, or negated (`--no-opt`).
 */
export function operatorSetsV8Flag(names: readonly string[], execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const pattern = new RegExp(`^--(?:no-)?(?:${names.join('|')})(?:=|$)`);
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((flag) => pattern.test(flag.replaceAll('_', '-')));
}
