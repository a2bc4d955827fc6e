// Trust-domain-scoped SPIFFE ID rules of one route, compiled for lookups that allocate nothing:
// exact paths and "/prefix/**" patterns are map lookups, only "*" patterns are scanned.
import { compilePathPattern, matchPathPattern, type PathPattern } from './path-pattern.js';
import { validateIdPath } from '../spiffe/spiffe-id.js';
import { ok, type Result } from '../result.js';

/** Compiled patterns of one trust domain for one list (allow or deny). */
export interface IdRuleSet {
  /** Rule id of a "**" pattern, if any. */
  readonly any: string | undefined;
  /** Exact path → rule id. */
  readonly exact: ReadonlyMap<string, string>;
  /** Prefix (without "/**") → rule id. */
  readonly prefixes: ReadonlyMap<string, string>;
  /** Patterns with "*" segments, scanned in order. */
  readonly wildcards: readonly { readonly pattern: PathPattern; readonly rule: string }[];
}

/** Rejects literal segments a SPIFFE ID path can never contain (spec-notes §1.3). */
function idSegmentProblem(segment: string): string | undefined {
  const r = validateIdPath('/' + segment);
  return r.ok ? undefined : r.error.detail;
}

/** A non-empty SPIFFE ID path (spec-notes §1.3): "/" segments of a-z A-Z 0-9 . - _, none "." or "..". */
const ID_PATH = /^(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9._-]+)+$/;
/** Longest SPIFFE ID, hence longest path (spec-notes §1.4), as validateIdPath counts it. */
const MAX_ID_PATH = 2048;

/**
 * True when a non-empty path is a valid ID path, exactly as validateIdPath(path).ok (tested so):
 * then each of its segments passes idSegmentProblem. One native regex test, no Result object: this
 * runs once per ID of the policy, often before the JIT has optimized anything.
 */
export function isIdPath(path: string): boolean {
  return path.length <= MAX_ID_PATH && ID_PATH.test(path);
}

/** One bad pattern: its index in the list and why. */
export interface IdRuleProblem {
  readonly index: number;
  readonly detail: string;
}

/**
 * Rule ids (`label[index]`), each built once and shared: the same ids recur on every route (a policy
 * of 1,000 routes has 1,000 `allow["prod.example.org"][0]`), so one compile keeps one copy of each.
 * Compiled prefix and wildcard patterns are shared the same way, by source.
 */
export class RuleIds {
  private readonly byLabel = new Map<string, string[]>();
  /**
   * compilePathPattern's result per source. Such patterns recur across routes ("/team/a/**" on every
   * route of a team): the bench's 1,000-route policy has 2,000 of them but 100 sources, and compiling
   * each once took the cold compileConfig from ~92 to ~85 ms (median of 21 fresh processes). Sharing
   * is safe: a compiled pattern is plain data, frozen by compileIdRules before any rule set holds it.
   */
  readonly patterns = new Map<string, Result<PathPattern, 'BAD_PATTERN'>>();

  /** The id of the rule at `index` in the list labelled `label`. */
  of(label: string, index: number): string {
    let ids = this.byLabel.get(label);
    if (ids === undefined) {
      ids = [];
      this.byLabel.set(label, ids);
    }
    return (ids[index] ??= `${label}[${index}]`);
  }
}

/** What rule sets without exact, prefix or wildcard rules share (most have one or two kinds only). */
const NO_RULES: ReadonlyMap<string, string> = unchangeableEmptyMap();
const NO_WILDCARDS: IdRuleSet['wildcards'] = Object.freeze([]);

/** An empty Map whose set, delete and clear throw: shared, so it must never change. */
function unchangeableEmptyMap(): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  for (const method of ['set', 'delete', 'clear'] as const) {
    Object.defineProperty(map, method, {
      value: () => {
        throw new TypeError('a shared empty rule map cannot change');
      },
    });
  }
  return Object.freeze(map);
}

/**
 * Compiles the patterns listed under one trust domain; `label` prefixes rule ids. Reports every bad
 * pattern. Pass one `ids` to all the calls of a compile to share the rule id strings.
 */
export function compileIdRules(
  patterns: readonly string[],
  label: string,
  ids: RuleIds = new RuleIds(),
): { readonly ok: true; readonly value: IdRuleSet } | { readonly ok: false; readonly errors: readonly IdRuleProblem[] } {
  const errors: IdRuleProblem[] = [];
  let any: string | undefined;
  let exact: Map<string, string> | undefined;
  let prefixes: Map<string, string> | undefined;
  let wildcards: { pattern: PathPattern; rule: string }[] | undefined;
  for (let i = 0; i < patterns.length; i++) {
    const source = patterns[i] as string;
    // An exact ID, by far the most common rule (a policy may list thousands): one check of the
    // whole path, no split. compilePathPattern would give the same exact pattern.
    if (source.charCodeAt(0) === 0x2f && !source.includes('*') && isIdPath(source)) {
      exact ??= new Map();
      if (!exact.has(source)) exact.set(source, ids.of(label, i));
      continue;
    }
    const rule = ids.of(label, i);
    // "/" compiles to an exact pattern no SPIFFE ID can match (the root ID has path "", and "/" is a
    // trailing slash): a deny rule "/" meant as "deny everything" would silently deny nothing.
    if (source === '/') {
      errors.push({ index: i, detail: 'no SPIFFE ID path is "/"; use "**" for any workload of the trust domain' });
      continue;
    }
    let compiled = ids.patterns.get(source);
    if (compiled === undefined) ids.patterns.set(source, (compiled = compilePathPattern(source, idSegmentProblem, isIdPath)));
    if (!compiled.ok) {
      errors.push({ index: i, detail: compiled.error.detail });
      continue;
    }
    const p = compiled.value;
    if (p.kind === 'any' || (p.kind === 'prefix' && p.prefix === '')) any ??= rule;
    else if (p.kind === 'exact') {
      exact ??= new Map();
      if (!exact.has(p.path)) exact.set(p.path, rule);
    } else if (p.kind === 'prefix') {
      prefixes ??= new Map();
      if (!prefixes.has(p.prefix)) prefixes.set(p.prefix, rule);
    } else (wildcards ??= []).push({ pattern: p, rule });
  }
  if (errors.length > 0) return { ok: false, errors };
  // Frozen here, so the snapshot that holds it needs no deep walk (its Maps are read-only by type).
  if (wildcards !== undefined) {
    for (const w of wildcards) {
      if (w.pattern.kind === 'segments') Object.freeze(w.pattern.segments);
      Object.freeze(w.pattern);
      Object.freeze(w);
    }
    Object.freeze(wildcards);
  }
  return ok(Object.freeze({ any, exact: exact ?? NO_RULES, prefixes: prefixes ?? NO_RULES, wildcards: wildcards ?? NO_WILDCARDS }));
}

/** Returns the id of the first rule that matches the (valid, non-root) ID path, or undefined. */
export function matchIdRules(set: IdRuleSet, path: string): string | undefined {
  if (set.any !== undefined) return set.any;
  const hit = set.exact.get(path);
  if (hit !== undefined) return hit;
  if (set.prefixes.size > 0) {
    // Walk the path and each ancestor: "/a/b/c", "/a/b", "/a" (segment boundaries only).
    let end = path.length;
    while (end > 0) {
      const rule = set.prefixes.get(end === path.length ? path : path.slice(0, end));
      if (rule !== undefined) return rule;
      end = path.lastIndexOf('/', end - 1);
    }
  }
  for (const w of set.wildcards) if (matchPathPattern(w.pattern, path)) return w.rule;
  return undefined;
}
