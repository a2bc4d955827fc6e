// Bearer-token check for admin mutations (rollout overrides). Reads stay open; every mutation must
// pass `checkBearer` with 'ok'. With no token configured the answer is 'disabled' and the admin API
// must refuse mutations (403): an unconfigured secret never means "anyone may change enforcement".
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Outcome of checking an Authorization header against the configured token: `missing` (no header)
 * and `malformed` (not `Bearer <token>`) are answered 401; `invalid` (a wrong token) and `disabled`
 * (no token configured) 403.
 */
export type BearerCheck = 'ok' | 'missing' | 'malformed' | 'invalid' | 'disabled';

/** Where the admin token comes from: a file path (preferred) and/or the name of an environment variable. */
export interface AdminTokenSources {
  readonly file?: string;
  readonly env?: string;
}

/** The loaded token (undefined: none configured, mutations disabled) or why it could not be loaded. */
export type AdminTokenResult =
  | { readonly ok: true; readonly token: Buffer | undefined; readonly source: 'file' | 'env' | 'none' }
  | { readonly ok: false; readonly problem: string };

const BEARER = /^bearer +/i;

/**
 * Checks an `Authorization: Bearer <token>` header in constant time. Both sides are hashed with
 * SHA-256 first so timingSafeEqual always compares 32 bytes: neither the token's length nor the
 * position of the first differing byte shows in the timing.
 */
export function checkBearer(headerValue: string | undefined, expected: Buffer | undefined): BearerCheck {
  // An empty configured token would match an empty bearer: treat it as no token at all.
  if (expected === undefined || expected.length === 0) return 'disabled';
  if (headerValue === undefined || headerValue.trim() === '') return 'missing';
  const m = BEARER.exec(headerValue);
  if (m === null) return 'malformed';
  const presented = headerValue.slice(m[0].length).trim();
  if (presented === '') return 'malformed';
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) ? 'ok' : 'invalid';
}

/**
 * Loads the admin token at start-up: from `file` (trimmed) if given, else from the environment
 * variable named `env`. A configured file that is missing or empty is a problem (refuse to start
 * rather than silently disable auth); an unset or empty variable means no token. Problems name the
 * source, never the token, and nothing here logs.
 */
export function loadAdminToken(
  sources: AdminTokenSources,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): AdminTokenResult {
  if (sources.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(sources.file, 'utf8');
    } catch (err) {
      const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'error';
      return { ok: false, problem: `cannot read admin token file ${sources.file} (${code})` };
    }
    // Trimmed: files written by `echo` or editors end with a newline that is not part of the token.
    const token = text.trim();
    if (token === '') return { ok: false, problem: `admin token file ${sources.file} is empty` };
    return { ok: true, token: Buffer.from(token, 'utf8'), source: 'file' };
  }
  if (sources.env !== undefined) {
    const token = environment[sources.env]?.trim();
    if (token !== undefined && token !== '') return { ok: true, token: Buffer.from(token, 'utf8'), source: 'env' };
  }
  return { ok: true, token: undefined, source: 'none' };
}
