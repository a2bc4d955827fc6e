// Request size limits (config `limits`), checked before a route is matched by path and before any
// identity source is parsed, in one pass over the headers map: time linear in the input. Pure.
import type { CheckInput } from './types.js';

/** The limits authorize() enforces (maxRequestBytes is grpc-js's, before a request is decoded). */
export interface RequestLimits {
  readonly maxHeaderBytes: number;
  readonly maxHeaderCount: number;
  readonly maxPathBytes: number;
}

/** Which limit a request exceeds, and by how much (for the verdict's detail). */
export interface LimitExceeded {
  readonly limit: 'maxHeaderCount' | 'maxHeaderBytes' | 'maxPathBytes';
  readonly detail: string;
}

/**
 * UTF-8 length of `s`, computed only when the UTF-16 length cannot decide against `max`: a code
 * unit is 1 to 3 bytes (a surrogate pair 4 bytes for 2 units), so length <= bytes <= 3 * length.
 */
function exceedsBytes(s: string, max: number): boolean {
  if (s.length > max) return true;
  if (s.length * 3 <= max) return false;
  return Buffer.byteLength(s, 'utf8') > max;
}

/** The first limit the request exceeds (header count, header bytes, path bytes), or undefined. */
export function checkRequestLimits(input: CheckInput, limits: RequestLimits): LimitExceeded | undefined {
  let count = 0;
  let units = 0;
  for (const key in input.headers) {
    count++;
    units += key.length + (input.headers[key]?.length ?? 0);
  }
  if (count > limits.maxHeaderCount) {
    return { limit: 'maxHeaderCount', detail: `${count} headers; limits.maxHeaderCount is ${limits.maxHeaderCount}` };
  }
  if (units * 3 > limits.maxHeaderBytes) {
    // Rare: the UTF-16 total is near or over the limit; count exact UTF-8 bytes once.
    let bytes = 0;
    for (const key in input.headers) bytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(input.headers[key] ?? '', 'utf8');
    if (bytes > limits.maxHeaderBytes) {
      return { limit: 'maxHeaderBytes', detail: `${bytes} bytes of headers; limits.maxHeaderBytes is ${limits.maxHeaderBytes}` };
    }
  }
  if (exceedsBytes(input.path, limits.maxPathBytes)) {
    return { limit: 'maxPathBytes', detail: `a path of ${Buffer.byteLength(input.path, 'utf8')} bytes; limits.maxPathBytes is ${limits.maxPathBytes}` };
  }
  return undefined;
}
