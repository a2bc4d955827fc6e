// Segment-wise path patterns, shared by request routes and SPIFFE ID rules:
//   "/a/b"     exact (byte equality)
//   "/a/*/c"   "*" is exactly one non-empty segment
//   "/a/**"    "/a" and everything below it, on segment boundaries (never "/ab")
//   "**"       anything
// Compiled once at config load; matching allocates nothing (spec-notes §1.7 DECISION).
import { fail, ok, type Result } from '../result.js';

/** A compiled pattern. `kind` lets callers index exact and prefix patterns in maps. */
export type PathPattern =
  | { readonly kind: 'any'; readonly source: string }
  | { readonly kind: 'exact'; readonly source: string; readonly path: string }
  | { readonly kind: 'prefix'; readonly source: string; readonly prefix: string }
  | {
      readonly kind: 'segments';
      readonly source: string;
      /** Literal segments, or null for "*". */
      readonly segments: readonly (string | null)[];
      /** True when the pattern ends in "/**". */
      readonly open: boolean;
    };

/**
 * Compiles a pattern; `segmentOk` says which literal segments are legal for this kind of path.
 * `literalOk`, when given, is a one-pass check of a whole literal path ("/a/b") that must be true
 * only if every segment is non-empty and passes `segmentOk`: exact and "/literal/**" patterns that
 * pass it compile without being split (the common case: a policy lists thousands of exact IDs).
 */
export function compilePathPattern(
  source: string,
  segmentOk: (segment: string) => string | undefined = () => undefined,
  literalOk?: (path: string) => boolean,
): Result<PathPattern, 'BAD_PATTERN'> {
  if (source === '**') return ok({ kind: 'any', source });
  if (!source.startsWith('/')) return fail('BAD_PATTERN', 'must start with "/" (or be "**" for anything)');
  if (source === '/') return ok({ kind: 'exact', source, path: '/' });
  if (literalOk !== undefined) {
    const open = source.endsWith('/**');
    const literal = open ? source.slice(0, -3) : source;
    // Without a "*" the loop below would find the same literal segments and build the same pattern.
    if (literal !== '' && !literal.includes('*') && literalOk(literal)) {
      return ok(open ? { kind: 'prefix', source, prefix: literal } : { kind: 'exact', source, path: literal });
    }
  }
  const parts = source.slice(1).split('/');
  let open = false;
  if (parts[parts.length - 1] === '**') {
    open = true;
    parts.pop();
  }
  const segments: (string | null)[] = [];
  for (const [i, part] of parts.entries()) {
    if (part === '') return fail('BAD_PATTERN', 'empty segment ("//" or trailing "/")');
    if (part === '*') {
      segments.push(null);
      continue;
    }
    if (part === '**') return fail('BAD_PATTERN', '"**" is only allowed as the last segment');
    if (part.includes('*')) return fail('BAD_PATTERN', `"*" must be a whole segment (segment ${i + 1}: "${part}")`);
    const problem = segmentOk(part);
    if (problem !== undefined) return fail('BAD_PATTERN', `segment ${i + 1} "${part}": ${problem}`);
    segments.push(part);
  }
  if (segments.every((s) => s !== null)) {
    const literal = segments.length === 0 ? '' : '/' + segments.join('/');
    return ok(open ? { kind: 'prefix', source, prefix: literal } : { kind: 'exact', source, path: literal });
  }
  return ok({ kind: 'segments', source, segments, open });
}

/** True when `path` matches the compiled pattern. */
export function matchPathPattern(pattern: PathPattern, path: string): boolean {
  switch (pattern.kind) {
    case 'any':
      return true;
    case 'exact':
      return path === pattern.path;
    case 'prefix':
      return isUnderPrefix(path, pattern.prefix);
    case 'segments':
      return matchSegments(pattern.segments, pattern.open, path);
  }
}

/** `path` equals `prefix` or lies below it on a segment boundary. */
export function isUnderPrefix(path: string, prefix: string): boolean {
  if (prefix === '') return true;
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 0x2f);
}

function matchSegments(segments: readonly (string | null)[], open: boolean, path: string): boolean {
  if (path.charCodeAt(0) !== 0x2f) return false;
  let pos = 1;
  for (const seg of segments) {
    if (pos > path.length) return false;
    let end = path.indexOf('/', pos);
    if (end === -1) end = path.length;
    if (end === pos) return false; // empty segment never matches
    if (seg !== null && (end - pos !== seg.length || !path.startsWith(seg, pos))) return false;
    pos = end + 1;
  }
  // pos now points past the separator after the last matched segment (or past the end).
  if (pos > path.length) return true; // consumed exactly
  return open; // more segments remain: only an open pattern accepts them
}
