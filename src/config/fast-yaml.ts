// The second fast parser (after block-yaml.ts): js-yaml's event parser (no CST, no AST) and a small
// constructor that builds the plain data only for the simple YAML a config is written in (JSON and
// multi-line flow collections included, which block-yaml.ts leaves). Anything outside that
// subset returns undefined, and the caller parses the text again with `yaml`'s parseDocument, the
// reference path that also reports errors with line, column and key path. So this path only has to
// be right on what it accepts: for such a text it gives the same data as parseDocument + toJS.
import { EVENT_ID, SCALAR_STYLE, parseEvents, type Event } from 'js-yaml';

/**
 * Nesting beyond this is left to the reference path (a config nests 6 deep); it also bounds the
 * parser's work on `[[[[...` before it gives up.
 */
const MAX_DEPTH = 64;

/**
 * Where the two parsers were seen to read the same text differently, the text is left to the
 * reference: a byte order mark; a carriage return that is not part of CRLF (`yaml` reads a lone CR
 * as content, js-yaml as a line break); a tab in a line's indentation (an error for `yaml`).
 */
const OUTSIDE_SUBSET = /\uFEFF|\r(?!\n)|^[ ]*\t/m;
/** A `---` or `...` line (js-yaml also takes one after spaces, and a stray `...` as nothing). */
const DOCUMENT_MARKER = /^[ \t]*(?:---|\.\.\.)/m;
/** True when the text has something the fast parsers leave to the reference (see above). */
export function textOutsideSubset(text: string): boolean {
  return OUTSIDE_SUBSET.test(text) || (DOCUMENT_MARKER.test(text) && !onlyLeadingStartMarker(text));
}

/** True when the only marker is a `---` line opening the text, as Kubernetes-style files do. */
function onlyLeadingStartMarker(text: string): boolean {
  const rest = /^---\r?\n/.exec(text);
  return rest !== null && !DOCUMENT_MARKER.test(text.slice(rest[0].length));
}

/** No anchor, tag or scalar text range: js-yaml's marker for "absent". */
const ABSENT = -1;

type Frame =
  | { readonly kind: 'document'; value: unknown; filled: boolean }
  | { readonly kind: 'sequence'; readonly value: unknown[] }
  | { readonly kind: 'mapping'; readonly value: Record<string, unknown>; key: string | undefined };

/**
 * Parses config text into plain data, or returns undefined when the text is not in the subset this
 * path handles: one document without directives; no anchors, aliases or tags; every scalar on one
 * line without escapes (plain, or quoted without `\` or `''`); every mapping key a string that is
 * neither `__proto__` nor repeated. Plain scalars resolve by the YAML 1.2 core schema, as `yaml`'s
 * default (strict) schema does; `null` / an empty document becomes `{}`, as in parseConfigText.
 */
export function parseSimpleYaml(text: string): { readonly value: unknown } | undefined {
  if (textOutsideSubset(text)) return undefined;
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: MAX_DEPTH });
  } catch {
    return undefined;
  }
  const stack: Frame[] = [];
  let documents = 0;
  let result: unknown;
  for (const e of events) {
    let value: unknown;
    switch (e.type) {
      case EVENT_ID.DOCUMENT:
        // A second document is an error for parseConfigText; directives (%YAML 1.1, %TAG) change
        // how the rest resolves. Both are the reference path's to handle.
        if (++documents > 1 || e.directives.length > 0) return undefined;
        stack.push({ kind: 'document', value: undefined, filled: false });
        continue;
      case EVENT_ID.SEQUENCE:
        if (e.anchorStart !== ABSENT || e.tagStart !== ABSENT) return undefined;
        stack.push({ kind: 'sequence', value: [] });
        continue;
      case EVENT_ID.MAPPING:
        if (e.anchorStart !== ABSENT || e.tagStart !== ABSENT) return undefined;
        stack.push({ kind: 'mapping', value: {}, key: undefined });
        continue;
      case EVENT_ID.ALIAS:
        return undefined;
      case EVENT_ID.SCALAR:
        if (e.anchorStart !== ABSENT || e.tagStart !== ABSENT) return undefined;
        if (e.valueStart === ABSENT) {
          // An empty node (`key:`), which the core schema reads as null; quoted empties have a range.
          if (e.style !== SCALAR_STYLE.PLAIN) return undefined;
          value = null;
        } else {
          // `fast`: the value is the source slice as is (one line, no escapes, no folding).
          if (!e.fast) return undefined;
          const source = text.slice(e.valueStart, e.valueEnd);
          if (e.style === SCALAR_STYLE.PLAIN) value = resolvePlainScalar(source);
          else if (e.style === SCALAR_STYLE.SINGLE_QUOTED || e.style === SCALAR_STYLE.DOUBLE_QUOTED) value = source;
          else return undefined;
        }
        break;
      case EVENT_ID.POP: {
        const frame = stack.pop();
        if (frame === undefined) return undefined;
        if (frame.kind === 'document') {
          if (!frame.filled) return undefined;
          result = frame.value;
          continue;
        }
        if (frame.kind === 'mapping' && frame.key !== undefined) return undefined;
        value = frame.value;
        break;
      }
      default:
        return undefined;
    }
    // Attach the finished node (a scalar, or a collection just closed) to its parent.
    const parent = stack[stack.length - 1];
    if (parent === undefined) return undefined;
    if (parent.kind === 'sequence') parent.value.push(value);
    else if (parent.kind === 'mapping') {
      if (parent.key === undefined) {
        // Keys other than strings are stringified by toJS in ways a check could get wrong (null
        // becomes ""); "__proto__" needs its own error; a repeated key is an error. All: reference path.
        if (typeof value !== 'string' || value === '__proto__' || Object.hasOwn(parent.value, value)) return undefined;
        if (e.type !== EVENT_ID.SCALAR || !isCompactImplicitKey(text, e.style === SCALAR_STYLE.PLAIN ? e.valueStart : e.valueStart - 1, e.style === SCALAR_STYLE.PLAIN ? e.valueEnd : e.valueEnd + 1)) return undefined;
        parent.key = value;
      } else {
        parent.value[parent.key] = value;
        parent.key = undefined;
      }
    } else {
      if (parent.filled) return undefined;
      parent.value = value;
      parent.filled = true;
    }
  }
  if (documents !== 1 || stack.length !== 0) return undefined;
  return { value: result ?? {} };
}

/** Longest implicit key, up to its `:`, that `yaml` accepts is 1024 characters (spec 1.2.2 §7.4.2, §8.2.2). */
const MAX_IMPLICIT_KEY = 1000;

/**
 * True when the key at [start, end) is followed on its line by `:` within MAX_IMPLICIT_KEY of its
 * start. Explicit `? key` entries, keys without a value, longer keys: all left to the reference.
 */
function isCompactImplicitKey(text: string, start: number, end: number): boolean {
  let p = end;
  while (p < text.length && (text.charCodeAt(p) === 0x20 || text.charCodeAt(p) === 0x09)) p++;
  return text.charCodeAt(p) === 0x3a && p - start <= MAX_IMPLICIT_KEY;
}

// The YAML 1.2 core schema (spec 1.2.2 §10.3.2), with `yaml`'s resolution of each form.
const CORE_NULL = /^(?:~|[Nn]ull|NULL)?$/;
const CORE_BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const CORE_INT_OCT = /^0o[0-7]+$/;
const CORE_INT = /^[-+]?[0-9]+$/;
const CORE_INT_HEX = /^0x[0-9a-fA-F]+$/;
const CORE_INF_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const CORE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/** Characters a non-string core scalar can start with: `~ + - .`, digits, and n N t T f F. */
function mayBeNonString(first: number): boolean {
  return (
    (first >= 0x30 && first <= 0x39) ||
    first === 0x7e || first === 0x2b || first === 0x2d || first === 0x2e ||
    first === 0x6e || first === 0x4e || first === 0x74 || first === 0x54 || first === 0x66 || first === 0x46
  );
}

/** Resolves a plain scalar's text to null, boolean, number or string, as the core schema does. */
export function resolvePlainScalar(source: string): unknown {
  if (source === '') return null;
  if (!mayBeNonString(source.charCodeAt(0))) return source;
  if (CORE_NULL.test(source)) return null;
  if (CORE_BOOL.test(source)) return source[0] === 't' || source[0] === 'T';
  if (CORE_INT_OCT.test(source)) return parseInt(source.slice(2), 8);
  if (CORE_INT.test(source)) return parseInt(source, 10);
  if (CORE_INT_HEX.test(source)) return parseInt(source.slice(2), 16);
  if (CORE_INF_NAN.test(source)) {
    if (source.endsWith('nan') || source.endsWith('NaN') || source.endsWith('NAN')) return NaN;
    return source[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  // Both of `yaml`'s float forms (with exponent, with a dot) resolve with parseFloat.
  if (CORE_FLOAT.test(source)) return parseFloat(source);
  return source;
}
