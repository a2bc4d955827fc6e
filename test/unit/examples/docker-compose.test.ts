import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEMO_LEAVES, DEMO_TRUST_DOMAIN } from '../../../src/cli/demo-pki.js';
import { dig, digList, digRecord, findObjectsWithKey, isRecord, readRepoFile, readYaml, REPO_ROOT } from '../../fixtures/repo-files.js';

// Compose resolves YAML merge keys (`<<: *client`); so must the test.
const compose = parse(readRepoFile('docker-compose.yml'), { merge: true }) as unknown;
const services = digRecord(compose, 'services');
const service = (name: string): Record<string, unknown> => digRecord(services, name);
const envoyYaml = readYaml('examples/envoy/envoy.yaml');
const dockerfile = readRepoFile('Dockerfile');

function volumesOf(name: string): { source: string; target: string; readOnly: boolean }[] {
  const list = service(name)['volumes'];
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new Error(`${name}.volumes is not a list`);
  return list.map((v) => {
    const [source = '', target = '', mode] = String(v).split(':');
    return { source, target, readOnly: mode === 'ro' };
  });
}

describe('docker-compose.yml', () => {
  it('defines the demo services', () => {
    expect(Object.keys(services).sort()).toEqual(['authz', 'client-a', 'client-b', 'echo', 'envoy', 'pki']);
  });

  it('pins every image to a tag other than latest', () => {
    for (const [name, s] of Object.entries(services)) {
      const image = String(dig(s, 'image'));
      expect(image, name).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9._-]+$/);
      expect(image.endsWith(':latest'), name).toBe(false);
    }
    expect(service('envoy')['image']).toMatch(/^envoyproxy\/envoy:v1\.3\d\.\d+$/);
  });

  it('builds this project for pki and authz from the Dockerfile', () => {
    for (const name of ['pki', 'authz']) {
      expect(service(name)['build']).toBe('.');
      expect(service(name)['image']).toBe('spiffe-ext-authz:dev');
    }
    expect(existsSync(join(REPO_ROOT, 'Dockerfile'))).toBe(true);
  });

  it('mounts only local files that exist, read-only', () => {
    const local = Object.keys(services).flatMap((name) => volumesOf(name).filter((v) => v.source.startsWith('.')).map((v) => ({ name, ...v })));
    expect(local.map((v) => `${v.name} ${v.source}`)).toEqual(['authz ./examples/envoy/policy.yaml', 'envoy ./examples/envoy/envoy.yaml']);
    for (const v of local) {
      expect(existsSync(join(REPO_ROOT, v.source)), v.source).toBe(true);
      expect(v.readOnly, v.source).toBe(true);
    }
  });

  it('publishes ports on 127.0.0.1 only', () => {
    const ports = Object.entries(services).flatMap(([name, s]) => (isRecord(s) && Array.isArray(s['ports']) ? s['ports'].map((p) => `${name} ${String(p)}`) : []));
    expect(ports).toEqual(['authz 127.0.0.1:9192:9192', 'envoy 127.0.0.1:8443:8443']);
  });

  it('generates the PKI once, before anything that reads it', () => {
    expect(service('pki')['command']).toEqual(['demo-pki', '--out', '/pki', '--trust-domain', DEMO_TRUST_DOMAIN]);
    expect(volumesOf('pki')).toEqual([{ source: 'pki', target: '/pki', readOnly: false }]);
    for (const name of ['authz', 'envoy', 'client-a', 'client-b']) {
      expect(dig(service(name), 'depends_on', 'pki', 'condition'), name).toBe('service_completed_successfully');
      expect(volumesOf(name), name).toContainEqual({ source: 'pki', target: '/pki', readOnly: true });
    }
  });

  it('starts Envoy once the server is healthy, and gives the server the admin token', () => {
    expect(dig(service('envoy'), 'depends_on', 'authz', 'condition')).toBe('service_healthy');
    expect(service('authz')['environment']).toEqual({ SPIFFE_AUTHZ_CONFIG: '/etc/spiffe-ext-authz/config.yaml', SPIFFE_AUTHZ_ADMIN_TOKEN: 'demo-token' });
    expect(volumesOf('authz')[0]?.target).toBe('/etc/spiffe-ext-authz/config.yaml');
  });

  it("agrees with envoy.yaml: cluster addresses are service names, with the services' ports", () => {
    const addresses = findObjectsWithKey(envoyYaml, 'socket_address').map((o) => dig(o, 'socket_address'));
    expect(addresses).toEqual([
      { address: '127.0.0.1', port_value: 9901 },
      { address: '0.0.0.0', port_value: 8443 },
      { address: 'authz', port_value: 9191 },
      { address: 'echo', port_value: 5678 },
    ]);
    const policy = readYaml('examples/envoy/policy.yaml');
    expect(dig(policy, 'listen', 'grpc')).toBe('0.0.0.0:9191');
    expect(dig(policy, 'listen', 'admin')).toBe('0.0.0.0:9192');
    expect(service('echo')['command']).toContain('-listen=:5678');
    expect(volumesOf('envoy')[0]?.target).toBe(String(digList(service('envoy'), 'command')[2]));
  });

  it('gives Envoy every certificate file envoy.yaml names, from the volume', () => {
    const files = findObjectsWithKey(envoyYaml, 'filename').map((o) => String(o['filename']));
    const written = new Set(['ca.pem', 'bundle.pem', ...DEMO_LEAVES.flatMap((l) => [`${l.name}.pem`, `${l.name}-key.pem`])]);
    for (const f of files) {
      expect(f.startsWith('/pki/'), f).toBe(true);
      expect(written.has(f.slice('/pki/'.length)), f).toBe(true);
    }
  });

  it('runs each client with its own demo certificate against envoy:8443', () => {
    for (const name of ['client-a', 'client-b']) {
      const s = service(name);
      expect(s['environment']).toEqual({ CLIENT: name });
      expect(s['image']).toMatch(/^curlimages\/curl:\d+\.\d+\.\d+$/);
      const script = String(digList(s, 'command')[0]);
      expect(script).toContain('--cert "/pki/$${CLIENT}.pem" --key "/pki/$${CLIENT}-key.pem"');
      expect(script).toContain('"https://envoy:8443$${path}"');
      expect(DEMO_LEAVES.map((l) => l.name)).toContain(name);
    }
  });
});

describe('Dockerfile', () => {
  const froms = [...dockerfile.matchAll(/^FROM (\S+) AS (\S+)$/gm)].map((m) => [m[1], m[2]]);

  it('builds in one stage and runs from a second, both on a pinned Node 24 slim image', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24\.\d+\.\d+-bookworm-slim$/m);
    expect(froms).toEqual([
      ['${NODE_IMAGE}', 'build'],
      ['${NODE_IMAGE}', 'runtime'],
    ]);
  });

  it('installs production dependencies only in the runtime stage and copies dist/ and config/', () => {
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toContain('RUN npm ci --omit=dev');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    expect(runtime).toContain('COPY config ./config');
    expect(dockerfile.slice(0, dockerfile.indexOf('AS runtime'))).toContain('RUN npm run build');
  });

  it('runs as the non-root node user with the documented ports, config path, health check and entrypoint', () => {
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^EXPOSE 9191 9192$/m);
    expect(runtime).toContain('SPIFFE_AUTHZ_CONFIG=/etc/spiffe-ext-authz/config.yaml');
    expect(runtime).toContain("fetch('http://127.0.0.1:9192/readyz')");
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "dist\/src\/main\.js"\]$/m);
    expect(runtime).toMatch(/^CMD \["serve"\]$/m);
  });

  it('copies only files the build context allows (.dockerignore allow-list)', () => {
    const ignore = readRepoFile('.dockerignore').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.slice(1).map((l) => l.replace(/^!/, ''));
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] ?? '').split(' '));
    for (const path of copied) {
      expect(allowed, path).toContain(path);
      expect(existsSync(join(REPO_ROOT, path)), path).toBe(true);
    }
    expect(allowed).not.toContain('node_modules');
  });
});
