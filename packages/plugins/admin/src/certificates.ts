/**
 * `idpCert` is an X.509 certificate, checked when a connection is saved (not at the first sign-in):
 * PEM (`-----BEGIN CERTIFICATE-----`) or base64 DER, parsed with node:crypto's X509Certificate and
 * stored as PEM. Pure: no I/O.
 */
import { X509Certificate } from 'node:crypto';

export type ParsedCert = { ok: true; pem: string; subject: string; validTo: string } | { ok: false; message: string };

const PEM = /^-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----$/;
const BASE64 = /^[A-Za-z0-9+/=\s]+$/;

export function parseIdpCert(raw: string): ParsedCert {
  const text = raw.trim();
  if (!text) return { ok: false, message: 'empty: paste the IdP signing certificate (PEM or base64 DER)' };
  if (/PRIVATE KEY/.test(text)) return { ok: false, message: 'this is a private key: paste the IdP signing CERTIFICATE (never a key)' };
  const pem = PEM.exec(text);
  const body = pem ? pem[1]! : text;
  if (!pem && text.includes('-----')) return { ok: false, message: 'expected one PEM block "-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----" or base64 DER' };
  if (!BASE64.test(body)) return { ok: false, message: 'not PEM or base64: it contains characters a certificate cannot hold' };
  const der = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return { ok: false, message: 'not an X.509 certificate (PEM or base64 DER): it does not parse' };
  }
  const lines = cert.raw.toString('base64').match(/.{1,64}/g)!.join('\n');
  return { ok: true, pem: `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`, subject: cert.subject, validTo: cert.validTo };
}
