import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer secrets look like `dmn_<kind>_<id>_<random>`: the public part (`dmn_<kind>_<id>`) finds the
 * token in a leak scan and in lists, the random part carries 256 bits. Only the SHA-256 is stored:
 * the secret has full entropy, so a fast hash is the right tool (no password stretching needed).
 */
export interface IssuedSecret {
  secret: string;
  prefix: string;
  hash: string;
}

export function issueSecret(kind: 'scim' | 'admin', id: string): IssuedSecret {
  const prefix = `dmn_${kind}_${id.replace(/-/g, '').slice(0, 12)}`;
  const secret = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { secret, prefix, hash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  // One-shot crypto.hash (Node >= 20.12): no Hash object per call, on every authenticated request.
  return hash('sha256', secret, 'hex');
}

/**
 * Constant-time string comparison in JavaScript: no early exit, no Buffers (only the lengths, which
 * are not secret here, end it early). Runs on every authenticated request.
 */
export function timingSafeStringEqual(a: string, b: string): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** Reads `Authorization: Bearer <token>`; undefined when absent or not a bearer credential. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
  return m?.[1];
}

export const SECRET_PATTERN = /dmn_(scim|admin)_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/;
