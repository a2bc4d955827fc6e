// JSON over the admin HTTP server: answers with the usual safety headers, and request bodies read
// with a size limit and a content-type check. Failures are values carrying the HTTP status to send.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body the admin API reads (16 KiB): rollout requests are a few hundred bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

/** Sends `body` as JSON with no-store and nosniff headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** A parsed JSON body (undefined when the request had none), or the status and message to answer with. */
export type BodyResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly status: 400 | 413 | 415; readonly error: string };

/** Whether the request carries a body at all (a length above 0, or chunked). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const media = value.split(';', 1)[0]?.trim().toLowerCase();
  return media === 'application/json';
}

/**
 * Reads a JSON request body of at most `maxBytes`. No body gives `{ ok: true, value: undefined }`;
 * a body must be `application/json` (415), fit the limit (413) and parse (400). On 413 the rest of
 * the body is discarded rather than buffered.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number = MAX_BODY_BYTES): Promise<BodyResult> {
  if (!hasBody(req)) return { ok: true, value: undefined };
  if (!isJsonContentType(req.headers['content-type'])) {
    req.resume();
    return { ok: false, status: 415, error: 'request body must be application/json' };
  }
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) {
    req.resume();
    return { ok: false, status: 413, error: `request body larger than ${maxBytes} bytes` };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  try {
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      size += buf.length;
      // Keep reading to the end (so the response can be sent cleanly) but stop buffering.
      if (size > maxBytes) tooLarge = true;
      else chunks.push(buf);
    }
  } catch {
    return { ok: false, status: 400, error: 'request body could not be read' };
  }
  if (tooLarge) return { ok: false, status: 413, error: `request body larger than ${maxBytes} bytes` };
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, status: 400, error: 'request body is not valid JSON' };
  }
}
