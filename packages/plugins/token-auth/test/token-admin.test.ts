import { describe, expect, it } from 'vitest';
import { SECRET_PATTERN } from '@doorman/core';
import { ScimTokenEntity } from '@doorman/model';
import { createConnection, tokenRow } from './helpers.ts';
import { events, expectNoSecretLeaked, expectScim401, issue, scim, secrets, t, useGateway } from './scim-auth-harness.ts';

useGateway();

describe('SCIM token administration', () => {
  it('issues a token shown once, in the documented format, stored only as a hash', async () => {
    const c = await createConnection(t.gateway);
    const res = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens`).send({ name: 'Okta', expiresInDays: 30 });
    expect(res.status).toBe(201);
    secrets.push(res.body.token);
    expect(res.body.token).toMatch(new RegExp(`^${SECRET_PATTERN.source}$`));
    expect(res.body.token.startsWith(`dmn_scim_${res.body.id.replace(/-/g, '').slice(0, 12)}_`)).toBe(true);
    expect(res.body).toMatchObject({ connectionId: c.id, name: 'Okta', prefix: res.body.token.slice(0, 'dmn_scim_'.length + 12), status: 'active', lastUsedAt: null, revokedAt: null });
    expect(new Date(res.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const row = await tokenRow(t.gateway, res.body.id);
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(res.body.token.slice(-43));

    const list = await t.admin('get', `/admin/v1/connections/${c.id}/scim-tokens`);
    expect(list.status).toBe(200);
    expect(list.body.tokens).toHaveLength(1);
    expect(Object.keys(list.body.tokens[0]).sort()).toEqual(['connectionId', 'createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'status']);
    expect(JSON.stringify(list.body)).not.toContain(res.body.token.slice(-43));
    expect(JSON.stringify(list.body)).not.toContain(row.hash);
  });

  it('keeps several active tokens per connection', async () => {
    const c = await createConnection(t.gateway);
    const one = await issue(c.id, { name: 'one' });
    const two = await issue(c.id, { name: 'two' });
    expect((await scim('get', one.token)).status).toBe(200);
    expect((await scim('get', two.token)).status).toBe(200);
    const list = await t.admin('get', `/admin/v1/connections/${c.id}/scim-tokens`);
    expect(list.body.tokens.map((x: { name: string }) => x.name)).toEqual(['one', 'two']);
  });

  it('rotates: the new token works and the old one until its grace ends or it is revoked', async () => {
    const c = await createConnection(t.gateway);
    const old = await issue(c.id, { name: 'Entra' });
    expect((await scim('get', old.token)).status).toBe(200);

    const rotated = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens/${old.id}/rotate`).send({});
    expect(rotated.status).toBe(201);
    secrets.push(rotated.body.token);
    expect(rotated.body.name).toBe('Entra');
    expect(rotated.body.replaces.id).toBe(old.id);
    const graceEnd = new Date(rotated.body.replaces.expiresAt).getTime();
    expect(graceEnd).toBeGreaterThan(Date.now() + 23.9 * 3_600_000);
    expect(graceEnd).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000);
    expect((await scim('get', old.token)).status).toBe(200);
    expect((await scim('get', rotated.body.token)).body.auth).toEqual({ kind: 'scim', connectionId: c.id, tokenId: rotated.body.id });

    // Grace over (as if a day passed): the old token stops, the new one keeps working.
    await t.gateway.db.getRepository(ScimTokenEntity).update({ id: old.id }, { expiresAt: new Date(Date.now() - 1) });
    const again = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens/${rotated.body.id}/rotate`).send({ graceHours: 0 });
    expect(again.status).toBe(201);
    secrets.push(again.body.token);
    expectScim401(await scim('get', old.token), /expired/);
    // graceHours 0 stops the rotated token at once, even though it was cached.
    expectScim401(await scim('get', rotated.body.token), /expired/);
    expect((await scim('get', again.body.token)).status).toBe(200);

    // Revoking during the grace period ends it.
    const third = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens/${again.body.id}/rotate`).send({ graceHours: 2 });
    secrets.push(third.body.token);
    expect((await scim('get', again.body.token)).status).toBe(200);
    expect((await t.admin('delete', `/admin/v1/connections/${c.id}/scim-tokens/${again.body.id}`)).status).toBe(204);
    expectScim401(await scim('get', again.body.token), /revoked/);
    expect((await scim('get', third.body.token)).status).toBe(200);

    const revokedRotate = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens/${again.body.id}/rotate`).send({});
    expect(revokedRotate.status).toBe(409);
  });

  it('never extends an old token beyond its own expiry when rotating', async () => {
    const c = await createConnection(t.gateway);
    const old = await issue(c.id, { expiresInDays: 1 });
    await t.gateway.db.getRepository(ScimTokenEntity).update({ id: old.id }, { expiresAt: new Date(Date.now() + 3_600_000) });
    const rotated = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens/${old.id}/rotate`).send({ graceHours: 48 });
    secrets.push(rotated.body.token);
    expect(new Date(rotated.body.replaces.expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + 3_600_000);
  });

  it('revoking twice is a no-op', async () => {
    const c = await createConnection(t.gateway);
    const token = await issue(c.id);
    expect((await t.admin('delete', `/admin/v1/connections/${c.id}/scim-tokens/${token.id}`)).status).toBe(204);
    const revokedAt = (await tokenRow(t.gateway, token.id)).revokedAt;
    const before = events.length;
    expect((await t.admin('delete', `/admin/v1/connections/${c.id}/scim-tokens/${token.id}`)).status).toBe(204);
    expect((await tokenRow(t.gateway, token.id)).revokedAt).toEqual(revokedAt);
    expect(events.length).toBe(before);
  });

  it('answers 404 for unknown connections and tokens (and tokens of another connection), writing nothing', async () => {
    const c = await createConnection(t.gateway);
    const other = await createConnection(t.gateway);
    const token = await issue(c.id);
    const count = () => t.gateway.db.getRepository(ScimTokenEntity).count();
    const before = await count();
    const cases: Array<[ 'get' | 'post' | 'delete', string]> = [
      ['post', `/admin/v1/connections/00000000-0000-4000-8000-000000000000/scim-tokens`],
      ['get', `/admin/v1/connections/00000000-0000-4000-8000-000000000000/scim-tokens`],
      ['get', `/admin/v1/connections/not-a-uuid/scim-tokens`],
      ['post', `/admin/v1/connections/${c.id}/scim-tokens/00000000-0000-4000-8000-000000000000/rotate`],
      ['delete', `/admin/v1/connections/${c.id}/scim-tokens/00000000-0000-4000-8000-000000000000`],
      ['post', `/admin/v1/connections/${other.id}/scim-tokens/${token.id}/rotate`],
      ['delete', `/admin/v1/connections/${other.id}/scim-tokens/${token.id}`],
      ['delete', `/admin/v1/admin-tokens/00000000-0000-4000-8000-000000000000`],
    ];
    for (const [method, path] of cases) {
      const res = await t.admin(method, path).send(method === 'post' ? {} : undefined);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe('DMN_NOT_FOUND');
    }
    expect(await count()).toBe(before);
    expect((await tokenRow(t.gateway, token.id)).revokedAt).toBeNull();
    expect((await scim('get', token.token)).status).toBe(200);
  });

  it('answers 400 naming the bad field, writing nothing', async () => {
    const c = await createConnection(t.gateway);
    const token = await issue(c.id);
    const count = () => t.gateway.db.getRepository(ScimTokenEntity).count();
    const before = await count();
    const base = `/admin/v1/connections/${c.id}/scim-tokens`;
    const cases: Array<[string, unknown, string]> = [
      [base, { name: '' }, 'name'],
      [base, { name: 'x'.repeat(256) }, 'name'],
      [base, { expiresInDays: 'soon' }, 'expiresInDays'],
      [base, { expiresInDays: 0 }, 'expiresInDays'],
      [base, { expiresInDays: 1.5 }, 'expiresInDays'],
      [`${base}/${token.id}/rotate`, { graceHours: -1 }, 'graceHours'],
      [`${base}/${token.id}/rotate`, { graceHours: 'a day' }, 'graceHours'],
      ['/admin/v1/admin-tokens', {}, 'name'],
    ];
    for (const [path, body, field] of cases) {
      const res = await t.admin('post', path).send(body as object);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'DMN_INPUT_INVALID', field });
    }
    const unknownField = await t.admin('post', base).send({ nmae: 'typo' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.message).toMatch(/nmae/);
    expect(await count()).toBe(before);
    expect((await tokenRow(t.gateway, token.id)).expiresAt).toBeNull();
  });

  it('requires admin authentication', async () => {
    const c = await createConnection(t.gateway);
    const token = await issue(c.id);
    const res = await t.http.post(`/admin/v1/connections/${c.id}/scim-tokens`).set('Authorization', `Bearer ${token.token}`).send({});
    expect(res.status).toBe(401);
  });

  it('buffers last use in memory: no database write per request, shown in the list', async () => {
    const c = await createConnection(t.gateway);
    const token = await issue(c.id);
    expect((await scim('get', token.token)).status).toBe(200);
    expect((await tokenRow(t.gateway, token.id)).lastUsedAt).toBeNull();
    const list = await t.admin('get', `/admin/v1/connections/${c.id}/scim-tokens`);
    expect(list.body.tokens[0].lastUsedAt).not.toBeNull();
  });
});

describe('admin tokens', () => {
  it('issues, lists and revokes admin tokens that core admin authentication accepts', async () => {
    const created = await t.admin('post', '/admin/v1/admin-tokens').send({ name: 'ci' });
    expect(created.status).toBe(201);
    secrets.push(created.body.token);
    expect(created.body.token).toMatch(new RegExp(`^dmn_admin_${created.body.id.replace(/-/g, '').slice(0, 12)}_[A-Za-z0-9_-]{43}$`));
    const asNewAdmin = await t.http.get('/admin/v1/admin-tokens').set('Authorization', `Bearer ${created.body.token}`);
    expect(asNewAdmin.status).toBe(200);
    const listed = asNewAdmin.body.tokens.find((x: { id: string }) => x.id === created.body.id);
    expect(listed).toMatchObject({ name: 'ci', status: 'active', revokedAt: null });
    expect(JSON.stringify(asNewAdmin.body)).not.toContain(created.body.token.slice(-43));
    // An admin token is not a SCIM token.
    expectScim401(await scim('get', created.body.token), /not a Doorman SCIM token/);

    expect((await t.admin('delete', `/admin/v1/admin-tokens/${created.body.id}`)).status).toBe(204);
    expect((await t.http.get('/admin/v1/admin-tokens').set('Authorization', `Bearer ${created.body.token}`)).status).toBe(401);
    const after = await t.admin('get', '/admin/v1/admin-tokens');
    expect(after.body.tokens.find((x: { id: string }) => x.id === created.body.id).status).toBe('revoked');
  });
});

describe('secrecy of token administration', () => {
  it('never shows an issued secret in logs or events', () => {
    expect(secrets.length).toBeGreaterThan(5);
    expectNoSecretLeaked();
  });
});
