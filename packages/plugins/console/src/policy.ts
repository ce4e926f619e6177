/**
 * The console session rules, pure (table-driven tests in test/policy.test.ts): when a session is
 * still valid, when its last-seen time is written, and which writes carry a CSRF proof
 * (docs/console.md).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

export interface SessionTimes {
  lastSeenAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
}

export type SessionState = 'active' | 'ended' | 'expired' | 'idle';

export function sessionState(row: SessionTimes, now: Date, limits: SessionLimits): SessionState {
  if (row.endedAt) return 'ended';
  if (now.getTime() >= row.expiresAt.getTime()) return 'expired';
  if (now.getTime() - row.lastSeenAt.getTime() >= limits.idleMs) return 'idle';
  return 'active';
}

/** Last-seen is written at most once per twentieth of the idle limit: one UPDATE, not one per request. */
export function needsTouch(row: SessionTimes, now: Date, limits: SessionLimits): boolean {
  return now.getTime() - row.lastSeenAt.getTime() >= Math.max(1000, limits.idleMs / 20);
}

/** Seconds until the session ends if unused from now (the cookie's Max-Age, and the UI's countdown). */
export function secondsLeft(row: SessionTimes, now: Date, limits: SessionLimits): number {
  const end = Math.min(row.expiresAt.getTime(), now.getTime() + limits.idleMs);
  return Math.max(0, Math.floor((end - now.getTime()) / 1000));
}

/** The session id's stored form. */
export function sessionIdHash(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex');
}

/**
 * The CSRF token of a session: derived from the session id (never stored), handed to the page in
 * the session JSON, which another origin cannot read; the page sends it back in `X-CSRF-Token`.
 */
export function csrfToken(sessionId: string): string {
  return createHash('sha256').update(`doorman-console-csrf:${sessionId}`).digest('base64url');
}

export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface WriteRequest {
  method: string;
  path: string;
  /** `X-CSRF-Token` as sent. */
  csrfHeader: string | undefined;
  /** The `Origin` header as sent. */
  origin: string | undefined;
  /** The origins this deployment is reached at (the public URL, the request's own). */
  ownOrigins: readonly string[];
}

/**
 * May a request authenticated by the session cookie change something? Reads always may. Admin API
 * writes need the session's CSRF token in `X-CSRF-Token`. The job dashboard's own page cannot send
 * that header, so its writes (retry, clean) need an `Origin` that is this deployment's.
 */
export function writeAllowed(request: WriteRequest, expectedCsrf: string): boolean {
  if (SAFE_METHODS.has(request.method.toUpperCase())) return true;
  if (request.csrfHeader !== undefined) {
    const given = Buffer.from(request.csrfHeader);
    const expected = Buffer.from(expectedCsrf);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
  if (request.path.startsWith('/admin/v1')) return false;
  return request.origin !== undefined && request.ownOrigins.includes(request.origin);
}
