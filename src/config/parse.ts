// Text → validated Config: YAML (JSON is a subset) parsed, then checked against the strict schema.
// Three parsers, each taking what the one before declined: block YAML as configs are written, read
// line by line (block-yaml.ts); js-yaml's event parser for the other plain YAML and JSON
// (fast-yaml.ts); `yaml`'s parseDocument, the reference, for everything else and for every config
// that fails, so each error still names its line, column or key path exactly as the reference does.
import { parseDocument, visit, type Document } from 'yaml';
import { parseBlockYaml } from './block-yaml.js';
import { parseSimpleYaml } from './fast-yaml.js';
import { configSchema, type Config } from './schema.js';
import { formatKeyPath, type ConfigIssue, type ConfigResult } from './issues.js';

/** Parses and validates config text; every schema error comes back with its key path. */
export function parseConfigText(text: string): ConfigResult<Config> {
  const simple = readSimpleConfigData(text);
  if (simple !== undefined) {
    // The fast path only ever succeeds: a config it cannot take, or one the schema rejects, is
    // parsed again below, so that the issues come from one place whichever parser read it first.
    const parsed = configSchema.safeParse(simple.value);
    if (parsed.success) return { ok: true, value: parsed.data };
  }
  return parseConfigDocument(text);
}

/** The plain data of config text from the fast parsers, or undefined when neither takes the text. */
export function readSimpleConfigData(text: string): { readonly value: unknown } | undefined {
  return parseBlockYaml(text) ?? parseSimpleYaml(text);
}

/** The plain data of config text as parseConfigText reads it: a fast parser's, else the reference's. */
export function readConfigData(text: string): ConfigResult<unknown> {
  const simple = readSimpleConfigData(text);
  return simple !== undefined ? { ok: true, value: simple.value } : readYamlDocument(text);
}

/** The reference path: parseDocument, then the schema. Same result as parseConfigText, slower. */
export function parseConfigDocument(text: string): ConfigResult<Config> {
  const data = readYamlDocument(text);
  if (!data.ok) return data;
  return validateConfig(data.value);
}

/**
 * Text → plain data with `yaml`'s parseDocument: YAML errors with line and column, duplicate keys,
 * alias cycles and explosions, and `__proto__` keys all reported as issues. Empty text gives {}.
 */
export function readYamlDocument(text: string): ConfigResult<unknown> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0] ?? e.message })),
    };
  }
  const aliasProblem = aliasCycle(doc);
  if (aliasProblem !== undefined) return { ok: false, issues: [{ path: '(yaml)', message: aliasProblem }] };
  let data: unknown;
  try {
    // toJS throws (rather than reporting in doc.errors) on an alias to an undefined anchor and on
    // an alias explosion; both are bad input, not bugs, so they become issues like any other.
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    return { ok: false, issues: [{ path: '(yaml)', message: e instanceof Error ? e.message : String(e) }] };
  }
  const structural = structuralProblem(data);
  if (structural !== undefined) return { ok: false, issues: [structural] };
  return { ok: true, value: data };
}

/** Checks plain data against the schema; each issue names its key path. */
function validateConfig(data: unknown): ConfigResult<Config> {
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

/** Most aliases a config may use; plenty for sharing ID lists, and bounds the work below. */
const MAX_ALIASES = 1000;

/**
 * Finds an alias inside the node it refers to, before anything resolves it: yaml's toJS takes time
 * super-linear in the aliases of such a cycle (minutes for a few KB), and a cycle is never a config.
 */
function aliasCycle(doc: Document): string | undefined {
  let count = 0;
  let problem: string | undefined;
  visit(doc, {
    Alias(_key, node, path) {
      count++;
      if (count > MAX_ALIASES) {
        problem = `more than ${MAX_ALIASES} aliases`;
        return visit.BREAK;
      }
      const target = node.resolve(doc);
      if (target !== undefined && path.includes(target)) {
        problem = `the alias *${node.source} is inside the node it refers to (a cycle)`;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return problem;
}

/**
 * Rejects what plain objects cannot carry faithfully: `__proto__` keys (dropped silently by records,
 * so a rule under them would vanish without an error) and, as a second line behind aliasCycle, any
 * circular structure. Linear in the document: each object is walked once, however often shared.
 */
function structuralProblem(data: unknown): ConfigIssue | undefined {
  const onPath = new Set<object>();
  const done = new Set<object>();
  const walk = (value: unknown, path: PropertyKey[]): ConfigIssue | undefined => {
    if (value === null || typeof value !== 'object') return undefined;
    if (onPath.has(value)) return { path: formatKeyPath(path), message: 'a YAML alias refers to the node that contains it' };
    if (done.has(value)) return undefined;
    onPath.add(value);
    const entries: [PropertyKey, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    for (const [key, child] of entries) {
      if (key === '__proto__') return { path: formatKeyPath([...path, key]), message: 'the key "__proto__" is not allowed' };
      const problem = walk(child, [...path, key]);
      if (problem !== undefined) return problem;
    }
    onPath.delete(value);
    done.add(value);
    return undefined;
  };
  return walk(data, []);
}
