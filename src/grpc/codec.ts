// The Check RPC's wire codec, on the hot path of every request. proto-loader's generic codec turns
// each message into a plain object (toObject) and each response back through fromObject, which costs
// more than the whole decision; here requests are decoded to protobufjs messages and read in place,
// and the few response shapes this server produces are written straight to bytes.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { ENVOY_PROTO_INCLUDE_DIRS, EXT_AUTHZ_PROTO } from '../../envoy-protos/index.js';
import type { WireCheckRequest, WireCheckResponse, WireHeaderOption, WireValue } from './wire.js';

let requestType: protobuf.Type | undefined;

/** The protobufjs type of envoy.service.auth.v3.CheckRequest, field names as in the .proto (keepCase). */
function checkRequestType(): protobuf.Type {
  if (requestType !== undefined) return requestType;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    for (const dir of ENVOY_PROTO_INCLUDE_DIRS) {
      const full = join(dir, target);
      if (existsSync(full)) return full;
    }
    return target; // google/protobuf/*: protobufjs's bundled well-known types
  };
  root.loadSync(EXT_AUTHZ_PROTO, { keepCase: true });
  root.resolveAll();
  requestType = root.lookupType('envoy.service.auth.v3.CheckRequest');
  return requestType;
}

/**
 * Decodes a CheckRequest without converting it to a plain object. Unset scalar fields read as their
 * proto3 defaults ("" for strings, {} for maps), which fromEnvoy treats as absent.
 */
export function decodeCheckRequest(bytes: Uint8Array): WireCheckRequest {
  return checkRequestType().decode(bytes) as unknown as WireCheckRequest;
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
