// Reads what the X509-SVID checks need from a certificate's DER (RFC 5280 §4.1, §4.2): subject,
// validity, and every extension with the three this server interprets (subjectAltName URIs, basic
// constraints, key usage). Pure and synchronous over node:crypto's parsed certificate, so the verifier
// needs no ASN.1 library at start-up. Fails closed: any structure it cannot read is an error.
import type { X509Certificate } from 'node:crypto';
import { fail, ok, type Result } from '../result.js';

/** One extension as it appears in the certificate (value = the extnValue OCTET STRING's content). */
export interface DerExtension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** The parts of a certificate the X509-SVID checks read. Times in ms since the epoch. */
export interface DerCertificate {
  readonly notBefore: number;
  readonly notAfter: number;
  readonly extensions: readonly DerExtension[];
}

/** One DER element: its tag byte and where its content lies in the buffer. */
interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

class DerError extends Error {}

/** Reads the element at `at` that must end by `limit`: single-byte tags, definite lengths of at most 4 bytes. */
function readTlv(buf: Uint8Array, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new DerError('truncated element');
  const tag = buf[at] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tag');
  let len = buf[at + 1] as number;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('indefinite or oversized length');
    if (start + n > limit) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[start + i] as number);
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new DerError('element overruns its container');
  return { tag, start, end };
}

/** The children of a constructed element's content [start, end). */
function children(buf: Uint8Array, start: number, end: number): Tlv[] {
  const out: Tlv[] = [];
  for (let at = start; at < end; ) {
    const t = readTlv(buf, at, end);
    out.push(t);
    at = t.end;
  }
  return out;
}

/** The single element filling [start, end) exactly, with the expected tag. */
function only(buf: Uint8Array, start: number, end: number, tag: number, what: string): Tlv {
  const t = readTlv(buf, start, end);
  if (t.tag !== tag || t.end !== end) throw new DerError(`${what}: unexpected structure`);
  return t;
}

function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (t?.tag !== tag) throw new DerError(`${what}: unexpected tag`);
  return t;
}

/** Dotted form of an OBJECT IDENTIFIER's content (X.690 §8.19). */
function oidOf(buf: Uint8Array, t: Tlv): string {
  if (t.end === t.start) throw new DerError('empty OID');
  const arcs: string[] = [];
  let v = 0n;
  let first = true;
  for (let i = t.start; i < t.end; i++) {
    const b = buf[i] as number;
    if (v === 0n && b === 0x80) throw new DerError('non-minimal OID arc');
    v = (v << 7n) | BigInt(b & 0x7f);
    if (b & 0x80) continue;
    if (first) {
      const a = v < 40n ? 0n : v < 80n ? 1n : 2n;
      arcs.push(String(a), String(v - a * 40n));
      first = false;
    } else arcs.push(String(v));
    v = 0n;
  }
  if ((buf[t.end - 1] as number) & 0x80) throw new DerError('truncated OID arc');
  return arcs.join('.');
}

const digits = (s: string): boolean => /^[0-9]+$/.test(s);

/** UTCTime (YYMMDDHHMMSSZ, RFC 5280 §4.1.2.5.1) or GeneralizedTime (YYYYMMDDHHMMSSZ, §4.1.2.5.2) in ms. */
function timeOf(buf: Uint8Array, t: Tlv): number {
  const s = Buffer.from(buf.subarray(t.start, t.end)).toString('latin1');
  let year: number;
  let rest: string;
  if (t.tag === 0x17 && s.length === 13 && s.endsWith('Z') && digits(s.slice(0, 12))) {
    const yy = Number(s.slice(0, 2));
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = s.slice(2, 12);
  } else if (t.tag === 0x18 && s.length === 15 && s.endsWith('Z') && digits(s.slice(0, 14))) {
    year = Number(s.slice(0, 4));
    rest = s.slice(4, 14);
  } else throw new DerError('validity time is not UTCTime or GeneralizedTime in Z form');
  const [mo, d, h, mi, se] = [0, 2, 4, 6, 8].map((i) => Number(rest.slice(i, i + 2))) as [number, number, number, number, number];
  const ms = Date.UTC(year, mo - 1, d, h, mi, se);
  const back = new Date(ms);
  // Date.UTC rolls 31 February over into March: such a time is malformed, not a later one.
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) throw new DerError('validity time out of range');
  return ms;
}

/** Reads validity and extensions from `cert.raw`; a certificate node parsed but this reader cannot is malformed. */
export function readCertificateDer(cert: X509Certificate): Result<DerCertificate, 'CERT_MALFORMED'> {
  const buf = new Uint8Array(cert.raw.buffer, cert.raw.byteOffset, cert.raw.byteLength);
  try {
    const outer = only(buf, 0, buf.length, 0x30, 'Certificate');
    const tbs = expectTag(children(buf, outer.start, outer.end)[0], 0x30, 'TBSCertificate');
    const parts = children(buf, tbs.start, tbs.end);
    let i = parts[0]?.tag === 0xa0 ? 1 : 0; // version [0] EXPLICIT, absent for v1
    expectTag(parts[i++], 0x02, 'serialNumber');
    expectTag(parts[i++], 0x30, 'signature');
    expectTag(parts[i++], 0x30, 'issuer');
    const validity = expectTag(parts[i++], 0x30, 'validity');
    expectTag(parts[i++], 0x30, 'subject');
    expectTag(parts[i++], 0x30, 'subjectPublicKeyInfo');
    const times = children(buf, validity.start, validity.end);
    if (times.length !== 2) throw new DerError('validity: not two times');
    const notBefore = timeOf(buf, times[0] as Tlv);
    const notAfter = timeOf(buf, times[1] as Tlv);
    const extensions: DerExtension[] = [];
    for (; i < parts.length; i++) {
      const p = parts[i] as Tlv;
      // issuerUniqueID [1] / subjectUniqueID [2] (IMPLICIT BIT STRING) are skipped; [3] holds the extensions.
      if (p.tag === 0x81 || p.tag === 0x82 || p.tag === 0xa1 || p.tag === 0xa2) continue;
      if (p.tag !== 0xa3 || i !== parts.length - 1) throw new DerError('TBSCertificate: unexpected trailing element');
      const list = only(buf, p.start, p.end, 0x30, 'extensions');
      for (const e of children(buf, list.start, list.end)) {
        if (e.tag !== 0x30) throw new DerError('extension is not a SEQUENCE');
        const f = children(buf, e.start, e.end);
        const oid = oidOf(buf, expectTag(f[0], 0x06, 'extnID'));
        let critical = false;
        let k = 1;
        if (f[1]?.tag === 0x01) {
          const b = f[1];
          if (b.end - b.start !== 1) throw new DerError('critical is not a one-byte BOOLEAN');
          critical = buf[b.start] !== 0;
          k = 2;
        }
        const value = expectTag(f[k], 0x04, 'extnValue');
        if (f.length !== k + 1) throw new DerError('extension has trailing elements');
        extensions.push({ oid, critical, value: buf.subarray(value.start, value.end) });
      }
    }
    return ok({ notBefore, notAfter, extensions });
  } catch (e) {
    if (e instanceof DerError) return fail('CERT_MALFORMED', `certificate does not parse: ${e.message}`);
    throw e;
  }
}

/** Wraps a reader of one extension's value: a DerError becomes a failure naming the extension. */
function readValue<T>(what: string, read: () => T): Result<T, 'CERT_MALFORMED'> {
  try {
    return ok(read());
  } catch (e) {
    if (e instanceof DerError) return fail('CERT_MALFORMED', `unreadable ${what}: ${e.message}`);
    throw e;
  }
}

/** The uniformResourceIdentifier names of a subjectAltName value (GeneralNames, RFC 5280 §4.2.1.6). */
export function readSanUris(value: Uint8Array): Result<string[], 'CERT_MALFORMED'> {
  return readValue('subjectAltName', () => {
    const seq = only(value, 0, value.length, 0x30, 'GeneralNames');
    const uris: string[] = [];
    for (const n of children(value, seq.start, seq.end)) {
      // GeneralName is a CHOICE of context-specific tags [0]..[8]; [6] IA5String is a URI.
      if ((n.tag & 0xc0) !== 0x80 || (n.tag & 0x1f) > 8) throw new DerError('not a GeneralName');
      if (n.tag === 0x86) uris.push(Buffer.from(value.subarray(n.start, n.end)).toString('latin1'));
      else if (n.tag === 0xa6) throw new DerError('constructed uniformResourceIdentifier');
    }
    return uris;
  });
}

/** cA and pathLenConstraint of a basicConstraints value (RFC 5280 §4.2.1.9). */
export function readBasicConstraints(value: Uint8Array): Result<{ ca: boolean; pathLength: number | undefined }, 'CERT_MALFORMED'> {
  return readValue('basicConstraints', () => {
    const seq = only(value, 0, value.length, 0x30, 'BasicConstraints');
    const f = children(value, seq.start, seq.end);
    let ca = false;
    let k = 0;
    if (f[0]?.tag === 0x01) {
      if (f[0].end - f[0].start !== 1) throw new DerError('cA is not a one-byte BOOLEAN');
      ca = value[f[0].start] !== 0;
      k = 1;
    }
    let pathLength: number | undefined;
    const p = f[k];
    if (p !== undefined) {
      if (p.tag !== 0x02 || p.end === p.start || f.length !== k + 1) throw new DerError('pathLenConstraint is not an INTEGER');
      if ((value[p.start] as number) & 0x80) throw new DerError('negative pathLenConstraint');
      let n = 0;
      // Lengths beyond 2^31 are unbounded in practice: saturate instead of losing precision.
      for (let i = p.start; i < p.end; i++) n = Math.min(n * 256 + (value[i] as number), 2 ** 31);
      pathLength = n;
    }
    return { ca, pathLength };
  });
}

/** keyUsage bits as KeyUsageFlags (bit 0 digitalSignature = 1, ... bit 6 cRLSign = 64), RFC 5280 §4.2.1.3. */
export function readKeyUsage(value: Uint8Array): Result<number, 'CERT_MALFORMED'> {
  return readValue('keyUsage', () => {
    const bits = only(value, 0, value.length, 0x03, 'KeyUsage');
    if (bits.end === bits.start) throw new DerError('empty BIT STRING');
    const unused = value[bits.start] as number;
    const bytes = bits.end - bits.start - 1;
    if (unused > 7 || (bytes === 0 && unused !== 0)) throw new DerError('bad unused-bits count');
    let flags = 0;
    // Nine bits are defined; reading the first 3 bytes keeps the value a small integer.
    for (let b = 0; b < Math.min(bytes, 3); b++) {
      const octet = value[bits.start + 1 + b] as number;
      const usable = b === bytes - 1 ? 8 - unused : 8;
      for (let j = 0; j < usable; j++) if (octet & (0x80 >> j)) flags |= 1 << (b * 8 + j);
    }
    return flags;
  });
}
