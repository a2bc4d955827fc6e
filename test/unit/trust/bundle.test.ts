// Tests for the trust bundle parser (spec-notes §2; S4 §4, X509-SVID §6): certificates and keys generated at run time.
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../fixtures/test-ca.js';
import { parseBundle, parseBundleDetailed, BUNDLE_MAX_ENTRIES } from '../../../src/trust/bundle.js';
import type { TrustBundle } from '../../../src/trust/types.js';

const NOW = new Date(Date.UTC(2025, 5, 1, 12, 0, 0));
const TD = 'example.org';

let ca: TestCa;
let ca2: TestCa;
let ecJwk: JsonWebKey;
let rsaJwk: JsonWebKey;

beforeAll(async () => {
  ca = await createTestCa({ trustDomain: TD, now: NOW });
  ca2 = await createTestCa({ trustDomain: TD, now: NOW, keyAlgorithm: 'ECDSA-P384' });
  ecJwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  rsaJwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
});

function parsedOk(text: string, td = TD): TrustBundle {
  const r = parseBundle(td, text);
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.detail}`);
  return r.value;
}

function expectMalformed(text: string, detail?: string, td = TD): void {
  const r = parseBundle(td, text);
  expect(r.ok ? 'ok' : r.error.code).toBe('BUNDLE_MALFORMED');
  if (detail !== undefined && !r.ok) expect(r.error.detail).toContain(detail);
}

/** A SPIFFE bundle document with the given keys. */
function doc(keys: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...extra, keys });
}

/** The x509-svid entry the test CA publishes. */
function x509Entry(c: TestCa = ca): Record<string, unknown> {
  const parsed = JSON.parse(c.spiffeBundleJson()) as { keys: Record<string, unknown>[] };
  return parsed.keys[0] as Record<string, unknown>;
}

describe('parseBundle: PEM', () => {
  it('reads a PEM file with 2 certificates as x509 authorities', () => {
    const b = parsedOk(ca.x509BundlePem() + ca2.x509BundlePem());
    expect(b.trustDomain).toBe(TD);
    expect(b.x509Authorities.map((c) => c.raw)).toEqual([ca.cert.rawData, ca2.cert.rawData].map((d) => Buffer.from(d)));
    expect(b.jwtAuthorities.size).toBe(0);
    expect(b.sequence).toBeUndefined();
  });

  it('deduplicates a repeated root', () => {
    expect(parsedOk(ca.x509BundlePem().repeat(2)).x509Authorities).toHaveLength(1);
  });

  it('rejects a PEM with a private key block with BUNDLE_MALFORMED', () => {
    expectMalformed(`${ca.x509BundlePem()}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`, 'PEM');
  });

  it('rejects a truncated PEM with BUNDLE_MALFORMED', () => {
    expectMalformed(ca.x509BundlePem().slice(0, 200), 'unterminated');
  });
});

describe('parseBundle: SPIFFE bundle JSON', () => {
  it('reads x509-svid and jwt-svid (EC and RSA) entries and spiffe_sequence', () => {
    const text = ca.spiffeBundleJson({
      jwtKeys: [
        { ...ecJwk, use: 'jwt-svid', kid: 'ec-1' },
        { ...rsaJwk, use: 'jwt-svid', kid: 'rsa-1' },
      ],
    });
    const b = parsedOk(text);
    expect(b.x509Authorities).toHaveLength(1);
    expect(b.x509Authorities[0]?.raw.equals(Buffer.from(ca.cert.rawData))).toBe(true);
    expect(b.sequence).toBe(1);
    const ec = b.jwtAuthorities.get('ec-1');
    expect(ec && { kty: ec.kty, crv: ec.crv, type: ec.key.type, jwk: ec.key.export({ format: 'jwk' }) }).toEqual({ kty: 'EC', crv: 'P-256', type: 'public', jwk: ecJwk });
    const rsa = b.jwtAuthorities.get('rsa-1');
    expect(rsa && { kty: rsa.kty, crv: rsa.crv, jwk: rsa.key.export({ format: 'jwk' }) }).toEqual({ kty: 'RSA', crv: undefined, jwk: rsaJwk });
  });

  it('accepts empty keys: the trust domain revoked everything (§2)', () => {
    const b = parsedOk(doc([]));
    expect(b.x509Authorities).toHaveLength(0);
    expect(b.jwtAuthorities.size).toBe(0);
  });

  it('accepts a UTF-8 BOM and leading whitespace', () => {
    expect(parsedOk(`\uFEFF \n${doc([x509Entry()])}`).x509Authorities).toHaveLength(1);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['unknown use', { use: 'wit-svid', kty: 'EC', kid: 'w' }, 'unknown use'],
    ['missing use', { kty: 'EC', kid: 'w' }, 'unknown use'],
    ['use in the wrong case', { use: 'JWT-SVID', kty: 'EC', kid: 'w' }, 'unknown use'],
    ['unknown kty for jwt-svid', { use: 'jwt-svid', kty: 'oct', kid: 'h', k: 'c2VjcmV0' }, 'unknown kty'],
    ['OKP for jwt-svid (EdDSA is not a JWT-SVID alg)', { use: 'jwt-svid', kty: 'OKP', kid: 'o', crv: 'Ed25519', x: 'AA' }, 'unknown kty'],
    ['missing kty', { use: 'jwt-svid', kid: 'k' }, 'unknown kty'],
    ['an EC curve JWT-SVID cannot use', { use: 'jwt-svid', kty: 'EC', kid: 'k1', crv: 'secp256k1', x: 'AA', y: 'AA' }, 'curve'],
    ['x509-svid without x5c', { use: 'x509-svid', kty: 'EC' }, 'without x5c'],
    ['x509-svid with an empty x5c', { use: 'x509-svid', kty: 'EC', x5c: [] }, 'without x5c'],
  ])('ignores an entry with %s and keeps the rest', (_name, entry, note) => {
    const r = parseBundleDetailed(TD, doc([entry, x509Entry(), { ...ecJwk, use: 'jwt-svid', kid: 'ok' }]));
    if (!r.ok) throw new Error(r.error.detail);
    expect(r.value.bundle.x509Authorities).toHaveLength(1);
    expect([...r.value.bundle.jwtAuthorities.keys()]).toEqual(['ok']);
    expect(r.value.ignored).toHaveLength(1);
    expect(r.value.ignored[0]).toContain('keys[0]');
    expect(r.value.ignored[0]).toContain(note);
  });

  it('ignores an x509-svid entry that sets kid (X509-SVID §6.1) instead of trusting it', () => {
    const r = parseBundleDetailed(TD, doc([{ ...x509Entry(), kid: 'x' }]));
    expect(r.ok && { n: r.value.bundle.x509Authorities.length, ignored: r.value.ignored }).toEqual({ n: 0, ignored: ['keys[0]: x509-svid entry has a kid'] });
  });

  it('uses only the first x5c value (X509-SVID §6.2)', () => {
    const first = x509Entry();
    const second = (x509Entry(ca2)['x5c'] as string[])[0];
    const b = parsedOk(doc([{ ...first, x5c: [...(first['x5c'] as string[]), second, 'not even base64'] }]));
    expect(b.x509Authorities.map((c) => c.raw.equals(Buffer.from(ca.cert.rawData)))).toEqual([true]);
  });

  it('ignores a non-number spiffe_sequence', () => {
    expect(parsedOk(doc([], { spiffe_sequence: '7' })).sequence).toBeUndefined();
    expect(parsedOk(doc([], { spiffe_sequence: 42 })).sequence).toBe(42);
  });

  it.each<[string, () => string, string]>([
    ['missing keys', () => JSON.stringify({ spiffe_sequence: 1 }), 'keys is missing'],
    ['keys not an array', () => doc({}), 'keys is not an array'],
    ['a JSON array document', () => '[]', 'not an object'],
    ['invalid JSON', () => '{"keys": [', 'not valid JSON'],
    ['an entry that is not an object', () => doc([x509Entry(), 'nope']), 'keys[1]: not an object'],
    ['duplicate jwt kid', () => doc([{ ...ecJwk, use: 'jwt-svid', kid: 'k' }, { ...rsaJwk, use: 'jwt-svid', kid: 'k' }]), 'keys[1]: duplicate jwt-svid kid'],
    ['jwt-svid without kid', () => doc([{ ...ecJwk, use: 'jwt-svid' }]), 'keys[0]: jwt-svid entry without a kid'],
    ['jwt-svid with private key material', () => doc([{ ...ecJwk, d: 'AAAA', use: 'jwt-svid', kid: 'p' }]), "private key member 'd'"],
    ['jwt-svid key that does not import', () => doc([{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', use: 'jwt-svid', kid: 'bad' }]), 'does not import'],
    ['x5c not an array', () => doc([{ ...x509Entry(), x5c: 'MIIB' }]), 'x5c is not an array'],
    ['x5c not base64', () => doc([x509Entry(), { ...x509Entry(), x5c: ['***'] }]), 'keys[1]: x5c is not base64 DER'],
    ['x5c base64 but not DER', () => doc([{ ...x509Entry(), x5c: ['aGVsbG8='] }]), 'keys[0]: x5c is not base64 DER'],
    ['more keys than the limit', () => doc(new Array(BUNDLE_MAX_ENTRIES + 1).fill({ use: 'other' })), 'more than'],
  ])('rejects %s with BUNDLE_MALFORMED', (_name, text, detail) => {
    expectMalformed(text(), detail);
  });
});

describe('parseBundle: detection and inputs', () => {
  it.each([
    ['empty text', ''],
    ['plain text', 'hello'],
    ['YAML', 'keys: []'],
  ])('rejects %s (neither JSON nor PEM) with BUNDLE_MALFORMED', (_name, text) => {
    expectMalformed(text, 'neither');
  });

  it('rejects an invalid trust domain name with BUNDLE_MALFORMED', () => {
    expectMalformed(doc([]), 'trust domain', 'Example.org');
  });

  it('returns frozen bundles', () => {
    const b = parsedOk(ca.x509BundlePem());
    expect(Object.isFrozen(b) && Object.isFrozen(b.x509Authorities)).toBe(true);
  });
});
