// Config errors: each names the key path where it was found, e.g. `routes[2].allow["prod.example.org"][0]`.

/** One problem found in a config, with the path of the key at fault. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** Either a value, or every problem found. */
export type ConfigResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Formats a key path: numbers as [n], identifiers as .key, anything else as ["key"]. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(root)' : out;
}

/** Renders issues one per line, as the CLI and the log print them. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('\n');
}
