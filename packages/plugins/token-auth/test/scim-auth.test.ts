import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connectionDeleted, connectionUpdated, SCIM_ERROR_SCHEMA } from '@doorman/core';
import { ScimTokenEntity, SsoConnectionEntity } from '@doorman/model';
import { createConnection, publishConnectionEvent, randomIp } from './helpers.ts';
import { events, expectNoSecretLeaked, expectScim401, issue, scim, secrets, t, useGateway, wellFormedUnknown } from './scim-auth-harness.ts';

useGateway();

describe('SCIM authentication', () => {
  it('attaches the verified connection and token on every method (no rate-limit headers while most of the window remains)', async () => {
    const a = await createConnection(t.gateway);
    const b = await createConnection(t.gateway);
    const ta = await issue(a.id);
    const tb = await issue(b.id);
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const res = await scim(method, ta.token);
      expect(res.status, method).toBe(200);
      expect(res.body.auth).toEqual({ kind: 'scim', connectionId: a.id, tokenId: ta.id });
      expect(res.body.actor).toEqual({ type: 'scim_token', id: ta.id, requestId: res.headers['x-request-id'] });
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      expect(res.headers['x-ratelimit-remaining']).toBeUndefined();
    }
    const other = await scim('get', tb.token);
    expect(other.body.auth).toEqual({ kind: 'scim', connectionId: b.id, tokenId: tb.id });
  });

  it('answers 401 with a Bearer challenge for a missing, malformed or unknown token', async () => {
    const cases: Array<[string, string | undefined, RegExp, boolean]> = [
      ['missing', undefined, /token required/, false],
      ['not bearer', 'Basic dXNlcjpwYXNz', /token required/, true],
      ['not a Doorman SCIM token', 'Bearer some-other-token', /not a Doorman SCIM token/, true],
      ['an admin token', `Bearer dmn_admin_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`, /not a Doorman SCIM token/, true],
      ['truncated', `Bearer ${wellFormedUnknown().slice(0, -1)}`, /not a Doorman SCIM token/, true],
      ['unknown', `Bearer ${wellFormedUnknown()}`, /not valid/, true],
    ];
    for (const [name, header, detail, invalidToken] of cases) {
      const req = t.http.get('/scim/v2/Users/x').set('X-Forwarded-For', randomIp());
      const res = header ? await req.set('Authorization', header) : await req;
      expectScim401(res, detail);
      expect(res.headers['www-authenticate'].includes('error="invalid_token"'), name).toBe(invalidToken);
    }
  });

  it('answers 401 for a revoked or expired token and for a token whose connection was deleted', async () => {
    const c = await createConnection(t.gateway);
    const revoked = await issue(c.id);
    expect((await scim('get', revoked.token)).status).toBe(200);
    expect((await t.admin('delete', `/admin/v1/connections/${c.id}/scim-tokens/${revoked.id}`)).status).toBe(204);
    expectScim401(await scim('get', revoked.token), /revoked/);

    const expired = await issue(c.id, { expiresInDays: 1 });
    await t.gateway.db.getRepository(ScimTokenEntity).update({ id: expired.id }, { expiresAt: new Date(Date.now() - 1000) });
    expectScim401(await scim('get', expired.token), /expired/);

    const gone = await createConnection(t.gateway);
    const orphan = await issue(gone.id);
    await t.gateway.db.getRepository(SsoConnectionEntity).delete({ id: gone.id });
    expectScim401(await scim('get', orphan.token), /connection no longer exists/);
  });

  it('answers 403 when SCIM is disabled on the connection', async () => {
    const c = await createConnection(t.gateway, { scimEnabled: false });
    const token = await issue(c.id);
    const res = await scim('get', token.token);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ schemas: [SCIM_ERROR_SCHEMA], status: '403', detail: expect.stringMatching(/disabled/) });
  });

  it('stops a cached token at once when its connection is updated (SCIM off) or deleted', async () => {
    const c = await createConnection(t.gateway);
    const token = await issue(c.id);
    expect((await scim('get', token.token)).status).toBe(200);
    // The cache serves the token without reading the database (TTL here is a minute)...
    await t.gateway.db.getRepository(SsoConnectionEntity).update({ id: c.id }, { scimEnabled: false });
    expect((await scim('get', token.token)).status).toBe(200);
    // ...until the connection event arrives, published inside the changing transaction.
    await publishConnectionEvent(t.gateway, connectionUpdated, c.id, async () => undefined);
    expect((await scim('get', token.token)).status).toBe(403);

    await publishConnectionEvent(t.gateway, connectionUpdated, c.id, (tx) => tx.getRepository(SsoConnectionEntity).update({ id: c.id }, { scimEnabled: true }));
    expect((await scim('get', token.token)).status).toBe(200);
    await publishConnectionEvent(t.gateway, connectionDeleted, c.id, (tx) => tx.getRepository(SsoConnectionEntity).delete({ id: c.id }));
    expectScim401(await scim('get', token.token), /connection no longer exists/);
  });
});

describe('brute-force protection', () => {
  it('refuses an address with 429 after repeated failures, while a valid token from it still works', async () => {
    const ip = randomIp();
    const c = await createConnection(t.gateway);
    const good = await issue(c.id);
    for (let i = 0; i < 10; i++) expect((await scim('get', wellFormedUnknown(), ip)).status).toBe(401);
    const refused = await scim('get', wellFormedUnknown(), ip);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.body).toMatchObject({ schemas: [SCIM_ERROR_SCHEMA], status: '429' });
    expect((await scim('get', undefined, ip)).status).toBe(429);
    // The tenant whose valid token shares the address is not locked out.
    const ok = await scim('get', good.token, ip);
    expect(ok.status).toBe(200);
    // Other addresses are unaffected.
    expect((await scim('get', wellFormedUnknown())).status).toBe(401);
  });
});

describe('per-connection rate limits', () => {
  it("answers 429 with Retry-After and X-RateLimit headers over the connection's limit, per connection", async () => {
    const limited = await createConnection(t.gateway, { rateLimitPerSecond: 1 });
    const neighbour = await createConnection(t.gateway, { rateLimitPerSecond: 1 });
    const token = await issue(limited.id);
    const neighbourToken = await issue(neighbour.id);
    // 1 request/s over a 10 s window: a burst of 10 passes; the headers appear once less than half
    // of the window remains.
    for (let i = 0; i < 10; i++) {
      const res = await scim('get', token.token);
      expect(res.status).toBe(200);
      if (9 - i >= 5) expect(res.headers['x-ratelimit-limit'], `request ${i}`).toBeUndefined();
      else {
        expect(res.headers['x-ratelimit-limit']).toBe('10');
        expect(res.headers['x-ratelimit-remaining']).toBe(String(9 - i));
        expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
      }
    }
    const over = await scim('get', token.token);
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ schemas: [SCIM_ERROR_SCHEMA], status: '429', detail: expect.stringMatching(/rate limit/) });
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(10);
    expect(over.headers['x-ratelimit-limit']).toBe('10');
    expect(over.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(over.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
    // Rate limiting is not an authentication failure, and other tenants keep their own budget.
    expect((await scim('get', neighbourToken.token)).status).toBe(200);
  });

  it('uses the deployment default when the connection sets no limit', async () => {
    const c = await createConnection(t.gateway);
    const token = await issue(c.id);
    // 100/s over 10 s = 1,000 points; the headers show once fewer than 500 remain.
    let res = await scim('get', token.token);
    for (let i = 0; i < 600 && res.headers['x-ratelimit-limit'] === undefined; i++) res = await scim('get', token.token);
    expect(res.headers['x-ratelimit-limit']).toBe(String(100 * 10));
    expect(Number(res.headers['x-ratelimit-remaining'])).toBe(499);
  });
});

describe('events and secrecy', () => {
  it('publishes token events with the admin actor, in the transaction, without secrets', async () => {
    const c = await createConnection(t.gateway);
    const before = events.length;
    const token = await issue(c.id, { name: 'audit me' });
    const rotated = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens/${token.id}/rotate`).send({ graceHours: 1 });
    secrets.push(rotated.body.token);
    await t.admin('delete', `/admin/v1/connections/${c.id}/scim-tokens/${rotated.body.id}`);
    const mine = events.slice(before).map((e) => ({ ...e.event, actor: e.actor }));
    expect(mine.map((e) => [e.action, e.target?.id])).toEqual([
      ['token.issued', token.id],
      ['token.issued', rotated.body.id],
      ['token.rotated', token.id],
      ['token.revoked', rotated.body.id],
    ]);
    for (const e of mine) {
      expect(e.connectionId).toBe(c.id);
      expect(e.target?.type).toBe('scim_token');
      expect(e.actor).toMatchObject({ type: 'admin_token', id: 'bootstrap' });
    }
    expect(mine[2]!.changes).toMatchObject({ replacedBy: { after: rotated.body.id } });
  });

  it('rolls the token back when an event subscriber fails (same transaction)', async () => {
    const c = await createConnection(t.gateway, { name: 'rollback-probe' });
    let fail = true;
    t.gateway.events.subscribe(async (_tx, _actor, event) => {
      if (fail && event.action === 'token.issued' && event.connectionId === c.id) throw new Error('subscriber down');
    });
    const res = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens`).send({});
    expect(res.status).toBe(500);
    fail = false;
    expect(await t.gateway.db.getRepository(ScimTokenEntity).countBy({ connectionId: c.id })).toBe(0);
  });

  it('never shows a secret in logs, error bodies or events', async () => {
    // Failed attempts with real secrets, so the failure path's logging is covered too.
    const c = await createConnection(t.gateway, { scimEnabled: false });
    const disabled = await issue(c.id);
    const denied = await scim('get', disabled.token);
    expect(denied.status).toBe(403);
    expect(JSON.stringify(denied.body)).not.toContain(disabled.token.slice(-43));
    const unknown = wellFormedUnknown();
    const refused = await scim('get', unknown);
    expect(JSON.stringify(refused.body) + JSON.stringify(refused.headers)).not.toContain(unknown.slice(-43));

    expect(secrets.length).toBeGreaterThan(10);
    expect(t.logs.join('\n')).toMatch(/SCIM authentication failed/);
    expectNoSecretLeaked([unknown]);
  });
});
