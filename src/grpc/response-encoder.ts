// Verdict → CheckResponse bytes, on the hot path of every request. Of a response, only the decision
// id and the caller's SPIFFE ID change from one request to the next on the same route with the same
// outcome: everything else (status, headers, the other metadata) is encoded once per such "shape",
// from toEnvoy()'s own output, and kept. A request then costs one allocation and a few copies.
// Byte for byte, the result decodes to the message that encodeCheckResponse(toEnvoy(v)) gives
// (test/unit/grpc/response-encoder.test.ts checks this over arbitrary verdicts).
import type { Verdict } from '../authz/types.js';
import { encodeCheckResponse, encodeDeniedResponse, encodeStructEntries } from './codec.js';
import { jsonString } from '../json-string.js';
import { toEnvoy } from './to-envoy.js';

/** What a response of one shape shares; see shapeOf. */
interface Shape {
  /** The verdict the shape was made from (its route, mode, effect, reason, ... are the shape). */
  readonly verdict: Verdict;
  /** status, and ok_response for an allow or a warn. */
  readonly head: Buffer;
  /** denied_response without its body (the body names the decision id), for a deny. */
  readonly denied: Buffer | undefined;
  /**
   * The deny body up to the decision id, `{"reason":…,"route":…,"decisionId":`: deniedBody() is
   * JSON.stringify of those three fields in that order, so only the id's JSON and "}" follow.
   */
  readonly bodyPrefix: string;
  /** The dynamic_metadata entries other than decisionId and (when there is an identity) spiffeId. */
  readonly meta: Buffer;
}

/**
 * Shapes kept per route (a route sees a handful: allow, a deny reason or two, per identity source)
 * and routes kept; past these the oldest shape goes, or the cache starts over (route names come
 * from the config; a reload may rename them all).
 */
const MAX_SHAPES_PER_ROUTE = 16;
const MAX_ROUTES = 4096;

const TAG_DENIED = 0x12; // CheckResponse.denied_response (2), length-delimited
const TAG_BODY = 0x1a; // DeniedHttpResponse.body (3)
const TAG_META = 0x22; // CheckResponse.dynamic_metadata (4)
const TAG_ENTRY = 0x0a; // Struct.fields (1): map entry
const TAG_VALUE = 0x12; // map entry value (2)
const TAG_STRING_VALUE = 0x1a; // Value.string_value (3)

/** `key (1)` of a map entry, as bytes: tag, length, UTF-8. */
function keyPart(key: string): Buffer {
  const k = Buffer.from(key, 'utf8');
  return Buffer.concat([Buffer.from([0x0a]), varint(k.length), k]);
}

const DECISION_ID_KEY = keyPart('decisionId');
const SPIFFE_ID_KEY = keyPart('spiffeId');

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  let p = pos;
  let v = n;
  while (v > 0x7f) {
    buf[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[p++] = v;
  return p;
}

/** Size of a map entry `{key, Value{string_value: s}}` whose string is `bytes` long, without its tag and length. */
function entryBodySize(key: Buffer, bytes: number): number {
  const value = 1 + varintSize(bytes) + bytes;
  return key.length + 1 + varintSize(value) + value;
}

function writeStringEntry(buf: Buffer, pos: number, key: Buffer, s: string, bytes: number): number {
  const value = 1 + varintSize(bytes) + bytes;
  let p = pos;
  buf[p++] = TAG_ENTRY;
  p = writeVarint(buf, p, key.length + 1 + varintSize(value) + value);
  buf.set(key, p);
  p += key.length;
  buf[p++] = TAG_VALUE;
  p = writeVarint(buf, p, value);
  buf[p++] = TAG_STRING_VALUE;
  p = writeVarint(buf, p, bytes);
  return writeText(buf, p, s, bytes);
}

/** True when `v` has `shape`'s shape: what toEnvoy() renders apart from decision id and SPIFFE ID. */
function sameShape(shape: Shape, v: Verdict): boolean {
  const a = shape.verdict;
  if (a.mode !== v.mode || a.effect !== v.effect || a.reason !== v.reason || a.decision !== v.decision || a.enforcePercent !== v.enforcePercent) return false;
  const x = a.identity;
  const y = v.identity;
  if (x === undefined || y === undefined) return x === y;
  if (x.source !== y.source || x.agreed.length !== y.agreed.length) return false;
  for (let i = 0; i < x.agreed.length; i++) if (x.agreed[i] !== y.agreed[i]) return false;
  return true;
}

/**
 * Writes `s` (UTF-8, `bytes` long) at `pos`. ASCII, by far the common case (decision ids, SPIFFE
 * IDs), is copied code unit by code unit: cheaper for short strings than a call into Buffer.write.
 */
function writeText(buf: Buffer, pos: number, s: string, bytes: number): number {
  if (bytes !== s.length) return pos + buf.write(s, pos, bytes, 'utf8');
  for (let i = 0; i < bytes; i++) buf[pos + i] = s.charCodeAt(i);
  return pos + bytes;
}

/** Encodes the parts of `v`'s response that every verdict of its shape shares, from toEnvoy(v). */
function shapeOf(v: Verdict): Shape {
  const wire = toEnvoy(v);
  const fields = { ...wire.dynamic_metadata.fields };
  delete fields['decisionId'];
  if (v.identity !== undefined) delete fields['spiffeId'];
  const meta = Buffer.from(encodeStructEntries(fields));
  if (wire.denied_response === undefined) {
    return { verdict: v, head: Buffer.from(encodeCheckResponse(wire, { metadata: false })), denied: undefined, bodyPrefix: '', meta };
  }
  // A deny's body names its decision id: the body is written per request, the rest of denied_response kept.
  const denied = Buffer.from(encodeDeniedResponse({ ...wire.denied_response, body: '' }));
  const bodyPrefix = `{"reason":${JSON.stringify(v.reason)},"route":${JSON.stringify(v.route)},"decisionId":`;
  return { verdict: v, head: Buffer.from(encodeCheckResponse(wire, { metadata: false, denied: false })), denied, bodyPrefix, meta };
}

/** Encoded CheckResponses by shape. */
export class ResponseEncoder {
  private readonly byRoute = new Map<string, Shape[]>();

  private shapeFor(v: Verdict): Shape {
    let shapes = this.byRoute.get(v.route);
    if (shapes === undefined) {
      if (this.byRoute.size >= MAX_ROUTES) this.byRoute.clear();
      shapes = [];
      this.byRoute.set(v.route, shapes);
    }
    for (let i = 0; i < shapes.length; i++) {
      const s = shapes[i] as Shape;
      if (sameShape(s, v)) return s;
    }
    const shape = shapeOf(v);
    if (shapes.length >= MAX_SHAPES_PER_ROUTE) shapes.shift();
    shapes.push(shape);
    return shape;
  }

  /** The CheckResponse for `v`, encoded. */
  encode(v: Verdict): Buffer {
    const shape = this.shapeFor(v);
    const decisionIdBytes = Buffer.byteLength(v.decisionId, 'utf8');
    const spiffeId = v.identity?.spiffeId;
    const spiffeIdBytes = spiffeId === undefined ? 0 : Buffer.byteLength(spiffeId, 'utf8');
    const idEntry = entryBodySize(DECISION_ID_KEY, decisionIdBytes);
    const spiffeEntry = spiffeId === undefined ? 0 : entryBodySize(SPIFFE_ID_KEY, spiffeIdBytes);
    const metaLen = shape.meta.length + 1 + varintSize(idEntry) + idEntry + (spiffeId === undefined ? 0 : 1 + varintSize(spiffeEntry) + spiffeEntry);
    let body: string | undefined;
    let bodyBytes = 0;
    let deniedLen = 0;
    if (shape.denied !== undefined) {
      body = `${shape.bodyPrefix}${jsonString(v.decisionId)}}`;
      bodyBytes = Buffer.byteLength(body, 'utf8');
      deniedLen = shape.denied.length + (bodyBytes === 0 ? 0 : 1 + varintSize(bodyBytes) + bodyBytes);
    }
    const total = shape.head.length + (shape.denied === undefined ? 0 : 1 + varintSize(deniedLen) + deniedLen) + 1 + varintSize(metaLen) + metaLen;
    const out = Buffer.allocUnsafe(total);
    out.set(shape.head, 0);
    let p = shape.head.length;
    if (shape.denied !== undefined && body !== undefined) {
      out[p++] = TAG_DENIED;
      p = writeVarint(out, p, deniedLen);
      out.set(shape.denied, p);
      p += shape.denied.length;
      if (bodyBytes > 0) {
        out[p++] = TAG_BODY;
        p = writeVarint(out, p, bodyBytes);
        p = writeText(out, p, body, bodyBytes);
      }
    }
    out[p++] = TAG_META;
    p = writeVarint(out, p, metaLen);
    out.set(shape.meta, p);
    p += shape.meta.length;
    p = writeStringEntry(out, p, DECISION_ID_KEY, v.decisionId, decisionIdBytes);
    if (spiffeId !== undefined) p = writeStringEntry(out, p, SPIFFE_ID_KEY, spiffeId, spiffeIdBytes);
    if (p !== total) throw new Error(`response encoder wrote ${p} of ${total} bytes`);
    return out;
  }
}
