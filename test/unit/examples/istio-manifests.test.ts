import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConfigSnapshot } from '../../../src/config/compile.js';
import { buildSnapshot } from '../../../src/config/load.js';
import { evaluatePolicy } from '../../../src/policy/evaluate-policy.js';
import { validateManifest } from '../../fixtures/k8s-models.js';
import { dig, digList, digRecord, isRecord, readYamlDocs, REPO_ROOT } from '../../fixtures/repo-files.js';

const DIR = 'examples/istio';
const FILES = ['namespace.yaml', 'deployment.yaml', 'configmap.yaml', 'mesh-config.yaml', 'authorization-policy.yaml', 'gateway/authorization-policy.yaml', 'gateway/configmap.yaml'];
const docsOf = (file: string): Record<string, unknown>[] => readYamlDocs(`${DIR}/${file}`).filter(isRecord);
const find = (file: string, kind: string): Record<string, unknown> => {
  const doc = docsOf(file).find((d) => d['kind'] === kind);
  if (doc === undefined) throw new Error(`no ${kind} in ${file}`);
  return doc;
};

const namespace = find('namespace.yaml', 'Namespace');
const deployment = find('deployment.yaml', 'Deployment');
const service = find('deployment.yaml', 'Service');
const serviceAccount = find('deployment.yaml', 'ServiceAccount');
const container = digRecord(deployment, 'spec', 'template', 'spec', 'containers', 0);
const provider = digRecord(find('mesh-config.yaml', 'IstioOperator'), 'spec', 'meshConfig', 'extensionProviders', 0);
const grpcProvider = digRecord(provider, 'envoyExtAuthzGrpc');

function policySnapshot(file: string): ConfigSnapshot {
  const text = dig(find(file, 'ConfigMap'), 'data', 'config.yaml');
  if (typeof text !== 'string') throw new Error(`${file}: data.config.yaml is not a string`);
  const r = buildSnapshot(text, file, 0);
  if (!r.ok) throw new Error(`${file}: ${JSON.stringify(r.issues)}`);
  return r.value;
}

function decide(snapshot: ConfigSnapshot, route: string, spiffeId: string): string {
  const compiled = snapshot.routesByName.get(route);
  if (compiled === undefined) throw new Error(`no route ${route}`);
  const m = /^spiffe:\/\/([^/]+)(\/.*)$/.exec(spiffeId);
  if (m === null) throw new Error(`bad ID ${spiffeId}`);
  return evaluatePolicy(compiled, { spiffeId, trustDomain: m[1] ?? '', path: m[2] ?? '', source: 'principal', agreed: [] }, snapshot.trustDomains).reason;
}

describe('examples/istio manifests', () => {
  it('are exactly the documented files', () => {
    const listed = readdirSync(join(REPO_ROOT, DIR), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml')).sort();
    expect(listed).toEqual([...FILES].sort());
  });

  it.each(FILES)('%s validates with the kubernetes-models classes, no unknown fields', (file) => {
    const docs = docsOf(file);
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) expect(validateManifest(doc), `${file} ${String(doc['kind'])}`).toEqual([]);
  });

  it('catches a misspelt field and a wrong type (the validation can fail)', () => {
    const bad = structuredClone(deployment);
    digRecord(bad, 'spec')['replica'] = 2;
    expect(validateManifest(bad)).toEqual(['spec.replica: unknown field']);
    const wrong = structuredClone(find('authorization-policy.yaml', 'AuthorizationPolicy'));
    digRecord(wrong, 'spec')['action'] = 'EXTERNAL';
    expect(validateManifest(wrong)[0]).toMatch(/spec\/action must be equal to one of the allowed values/);
  });

  it('puts the server objects in the namespace of namespace.yaml, with sidecar injection', () => {
    const ns = dig(namespace, 'metadata', 'name');
    expect(ns).toBe('spiffe-ext-authz');
    expect(dig(namespace, 'metadata', 'labels', 'istio-injection')).toBe('enabled');
    for (const doc of [deployment, service, serviceAccount, find('configmap.yaml', 'ConfigMap'), find('gateway/configmap.yaml', 'ConfigMap')]) {
      expect(dig(doc, 'metadata', 'namespace')).toBe(ns);
    }
  });

  it('runs the Deployment as its ServiceAccount, selected by the Service', () => {
    const labels = dig(deployment, 'spec', 'template', 'metadata', 'labels');
    expect(dig(deployment, 'spec', 'template', 'spec', 'serviceAccountName')).toBe(dig(serviceAccount, 'metadata', 'name'));
    expect(dig(deployment, 'spec', 'selector', 'matchLabels')).toEqual(labels);
    expect(dig(service, 'spec', 'selector')).toEqual(labels);
  });

  it('exposes grpc 9191 and http-admin 9192 on the container and the Service', () => {
    expect(container['ports']).toEqual([
      { name: 'grpc', containerPort: 9191 },
      { name: 'http-admin', containerPort: 9192 },
    ]);
    expect(dig(service, 'spec', 'ports')).toEqual([
      { name: 'grpc', port: 9191, targetPort: 'grpc' },
      { name: 'http-admin', port: 9192, targetPort: 'http-admin' },
    ]);
  });

  it('probes /readyz and /healthz, runs non-root with a read-only root filesystem and resource limits', () => {
    expect(dig(container, 'readinessProbe', 'httpGet')).toEqual({ path: '/readyz', port: 'http-admin' });
    expect(dig(container, 'livenessProbe', 'httpGet')).toEqual({ path: '/healthz', port: 'http-admin' });
    expect(dig(deployment, 'spec', 'template', 'spec', 'securityContext', 'runAsNonRoot')).toBe(true);
    expect(container['securityContext']).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(dig(container, 'resources', 'limits', 'memory')).toBe('256Mi');
    expect(container['image']).not.toMatch(/:latest$/);
  });

  it('mounts the policy ConfigMap where SPIFFE_AUTHZ_CONFIG points', () => {
    const env = digList(container, 'env').find((e) => dig(e, 'name') === 'SPIFFE_AUTHZ_CONFIG');
    expect(dig(env, 'value')).toBe('/etc/spiffe-ext-authz/config.yaml');
    const mount = digList(container, 'volumeMounts').find((m) => dig(m, 'name') === 'policy');
    expect(dig(mount, 'mountPath')).toBe('/etc/spiffe-ext-authz');
    const volume = digList(deployment, 'spec', 'template', 'spec', 'volumes').find((v) => dig(v, 'name') === 'policy');
    expect(dig(volume, 'configMap', 'name')).toBe(dig(find('configmap.yaml', 'ConfigMap'), 'metadata', 'name'));
    expect(Object.keys(digRecord(find('configmap.yaml', 'ConfigMap'), 'data'))).toEqual(['config.yaml']);
  });

  it("points the extension provider at the Service's FQDN and grpc port, fail-closed with a timeout", () => {
    expect(grpcProvider).toEqual({
      service: `${String(dig(service, 'metadata', 'name'))}.${String(dig(service, 'metadata', 'namespace'))}.svc.cluster.local`,
      port: 9191,
      timeout: '0.25s',
      failOpen: false,
    });
  });

  it('uses only real EnvoyExternalAuthorizationGrpcProvider fields (istio.mesh.v1alpha1)', () => {
    // istio/api mesh/v1alpha1/config.proto: fields 1-6 (includeRequestHeadersInCheck is the HTTP provider's).
    const known = ['service', 'port', 'timeout', 'failOpen', 'statusOnError', 'includeRequestBodyInCheck'];
    for (const key of Object.keys(grpcProvider)) expect(known, key).toContain(key);
    expect(Object.keys(provider).sort()).toEqual(['envoyExtAuthzGrpc', 'name']);
  });

  it.each(['authorization-policy.yaml', 'gateway/authorization-policy.yaml'])('%s is CUSTOM with the mesh provider and a workload selector', (file) => {
    const ap = find(file, 'AuthorizationPolicy');
    expect(dig(ap, 'spec', 'action')).toBe('CUSTOM');
    expect(dig(ap, 'spec', 'provider', 'name')).toBe(provider['name']);
    expect(Object.keys(digRecord(ap, 'spec', 'selector', 'matchLabels')).length).toBe(1);
  });

  it('selects the ingress gateway in istio-system for the gateway variant', () => {
    const ap = find('gateway/authorization-policy.yaml', 'AuthorizationPolicy');
    expect(dig(ap, 'metadata', 'namespace')).toBe('istio-system');
    expect(dig(ap, 'spec', 'selector', 'matchLabels')).toEqual({ istio: 'ingressgateway' });
  });
});

describe('examples/istio policies', () => {
  const sidecar = policySnapshot('configmap.yaml');
  const gateway = policySnapshot('gateway/configmap.yaml');

  it('sidecar policy: Istio trust domain, principal first, XFCC not trusted, all routes in shadow', () => {
    expect([...sidecar.trustDomains]).toEqual(['cluster.local']);
    expect(sidecar.config.identity.sources).toEqual(['principal', 'xfcc']);
    expect(sidecar.config.identity.xfcc.trusted).toBe(false);
    expect(sidecar.routes.map((r) => r.mode)).toEqual(['shadow', 'shadow']);
    expect(sidecar.routes.every((r) => r.matcher !== undefined)).toBe(true);
  });

  it.each([
    ['orders-read', 'spiffe://cluster.local/ns/shop/sa/frontend', 'ALLOWED'],
    ['orders-write', 'spiffe://cluster.local/ns/shop/sa/frontend', 'NO_MATCHING_RULE'],
    ['orders-write', 'spiffe://cluster.local/ns/shop/sa/checkout', 'ALLOWED'],
    ['orders-write', 'spiffe://cluster.local/ns/shop/sa/legacy-batch', 'DENIED_BY_RULE'],
    ['orders-read', 'spiffe://other.local/ns/shop/sa/frontend', 'UNKNOWN_TRUST_DOMAIN'],
  ])('sidecar policy decides %s for %s with %s', (route, id, reason) => {
    expect(decide(sidecar, route, id)).toBe(reason);
  });

  it("gateway policy: XFCC trusted, hop peer, pinned to the ingress gateway's SPIFFE ID", () => {
    expect(gateway.config.identity.sources).toEqual(['xfcc', 'principal']);
    expect(gateway.config.identity.xfcc).toMatchObject({
      trusted: true,
      hop: 'peer',
      trustedProxies: ['spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account'],
    });
    expect(gateway.routes.map((r) => r.mode)).toEqual(['shadow', 'shadow']);
  });

  it.each([
    ['api-orders', 'spiffe://cluster.local/ns/shop/sa/frontend', 'ALLOWED'],
    ['api-orders', 'spiffe://partner.example.com/billing/invoices', 'ALLOWED'],
    ['api-orders', 'spiffe://partner.example.com/crm/sync', 'NO_MATCHING_RULE'],
    ['api-status', 'spiffe://partner.example.com/crm/sync', 'ALLOWED'],
  ])('gateway policy decides %s for %s with %s', (route, id, reason) => {
    expect(decide(gateway, route, id)).toBe(reason);
  });

  it('both variants are one ConfigMap name: the Deployment mounts whichever is applied', () => {
    expect(dig(find('gateway/configmap.yaml', 'ConfigMap'), 'metadata', 'name')).toBe(dig(find('configmap.yaml', 'ConfigMap'), 'metadata', 'name'));
  });
});
