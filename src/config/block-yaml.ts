// The first and fastest config parser: block YAML as configs are written, read line by line straight
// into plain data (no tokens, no events, no tree). Its subset is narrower than fast-yaml.ts's: block
// mappings and sequences (compact forms included), single-line flow collections, single-line scalars
// without escapes, comments. Anything else returns undefined and the next parser takes the text; on
// what it accepts it must give exactly the data of `yaml`'s parseDocument + toJS (tested so).
import { resolvePlainScalar, textOutsideSubset } from './fast-yaml.js';

/** Longest key source accepted; `yaml` refuses implicit keys over 1024 characters. */
const MAX_KEY = 1000;
/** Deepest nesting accepted (a config nests 6 deep); bounds the recursion. */
const MAX_DEPTH = 64;
/**
 * Any character but these is left to the other parsers: line breaks, printable ASCII, and printable
 * non-ASCII without NEL, the line/paragraph separators, surrogates (even paired) and non-characters.
 * So no tabs (indentation rules) and no controls, on which YAML parsers differ.
 */
const UNSUPPORTED_CHARS = /[^\n\r\x20-\x7E\xA0-\u2027\u202A-\uD7FF\uE000-\uFFFD]/;

/** Thrown to abandon the parse; caught in parseBlockYaml only. */
class Decline extends Error {}
const DECLINE = new Decline('outside the block-YAML subset');

/** Parses block YAML into plain data, or returns undefined when the text is outside the subset. */
export function parseBlockYaml(text: string): { readonly value: unknown } | undefined {
  if (UNSUPPORTED_CHARS.test(text) || textOutsideSubset(text)) return undefined;
  try {
    const value = new LineParser(text).document();
    return { value: value ?? {} };
  } catch (e) {
    if (e instanceof Decline) return undefined;
    throw e;
  }
}

const SPACE = 0x20;
const HASH = 0x23;
const DASH = 0x2d;
const COLON = 0x3a;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const COMMA = 0x2c;
const CR = 0x0d;

/** May start a plain scalar at `p`: not an indicator (YAML 1.2 §7.3.3), except `-` before a digit or "." (-1, -.inf). */
function plainStartAt(t: string, p: number): boolean {
  const c = t.charCodeAt(p);
  if (c !== DASH) return plainStart(c);
  const d = t.charCodeAt(p + 1);
  return (d >= 0x30 && d <= 0x39) || d === 0x2e;
}

/** May start a plain scalar: not an indicator (stricter than YAML: no `-`, `?` or `:` starts). */
function plainStart(c: number): boolean {
  // - ? : , [ ] { } # & * ! | > ' " % @ `
  return !(
    c === DASH || c === 0x3f || c === COLON || c === COMMA || c === LBRACKET || c === RBRACKET || c === LBRACE || c === RBRACE ||
    c === HASH || c === 0x26 || c === 0x2a || c === 0x21 || c === 0x7c || c === 0x3e || c === SQUOTE || c === DQUOTE ||
    c === 0x25 || c === 0x40 || c === 0x60 || c === SPACE || Number.isNaN(c)
  );
}

/** A flow indicator: ends a plain scalar inside [ ] and { }. */
function flowIndicator(c: number): boolean {
  return c === COMMA || c === LBRACKET || c === RBRACKET || c === LBRACE || c === RBRACE;
}

class LineParser {
  private readonly text: string;
  /** Current content line: [start, end) without its line break; indent = spaces before content. */
  private start = 0;
  private end = 0;
  private indent = 0;
  /** Where the line after the current one starts; -1 at the end of the text. */
  private next = 0;
  private atEnd = false;
  private depth = 0;
  /** Whether the text has a backslash at all: most configs have none, and then no scalar is scanned for one. */
  private readonly backslashes: boolean;

  constructor(text: string) {
    this.text = text;
    this.backslashes = text.includes('\\');
    // A leading `---` line (textOutsideSubset lets only that one marker through).
    if (text.startsWith('---')) {
      const lf = text.indexOf('\n');
      this.next = lf === -1 ? text.length : lf + 1;
    }
    this.advance();
  }

  document(): unknown {
    if (this.atEnd) throw DECLINE; // empty or comments only: the reference path's case
    const value = this.node(this.indent);
    if (!this.atEnd) throw DECLINE;
    return value;
  }

  /** Moves to the next line with content (skipping blank and comment-only lines). */
  private advance(): void {
    const t = this.text;
    while (this.next < t.length) {
      const start = this.next;
      let end = t.indexOf('\n', start);
      this.next = end === -1 ? t.length : end + 1;
      if (end === -1) end = t.length;
      if (end > start && t.charCodeAt(end - 1) === CR) end--;
      let p = start;
      while (p < end && t.charCodeAt(p) === SPACE) p++;
      if (p === end || t.charCodeAt(p) === HASH) continue;
      this.start = start;
      this.end = end;
      this.indent = p - start;
      return;
    }
    this.atEnd = true;
    this.start = this.end = t.length;
    this.indent = -1;
  }

  /** A block node whose first token is at column `col` of the current line. */
  private node(col: number): unknown {
    if (++this.depth > MAX_DEPTH) throw DECLINE;
    const at = this.start + col;
    const c = this.text.charCodeAt(at);
    let value: unknown;
    if (c === DASH && this.isSeparator(at + 1)) value = this.sequence(col);
    else if (this.keyAt(at)) value = this.mapping(col);
    else {
      value = this.inline(at);
      this.advance();
    }
    this.depth--;
    return value;
  }

  /** True when `p` is a space or the end of the current line (what must follow `-` and `:`). */
  private isSeparator(p: number): boolean {
    return p >= this.end || this.text.charCodeAt(p) === SPACE;
  }

  private sequence(col: number): unknown[] {
    const items: unknown[] = [];
    for (;;) {
      // The current line has `-` at column col (the first one may follow an outer `- ` or `key:`).
      const dash = this.start + col;
      let p = dash + 1;
      while (p < this.end && this.text.charCodeAt(p) === SPACE) p++;
      if (p >= this.end || this.text.charCodeAt(p) === HASH) {
        if (p < this.end && p === dash + 1) throw DECLINE; // "-#": not a comment
        this.advance();
        items.push(!this.atEnd && this.indent > col ? this.node(this.indent) : null);
      } else {
        items.push(this.node(p - this.start));
      }
      if (this.atEnd || this.indent < col) return items;
      if (this.indent > col) throw DECLINE;
      const c = this.text.charCodeAt(this.start + col);
      if (!(c === DASH && this.isSeparator(this.start + col + 1))) {
        // A key at the column of the dashes: the end of a sequence that is a mapping's value
        // (`key:\n- a\nnext: b`), or an error; the caller decides.
        return items;
      }
    }
  }

  private mapping(col: number): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    for (;;) {
      if (!this.keyAt(this.start + col)) throw DECLINE;
      const name = this.keyName;
      const after = this.keyAfter;
      if (name === '__proto__' || Object.hasOwn(map, name)) throw DECLINE;
      let p = after;
      while (p < this.end && this.text.charCodeAt(p) === SPACE) p++;
      let value: unknown;
      if (p >= this.end || this.text.charCodeAt(p) === HASH) {
        if (p < this.end && p === after) throw DECLINE; // "a:#": not a comment
        this.advance();
        if (this.atEnd || this.indent < col) value = null;
        else if (this.indent > col) value = this.node(this.indent);
        else {
          const c = this.text.charCodeAt(this.start + col);
          // `key:` then `- item` lines at the key's own column: the sequence is the value.
          value = c === DASH && this.isSeparator(this.start + col + 1) ? this.sequence(col) : null;
        }
      } else {
        value = this.inline(p);
        this.advance();
        // A more indented line after an inline value would continue it (multi-line scalar) or be an error.
        if (!this.atEnd && this.indent > col) throw DECLINE;
      }
      map[name] = value;
      if (this.atEnd || this.indent < col) return map;
      if (this.indent > col) throw DECLINE;
      // At the mapping's column: another key, else (a `-` item) the reference path decides.
      if (!this.keyAt(this.start + col)) throw DECLINE;
    }
  }

  /**
   * True when a block mapping key starts at `at`, followed by `:` and a space or the end of the
   * line; then keyName is its name and keyAfter where the `:` ends.
   */
  private keyAt(at: number): boolean {
    // node() and mapping() both ask about the same line: answer once.
    if (at !== this.keyAtPos) {
      this.keyAtPos = at;
      this.keyFound = this.readKey(at);
    }
    return this.keyFound;
  }

  /** The last key read by keyAt: where it starts, whether there is one, its name, where its ":" ends. */
  private keyAtPos = -1;
  private keyFound = false;
  private keyName = '';
  private keyAfter = 0;

  private readKey(at: number): boolean {
    const t = this.text;
    const c = t.charCodeAt(at);
    let colon: number;
    let name: string;
    if (c === DQUOTE || c === SQUOTE) {
      const close = this.quotedEnd(at);
      if (close < 0) return false;
      name = t.slice(at + 1, close);
      colon = close + 1;
      while (colon < this.end && t.charCodeAt(colon) === SPACE) colon++;
      if (t.charCodeAt(colon) !== COLON) return false;
    } else {
      if (!plainStart(c)) return false;
      // A plain key ends at ": " or a final ":"; no "#" (comment), flow indicator or quote inside.
      let p = at;
      for (;;) {
        if (p >= this.end) return false;
        const d = t.charCodeAt(p);
        if (d === COLON && this.isSeparator(p + 1)) break;
        if (d === HASH || flowIndicator(d) || d === DQUOTE || d === SQUOTE) return false;
        p++;
      }
      colon = p;
      let nameEnd = p;
      while (nameEnd > at && t.charCodeAt(nameEnd - 1) === SPACE) nameEnd--;
      const resolved = resolvePlainScalar(t.slice(at, nameEnd));
      // Keys other than strings (null, numbers, booleans) are stringified by toJS: reference path.
      if (typeof resolved !== 'string') throw DECLINE;
      name = resolved;
    }
    if (colon - at > MAX_KEY || !this.isSeparator(colon + 1)) {
      if (c === DQUOTE || c === SQUOTE) throw DECLINE; // `"a":b` and the like
      return false;
    }
    this.keyName = name;
    this.keyAfter = colon + 1;
    return true;
  }

  /** Index of the closing quote of a one-line quoted scalar at `at`, or -1; declines escapes. */
  private quotedEnd(at: number): number {
    const t = this.text;
    const q = t.charCodeAt(at);
    const close = t.indexOf(q === DQUOTE ? '"' : "'", at + 1);
    if (close < 0 || close >= this.end) throw DECLINE; // multi-line or unterminated
    if (q === DQUOTE && this.backslashes) {
      // Escapes: the other parsers decode them. (A bounded scan: indexOf would search the whole text.)
      for (let i = at + 1; i < close; i++) if (t.charCodeAt(i) === 0x5c) throw DECLINE;
    } else if (t.charCodeAt(close + 1) === SQUOTE) throw DECLINE; // '' inside single quotes
    return close;
  }

  /** A value that ends on the current line (scalar or flow collection), then only a comment. */
  private inline(at: number): unknown {
    const t = this.text;
    const c = t.charCodeAt(at);
    let value: unknown;
    let p: number;
    if (c === LBRACKET || c === LBRACE) {
      value = this.flow(at);
      p = this.pos;
    } else if (c === DQUOTE || c === SQUOTE) {
      const close = this.quotedEnd(at);
      value = t.slice(at + 1, close);
      p = close + 1;
    } else {
      if (!plainStartAt(t, at)) throw DECLINE;
      // To the end of the line or a " #" comment; a ": " inside would be a nested mapping (an error).
      let e = at;
      while (e < this.end) {
        const d = t.charCodeAt(e);
        if (d === HASH && t.charCodeAt(e - 1) === SPACE) break;
        if (d === COLON && this.isSeparator(e + 1)) throw DECLINE;
        e++;
      }
      let v = e;
      while (v > at && t.charCodeAt(v - 1) === SPACE) v--;
      return resolvePlainScalar(t.slice(at, v));
    }
    // After a quoted scalar or a flow collection: spaces, then the end of the line or a comment.
    const afterValue = p;
    while (p < this.end && t.charCodeAt(p) === SPACE) p++;
    if (p < this.end && !(t.charCodeAt(p) === HASH && p > afterValue)) throw DECLINE;
    return value;
  }

  /** Where the last flow value or key read ended (set by flow, flowKey, flowValue: no result objects). */
  private pos = 0;

  /** A flow collection that opens at `at` and closes on the same line; sets pos past its end. */
  private flow(at: number): unknown {
    if (++this.depth > MAX_DEPTH) throw DECLINE;
    const t = this.text;
    const seq = t.charCodeAt(at) === LBRACKET;
    const closer = seq ? RBRACKET : RBRACE;
    const items: unknown[] = [];
    const map: Record<string, unknown> = {};
    let p = this.skipSpaces(at + 1);
    if (t.charCodeAt(p) === closer) {
      this.depth--;
      this.pos = p + 1;
      return seq ? items : map;
    }
    for (;;) {
      if (seq) {
        items.push(this.flowValue(p));
        p = this.skipSpaces(this.pos);
      } else {
        const name = this.flowKey(p);
        if (name === '__proto__' || Object.hasOwn(map, name)) throw DECLINE;
        map[name] = this.flowValue(this.skipSpaces(this.pos));
        p = this.skipSpaces(this.pos);
      }
      const c = t.charCodeAt(p);
      if (c === closer) {
        this.depth--;
        this.pos = p + 1;
        return seq ? items : map;
      }
      if (c !== COMMA) throw DECLINE; // `[a: b]` pairs, a missing comma, the end of the line
      p = this.skipSpaces(p + 1);
      if (t.charCodeAt(p) === closer) throw DECLINE; // a trailing comma
    }
  }

  private skipSpaces(p: number): number {
    while (p < this.end && this.text.charCodeAt(p) === SPACE) p++;
    return p;
  }

  /** A flow mapping key and the position after its `: ` (or `:` right after a quoted key). */
  private flowKey(p: number): string {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (c === DQUOTE || c === SQUOTE) {
      const close = this.quotedEnd(p);
      const colon = this.skipSpaces(close + 1);
      if (t.charCodeAt(colon) !== COLON || colon - p > MAX_KEY) throw DECLINE;
      this.pos = colon + 1;
      return t.slice(p + 1, close);
    }
    if (!plainStart(c)) throw DECLINE;
    let e = p;
    while (e < this.end) {
      const d = t.charCodeAt(e);
      if (d === COLON || d === HASH || flowIndicator(d) || d === DQUOTE || d === SQUOTE) break;
      e++;
    }
    if (t.charCodeAt(e) !== COLON || t.charCodeAt(e + 1) !== SPACE || e - p > MAX_KEY) throw DECLINE;
    let v = e;
    while (v > p && t.charCodeAt(v - 1) === SPACE) v--;
    const name = resolvePlainScalar(t.slice(p, v));
    if (typeof name !== 'string') throw DECLINE;
    this.pos = e + 1;
    return name;
  }

  /** A value inside a flow collection: a nested collection, a quoted or a plain scalar. */
  private flowValue(p: number): unknown {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (c === LBRACKET || c === LBRACE) return this.flow(p);
    if (c === DQUOTE || c === SQUOTE) {
      const close = this.quotedEnd(p);
      this.pos = close + 1;
      return t.slice(p + 1, close);
    }
    if (!plainStartAt(t, p)) throw DECLINE;
    let e = p;
    while (e < this.end) {
      const d = t.charCodeAt(e);
      if (flowIndicator(d)) break;
      // ":" (a pair, or content the parsers may split differently), "#", quotes: the others decide.
      if (d === COLON || d === HASH || d === DQUOTE || d === SQUOTE) throw DECLINE;
      e++;
    }
    let v = e;
    while (v > p && t.charCodeAt(v - 1) === SPACE) v--;
    this.pos = e;
    return resolvePlainScalar(t.slice(p, v));
  }
}
