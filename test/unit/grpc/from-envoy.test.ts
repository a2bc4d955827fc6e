// Tests for the CheckRequest → CheckInput converter (spec-notes §5.2-§5.3): network filter without
// http, host normalisation, query cut, request id choice, encode_raw_headers, context_extensions.
import { describe, expect, it } from 'vitest';
import type { CheckInput } from '../../../src/authz/types.js';
import { fromEnvoy, mergeRawHeaders, normalizeHost } from '../../../src/grpc/from-envoy.js';
import type { WireCheckRequest, WireHttpRequest } from '../../../src/grpc/wire.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function httpRequest(http: WireHttpRequest, extra: Omit<NonNullable<WireCheckRequest['attributes']>, 'request'> = {}): WireCheckRequest {
  return { attributes: { ...extra, request: { http } } };
}

describe('fromEnvoy', () => {
  it('converts a typical HTTP CheckRequest', () => {
    const headers = {
      ':authority': 'orders.internal',
      ':method': 'POST',
      ':path': '/v1/orders?x=1',
      'x-request-id': 'req-1',
      'x-forwarded-client-cert': 'URI=spiffe://prod.example.org/a',
    };
    const input = fromEnvoy(
      httpRequest(
        { id: '42', method: 'POST', path: '/v1/orders?x=1', host: 'orders.internal', headers },
        { source: { principal: 'spiffe://prod.example.org/ns/a/sa/b', certificate: '-----BEGIN%20CERT' }, context_extensions: { route: 'orders-write' } },
      ),
    );
    expect(input).toEqual<CheckInput>({
      requestId: 'req-1',
      host: 'orders.internal',
      method: 'POST',
      path: '/v1/orders',
      headers,
      principal: 'spiffe://prod.example.org/ns/a/sa/b',
      certificate: '-----BEGIN%20CERT',
      routeName: 'orders-write',
    });
    expect(input.headers).toBe(headers);
  });

  it.each<[string, WireCheckRequest]>([
    ['an empty request', {}],
    ['attributes without request', { attributes: {} }],
    ['request without http (network filter)', { attributes: { request: {}, source: { principal: 'spiffe://td/x' } } }],
  ])('gives empty host, method and path for %s', (_name, req) => {
    const input = fromEnvoy(req);
    expect([input.requestId, input.host, input.method, input.path, input.headers, input.routeName]).toEqual(['', '', '', '', {}, undefined]);
  });

  it('keeps the principal of a network-filter request', () => {
    expect(fromEnvoy({ attributes: { source: { principal: 'spiffe://td/x' } } }).principal).toBe('spiffe://td/x');
  });

  it('gives "" for an absent principal and certificate', () => {
    const input = fromEnvoy(httpRequest({ path: '/' }));
    expect([input.principal, input.certificate]).toEqual(['', '']);
  });

  it.each([
    ['/v1/orders?x=1&y=2', '/v1/orders'],
    ['/v1/orders#frag', '/v1/orders'],
    ['/v1/orders?', '/v1/orders'],
    ['/a/../b?c', '/a/../b'],
    ['/a%3Fb?c', '/a%3Fb'],
    ['/', '/'],
  ])('cuts the query from path %j but does not normalise it', (path, expected) => {
    expect(fromEnvoy(httpRequest({ path })).path).toBe(expected);
  });

  it('falls back to the pseudo-headers when http.path, host and method are absent', () => {
    const input = fromEnvoy(httpRequest({ headers: { ':path': '/p?q', ':authority': 'A.example:1', ':method': 'get' } }));
    expect([input.path, input.host, input.method]).toEqual(['/p', 'a.example', 'GET']);
  });

  it('prefers http.path, host and method over the pseudo-headers', () => {
    const input = fromEnvoy(
      httpRequest({ path: '/real', host: 'real.example', method: 'PUT', headers: { ':path': '/fake', ':authority': 'fake', ':method': 'GET' } }),
    );
    expect([input.path, input.host, input.method]).toEqual(['/real', 'real.example', 'PUT']);
  });

  it.each([
    ['get', 'GET'],
    ['Post', 'POST'],
    ['DELETE', 'DELETE'],
    ['propfind', 'PROPFIND'],
  ])('upper-cases method %j', (method, expected) => {
    expect(fromEnvoy(httpRequest({ method })).method).toBe(expected);
  });

  describe('request id', () => {
    it.each<[string, WireHttpRequest, string]>([
      ['x-request-id over http.id', { id: '42', headers: { 'x-request-id': 'req-1' } }, 'req-1'],
      ['http.id without x-request-id', { id: '42', headers: { other: 'x' } }, '42'],
      ['"" without either', { headers: {} }, ''],
      ['x-request-id from header_map', { id: '42', headers: {}, header_map: { headers: [{ key: 'X-Request-Id', raw_value: bytes('raw-1') }] } }, 'raw-1'],
    ])('takes %s', (_name, http, expected) => {
      expect(fromEnvoy(httpRequest(http)).requestId).toBe(expected);
    });
  });

  describe('encode_raw_headers', () => {
    it('builds the header map from header_map when headers is empty: lowercased, repeats merged with ",", bytes decoded', () => {
      const input = fromEnvoy(
        httpRequest({
          headers: {},
          header_map: {
            headers: [
              { key: ':authority', raw_value: bytes('Orders.Internal:8443') },
              { key: ':path', raw_value: bytes('/v1/orders?x') },
              { key: ':method', raw_value: bytes('post') },
              { key: 'X-Forwarded-Client-Cert', raw_value: bytes('URI=spiffe://td/a') },
              { key: 'x-forwarded-client-cert', raw_value: bytes('URI=spiffe://td/b') },
              { key: 'Accept', raw_value: bytes('text/plain') },
              { key: 'accept', value: 'application/json' },
              { key: 'x-utf8', raw_value: bytes('café') },
            ],
          },
        }),
      );
      expect({ ...input.headers }).toEqual({
        ':authority': 'Orders.Internal:8443',
        ':path': '/v1/orders?x',
        ':method': 'post',
        'x-forwarded-client-cert': 'URI=spiffe://td/a,URI=spiffe://td/b',
        accept: 'text/plain,application/json',
        'x-utf8': 'café',
      });
      expect([input.host, input.path, input.method]).toEqual(['orders.internal', '/v1/orders', 'POST']);
    });

    it('uses header_map when the headers map is absent', () => {
      const input = fromEnvoy(httpRequest({ header_map: { headers: [{ key: 'x-a', raw_value: bytes('1') }] } }));
      expect({ ...input.headers }).toEqual({ 'x-a': '1' });
    });

    it('ignores header_map when the headers map has entries', () => {
      const input = fromEnvoy(httpRequest({ headers: { 'x-a': 'map' }, header_map: { headers: [{ key: 'x-a', raw_value: bytes('raw') }] } }));
      expect(input.headers).toEqual({ 'x-a': 'map' });
    });

    it('keeps an empty headers map when header_map is empty too', () => {
      expect(fromEnvoy(httpRequest({ headers: {}, header_map: { headers: [] } })).headers).toEqual({});
    });
  });

  describe('context_extensions', () => {
    it.each<[string, Readonly<Record<string, string>> | undefined, string | undefined]>([
      ['names the route', { route: 'orders-write' }, 'orders-write'],
      ['other keys only', { team: 'x' }, undefined],
      ['absent', undefined, undefined],
      ['an empty route name, kept as given', { route: '' }, ''],
    ])('routeName when context_extensions %s', (_name, ext, expected) => {
      const req = httpRequest({ path: '/' }, ext === undefined ? {} : { context_extensions: ext });
      expect(fromEnvoy(req).routeName).toBe(expected);
    });
  });
});

describe('normalizeHost', () => {
  it.each([
    ['orders.internal', 'orders.internal'],
    ['Orders.Internal:8443', 'orders.internal'],
    ['ORDERS.INTERNAL', 'orders.internal'],
    ['orders.internal:80', 'orders.internal'],
    ['orders.internal:', 'orders.internal'],
    ['example.com.', 'example.com'],
    ['Example.COM.:443', 'example.com'],
    ['[::1]:80', '[::1]'],
    ['[::1]', '[::1]'],
    ['[FE80::1]:8443', '[fe80::1]'],
    ['[::1', '[::1'],
    ['10.0.0.1:9191', '10.0.0.1'],
    ['', ''],
  ])('%j → %j', (host, expected) => {
    expect(normalizeHost(host)).toBe(expected);
  });

  it('returns the same string for a host that needs no work', () => {
    const h = 'already.lower';
    expect(normalizeHost(h)).toBe(h);
  });
});

describe('mergeRawHeaders', () => {
  it('skips entries without a key and prefers raw_value over value', () => {
    expect({ ...mergeRawHeaders([{ value: 'x' }, { key: 'A', raw_value: bytes('raw'), value: 'v' }, { key: 'b', value: 'v' }]) }).toEqual({
      a: 'raw',
      b: 'v',
    });
  });

  it('falls back to value when raw_value is empty, and to "" when both are absent', () => {
    expect({ ...mergeRawHeaders([{ key: 'a', raw_value: new Uint8Array(0), value: 'v' }, { key: 'b' }]) }).toEqual({ a: 'v', b: '' });
  });

  it('replaces invalid UTF-8 with U+FFFD', () => {
    expect(mergeRawHeaders([{ key: 'a', raw_value: new Uint8Array([0x61, 0xff, 0x62]) }]).a).toBe('a\uFFFDb');
  });

  it('keeps an empty repeat as an empty list item', () => {
    expect(mergeRawHeaders([{ key: 'a', value: '1' }, { key: 'a', value: '' }, { key: 'a', value: '3' }]).a).toBe('1,,3');
  });

  it('gives a map without a prototype, so header names like "__proto__" are plain keys', () => {
    const m = mergeRawHeaders([{ key: '__proto__', value: 'x' }, { key: 'constructor', value: 'y' }]);
    expect(Object.getPrototypeOf(m)).toBeNull();
    expect([m['__proto__'], m['constructor']]).toEqual(['x', 'y']);
  });
});
