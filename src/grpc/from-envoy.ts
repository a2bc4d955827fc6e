// Envoy's CheckRequest → CheckInput. Copes with the network filter (no http), with
// encode_raw_headers (empty headers map, header_map list) and with filtered header sets.
import type { CheckInput } from '../authz/types.js';
import { stripQuery } from '../policy/normalize-path.js';
import type { WireCheckRequest, WireHeaderValue } from './wire.js';

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
const utf8 = new TextDecoder('utf-8');

/** Converts one wire CheckRequest into the domain input. */
export function fromEnvoy(req: WireCheckRequest): CheckInput {
  const attrs = req.attributes;
  const http = attrs?.request?.http;
  let headers = http?.headers ?? EMPTY;
  const raw = http?.header_map?.headers;
  if (raw !== undefined && raw.length > 0 && Object.keys(headers).length === 0) headers = mergeRawHeaders(raw);
  // `||`, not `??`: decoded in place (see codec.ts), an unset string field reads as "".
  const rawPath = http?.path || headers[':path'] || '';
  return {
    requestId: headers['x-request-id'] || http?.id || '',
    host: normalizeHost(http?.host || headers[':authority'] || ''),
    method: upper(http?.method || headers[':method'] || ''),
    path: stripQuery(rawPath),
    headers,
    principal: attrs?.source?.principal ?? '',
    certificate: attrs?.source?.certificate ?? '',
    routeName: attrs?.context_extensions?.route,
  };
}

/** Builds Envoy's merged header map from header_map entries: lowercase keys, repeats joined with ",". */
export function mergeRawHeaders(list: readonly WireHeaderValue[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const h of list) {
    if (h.key === undefined) continue;
    const key = h.key.toLowerCase();
    const value = h.raw_value !== undefined && h.raw_value.length > 0 ? utf8.decode(h.raw_value) : (h.value ?? '');
    const prev = out[key];
    out[key] = prev === undefined ? value : `${prev},${value}`;
  }
  return out;
}

/** Host for matching: lowercased, port removed (IPv6 literals keep their brackets), one trailing dot dropped. */
export function normalizeHost(host: string): string {
  let h = host;
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    h = close === -1 ? h : h.slice(0, close + 1);
  } else {
    const colon = h.lastIndexOf(':');
    if (colon !== -1) h = h.slice(0, colon);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  return hasUpper(h) ? h.toLowerCase() : h;
}

function hasUpper(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return true;
  }
  return false;
}

function upper(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) return s.toUpperCase();
  }
  return s;
}
