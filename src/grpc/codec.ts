// The Check RPC's wire codec, on the hot path of every request. proto-loader's generic codec turns
// each message into a plain object (toObject) through reflection and each response back through
// fromObject, which costs more than the whole decision. Here the request is read by hand, only the
// fields this server uses; responses are written with protobufjs's Writer (response-encoder.ts
// does so once per response shape and keeps the bytes), from its minimal build: the full one's
// parser and reflection are never needed here.
import protobuf from 'protobufjs/minimal.js';
import type { WireCheckRequest, WireCheckResponse, WireHeaderOption, WireHeaderValue, WireHttpRequest, WireValue } from './wire.js';

// --- CheckRequest: read by hand, only the fields fromEnvoy uses -----------------------------------
// Field numbers from attribute_context.proto (envoy.service.auth.v3) and base.proto (HeaderMap,
// HeaderValue). Every other field is skipped by its wire type, as any proto3 parser does with
// unknown fields; a known field with an unexpected wire type is skipped too. A repeated message
// field merges into the one before, a repeated scalar replaces it: the proto3 rules.

/** Most nested groups skipped (wire types 3/4, deprecated, never sent by Envoy) before giving up. */
const MAX_GROUP_DEPTH = 32;

class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly end: number,
  ) {}
}

function truncated(): never {
  throw new RangeError('CheckRequest is truncated');
}

function readVarint(r: Reader, limit: number): number {
  // Up to 10 bytes; values past 2^32 only matter for skipped int64 fields.
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= limit) truncated();
    const b = r.buf[r.pos++] as number;
    if (shift < 28) result |= (b & 0x7f) << shift;
    else if (shift === 28) result |= (b & 0x0f) << 28;
    if ((b & 0x80) === 0) return result >>> 0;
    shift += 7;
  }
  throw new RangeError('CheckRequest has a varint longer than 10 bytes');
}

/** The end offset of a length-delimited field starting at r.pos. */
function readLength(r: Reader, limit: number): number {
  const len = readVarint(r, limit);
  const end = r.pos + len;
  if (end > limit) truncated();
  return end;
}

function skipField(r: Reader, wireType: number, limit: number, depth = 0): void {
  switch (wireType) {
    case 0:
      readVarint(r, limit);
      return;
    case 1:
      r.pos += 8;
      break;
    case 2:
      r.pos = readLength(r, limit);
      return;
    case 5:
      r.pos += 4;
      break;
    case 3: {
      if (depth >= MAX_GROUP_DEPTH) throw new RangeError('CheckRequest nests groups too deeply');
      for (;;) {
        const tag = readVarint(r, limit);
        if ((tag & 7) === 4) return;
        skipField(r, tag & 7, limit, depth + 1);
      }
    }
    default:
      throw new RangeError(`CheckRequest has an invalid wire type ${wireType}`);
  }
  if (r.pos > limit) truncated();
}

/** Buffer's own slicer, which toString('utf8', start, end) reaches after checking its arguments. */
interface Slicers {
  utf8Slice(start: number, end: number): string;
}

function readString(r: Reader, limit: number): string {
  const end = readLength(r, limit);
  return readText(r, r.pos, end);
}

/** The text of bytes [start, end), which the reader then moves past. */
function readText(r: Reader, start: number, end: number): string {
  r.pos = end;
  // Buffer's own UTF-8 slicer (what toString('utf8', start, end) calls after checking its
  // arguments): fast on ASCII of any length; invalid sequences become U+FFFD, as in protobufjs.
  return (r.buf as unknown as Slicers).utf8Slice(start, end);
}

/** Keys of at most this many bytes are interned (header names, context_extensions keys). */
const MAX_INTERNED_KEY = 40;
const INTERN_SLOTS = 256;
const interned: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS).fill(undefined);

/**
 * A map key. The same few header names come in every request: the last string seen for a hash
 * slot is reused when the bytes match, which spares the decoding and, as V8 internalizes property
 * names, the hashing of a fresh string when the key is stored.
 */
function readKey(r: Reader, limit: number): string {
  const end = readLength(r, limit);
  const start = r.pos;
  const len = end - start;
  if (len > MAX_INTERNED_KEY) return readText(r, start, end);
  const buf = r.buf;
  let h = len;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c >= 0x80) return readText(r, start, end);
    h = (Math.imul(h, 31) + c) | 0;
  }
  const slot = h & (INTERN_SLOTS - 1);
  const cached = interned[slot];
  if (cached !== undefined && cached.length === len) {
    let same = true;
    for (let i = 0; i < len; i++) {
      if (cached.charCodeAt(i) !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) {
      r.pos = end;
      return cached;
    }
  }
  const s = readText(r, start, end);
  interned[slot] = s;
  return s;
}

/** Values of at least this many bytes go through the recent-value slots (certificates, XFCC, tokens). */
const MIN_RECENT_VALUE = 256;
/** ...and of at most this many (a larger value is decoded every time and not remembered). */
const MAX_RECENT_VALUE = 16 * 1024;
const RECENT_SLOTS = 16;
interface RecentValue {
  readonly bytes: Buffer;
  readonly text: string;
}
const recentValues: (RecentValue | undefined)[] = new Array<RecentValue | undefined>(RECENT_SLOTS).fill(undefined);

/**
 * A long value (the peer certificate, an XFCC header, an authorization header). Callers repeat
 * them request after request: the string decoded last time for the same bytes is reused, so a
 * repeated 2 KB certificate costs a memcmp, not a 2 KB string (decoding, and the garbage it leaves
 * for every request). Identity caches then meet the very string they stored, and compare it by
 * reference. Same bytes, same UTF-8 decoding: the result is the one a fresh decode gives.
 */
function readLongValue(r: Reader, limit: number): string {
  const end = readLength(r, limit);
  const start = r.pos;
  const len = end - start;
  if (len < MIN_RECENT_VALUE || len > MAX_RECENT_VALUE) return readText(r, start, end);
  const buf = r.buf;
  // Slot from the length and bytes near the end (PEM and JWT headers start alike; tails differ).
  const h = (len * 31 + (buf[end - 1] as number) * 7 + (buf[end - 9] as number) * 131 + (buf[start + (len >> 1)] as number)) | 0;
  const slot = h & (RECENT_SLOTS - 1);
  const cached = recentValues[slot];
  if (cached !== undefined && cached.bytes.length === len && buf.compare(cached.bytes, 0, len, start, end) === 0) {
    r.pos = end;
    return cached.text;
  }
  const text = readText(r, start, end);
  // A miss happens on every request for a long value that does not repeat (a cookie, say): the copy
  // comes from Buffer's pool (a bump allocation below 4 KB), not a fresh ArrayBuffer. The slots keep
  // at most 16 pool slabs (8 KB each) alive.
  const bytes = Buffer.allocUnsafe(len);
  buf.copy(bytes, 0, start, end);
  recentValues[slot] = { bytes, text };
  return text;
}

/** One map<string, string> entry (key 1, value 2) into `into`; absent key or value is "". */
function readMapEntry(r: Reader, limit: number, into: Record<string, string>): void {
  const end = readLength(r, limit);
  let key = '';
  let value = '';
  while (r.pos < end) {
    const tag = readVarint(r, end);
    if (tag === 0x0a) key = readKey(r, end);
    else if (tag === 0x12) value = readLongValue(r, end);
    else skipField(r, tag & 7, end);
  }
  into[key] = value;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Attributes = Mutable<NonNullable<WireCheckRequest['attributes']>>;
type Peer = Mutable<NonNullable<Attributes['source']>>;
type HttpRequest = Mutable<WireHttpRequest>;

/**
 * Map fields are built as objects whose prototype is an empty object without a prototype: nothing
 * is inherited (no "constructor", no __proto__ setter, so a key "__proto__" is an ordinary key),
 * yet V8 keeps them in fast mode, unlike Object.create(null) objects, which it keeps as
 * dictionaries: reading and counting a request's headers (request-limits.ts does so on every
 * Check) is ~3x faster.
 */
const MapObject = function MapObject(): void {} as unknown as new () => Record<string, string>;
MapObject.prototype = Object.create(null) as object;

function emptyMap(): Record<string, string> {
  return new MapObject();
}

function readPeer(r: Reader, limit: number, peer: Peer): Peer {
  const end = readLength(r, limit);
  while (r.pos < end) {
    const tag = readVarint(r, end);
    if (tag === 0x22) peer.principal = readString(r, end); // principal (4)
    else if (tag === 0x2a) peer.certificate = readLongValue(r, end); // certificate (5)
    else skipField(r, tag & 7, end);
  }
  return peer;
}

function readHeaderValue(r: Reader, limit: number): WireHeaderValue {
  const end = readLength(r, limit);
  const h: Mutable<WireHeaderValue> = {};
  while (r.pos < end) {
    const tag = readVarint(r, end);
    if (tag === 0x0a) h.key = readString(r, end); // key (1)
    else if (tag === 0x12) h.value = readString(r, end); // value (2)
    else if (tag === 0x1a) {
      // raw_value (3)
      const vend = readLength(r, end);
      h.raw_value = r.buf.subarray(r.pos, vend);
      r.pos = vend;
    } else skipField(r, tag & 7, end);
  }
  return h;
}

function readHttp(r: Reader, limit: number, http: HttpRequest): HttpRequest {
  const end = readLength(r, limit);
  while (r.pos < end) {
    const tag = readVarint(r, end);
    switch (tag) {
      case 0x0a: // id (1)
        http.id = readString(r, end);
        break;
      case 0x12: // method (2)
        http.method = readString(r, end);
        break;
      case 0x1a: // headers (3): map<string, string>
        readMapEntry(r, end, (http.headers ??= emptyMap()) as Record<string, string>);
        break;
      case 0x22: // path (4)
        http.path = readString(r, end);
        break;
      case 0x2a: // host (5)
        http.host = readString(r, end);
        break;
      case 0x6a: {
        // header_map (13): HeaderMap { repeated HeaderValue headers = 1 }
        const mend = readLength(r, end);
        const list = (http.header_map?.headers ?? []) as WireHeaderValue[];
        http.header_map = { headers: list };
        while (r.pos < mend) {
          const t = readVarint(r, mend);
          if (t === 0x0a) list.push(readHeaderValue(r, mend));
          else skipField(r, t & 7, mend);
        }
        break;
      }
      default:
        skipField(r, tag & 7, end);
    }
  }
  return http;
}

function readAttributes(r: Reader, limit: number, attrs: Attributes): Attributes {
  const end = readLength(r, limit);
  while (r.pos < end) {
    const tag = readVarint(r, end);
    if (tag === 0x0a) attrs.source = readPeer(r, end, { ...attrs.source }); // source (1)
    else if (tag === 0x22) {
      // request (4): Request { http (2) }
      const rend = readLength(r, end);
      let http = attrs.request?.http as HttpRequest | undefined;
      while (r.pos < rend) {
        const t = readVarint(r, rend);
        if (t === 0x12) http = readHttp(r, rend, http ?? {});
        else skipField(r, t & 7, rend);
      }
      attrs.request = http === undefined ? {} : { http };
    } else if (tag === 0x52) readMapEntry(r, end, (attrs.context_extensions ??= emptyMap()) as Record<string, string>); // context_extensions (10)
    else skipField(r, tag & 7, end);
  }
  return attrs;
}

/**
 * Decodes a CheckRequest into the plain shape of wire.ts: fields that are absent stay undefined,
 * maps are prototype-less objects. Throws a RangeError on bytes that are not a CheckRequest
 * (truncated, bad wire type); grpc-js then answers the call with an error status.
 */
export function decodeCheckRequest(bytes: Uint8Array): WireCheckRequest {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf, buf.length);
  const req: { attributes?: Attributes } = {};
  while (r.pos < r.end) {
    const tag = readVarint(r, r.end);
    if (tag === 0x0a) req.attributes = readAttributes(r, r.end, req.attributes ?? {}); // attributes (1)
    else skipField(r, tag & 7, r.end);
  }
  return req;
}

// Field numbers (external_auth.proto, base.proto, status.proto, http_status.proto, struct.proto).
// A tag is (field << 3) | wire type; wire type 0 = varint, 1 = 64-bit, 2 = length-delimited.
const LEN = 2;
const VARINT = 0;
const FIXED64 = 1;
const tag = (field: number, wire: number): number => (field << 3) | wire;

const APPEND_ACTION: Readonly<Record<WireHeaderOption['append_action'], number>> = {
  APPEND_IF_EXISTS_OR_ADD: 0,
  OVERWRITE_IF_EXISTS_OR_ADD: 2,
};

function writeHeaderOption(w: protobuf.Writer, field: number, h: WireHeaderOption): void {
  w.uint32(tag(field, LEN)).fork();
  w.uint32(tag(1, LEN)).fork(); // header: HeaderValue
  w.uint32(tag(1, LEN)).string(h.header.key);
  w.uint32(tag(2, LEN)).string(h.header.value);
  w.ldelim();
  const action = APPEND_ACTION[h.append_action];
  if (action !== 0) w.uint32(tag(3, VARINT)).int32(action); // append_action
  w.ldelim();
}

function writeValue(w: protobuf.Writer, v: WireValue): void {
  if ('stringValue' in v) w.uint32(tag(3, LEN)).string(v.stringValue);
  else if ('boolValue' in v) w.uint32(tag(4, VARINT)).bool(v.boolValue);
  else if ('numberValue' in v) w.uint32(tag(2, FIXED64)).double(v.numberValue);
  else if ('nullValue' in v) w.uint32(tag(1, VARINT)).int32(0); // NULL_VALUE
  else throw new Error(`unsupported Struct value ${JSON.stringify(v satisfies never)}`);
}

function writeDenied(w: protobuf.Writer, d: NonNullable<WireCheckResponse['denied_response']>): void {
  w.uint32(tag(1, LEN)).fork().uint32(tag(1, VARINT)).int32(d.status.code).ldelim(); // status: HttpStatus
  for (const h of d.headers) writeHeaderOption(w, 2, h);
  if (d.body !== '') w.uint32(tag(3, LEN)).string(d.body);
}

// Struct { fields (1): map<string, Value> }, each entry { key (1), value (2) }
function writeStructEntries(w: protobuf.Writer, fields: Readonly<Record<string, WireValue>>): void {
  for (const key in fields) {
    const value = fields[key] as WireValue;
    w.uint32(tag(1, LEN)).fork();
    w.uint32(tag(1, LEN)).string(key);
    w.uint32(tag(2, LEN)).fork();
    writeValue(w, value);
    w.ldelim();
    w.ldelim();
  }
}

/**
 * Encodes a CheckResponse as toEnvoy() shapes it; the bytes decode to the same message. Without
 * `metadata` (or `denied`), dynamic_metadata (denied_response) is left out: response-encoder.ts
 * writes those itself.
 */
export function encodeCheckResponse(r: WireCheckResponse, options: { readonly metadata?: boolean; readonly denied?: boolean } = {}): Uint8Array {
  const w = protobuf.Writer.create();
  // status (1): google.rpc.Status { code (1), message (2) }
  w.uint32(tag(1, LEN)).fork();
  // Written even when 0, as protobufjs does for a set field, so clients decoding without proto3
  // defaults still read `code: 0` (Envoy reads an absent code as 0 either way).
  w.uint32(tag(1, VARINT)).int32(r.status.code);
  if (r.status.message !== undefined && r.status.message !== '') w.uint32(tag(2, LEN)).string(r.status.message);
  w.ldelim();
  if (r.denied_response !== undefined && options.denied !== false) {
    w.uint32(tag(2, LEN)).fork(); // denied_response (2)
    writeDenied(w, r.denied_response);
    w.ldelim();
  }
  if (r.ok_response !== undefined) {
    const o = r.ok_response;
    w.uint32(tag(3, LEN)).fork(); // ok_response (3)
    for (const h of o.headers) writeHeaderOption(w, 2, h);
    for (const name of o.headers_to_remove) w.uint32(tag(5, LEN)).string(name);
    for (const h of o.response_headers_to_add) writeHeaderOption(w, 6, h);
    w.ldelim();
  }
  if (options.metadata !== false) {
    w.uint32(tag(4, LEN)).fork(); // dynamic_metadata (4)
    writeStructEntries(w, r.dynamic_metadata.fields);
    w.ldelim();
  }
  return w.finish();
}

/** The content of a DeniedHttpResponse (without its own tag and length). */
export function encodeDeniedResponse(d: NonNullable<WireCheckResponse['denied_response']>): Uint8Array {
  const w = protobuf.Writer.create();
  writeDenied(w, d);
  return w.finish();
}

/** The map entries of a google.protobuf.Struct (its content, without a tag and length). */
export function encodeStructEntries(fields: Readonly<Record<string, WireValue>>): Uint8Array {
  const w = protobuf.Writer.create();
  writeStructEntries(w, fields);
  return w.finish();
}
