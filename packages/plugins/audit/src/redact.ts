import { SECRET_PATTERN } from '@doorman/core';
import type { JsonDocument, JsonValue } from '@doorman/model';

/** Keys whose values are never recorded, whatever a producer hands us. */
export const SECRET_KEY = /secret|token|password|cookie|assertion/i;
const SECRET_ANYWHERE = new RegExp(SECRET_PATTERN.source, 'g');
const DROP = Symbol('drop');

/**
 * Normalises a value to what JSON stores (so the hash covers exactly what is read back) while
 * dropping secret-named keys at any depth and any string that contains a bearer secret.
 */
function clean(value: unknown): JsonValue | typeof DROP {
  if (value === null) return null;
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return DROP;
  if (typeof value === 'string') return SECRET_PATTERN.test(value) ? DROP : value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map(clean).filter((v): v is JsonValue => v !== DROP);
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_KEY.test(k)) continue;
    const c = clean(v);
    if (c !== DROP) out[k] = c;
  }
  return out;
}

/** The `changes` document as stored: JSON-normalised, with secrets removed. */
export function sanitizeChanges(changes: Record<string, unknown> | null | undefined): JsonDocument | null {
  if (changes === null || changes === undefined || typeof changes !== 'object') return null;
  const c = clean(changes);
  return c === DROP || c === null || typeof c !== 'object' || Array.isArray(c) ? null : (c as JsonDocument);
}

/** A scalar event field: secrets masked, clipped to its column's length. */
export function cleanField(value: string | null | undefined, maxLength: number): string | null {
  if (value === null || value === undefined) return null;
  const masked = String(value).replace(SECRET_ANYWHERE, '[redacted]');
  return masked.length > maxLength ? masked.slice(0, maxLength) : masked;
}
