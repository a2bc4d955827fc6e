// Text → validated Config: YAML (JSON is a subset) parsed, then checked against the strict schema.
import { parseDocument } from 'yaml';
import { configSchema, type Config } from './schema.js';
import { formatKeyPath, type ConfigIssue, type ConfigResult } from './issues.js';

/** Parses and validates config text; every schema error comes back with its key path. */
export function parseConfigText(text: string): ConfigResult<Config> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0] ?? e.message })),
    };
  }
  let data: unknown;
  try {
    // toJS throws (rather than reporting in doc.errors) on an alias to an undefined anchor and on
    // an alias explosion; both are bad input, not bugs, so they become issues like any other.
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    return { ok: false, issues: [{ path: '(yaml)', message: e instanceof Error ? e.message : String(e) }] };
  }
  const parsed = configSchema.safeParse(data);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues: ConfigIssue[] = [];
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) issues.push({ path: formatKeyPath([...issue.path, key]), message: 'unknown key' });
    } else {
      issues.push({ path: formatKeyPath(issue.path), message: issue.message });
    }
  }
  return { ok: false, issues };
}
