// PEM and DER helpers for certificates: strict base64, one DER certificate, every CERTIFICATE block
// of a PEM text. Shared by the X509-SVID verifier and the bundle parser; node:crypto only.
import { X509Certificate } from 'node:crypto';
import { fail, ok, type Result } from '../result.js';

/** Size limits of parseCertificates. */
export interface CertificateLimits {
  readonly maxCerts?: number;
  readonly maxBytes?: number;
}

/** Default maximum number of certificates in one PEM input (leaf + intermediates). */
export const X509_DEFAULT_MAX_CERTS = 8;
/** Default maximum PEM input size in UTF-8 bytes. */
export const X509_DEFAULT_MAX_BYTES = 65_536;
/** Default maximum Envoy-encoded input length: every character may be a 3-character escape. */
export const X509_DEFAULT_MAX_ENCODED_BYTES = 3 * X509_DEFAULT_MAX_BYTES;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Parses one DER certificate with node:crypto; rejects trailing bytes after the certificate. */
export function parseCertificateDer(der: Uint8Array): Result<X509Certificate, 'CERT_MALFORMED'> {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return fail('CERT_MALFORMED', 'not a DER X.509 certificate');
  }
  if (!cert.raw.equals(der)) return fail('CERT_MALFORMED', 'trailing data after the DER certificate');
  return ok(cert);
}

/** Decodes canonical standard base64 (RFC 4648 §4, padded, no whitespace); undefined if it is not. */
export function decodeBase64Strict(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** Parses every CERTIFICATE block of a PEM text (RFC 7468; text between blocks ignored, other block types rejected). */
export function parseCertificates(pem: string, limits: CertificateLimits = {}): Result<X509Certificate[], 'CERT_MALFORMED'> {
  const maxCerts = limits.maxCerts ?? X509_DEFAULT_MAX_CERTS;
  const maxBytes = limits.maxBytes ?? X509_DEFAULT_MAX_BYTES;
  if (pem.length > maxBytes || Buffer.byteLength(pem) > maxBytes) return fail('CERT_MALFORMED', `PEM is larger than ${maxBytes} bytes`);
  const certs: X509Certificate[] = [];
  let body: string[] | undefined;
  for (const rawLine of pem.split('\n')) {
    const line = rawLine.trim();
    if (body === undefined) {
      if (line === '-----BEGIN CERTIFICATE-----') body = [];
      else if (line.startsWith('-----')) return fail('CERT_MALFORMED', `unexpected PEM line '${line.slice(0, 40)}'`);
      continue;
    }
    if (line !== '-----END CERTIFICATE-----') {
      if (line.startsWith('-----')) return fail('CERT_MALFORMED', `unexpected PEM line '${line.slice(0, 40)}' inside a certificate`);
      body.push(line);
      continue;
    }
    if (certs.length === maxCerts) return fail('CERT_MALFORMED', `more than ${maxCerts} certificates`);
    const der = decodeBase64Strict(body.join(''));
    if (der === undefined) return fail('CERT_MALFORMED', `certificate ${certs.length}: body is not base64`);
    const cert = parseCertificateDer(der);
    if (!cert.ok) return fail('CERT_MALFORMED', `certificate ${certs.length}: ${cert.error.detail}`);
    certs.push(cert.value);
    body = undefined;
  }
  if (body !== undefined) return fail('CERT_MALFORMED', 'unterminated CERTIFICATE block');
  if (certs.length === 0) return fail('CERT_MALFORMED', 'no CERTIFICATE block');
  return ok(certs);
}
