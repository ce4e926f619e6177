/**
 * The gateway the SCIM authentication test files share: token-auth with an echo route behind it, a
 * long cache TTL (every invalidation must be explicit), every issued secret remembered so a file can
 * check none of them reached a log or an event. `t`, `events` are live bindings set by useGateway().
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import { SECRET_PATTERN, SCIM_ERROR_SCHEMA } from '@doorman/core';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { tokenAuthPlugin } from '../src/index.ts';
import { echoPlugin, issueToken, randomIp, recordEvents } from './helpers.ts';

export let t: TestGateway;
export let events: ReturnType<typeof recordEvents>;
export const secrets: string[] = [];

export function useGateway(): void {
  beforeAll(async () => {
    t = await startTestGateway({
      plugins: [tokenAuthPlugin, echoPlugin],
      gateway: { trustProxy: 'true' },
      // A long TTL: every invalidation below must come from the explicit invalidation, not expiry.
      pluginSettings: { 'token-auth': { cacheTtlMs: '60000', lastUsedFlushMs: '3600000' } },
    });
    events = recordEvents(t.gateway);
  });
  afterAll(async () => t?.close());
}

export async function issue(connectionId: string, body: Record<string, unknown> = {}) {
  const issued = await issueToken(t, connectionId, body);
  secrets.push(issued.token);
  return issued;
}

export function scim(method: 'get' | 'post' | 'put' | 'patch' | 'delete', token: string | undefined, ip = randomIp(), id = 'u1') {
  const req = t.http[method](`/scim/v2/Users/${id}`).set('X-Forwarded-For', ip);
  return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
}

export function expectScim401(res: { status: number; headers: Record<string, string>; body: Record<string, unknown> }, detail: RegExp) {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="doorman-scim"/);
  expect(res.headers['content-type']).toMatch(/application\/scim\+json/);
  expect(res.body).toMatchObject({ schemas: [SCIM_ERROR_SCHEMA], status: '401' });
  expect(res.body.detail).toMatch(detail);
}

export const wellFormedUnknown = () => `dmn_scim_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`;

/** No issued secret (nor `extra`) in the gateway's logs or the published events. */
export function expectNoSecretLeaked(extra: string[] = []): void {
  const logs = t.logs.join('\n');
  const published = JSON.stringify(events);
  for (const secret of [...secrets, ...extra]) {
    const random = secret.slice(-43);
    expect(logs).not.toContain(random);
    expect(published).not.toContain(random);
  }
  expect(SECRET_PATTERN.test(logs)).toBe(false);
  expect(SECRET_PATTERN.test(published)).toBe(false);
}
