// Arbitrary Envoy CheckRequests (the wire shape of src/grpc/wire.ts): missing fields at every level,
// huge, empty, duplicated (merged with ","), non-ASCII, control-character and percent-encoded
// headers, odd methods, paths and hosts, random principals, certificates, tokens and
// context_extensions, plus near-valid mutations of real identities (seeds made at test time).
import fc from 'fast-check';
import type { WireCheckRequest, WireHeaderValue } from '../../../src/grpc/wire.js';
import { hostileString, mutationOf } from './support.js';

/** Valid inputs the generator mutates: SPIFFE IDs, XFCC headers, Envoy-encoded certificates, JWTs, route names. */
export interface Seeds {
  readonly ids: readonly string[];
  readonly xfccs: readonly string[];
  readonly certs: readonly string[];
  readonly tokens: readonly string[];
  readonly routes: readonly string[];
}

const HEADER_NAMES = [
  ':path', ':authority', ':method', ':scheme', 'authorization', 'x-forwarded-client-cert', 'x-request-id',
  'x-spiffe-authz-warning', 'x-spiffe-authz-reason', 'cookie', 'host', 'Authorization', 'X-Forwarded-Client-Cert',
  '__proto__', 'constructor', 'toString', '',
] as const;

const PATHS = [
  '/public/x', '/admin/x', '/v1/orders', '/', '', '*', '/public/../admin/x', '/public/%2e%2e/admin/x', '/public%2F..%2Fadmin/x',
  '/admin/x?/public/', '/admin/x#/public/', '//admin//x', '/public\\..\\admin/x', 'http://orders.internal/admin/x',
] as const;

const HOSTS = ['orders.internal', 'ORDERS.INTERNAL:8443', 'orders.internal.', 'a.orders.internal', '[::1]:8443', '', ':', '.', 'orders.internal:'] as const;
const METHODS = ['GET', 'POST', 'post', 'PATCH', 'CONNECT', 'TRACE', '', 'G E T', 'GET\r\n'] as const;

/** A string that is sometimes very large (up to ~64 KB) but usually small. */
const sized = (small: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 12, arbitrary: small },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', '%', ',', ';', '"', '\\', '/..', 'é'), fc.integer({ min: 1_000, max: 64_000 })).map(([c, n]) => c.repeat(Math.ceil(n / c.length))) },
  );

/** Arbitrary CheckRequests built from `seeds`. */
export function wireRequest(seeds: Seeds): fc.Arbitrary<WireCheckRequest> {
  const text = sized(hostileString(80));
  const principal = fc.oneof(fc.constant(''), fc.constantFrom(...seeds.ids), mutationOf(seeds.ids, 4), text);
  const certificate = fc.oneof(fc.constant(''), fc.constantFrom(...seeds.certs), mutationOf(seeds.certs, 3), text);
  const bearer = seeds.tokens.map((t) => `Bearer ${t}`);
  const authorization = fc.oneof(
    fc.constantFrom(...bearer),
    mutationOf(bearer, 3),
    fc.tuple(fc.constantFrom(...bearer), fc.constantFrom(...bearer)).map(([a, b]) => `${a},${b}`),
    text,
  );
  const xfcc = fc.oneof(fc.constantFrom(...seeds.xfccs), mutationOf(seeds.xfccs, 4), text);
  const path = fc.oneof(fc.constantFrom(...PATHS), mutationOf(PATHS.filter((p) => p !== ''), 4), sized(hostileString(120)));
  const host = fc.oneof(fc.constantFrom(...HOSTS), hostileString(40));
  const method = fc.oneof(fc.constantFrom(...METHODS), hostileString(12));

  const knownHeaders = fc.record(
    {
      ':path': path,
      ':authority': host,
      ':method': method,
      authorization,
      'x-forwarded-client-cert': xfcc,
      'x-request-id': text,
      'x-spiffe-authz-warning': text,
    },
    { requiredKeys: [] },
  );
  const extraHeaders = fc.dictionary(fc.oneof(fc.constantFrom(...HEADER_NAMES), hostileString(16)), text, { maxKeys: 4 });
  const headers = fc.tuple(knownHeaders, extraHeaders).map(([k, e]): Record<string, string> => ({ ...e, ...k }));

  const rawHeader: fc.Arbitrary<WireHeaderValue> = fc.record(
    {
      key: fc.oneof(fc.constantFrom(...HEADER_NAMES), hostileString(16)),
      value: fc.oneof(authorization, xfcc, text),
      raw_value: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string({ maxLength: 64 }).map((s) => new Uint8Array(Buffer.from(s)))),
    },
    { requiredKeys: [] },
  );
  const headerMap = fc.record({ headers: fc.array(rawHeader, { maxLength: 6 }) }, { requiredKeys: [] });

  const http = fc.record(
    { id: text, method, path, host, headers, header_map: headerMap },
    { requiredKeys: [] },
  );
  const contextExtensions = fc.oneof(
    fc.record({ route: fc.oneof(fc.constantFrom(...seeds.routes), hostileString(20)) }),
    fc.dictionary(hostileString(10), hostileString(20), { maxKeys: 3 }),
  );
  return fc.record(
    {
      attributes: fc.record(
        {
          source: fc.record({ principal, certificate }, { requiredKeys: [] }),
          request: fc.record({ http }, { requiredKeys: [] }),
          context_extensions: contextExtensions,
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  );
}
