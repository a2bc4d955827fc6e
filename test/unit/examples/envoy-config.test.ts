import type { Root } from 'protobufjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_PROTO, ENVOY_PROTO_INCLUDE_DIRS, EXAMPLE_EXTENSION_PROTOS } from '../../../envoy-protos/index.js';
import { DEMO_LEAVES, DEMO_TRUST_DOMAIN } from '../../../src/cli/demo-pki.js';
import type { ConfigSnapshot } from '../../../src/config/compile.js';
import { buildSnapshot } from '../../../src/config/load.js';
import { evaluatePolicy } from '../../../src/policy/evaluate-policy.js';
import { loadProtoRoot, validateProtoJson } from '../../fixtures/proto-json-validate.js';
import { dig, digList, digRecord, findObjectsWithKey, readRepoFile, readYaml } from '../../fixtures/repo-files.js';

const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';
const bootstrap = readYaml('examples/envoy/envoy.yaml');
const listener = dig(bootstrap, 'static_resources', 'listeners', 0);
const hcm = digRecord(listener, 'filter_chains', 0, 'filters', 0, 'typed_config');
const httpFilters = digList(hcm, 'http_filters');
const extAuthz = digRecord(httpFilters, 0, 'typed_config');
const clusters = digList(bootstrap, 'static_resources', 'clusters');
const cluster = (name: string): unknown => clusters.find((c) => dig(c, 'name') === name);
const clone = <T>(v: T): T => structuredClone(v);

let root: Root;
beforeAll(() => {
  root = loadProtoRoot([BOOTSTRAP_PROTO, ...EXAMPLE_EXTENSION_PROTOS], ENVOY_PROTO_INCLUDE_DIRS);
});

describe('examples/envoy/envoy.yaml', () => {
  it("is a valid Bootstrap under Envoy's own protos, typed_config included", () => {
    expect(validateProtoJson(root, BOOTSTRAP, bootstrap)).toEqual([]);
  });

  it('runs ext_authz first, then the router', () => {
    expect(httpFilters.map((f) => dig(f, 'name'))).toEqual(['envoy.filters.http.ext_authz', 'envoy.filters.http.router']);
  });

  it('calls the server over gRPC v3, fail-closed, with the peer certificate and no body', () => {
    expect(extAuthz).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
      transport_api_version: 'V3',
      failure_mode_allow: false,
      include_peer_certificate: true,
      grpc_service: { envoy_grpc: { cluster_name: 'spiffe_ext_authz' }, timeout: '0.25s' },
    });
  });

  it('reaches the server over HTTP/2 at authz:9191', () => {
    const c = cluster('spiffe_ext_authz');
    expect(dig(c, 'typed_extension_protocol_options', 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions', 'explicit_http_config')).toEqual({ http2_protocol_options: {} });
    expect(dig(c, 'load_assignment', 'endpoints', 0, 'lb_endpoints', 0, 'endpoint', 'address', 'socket_address')).toEqual({ address: 'authz', port_value: 9191 });
  });

  it('requires client certificates of the demo CA and listens on 8443', () => {
    const tls = digRecord(listener, 'filter_chains', 0, 'transport_socket', 'typed_config');
    expect(tls['require_client_certificate']).toBe(true);
    expect(dig(tls, 'common_tls_context', 'validation_context', 'trusted_ca')).toEqual({ filename: '/pki/ca.pem' });
    expect(dig(tls, 'common_tls_context', 'validation_context', 'match_typed_subject_alt_names')).toEqual([
      { san_type: 'URI', matcher: { prefix: `spiffe://${DEMO_TRUST_DOMAIN}/` } },
    ]);
    expect(dig(listener, 'address', 'socket_address', 'port_value')).toBe(8443);
  });

  it('replaces XFCC with one element carrying the URI (SANITIZE_SET)', () => {
    expect(hcm['forward_client_cert_details']).toBe('SANITIZE_SET');
    expect(hcm['set_current_client_cert_details']).toEqual({ uri: true });
  });

  it('logs the decision id and the verdict from the ext_authz dynamic metadata', () => {
    const format = digRecord(hcm, 'access_log', 0, 'typed_config', 'log_format', 'json_format');
    for (const key of ['decisionId', 'mode', 'effect', 'reason', 'spiffeId', 'route', 'decision']) {
      expect(format[key]).toBe(`%DYNAMIC_METADATA(envoy.filters.http.ext_authz:${key})%`);
    }
  });

  it('names a policy route on every Envoy route, each one defined in policy.yaml', () => {
    const routes = digList(hcm, 'route_config', 'virtual_hosts', 0, 'routes');
    const named = routes.map((r) => dig(r, 'typed_per_filter_config', 'envoy.filters.http.ext_authz', 'check_settings', 'context_extensions', 'route'));
    expect(named).toEqual(['echo-read', 'echo-write', 'echo-public']);
    const policyRoutes = digList(readYaml('examples/envoy/policy.yaml'), 'routes').map((r) => dig(r, 'name'));
    for (const found of findObjectsWithKey(bootstrap, 'context_extensions')) {
      expect(policyRoutes).toContain(dig(found, 'context_extensions', 'route'));
    }
  });

  it('uses the certificate files demo-pki writes', () => {
    const files = findObjectsWithKey(bootstrap, 'filename').map((o) => o['filename']);
    expect(files.sort()).toEqual(['/pki/ca.pem', '/pki/envoy-key.pem', '/pki/envoy.pem']);
    expect(DEMO_LEAVES.map((l) => l.name)).toContain('envoy');
  });
});

describe('examples/envoy/policy.yaml', () => {
  let snapshot: ConfigSnapshot;
  const id = (name: string): { spiffeId: string; trustDomain: string; path: string; source: 'principal'; agreed: [] } => ({
    spiffeId: `spiffe://${DEMO_TRUST_DOMAIN}/ns/demo/sa/${name}`,
    trustDomain: DEMO_TRUST_DOMAIN,
    path: `/ns/demo/sa/${name}`,
    source: 'principal',
    agreed: [],
  });

  beforeAll(() => {
    const r = buildSnapshot(readRepoFile('examples/envoy/policy.yaml'), 'policy.yaml', 0);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    snapshot = r.value;
  });

  it('starts every route in shadow', () => {
    expect(snapshot.routes.map((r) => [r.name, r.mode])).toEqual([
      ['echo-read', 'shadow'],
      ['echo-write', 'shadow'],
      ['echo-public', 'shadow'],
    ]);
  });

  it.each([
    ['echo-read', 'client-a', 'ALLOWED'],
    ['echo-read', 'client-b', 'NO_MATCHING_RULE'],
    ['echo-write', 'client-a', 'ALLOWED'],
    ['echo-write', 'client-b', 'DENIED_BY_RULE'],
    ['echo-public', 'client-a', 'ALLOWED'],
    ['echo-public', 'client-b', 'ALLOWED'],
  ])('decides %s for %s with %s', (route, client, reason) => {
    const compiled = snapshot.routesByName.get(route);
    if (compiled === undefined) throw new Error(`no route ${route}`);
    expect(evaluatePolicy(compiled, id(client), snapshot.trustDomains).reason).toBe(reason);
  });

  it("trusts XFCC only from the demo Envoy's SPIFFE ID, and verifies against the demo bundle", () => {
    expect(snapshot.config.identity.xfcc).toMatchObject({ trusted: true, hop: 'peer', trustedProxies: [`spiffe://${DEMO_TRUST_DOMAIN}/ns/demo/sa/envoy`] });
    expect([...snapshot.bundleFiles]).toEqual([[DEMO_TRUST_DOMAIN, '/pki/bundle.pem']]);
    expect(snapshot.config.identity.certificate.requireBundle).toBe(true);
  });
});

describe('validateProtoJson', () => {
  it('reports an unknown field inside a typed_config with its path', () => {
    const bad = clone(bootstrap);
    const filter = digRecord(bad, 'static_resources', 'listeners', 0, 'filter_chains', 0, 'filters', 0, 'typed_config', 'http_filters', 0, 'typed_config');
    filter['include_peer_certficate'] = true;
    expect(validateProtoJson(root, BOOTSTRAP, bad)).toEqual([
      {
        path: 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.include_peer_certficate',
        message: 'unknown field of envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
      },
    ]);
  });

  it('reports a wrong scalar type', () => {
    const bad = clone(bootstrap);
    digRecord(bad, 'static_resources', 'clusters', 0, 'load_assignment', 'endpoints', 0, 'lb_endpoints', 0, 'endpoint', 'address', 'socket_address')['port_value'] = 'nine';
    expect(validateProtoJson(root, BOOTSTRAP, bad)).toEqual([
      {
        path: 'static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value',
        message: 'expected an integer (uint32), got string "nine"',
      },
    ]);
  });

  it.each([
    ['an unknown enum value', { address: 'a', port_value: 1, protocol: 'SCTP' }, 'protocol', /^expected one of TCP, UDP \(envoy\.config\.core\.v3\.SocketAddress\.Protocol\), got string "SCTP"$/],
    ['an out-of-range uint32', { address: 'a', port_value: -1 }, 'port_value', /^expected an integer in 0\.\.4294967295 \(uint32\), got number -1$/],
    ['a list for a scalar', { address: ['a'], port_value: 1 }, 'address', /^expected a string, got a list$/],
    ['two members of one oneof', { address: 'a', port_value: 1, named_port: 'http' }, 'named_port', /^oneof port_specifier already has port_value$/],
  ])('reports %s', (_what, value, path, message) => {
    const issues = validateProtoJson(root, 'envoy.config.core.v3.SocketAddress', value);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe(path);
    expect(issues[0]?.message).toMatch(message);
  });

  it('accepts proto3 JSON forms: uint32 as a decimal string, Duration, wrappers, Struct', () => {
    expect(validateProtoJson(root, 'envoy.config.core.v3.SocketAddress', { address: 'a', port_value: '8443' })).toEqual([]);
    expect(validateProtoJson(root, 'envoy.config.core.v3.GrpcService', { envoy_grpc: { cluster_name: 'x' }, timeout: '1.5s' })).toEqual([]);
  });

  it.each([
    ['a Duration without unit', { envoy_grpc: { cluster_name: 'x' }, timeout: 0.25 }, 'timeout', 'expected a Duration like "0.25s", got number 0.25'],
    ['a missing required oneof', { timeout: '1s' }, '(root)', 'one of envoy_grpc, google_grpc is required (oneof target_specifier)'],
    ['an object for a Duration', { envoy_grpc: { cluster_name: 'x' }, timeout: { seconds: 1 } }, 'timeout', 'expected a Duration like "0.25s", got an object'],
    ['a missing required message field', { envoy_grpc: {} }, 'envoy_grpc.cluster_name', 'expected a non-empty string (PGV min_len)'],
  ])('reports %s', (_what, value, path, message) => {
    expect(validateProtoJson(root, 'envoy.config.core.v3.GrpcService', value)).toEqual([{ path, message }]);
  });

  it('reports a deprecated field (Envoy rejects most of them)', () => {
    const issues = validateProtoJson(root, 'envoy.config.cluster.v3.Cluster', { name: 'c', http2_protocol_options: {} });
    expect(issues).toEqual([{ path: 'http2_protocol_options', message: 'deprecated field' }]);
  });

  it('reports a wrapper of the wrong type and an unknown @type', () => {
    const bad = clone(bootstrap);
    const socket = digRecord(bad, 'static_resources', 'listeners', 0, 'filter_chains', 0, 'transport_socket', 'typed_config');
    socket['require_client_certificate'] = 'yes';
    digRecord(bad, 'static_resources', 'listeners', 0, 'filter_chains', 0, 'filters', 0, 'typed_config', 'http_filters', 1, 'typed_config')['@type'] =
      'type.googleapis.com/envoy.extensions.filters.http.router.v3.Routr';
    expect(validateProtoJson(root, BOOTSTRAP, bad)).toEqual([
      { path: 'static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.require_client_certificate', message: 'expected a bool, got string "yes"' },
      {
        path: 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[1].typed_config.@type',
        message: 'unknown type envoy.extensions.filters.http.router.v3.Routr',
      },
    ]);
  });
});
