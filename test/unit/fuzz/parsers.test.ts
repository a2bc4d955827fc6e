// Fuzzing every parser that sees request input: arbitrary and mutated-valid inputs must always give a
// Result (never an exception), with a failure code from the parser's own catalog, and whatever is
// accepted must satisfy the parser's contract. Certificates and tokens are made at test time.
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromEnvoy } from '../../../src/grpc/from-envoy.js';
import { JwtErrorCode, extractBearer, verifyJwtSvid } from '../../../src/identity/jwt-svid.js';
import { X509ErrorCode, decodeEnvoyCertificate, verifyX509Svid } from '../../../src/identity/x509-svid.js';
import { XfccErrorCode, parseXfcc } from '../../../src/identity/xfcc.js';
import { normalizePath, stripQuery } from '../../../src/policy/normalize-path.js';
import { SpiffeIdErrorCode, formatSpiffeId, isLeafId, parseSpiffeId } from '../../../src/spiffe/spiffe-id.js';
import { parseCertificates } from '../../../src/trust/pem.js';
import type { BundleLookup, TrustBundle } from '../../../src/trust/types.js';
import { FIXTURE_AUDIENCE, createJwtIssuer, hs256Token, unsignedToken, type JwtIssuer } from '../../fixtures/jwt-issuer.js';
import { createTestCa, envoyUrlEncode, type TestCa } from '../../fixtures/test-ca.js';
import { expectResultShape, hostileString, mutationOf } from './support.js';
import { wireRequest, type Seeds } from './wire-arbitraries.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const PROD = 'prod.example.org';
const WEB = `spiffe://${PROD}/ns/checkout/sa/web`;

const VALID_IDS = [
  WEB,
  `spiffe://${PROD}`,
  'spiffe://a_b-c.0/x/.../y.z/-_',
  `spiffe://${PROD}/ns/ops/sa/admin`,
  'spiffe://192.168.0.1/svc',
];
const VALID_XFCC = [
  `By=spiffe://${PROD}/ns/edge/sa/gw;Hash=ab12;Subject="CN=a,O=b\\, Inc.";URI=${WEB}`,
  `By=spiffe://${PROD}/ns/edge/sa/gw;URI=${WEB},By=spiffe://${PROD}/ns/x/sa/y;Hash=00;URI=spiffe://${PROD}/ns/a/sa/b;DNS=a.b;DNS=c.d`,
  `uri="${WEB}";cert="-----BEGIN%20CERTIFICATE-----%0AMIIB%0A-----END%20CERTIFICATE-----%0A";chain=""`,
];

let ca: TestCa;
let otherCa: TestCa;
let issuer: JwtIssuer;
let bundles: BundleLookup;
let pems: string[];
let ders: Uint8Array[];
let tokens: string[];
let seeds: Seeds;

beforeAll(async () => {
  ca = await createTestCa({ trustDomain: PROD, now: new Date(NOW) });
  otherCa = await createTestCa({ trustDomain: 'partner.example.com', now: new Date(NOW) });
  issuer = await createJwtIssuer({ trustDomain: PROD, kid: 'k1', now: NOW });
  const inter = await ca.issueIntermediate();
  const leaves = await Promise.all([
    ca.issueSvid({ spiffeId: WEB }),
    ca.issueSvid({ uris: [WEB, `spiffe://${PROD}/ns/a/sa/b`], dns: ['web.internal'] }),
    ca.issueSvid({ spiffeId: WEB, isCa: true }),
    inter.issueSvid({ spiffeId: WEB }),
    otherCa.issueSvid({ spiffeId: WEB }),
  ]);
  pems = [...leaves.map((l) => l.certPem), ca.certPem, leaves[3]!.certPem + inter.certPem];
  ders = leaves.map((l) => l.der);
  const prodBundle: TrustBundle = {
    trustDomain: PROD,
    x509Authorities: [new X509Certificate(ca.certPem)],
    jwtAuthorities: new Map([[issuer.kid, issuer.authority()]]),
    sequence: undefined,
  };
  bundles = (td) => (td === PROD ? prodBundle : undefined);
  tokens = [
    await issuer.sign({ sub: WEB }),
    await issuer.sign({ sub: WEB }, { kid: 'other' }),
    await issuer.sign({ sub: WEB, exp: Math.floor(NOW / 1000) - 3600 }),
    unsignedToken({}, { sub: WEB, aud: FIXTURE_AUDIENCE, exp: Math.floor(NOW / 1000) + 60 }),
    hs256Token('secret', { sub: WEB, aud: FIXTURE_AUDIENCE, exp: Math.floor(NOW / 1000) + 60 }, { kid: issuer.kid }),
  ];
  seeds = {
    ids: VALID_IDS,
    xfccs: VALID_XFCC,
    certs: leaves.map((l) => l.envoyEncoded),
    tokens,
    routes: ['by-name', 'admin', '_unmatched'],
  };
});

/** Byte-level edits of a certificate's DER, re-armoured as PEM: past base64, into the ASN.1 and X.509 readers. */
const derMutation = (bases: readonly Uint8Array[]): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.constantFrom(...bases),
      fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), kind: fc.constantFrom('set', 'insert', 'delete') }), { minLength: 1, maxLength: 3 }),
    )
    .map(([der, edits]) => {
      const bytes = Array.from(der);
      for (const e of edits) {
        const at = e.at % bytes.length;
        if (e.kind === 'set') bytes[at] = e.byte;
        else if (e.kind === 'insert') bytes.splice(at, 0, e.byte);
        else bytes.splice(at, 1);
      }
      const b64 = Buffer.from(bytes).toString('base64').replace(/.{1,64}/g, '$&\n');
      return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`;
    });

/** Edits of a token's decoded header or payload JSON, re-encoded, keeping the original signature. */
const jwtPartMutation = (bases: readonly string[]): fc.Arbitrary<string> =>
  fc.constantFrom(...bases).chain((token) => {
    const [h = '', p = '', sig = ''] = token.split('.');
    const text = (part: string): string => Buffer.from(part, 'base64url').toString('utf8');
    const enc = (t: string): string => Buffer.from(t).toString('base64url');
    return fc.oneof(
      mutationOf([text(h)], 3).map((m) => `${enc(m)}.${p}.${sig}`),
      mutationOf([text(p)], 3).map((m) => `${h}.${enc(m)}.${sig}`),
    );
  });

const JSON_ODDITIES = [null, true, 0, -1, 1e308, 4e9, 'none', 'HS256', 'EdDSA', 'RS256', 'ES256', 'JWT', 'JOSE', '', [], [''], {}, ['spiffe-ext-authz'], 'spiffe-ext-authz', WEB, `spiffe://${PROD}`] as const;
const jsonOddity = fc.oneof(fc.constantFrom(...JSON_ODDITIES), fc.jsonValue({ maxDepth: 2 }));

describe('parseSpiffeId', () => {
  it('returns a Result for any input, and an accepted ID is in the SPIFFE charset and round-trips', () => {
    const codes = Object.values(SpiffeIdErrorCode);
    fc.assert(
      fc.property(fc.oneof(hostileString(120), mutationOf(VALID_IDS, 6), fc.constantFrom(...VALID_IDS)), (s) => {
        const r = parseSpiffeId(s);
        expectResultShape(r, codes);
        if (r.ok) {
          expect(formatSpiffeId(r.value)).toBe(s);
          expect(s).toMatch(/^spiffe:\/\/[a-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/);
          expect(s.split('/').slice(3)).not.toContain('..');
          expect(s.length).toBeLessThanOrEqual(2048);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('returns a failure Result for non-string input', () => {
    fc.assert(
      fc.property(fc.anything().filter((v) => typeof v !== 'string'), (v) => {
        expect(expectResultShape(parseSpiffeId(v as string), Object.values(SpiffeIdErrorCode))).toBeDefined();
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseXfcc', () => {
  it('returns a Result for any header and limits; accepted headers respect both limits', () => {
    const limits = fc.record({ maxBytes: fc.integer({ min: 1, max: 4096 }), maxElements: fc.integer({ min: 1, max: 20 }) });
    fc.assert(
      fc.property(fc.oneof(hostileString(200), mutationOf(VALID_XFCC, 6)), limits, (header, lim) => {
        const r = parseXfcc(header, lim);
        expectResultShape(r, Object.values(XfccErrorCode));
        if (r.ok) {
          expect(Buffer.byteLength(header)).toBeLessThanOrEqual(lim.maxBytes);
          expect(r.value.length).toBeLessThanOrEqual(lim.maxElements);
          for (const e of r.value) {
            for (const list of [e.By, e.URI, e.DNS]) for (const v of list) expect(typeof v).toBe('string');
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('decodeEnvoyCertificate', () => {
  it('returns a Result for any input, and inverts Envoy’s five substitutions', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString(200), mutationOf(VALID_XFCC, 4)), (s) => {
        const r = decodeEnvoyCertificate(s);
        expectResultShape(r, ['CERT_MALFORMED']);
        if (!s.includes('%')) expect(decodeEnvoyCertificate(envoyUrlEncode(s))).toEqual({ ok: true, value: s });
      }),
      { numRuns: 2000 },
    );
  });

  it('returns a Result for mutated Envoy-encoded certificates', () => {
    fc.assert(
      fc.property(mutationOf(seeds.certs, 6), (s) => {
        expectResultShape(decodeEnvoyCertificate(s), ['CERT_MALFORMED']);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseCertificates', () => {
  it('returns a Result for arbitrary and mutated PEM; accepted PEM yields 1..maxCerts certificates', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString(200), mutationOf(pems, 6), derMutation(ders)), fc.integer({ min: 1, max: 3 }), (pem, maxCerts) => {
        const r = parseCertificates(pem, { maxCerts });
        expectResultShape(r, ['CERT_MALFORMED']);
        if (r.ok) {
          expect(r.value.length).toBeGreaterThanOrEqual(1);
          expect(r.value.length).toBeLessThanOrEqual(maxCerts);
          for (const c of r.value) expect(c).toBeInstanceOf(X509Certificate);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('verifyX509Svid', () => {
  it('returns a Result for mutated certificates and chains; an accepted one names a leaf SPIFFE ID', () => {
    const codes = Object.values(X509ErrorCode);
    const opts = fc.record({
      withBundle: fc.boolean(),
      requireBundle: fc.boolean(),
      strict: fc.boolean(),
      intermediates: fc.option(fc.oneof(fc.constantFrom(...pems), mutationOf(pems, 3)), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.oneof(mutationOf(pems, 5), derMutation(ders), hostileString(100)), opts, (pem, o) => {
        const r = verifyX509Svid(pem, {
          now: NOW,
          bundles: o.withBundle ? bundles : () => undefined,
          requireBundle: o.requireBundle,
          strict: o.strict,
          ...(o.intermediates !== undefined ? { intermediatesPem: o.intermediates } : {}),
        });
        expectResultShape(r, codes);
        if (r.ok) {
          const id = parseSpiffeId(r.value.spiffeId);
          expect(id.ok && isLeafId(id.value)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('extractBearer', () => {
  it('returns a Result for any header value; a token it returns is one b64token', () => {
    const bearerish = fc.oneof(
      hostileString(150),
      hostileString(100).map((s) => `Bearer ${s}`),
      mutationOf(['Bearer abc.def.ghi', 'bearer  a.b.c', 'Basic dXNlcjpwYXNz', 'Bearer a,Bearer b'], 5),
    );
    fc.assert(
      fc.property(bearerish, (h) => {
        const r = extractBearer(h);
        expectResultShape(r, ['JWT_MALFORMED']);
        if (r.ok && r.value !== undefined) expect(r.value).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
      }),
      { numRuns: 2000 },
    );
  });

  it('returns a Result for mutated real bearer headers', () => {
    fc.assert(
      fc.property(mutationOf(tokens.map((t) => `Bearer ${t}`), 4), (h) => {
        expectResultShape(extractBearer(h), ['JWT_MALFORMED']);
      }),
      { numRuns: 500 },
    );
  });
});

describe('verifyJwtSvid', () => {
  it('resolves to a Result for arbitrary and mutated tokens; an accepted one names a leaf SPIFFE ID', async () => {
    const codes = Object.values(JwtErrorCode);
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutationOf(tokens, 4), jwtPartMutation(tokens), hostileString(120)), async (token) => {
        const r = await verifyJwtSvid(token, { now: NOW, audiences: [FIXTURE_AUDIENCE], skewSeconds: 30, bundles, maxTokenBytes: 2048 });
        expectResultShape(r, codes);
        if (r.ok) {
          const id = parseSpiffeId(r.value.spiffeId);
          expect(id.ok && isLeafId(id.value)).toBe(true);
          expect(r.value.trustDomain).toBe(PROD);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('verifyJwtSvid with real signatures', () => {
  it('resolves to a Result for validly signed tokens with arbitrary header and claim values', async () => {
    const codes = Object.values(JwtErrorCode);
    const header = fc.dictionary(fc.constantFrom('alg', 'typ', 'kid', 'crit', 'jwk', 'jku', 'x5c', 'b64', 'zip', 'cty'), jsonOddity, { maxKeys: 4 });
    const claims = fc.dictionary(fc.constantFrom('sub', 'aud', 'exp', 'nbf', 'iat', 'iss', '__proto__'), jsonOddity, { maxKeys: 5 });
    await fc.assert(
      fc.asyncProperty(header, claims, async (h, c) => {
        const token = await issuer.signRaw(JSON.stringify({ sub: WEB, aud: FIXTURE_AUDIENCE, exp: Math.floor(NOW / 1000) + 60, ...c }), h);
        const r = await verifyJwtSvid(token, { now: NOW, audiences: [FIXTURE_AUDIENCE], skewSeconds: 30, bundles });
        expectResultShape(r, codes);
        if (r.ok) {
          // Only the nine algorithms, the bundle's own key and a string sub that is a leaf ID get through.
          expect(r.value.spiffeId).toMatch(/^spiffe:\/\/prod\.example\.org\//);
          expect(h['crit']).toBeUndefined();
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('normalizePath', () => {
  it('gives a canonical, idempotent path for any "/"-path: no "//", "\\", dot segments or decodable escapes', () => {
    const path = fc.oneof(
      hostileString(120).map((s) => `/${s}`),
      mutationOf(['/public/../admin/x', '/public/%2e%2e/admin/x', '/public%2F..%2Fadmin/x', '/a/./b//c\\d/%7e/%41/%3a/%252e'], 6).map((s) =>
        s.startsWith('/') ? s : `/${s}`,
      ),
    );
    fc.assert(
      fc.property(path, (p) => {
        const n = normalizePath(p);
        expect(n.startsWith('/')).toBe(true);
        expect(n).not.toContain('//');
        expect(n).not.toContain('\\');
        const segments = n.split('/');
        expect(segments).not.toContain('.');
        expect(segments).not.toContain('..');
        // With well-formed escapes only, the remaining ones are upper case and never of "/", "\" or an
        // unreserved character, and normalising again changes nothing. (A stray "%" may meet a decoded
        // character and spell a new escape, "%7%41" -> "%7A": that is the single decoding the upstream
        // does too, never decoded a second time, like "%252e".)
        if (!/%(?![0-9A-Fa-f]{2})/.test(p)) {
          for (const m of n.matchAll(/%([0-9A-Fa-f]{2})/g)) {
            const v = Number.parseInt(m[1] as string, 16);
            expect(m[1]).toBe((m[1] as string).toUpperCase());
            expect(v === 0x2f || v === 0x5c || /[A-Za-z0-9\-._~]/.test(String.fromCharCode(v))).toBe(false);
          }
          expect(normalizePath(n)).toBe(n);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never leaves a query or fragment after stripQuery', () => {
    fc.assert(
      fc.property(hostileString(120), (p) => {
        const s = stripQuery(p);
        expect(s).not.toMatch(/[?#]/);
        expect(p.startsWith(s)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('fromEnvoy', () => {
  it('converts any CheckRequest shape into a plain CheckInput without throwing', () => {
    fc.assert(
      fc.property(wireRequest(seeds), (req) => {
        const input = fromEnvoy(req);
        for (const v of [input.requestId, input.host, input.method, input.path, input.principal, input.certificate]) expect(typeof v).toBe('string');
        expect(input.host).not.toMatch(/[A-Z]/);
        expect(input.method).not.toMatch(/[a-z]/);
        expect(input.path).not.toMatch(/[?#]/);
        expect(typeof input.headers).toBe('object');
        expect(input.routeName === undefined || typeof input.routeName === 'string').toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
