// Component fuzz: ~200 arbitrary CheckRequests (test/unit/fuzz/wire-arbitraries.ts) through the real
// server over gRPC on loopback. Every one must be answered with a CheckResponse (never a gRPC error)
// that satisfies the response invariants, and none may end in INTERNAL_ERROR.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTO_LOADER_OPTIONS } from '../../src/grpc/protos.js';
import type { WireCheckResponse } from '../../src/grpc/wire.js';
import { FIXTURE_AUDIENCE, createJwtIssuer, hs256Token, unsignedToken } from '../fixtures/jwt-issuer.js';
import { startTestServer, type TestServer } from '../fixtures/server.js';
import { createTestCa } from '../fixtures/test-ca.js';
import { expectCheckResponse } from '../unit/fuzz/support.js';
import { wireRequest, type Seeds } from '../unit/fuzz/wire-arbitraries.js';

const NOW = Date.now();
const PROD = 'prod.example.org';
const WEB = `spiffe://${PROD}/ns/checkout/sa/web`;

let server: TestServer;
let seeds: Seeds;

/** envoy.type.v3.StatusCode: the client decodes denied_response.status.code to its enum name. */
function httpStatusNumbers(): ReadonlyMap<string, number> {
  const def = protoLoader.loadSync('envoy/type/v3/http_status.proto', PROTO_LOADER_OPTIONS)['envoy.type.v3.StatusCode'];
  const values = (def as { type?: { value?: { name: string; number: number }[] } } | undefined)?.type?.value ?? [];
  return new Map(values.map((v) => [v.name, v.number]));
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spiffe-authz-fuzz-'));
  const ca = await createTestCa({ trustDomain: PROD, now: new Date(NOW) });
  const issuer = await createJwtIssuer({ trustDomain: PROD, kid: 'k1', now: NOW });
  const bundle = join(dir, 'prod.json');
  writeFileSync(bundle, ca.spiffeBundleJson({ jwtKeys: [issuer.publicJwk] }));
  server = await startTestServer(
    `
identity:
  sources: [principal, certificate, xfcc, jwt]
  xfcc: { trusted: true, maxBytes: 8192, maxElements: 4 }
  jwt: { audiences: [${FIXTURE_AUDIENCE}] }
defaults: { mode: enforce, unmatchedRoute: deny }
trustDomains: [{ name: ${PROD}, bundle: ${bundle} }, partner.example.com]
log: { decisions: none }
routes:
  - name: by-name
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
  - name: jwt-required
    identity: { sources: [principal, jwt], requireJwtSvid: true }
    allow: { ${PROD}: ["**"] }
  - name: warn-route
    mode: warn
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
  - name: shadow-route
    mode: shadow
    allow: { ${PROD}: ["/ns/checkout/sa/*"] }
  - name: admin
    match: { paths: ["/admin/**"] }
    allow: { ${PROD}: ["/ns/ops/sa/admin"] }
  - name: public
    match: { paths: ["/public/**"] }
    allow: { ${PROD}: ["**"] }
`,
    { clock: () => NOW, configPollMs: 0, bundlePollMs: 0 },
  );
  const leaves = await Promise.all([ca.issueSvid({ spiffeId: WEB }), ca.issueSvid({ uris: [WEB, `spiffe://${PROD}/ns/a/sa/b`] })]);
  const exp = Math.floor(NOW / 1000) + 60;
  seeds = {
    ids: [WEB, `spiffe://${PROD}/ns/ops/sa/admin`, 'spiffe://partner.example.com/billing/api'],
    xfccs: [`By=spiffe://${PROD}/ns/edge/sa/gw;URI=${WEB}`, `URI=${WEB},By=x;URI=spiffe://${PROD}/ns/ops/sa/admin`],
    certs: leaves.map((l) => l.envoyEncoded),
    tokens: [
      await issuer.sign({ sub: WEB }),
      unsignedToken({}, { sub: WEB, aud: FIXTURE_AUDIENCE, exp }),
      hs256Token('k', { sub: WEB, aud: FIXTURE_AUDIENCE, exp }, { kid: issuer.kid }),
    ],
    routes: ['by-name', 'jwt-required', 'warn-route', 'shadow-route', 'admin', 'public', '_unmatched'],
  };
});

afterAll(async () => {
  await server?.close();
});

describe('Check over gRPC', () => {
  it('answers ~200 arbitrary CheckRequests with a CheckResponse, never a gRPC error or INTERNAL_ERROR', async () => {
    const names = httpStatusNumbers();
    expect(names.get('Forbidden')).toBe(403);
    await fc.assert(
      fc.asyncProperty(wireRequest(seeds), async (req) => {
        const decoded = await server.check({ ...req });
        // proto-loader leaves zero values out when decoding (defaults: false): status 0 arrives as {}.
        const res: WireCheckResponse = { ...decoded, status: { code: decoded.status?.code ?? 0 } };
        if (res.denied_response !== undefined) {
          // Decoded as the enum name of envoy.type.v3.StatusCode; compare as the number it stands for.
          const code: unknown = res.denied_response.status.code;
          res.denied_response = { ...res.denied_response, status: { code: typeof code === 'string' ? (names.get(code) ?? -1) : Number(code) } };
        }
        expect(expectCheckResponse(res)).not.toBe('INTERNAL_ERROR');
      }),
      { numRuns: 200 },
    );
  });
});
