// Tests for JWT-SVID verification: spec-notes §4 (DECISIONs), §2 (bundle per trust domain), §8.9.
// Every token is issued at run time by test/fixtures/jwt-issuer.ts; the clock is fixed at NOW.
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  extractBearer,
  verifyJwtSvid,
  JwtErrorCode,
  JWT_DEFAULT_MAX_BYTES,
  JWT_SVID_ALGORITHMS,
  type JwtSvidVerifyOptions,
} from '../../../src/identity/jwt-svid.js';
import type { BundleLookup, TrustBundle } from '../../../src/trust/types.js';
import {
  b64json,
  b64url,
  bundleFor,
  createJwtIssuer,
  hs256Token,
  unsignedToken,
  FIXTURE_AUDIENCE,
  type JwtIssuer,
} from '../../fixtures/jwt-issuer.js';

const NOW = Date.UTC(2030, 0, 15, 12, 0, 0);
const NOW_S = NOW / 1000;
const SKEW = 60;
const TD = 'example.org';
const TD_B = 'other.org';
const SUB = `spiffe://${TD}/ns/default/sa/client`;

const issuers = new Map<string, JwtIssuer>();
let es256: JwtIssuer;
let es256b: JwtIssuer; // second key of TD, for kid-less selection
let es384: JwtIssuer;
let rs256: JwtIssuer;
let ps256: JwtIssuer;
let foreign: JwtIssuer; // TD_B key with the SAME kid as es256
let foreignOnly: JwtIssuer; // TD_B key with a kid unknown in TD
let attacker: JwtIssuer; // key in no bundle at all
let bundles: BundleLookup;

beforeAll(async () => {
  for (const alg of JWT_SVID_ALGORITHMS) issuers.set(alg, await createJwtIssuer({ trustDomain: TD, alg, kid: `k-${alg}`, now: NOW }));
  const get = (alg: string): JwtIssuer => issuers.get(alg) ?? expect.unreachable(alg);
  [es256, es384, rs256, ps256] = [get('ES256'), get('ES384'), get('RS256'), get('PS256')];
  es256b = await createJwtIssuer({ trustDomain: TD, kid: 'k-ES256-b', now: NOW });
  foreign = await createJwtIssuer({ trustDomain: TD_B, kid: es256.kid, now: NOW });
  foreignOnly = await createJwtIssuer({ trustDomain: TD_B, kid: 'only-in-b', now: NOW });
  attacker = await createJwtIssuer({ trustDomain: TD, kid: 'attacker', now: NOW });
  bundles = bundleFor(...issuers.values(), es256b, foreign, foreignOnly);
});

/** Verify options with the fixed clock and the shared bundles; `over` replaces fields. */
function opts(over: Partial<JwtSvidVerifyOptions> = {}): JwtSvidVerifyOptions {
  return { now: NOW, audiences: [FIXTURE_AUDIENCE], skewSeconds: SKEW, bundles, ...over };
}

/** 'OK' or the failure code of verifying `token`. */
async function code(token: string, over: Partial<JwtSvidVerifyOptions> = {}): Promise<string> {
  const r = await verifyJwtSvid(token, opts(over));
  return r.ok ? 'OK' : r.error.code;
}

describe('verifyJwtSvid: valid tokens (§4)', () => {
  it.each(JWT_SVID_ALGORITHMS)('accepts a valid %s token', async (alg) => {
    const issuer = issuers.get(alg) ?? expect.unreachable(alg);
    const r = await verifyJwtSvid(await issuer.sign(), opts());
    expect(r).toEqual({ ok: true, value: { spiffeId: SUB, trustDomain: TD, path: '/ns/default/sa/client', expiresAt: (NOW_S + 300) * 1000 } });
  });

  it('tries every fitting key of the trust domain when kid is absent (kid OPTIONAL, §4.1 DECISION)', async () => {
    expect(await code(await es256b.sign({}, { kid: undefined }))).toBe('OK');
    expect(await code(await rs256.sign({}, { kid: undefined }))).toBe('OK');
    expect(await code(await es384.sign({}, { kid: undefined }))).toBe('OK');
  });

  it.each<[string, unknown]>([
    ['aud string', FIXTURE_AUDIENCE],
    ['aud array with others', ['x', FIXTURE_AUDIENCE, 'y']],
  ])('accepts %s', async (_name, aud) => {
    expect(await code(await es256.sign({ aud }))).toBe('OK');
  });

  it('accepts when any configured audience is in aud', async () => {
    expect(await code(await es256.sign({ aud: 'second' }), { audiences: ['first', 'second'] })).toBe('OK');
  });

  it.each(['JWT', 'JOSE', undefined])('accepts typ %s', async (typ) => {
    expect(await code(await es256.sign({}, { typ }))).toBe('OK');
  });

  it('accepts exp, nbf and iat within the skew, and extra claims', async () => {
    const claims = { exp: NOW_S - SKEW + 1, nbf: NOW_S + SKEW, iat: NOW_S + SKEW, jti: 'x', iss: 'y' };
    expect(await code(await es256.sign(claims))).toBe('OK');
  });

  it('accepts a token of exactly maxTokenBytes', async () => {
    const token = await es256.sign();
    expect(await code(token, { maxTokenBytes: token.length })).toBe('OK');
  });
});

describe('verifyJwtSvid: structure', () => {
  it('rejects a token over 8 KiB with JWT_TOO_LARGE', async () => {
    const token = await es256.sign({ pad: 'a'.repeat(JWT_DEFAULT_MAX_BYTES) });
    expect(await code(token)).toBe(JwtErrorCode.TOO_LARGE);
    expect(await code(await es256.sign(), { maxTokenBytes: 100 })).toBe(JwtErrorCode.TOO_LARGE);
  });

  it.each<[string, (t: string) => string]>([
    ['JSON flattened serialization', (t) => { const [p, pl, s] = t.split('.'); return JSON.stringify({ protected: p, payload: pl, signature: s }); }],
    ['JSON general serialization', (t) => { const [p, pl, s] = t.split('.'); return JSON.stringify({ payload: pl, signatures: [{ protected: p, signature: s }] }); }],
    ['2 parts', (t) => t.split('.').slice(0, 2).join('.')],
    ['4 parts', (t) => `${t}.${t.split('.')[2] ?? ''}`],
    ['5 parts (JWE shape)', (t) => `${t}.AAAA.BBBB`],
    ['empty string', () => ''],
    ['padding', (t) => `${t}==`],
    ['standard base64 characters', (t) => t.replace(/-/g, '+').replace(/_/g, '/') + '+/'],
    ['whitespace', (t) => ` ${t}`],
    ['empty header', (t) => t.slice(t.indexOf('.'))],
    ['empty payload', (t) => { const [p, , s] = t.split('.'); return `${p}..${s}`; }],
  ])('rejects %s with JWT_MALFORMED', async (_name, mangle) => {
    expect(await code(mangle(await es256.sign()))).toBe(JwtErrorCode.MALFORMED);
  });

  it('rejects a signature whose unused base64url bits are set with JWT_MALFORMED', async () => {
    const token = await es256.sign(); // 64-byte signature = 86 chars, the last carries 4 unused bits
    const last = token.charAt(token.length - 1);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet.charAt(alphabet.indexOf(last) | 1);
    expect(await code(token.slice(0, -1) + twin)).toBe(JwtErrorCode.MALFORMED);
  });

  it.each<[string, string]>([
    ['header not JSON', b64url('not json')],
    ['header a JSON array', b64json(['ES256'])],
    ['header a JSON string', b64json('ES256')],
  ])('rejects %s with JWT_MALFORMED', async (_name, header) => {
    const [, payload, sig] = (await es256.sign()).split('.');
    expect(await code(`${header}.${payload}.${sig}`)).toBe(JwtErrorCode.MALFORMED);
  });

  it.each<[string, string]>([
    ['payload not JSON', b64url('{')],
    ['payload a JSON array', b64json([SUB])],
  ])('rejects %s with JWT_MALFORMED', async (_name, payload) => {
    const [header, , sig] = (await es256.sign()).split('.');
    expect(await code(`${header}.${payload}.${sig}`)).toBe(JwtErrorCode.MALFORMED);
  });

  it('rejects a non-string kid with JWT_MALFORMED', async () => {
    expect(await code(await es256.sign({}, { kid: 7 }))).toBe(JwtErrorCode.MALFORMED);
  });
});

describe('verifyJwtSvid: alg allow-list before verification (§4.1, §8.9)', () => {
  it('rejects alg none (empty and copied signature) with JWT_ALG_NOT_ALLOWED', async () => {
    const payload = { sub: SUB, aud: FIXTURE_AUDIENCE, exp: NOW_S + 300 };
    expect(await code(unsignedToken({ kid: es256.kid }, payload))).toBe(JwtErrorCode.ALG_NOT_ALLOWED);
    const realSig = (await es256.sign()).split('.')[2];
    expect(await code(unsignedToken({ kid: es256.kid }, payload, realSig))).toBe(JwtErrorCode.ALG_NOT_ALLOWED);
    expect(await code(unsignedToken({ alg: 'None' }, payload))).toBe(JwtErrorCode.ALG_NOT_ALLOWED);
  });

  it('rejects HS256 keyed with the public key bytes (alg confusion) with JWT_ALG_NOT_ALLOWED', async () => {
    const payload = { sub: SUB, aud: FIXTURE_AUDIENCE, exp: NOW_S + 300 };
    for (const issuer of [rs256, es256]) {
      const pem = issuer.authority().key.export({ type: 'spki', format: 'pem' });
      const der = issuer.authority().key.export({ type: 'spki', format: 'der' });
      for (const secret of [pem, der, JSON.stringify(issuer.publicJwk)]) {
        expect(await code(hs256Token(secret, payload, { kid: issuer.kid }))).toBe(JwtErrorCode.ALG_NOT_ALLOWED);
      }
    }
  });

  it('rejects a real EdDSA token with JWT_ALG_NOT_ALLOWED', async () => {
    const ed = await createJwtIssuer({ trustDomain: TD, alg: 'EdDSA', kid: es256.kid, now: NOW });
    expect(await code(await ed.sign())).toBe(JwtErrorCode.ALG_NOT_ALLOWED);
  });

  it.each<[string, unknown]>([
    ['missing alg', undefined], ['lowercase es256', 'es256'], ['HS512', 'HS512'], ['RS1', 'RS1'],
    ['ES256K', 'ES256K'], ['numeric alg', 256], ['array alg', ['ES256']],
  ])('rejects %s with JWT_ALG_NOT_ALLOWED', async (_name, alg) => {
    expect(await code(await es256.sign({}, { alg }))).toBe(JwtErrorCode.ALG_NOT_ALLOWED);
  });

  it('rejects an alg outside the configured subset with JWT_ALG_NOT_ALLOWED', async () => {
    expect(await code(await es256.sign(), { algorithms: ['RS256', 'PS256'] })).toBe(JwtErrorCode.ALG_NOT_ALLOWED);
    expect(await code(await rs256.sign(), { algorithms: ['RS256'] })).toBe('OK');
  });
});

describe('verifyJwtSvid: header rules (§4.1)', () => {
  it.each<[string, Record<string, unknown>]>([
    ['typ at+jwt', { typ: 'at+jwt' }],
    ['typ lowercase jwt', { typ: 'jwt' }],
    ['typ number', { typ: 1 }],
    ['crit [exp]', { crit: ['exp'], exp: 1 }],
    ['crit [b64]', { crit: ['b64'], b64: true }],
    ['empty crit', { crit: [] }],
  ])('rejects %s with JWT_BAD_HEADER', async (_name, header) => {
    expect(await code(await es256.sign({}, header))).toBe(JwtErrorCode.BAD_HEADER);
  });

  // Tables are built at collection time, before beforeAll: headers needing issuers are thunks.
  it.each<[string, () => Record<string, unknown>]>([
    ['embedded jwk, victim kid', () => ({ jwk: attacker.publicJwk, kid: es256.kid })],
    ['embedded jwk, no kid', () => ({ jwk: attacker.publicJwk, kid: undefined })],
    ['jku', () => ({ jku: 'https://attacker.example/jwks.json', kid: es256.kid })],
    ['x5u and x5c', () => ({ x5u: 'https://attacker.example/c.pem', x5c: ['MIIB'], kid: undefined })],
  ])('ignores %s for key selection with JWT_BAD_SIGNATURE', async (_name, header) => {
    expect(await code(await attacker.sign({}, header()))).toBe(JwtErrorCode.BAD_SIGNATURE);
  });
});

describe('verifyJwtSvid: subject (§4.2, §1)', () => {
  it.each<[string, unknown]>([
    ['missing sub', undefined],
    ['numeric sub', 42],
    ['not a URI', 'client'],
    ['https scheme', `https://${TD}/ns/default/sa/client`],
    ['uppercase scheme', `SPIFFE://${TD}/ns/default/sa/client`],
    ['uppercase trust domain', 'spiffe://Example.org/ns/default/sa/client'],
    ['root path', `spiffe://${TD}`],
    ['trailing slash', `spiffe://${TD}/`],
    ['dot segment', `spiffe://${TD}/ns/../sa`],
    ['port', `spiffe://${TD}:443/x`],
  ])('rejects %s with JWT_INVALID_SUBJECT', async (_name, sub) => {
    expect(await code(await es256.sign({ sub }))).toBe(JwtErrorCode.INVALID_SUBJECT);
  });
});

describe('verifyJwtSvid: bundle and key selection (§2, §4.1, §8.9)', () => {
  it('rejects a sub whose trust domain has no bundle with BUNDLE_UNAVAILABLE', async () => {
    expect(await code(await es256.sign({ sub: 'spiffe://unknown.org/w' }))).toBe(JwtErrorCode.BUNDLE_UNAVAILABLE);
    // A lookup returning another domain's bundle is never used.
    expect(await code(await es256.sign(), { bundles: () => bundles(TD_B) })).toBe(JwtErrorCode.BUNDLE_UNAVAILABLE);
  });

  it('rejects when the bundle has no JWT keys with JWT_UNKNOWN_KEY', async () => {
    const empty: TrustBundle = { trustDomain: TD, x509Authorities: [], jwtAuthorities: new Map(), sequence: undefined };
    expect(await code(await es256.sign(), { bundles: () => empty })).toBe(JwtErrorCode.UNKNOWN_KEY);
    expect(await code(await es256.sign({}, { kid: undefined }), { bundles: () => empty })).toBe(JwtErrorCode.UNKNOWN_KEY);
  });

  it('rejects an unknown kid with JWT_UNKNOWN_KEY', async () => {
    expect(await code(await es256.sign({}, { kid: 'nope' }))).toBe(JwtErrorCode.UNKNOWN_KEY);
    expect(await code(await es256.sign({}, { kid: '' }))).toBe(JwtErrorCode.UNKNOWN_KEY);
    expect(await code(await es256.sign({}, { kid: '__proto__' }))).toBe(JwtErrorCode.UNKNOWN_KEY);
  });

  it('never verifies a sub of trust domain A with a key of trust domain B', async () => {
    // Same kid in both bundles: A's key is used and the signature fails.
    expect(await code(await foreign.sign({ sub: SUB }))).toBe(JwtErrorCode.BAD_SIGNATURE);
    expect(await code(await foreign.sign({ sub: SUB }, { kid: undefined }))).toBe(JwtErrorCode.BAD_SIGNATURE);
    // B's kid does not exist in A.
    expect(await code(await foreignOnly.sign({ sub: SUB }))).toBe(JwtErrorCode.UNKNOWN_KEY);
    // Control: the same issuers are valid for their own trust domain.
    expect(await code(await foreign.sign())).toBe('OK');
  });

  it.each<[string, () => JwtIssuer, string]>([
    ['RS256 header on an EC key', () => es256, 'RS256'],
    ['PS256 header on an EC key', () => es256, 'PS256'],
    ['ES384 header with a P-256 key', () => es256, 'ES384'],
    ['ES256 header with a P-384 key', () => es384, 'ES256'],
    ['ES256 header on an RSA key', () => rs256, 'ES256'],
  ])('rejects %s with JWT_ALG_KEY_MISMATCH', async (_name, issuer, alg) => {
    expect(await code(await issuer().sign({}, { alg }))).toBe(JwtErrorCode.ALG_KEY_MISMATCH);
  });

  it('rejects a kid-less token when no key fits alg with JWT_ALG_KEY_MISMATCH', async () => {
    const onlyEc = bundleFor(es256);
    expect(await code(await rs256.sign({}, { kid: undefined }), { bundles: onlyEc })).toBe(JwtErrorCode.ALG_KEY_MISMATCH);
  });

  it('rejects an RSA key under 2048 bits (jose TypeError) with JWT_ALG_KEY_MISMATCH', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weak: TrustBundle = {
      trustDomain: TD, x509Authorities: [], sequence: undefined,
      jwtAuthorities: new Map([['weak', { kid: 'weak', key: publicKey, kty: 'RSA', crv: undefined }]]),
    };
    const input = `${b64json({ alg: 'RS256', kid: 'weak' })}.${b64json({ sub: SUB, aud: FIXTURE_AUDIENCE, exp: NOW_S + 60 })}`;
    const token = `${input}.${b64url(nodeSign('sha256', Buffer.from(input), privateKey))}`;
    expect(await code(token, { bundles: () => weak })).toBe(JwtErrorCode.ALG_KEY_MISMATCH);
  });

  it.each<[string, () => Promise<string>]>([
    ['tampered payload', async () => {
      const [h, , s] = (await es256.sign()).split('.');
      return `${h}.${b64json({ sub: `spiffe://${TD}/admin`, aud: FIXTURE_AUDIENCE, exp: NOW_S + 300 })}.${s}`;
    }],
    ['tampered header', async () => { const [, p, s] = (await es256.sign()).split('.'); return `${b64json({ alg: 'ES256', kid: es256.kid })}.${p}.${s}`; }],
    ['signature of another key under the victim kid', () => attacker.sign({}, { kid: es256.kid })],
    ['RS256 header on a PS256 signature', () => ps256.sign({}, { alg: 'RS256' })],
    ['empty signature', async () => (await es256.sign()).replace(/[^.]+$/, '')],
  ])('rejects %s with JWT_BAD_SIGNATURE', async (_name, make) => {
    expect(await code(await make())).toBe(JwtErrorCode.BAD_SIGNATURE);
  });
});

describe('verifyJwtSvid: claims after the signature (§4.2)', () => {
  it.each<[string, unknown, string]>([
    ['missing exp', undefined, JwtErrorCode.MISSING_EXP],
    ['string exp', String(NOW_S + 300), JwtErrorCode.MISSING_EXP],
    ['null exp', null, JwtErrorCode.MISSING_EXP],
    ['exp past the skew', NOW_S - SKEW - 1, JwtErrorCode.EXPIRED],
    ['exp exactly at now - skew', NOW_S - SKEW, JwtErrorCode.EXPIRED],
    ['exp within the skew', NOW_S - SKEW + 1, 'OK'],
  ])('handles %s with %s', async (_name, exp, expected) => {
    expect(await code(await es256.sign({ exp }))).toBe(expected);
  });

  it('rejects exp 1e999 (Infinity) with JWT_MISSING_EXP', async () => {
    expect(await code(await es256.signRaw(`{"sub":"${SUB}","aud":"${FIXTURE_AUDIENCE}","exp":1e999}`))).toBe(JwtErrorCode.MISSING_EXP);
  });

  it('rejects exp past with skew 0 with JWT_EXPIRED', async () => {
    expect(await code(await es256.sign({ exp: NOW_S }), { skewSeconds: 0 })).toBe(JwtErrorCode.EXPIRED);
    expect(await code(await es256.sign({ exp: NOW_S + 1 }), { skewSeconds: 0 })).toBe('OK');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['nbf beyond the skew', { nbf: NOW_S + SKEW + 1 }, JwtErrorCode.NOT_YET_VALID],
    ['nbf within the skew', { nbf: NOW_S + SKEW }, 'OK'],
    ['iat beyond the skew', { iat: NOW_S + SKEW + 1 }, JwtErrorCode.NOT_YET_VALID],
    ['string nbf', { nbf: 'soon' }, JwtErrorCode.MALFORMED],
    ['null iat', { iat: null }, JwtErrorCode.MALFORMED],
  ])('handles %s with %s', async (_name, claims, expected) => {
    expect(await code(await es256.sign(claims))).toBe(expected);
  });

  it.each<[string, unknown]>([
    ['missing aud', undefined], ['other string', 'someone-else'], ['empty array', []],
    ['array without ours', ['a', 'b']], ['numeric aud', 1], ['array with a non-string', [FIXTURE_AUDIENCE, 1]],
    ['case-changed audience', FIXTURE_AUDIENCE.toUpperCase()],
  ])('rejects %s with JWT_AUDIENCE_MISMATCH', async (_name, aud) => {
    expect(await code(await es256.sign({ aud }))).toBe(JwtErrorCode.AUDIENCE_MISMATCH);
  });

  it('checks the signature before the claims (expired forged token gives JWT_BAD_SIGNATURE)', async () => {
    expect(await code(await attacker.sign({ exp: NOW_S - 1000, aud: 'x' }, { kid: es256.kid }))).toBe(JwtErrorCode.BAD_SIGNATURE);
  });
});

describe('verifyJwtSvid: options are programmer input', () => {
  it.each<[string, Partial<JwtSvidVerifyOptions>]>([
    ['empty audiences', { audiences: [] }],
    ['empty audience string', { audiences: [''] }],
    ['NaN clock', { now: Number.NaN }],
    ['negative skew', { skewSeconds: -1 }],
    ['HS256 in algorithms', { algorithms: ['ES256', 'HS256'] }],
    ['empty algorithms', { algorithms: [] }],
    ['zero maxTokenBytes', { maxTokenBytes: 0 }],
  ])('throws on %s', (_name, over) => {
    expect(() => verifyJwtSvid('a.b.c', opts(over))).toThrow(/verifyJwtSvid/);
  });
});

describe('verifyJwtSvid: never throws on token input', () => {
  it('resolves to a failure for arbitrary strings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ maxLength: 9000 })), async (s) => {
        const r = await verifyJwtSvid(s, opts());
        expect(r.ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('resolves to a failure for random 3-part base64url strings and random JSON parts', async () => {
    const b64 = fc.uint8Array({ maxLength: 120 }).map(b64url);
    const alg = fc.constantFrom(...JWT_SVID_ALGORITHMS, 'none', 'HS256', 'EdDSA');
    const header = fc.record({ alg, kid: fc.constantFrom(undefined, 'k-ES256', 'k-RS256', 'x'), typ: fc.constantFrom(undefined, 'JWT', 'x') }).map(b64json);
    const payload = fc.record({ sub: fc.constantFrom(SUB, 'spiffe://other.org/x', 'x'), aud: fc.anything(), exp: fc.anything() }).map(b64json);
    const part = fc.oneof(b64, fc.jsonValue().map(b64json));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.tuple(part, part, part), fc.tuple(header, payload, b64)), async ([h, p, s]) => {
        const r = await verifyJwtSvid(`${h}.${p}.${s}`, opts());
        expect(r.ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects every single-character change of a valid token', async () => {
    const token = await es256.sign();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    await fc.assert(
      fc.asyncProperty(fc.nat(token.length - 1), fc.constantFrom(...alphabet), async (i, c) => {
        fc.pre(token[i] !== c);
        const r = await verifyJwtSvid(token.slice(0, i) + c + token.slice(i + 1), opts());
        expect(r.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('extractBearer', () => {
  it.each<[string, string | undefined, string | undefined]>([
    ['absent header', undefined, undefined],
    ['empty header', '', undefined],
    ['Bearer', 'Bearer abc.def.ghi', 'abc.def.ghi'],
    ['lower-case scheme', 'bearer abc.def.ghi', 'abc.def.ghi'],
    ['upper-case scheme', 'BEARER abc', 'abc'],
    ['several SP after the scheme (RFC 6750 1*SP)', 'Bearer   abc', 'abc'],
    ['surrounding OWS', ' \tBearer abc\t ', 'abc'],
    ['b64token characters', 'Bearer a-._~+/b==', 'a-._~+/b=='],
    ['Basic scheme', 'Basic dXNlcjpwYXNz', undefined],
    ['Digest with commas', 'Digest username="a", realm="b"', undefined],
    ['scheme that only starts with bearer', 'BearerToken abc', undefined],
  ])('reads %s', (_name, header, expected) => {
    expect(extractBearer(header)).toEqual({ ok: true, value: expected });
  });

  it.each<[string, string]>([
    ['merged duplicate Bearer headers', 'Bearer a,Bearer b'],
    ['merged with a space', 'Bearer a, Bearer b'],
    ['Basic merged with Bearer', 'Basic x,Bearer b'],
    ['comma in the token', 'Bearer a,b'],
    ['space inside the token', 'Bearer abc def'],
    ['tab after the scheme', 'Bearer\tabc'],
    ['scheme without token', 'Bearer'],
    ['scheme and spaces only', 'Bearer   '],
    ['= inside the token', 'Bearer a=b'],
    ['quoted token', 'Bearer "abc"'],
  ])('rejects %s with JWT_MALFORMED', (_name, header) => {
    const r = extractBearer(header);
    expect(r.ok ? 'OK' : r.error.code).toBe(JwtErrorCode.MALFORMED);
  });
});
