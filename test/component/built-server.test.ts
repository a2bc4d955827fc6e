// The shipped entry as `npm start` and the Docker image run it: dist/src/main.js after `npm run build`,
// which runs the CLI from one bundled file (dist/src/server.cjs) with its V8 code cache (see
// scripts/bundle-server.mjs, src/cli/bundle-loader.ts). Its first certificate and JWT-SVID Checks right
// after start must already verify (the JWS library is loaded lazily), and `demo-pki`, kept outside
// the bundle, must still work.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProto } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationClientConstructor } from '../../src/grpc/protos.js';
import type { WireCheckResponse } from '../../src/grpc/wire.js';
import { checkRequest } from '../fixtures/check-request.js';
import { createJwtIssuer, type JwtIssuer } from '../fixtures/jwt-issuer.js';
import { metadataOf } from '../fixtures/server.js';
import { createTestCa, type TestCa } from '../fixtures/test-ca.js';

const MAIN = 'dist/src/main.js';
const BUNDLE = 'dist/src/server.cjs';
const TD = 'prod.example.org';
const WEB = `spiffe://${TD}/ns/checkout/sa/web`;

let dir: string;
let ca: TestCa;
let issuer: JwtIssuer;
let child: ChildProcess | undefined;

beforeAll(async () => {
  expect(existsSync(MAIN), 'dist/ is missing: run `npm run build` (npm test does)').toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'spiffe-authz-built-'));
  ca = await createTestCa({ trustDomain: TD });
  issuer = await createJwtIssuer({ trustDomain: TD, alg: 'ES256', kid: 'k1' });
  writeFileSync(join(dir, 'bundle.json'), ca.spiffeBundleJson({ jwtKeys: [issuer.publicJwk] }));
});

afterAll(() => {
  child?.kill('SIGKILL');
});

/** Starts the built server and resolves with its ports once it logged "serving" (health is SERVING then). */
function startBuilt(configPath: string): Promise<{ grpcPort: number }> {
  const c = spawn(process.execPath, [MAIN, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  child = c;
  let stderr = '';
  c.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "serving" line within 20 s: ${stderr}`)), 20_000);
    createInterface({ input: c.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const rec = JSON.parse(line) as { msg?: string; grpcPort?: number };
      if (rec.msg === 'serving') {
        clearTimeout(timer);
        resolve({ grpcPort: rec.grpcPort! });
      }
    });
    c.once('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
}

describe('the built entry (dist/src/main.js)', () => {
  it('runs the CLI from one bundled file, which requires no module of this package and not @peculiar/x509', () => {
    const entry = readFileSync(MAIN, 'utf8');
    expect(entry).toContain('server.cjs');
    const text = readFileSync(BUNDLE, 'utf8');
    const relative = [...text.matchAll(/(?:require|import)\(\s*["'](\.[^"']+)["']/g)].map((m) => m[1]);
    expect(relative).toEqual(['./cli/demo-pki.js']); // never reached: main.js runs demo-pki from tsc's modules
    expect(text).not.toMatch(/require\(["']@peculiar\/x509["']\)/);
  });

  it('has a code cache that this Node accepts for the bundle, in a process started as npm start starts one', () => {
    const probe = `import { loadServerBundle } from './dist/src/cli/bundle-loader.js';
      const b = loadServerBundle('${BUNDLE}', '${BUNDLE}.v8cache');
      process.stdout.write(b.cache + ' ' + typeof b.runCli);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '' } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('used function');
  });

  it('verifies a certificate and a JWT-SVID on the first Checks after SERVING', async () => {
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `
listen: { grpc: "127.0.0.1:0", admin: "127.0.0.1:0" }
identity:
  sources: [certificate, jwt]
  jwt: { audiences: [spiffe-ext-authz] }
trustDomains:
  - { name: ${TD}, bundle: ${join(dir, 'bundle.json')} }
routes:
  - { name: orders, mode: enforce, allow: { ${TD}: ["/ns/checkout/sa/*"] } }
`,
    );
    const { grpcPort } = await startBuilt(config);
    // The bundled health service (src/grpc/health.ts, no .proto read when serving) answers a client built from health.proto.
    const health = grpc.loadPackageDefinition(protoLoader.loadSync(healthProto, { enums: String })) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    const healthClient = new health.grpc.health.v1.Health(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    const status = await new Promise<unknown>((resolve, reject) =>
      healthClient['Check']!({ service: '' }, (e: grpc.ServiceError | null, r: { status: unknown }) => (e ? reject(e) : resolve(r.status))),
    );
    healthClient.close();
    expect(status).toBe('SERVING');
    const Client = authorizationClientConstructor();
    const client = new Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    const check = (spec: Parameters<typeof checkRequest>[0]): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) =>
        client['Check']!(checkRequest({ route: 'orders', ...spec }), (e: grpc.ServiceError | null, r: WireCheckResponse) => (e ? reject(e) : resolve(metadataOf(r)))),
      );
    try {
      const token = await issuer.sign({ sub: WEB });
      const other = await createJwtIssuer({ trustDomain: TD, alg: 'ES256', kid: 'k1' });
      const forged = await other.sign({ sub: WEB });
      const svid = await ca.issueSvid({ spiffeId: WEB });
      // Sent together, before anything else: the first JWT Check must not fail on a library still loading.
      const [byJwt, byForged, byCert] = await Promise.all([
        check({ headers: { authorization: `Bearer ${token}` } }),
        check({ headers: { authorization: `Bearer ${forged}` } }),
        check({ certificate: svid.envoyEncoded }),
      ]);
      expect(byJwt).toMatchObject({ reason: 'ALLOWED', spiffeId: WEB, identitySource: 'jwt' });
      expect(byForged).toMatchObject({ reason: 'JWT_BAD_SIGNATURE', effect: 'deny' });
      expect(byCert).toMatchObject({ reason: 'ALLOWED', spiffeId: WEB, identitySource: 'certificate' });
    } finally {
      client.close();
      child?.kill('SIGTERM');
    }
  });

  it('runs demo-pki from outside the bundle', () => {
    const out = join(dir, 'pki');
    const r = spawnSync(process.execPath, [MAIN, 'demo-pki', '--out', out], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readdirSync(out)).toContain('bundle.pem');
  });
});
