import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusalRecorderRef } from '@doorman/core';
import { newUser, PATCH_OP, startScimTestBed, type ScimTestBed } from '@doorman/plugin-scim-users/testing';
import { auditPlugin } from '@doorman/plugin-audit';
import { jitProvisioningPlugin } from '@doorman/plugin-jit-provisioning';
import { peoplePlugin, type ActivityRecorder } from '../src/index.ts';

/**
 * The refused-request log against MariaDB, with what Okta's "Test Connector" and an Entra cycle
 * send when something is wrong (docs/connection-activity.md). Every request carries values that
 * must never reach the table: the assertions read the raw rows.
 */
const SECRET_EMAIL = 'grace.hopper.secret@acme.test';
const SECRET_WORD = 'Zanzibar7731';
let bed: ScimTestBed;

const flush = () => (bed.t.gateway.get(refusalRecorderRef) as ActivityRecorder).flush();
const rawRows = async (connectionId: string): Promise<Array<Record<string, unknown>>> =>
  bed.t.gateway.db.query('SELECT * FROM connection_activity WHERE connection_id = ? ORDER BY seq', [connectionId]);

beforeAll(async () => {
  bed = await startScimTestBed({ plugins: [auditPlugin, jitProvisioningPlugin, peoplePlugin], pluginSettings: { people: { activityPerSecond: 1000 }, // other test packages fail auth from 127.0.0.1 on the same Redis at the same time: the per-address failure limit must not refuse this test's own attempts
    'token-auth': { authFailuresPerMinute: 100_000 } } });
});
afterAll(async () => bed?.t.close());

describe('refused SCIM requests are recorded, without request values', () => {
  const requestIds: Record<string, string> = {};

  beforeAll(async () => {
    const send = async (name: string, req: ReturnType<ScimTestBed['scim']>, status: number) => {
      const res = await req.set('X-Request-Id', `req-${name}`);
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(status);
      requestIds[name] = `req-${name}`;
      return res;
    };
    // A bad filter (syntax) and an unknown attribute in a filter, both naming a secret value.
    await send('bad-filter', bed.scim(bed.a, 'get', `/Users?filter=${encodeURIComponent(`userName eq "${SECRET_EMAIL}`)}`), 400);
    await send('unknown-attribute', bed.scim(bed.a, 'get', `/Users?filter=${encodeURIComponent(`favouriteColour eq "${SECRET_WORD}"`)}`), 400);
    // Uniqueness: the second POST of the same userName.
    expect((await bed.scim(bed.a, 'post', '/Users').send(newUser(SECRET_EMAIL))).status).toBe(201);
    const conflict = await send('uniqueness', bed.scim(bed.a, 'post', '/Users').send(newUser(SECRET_EMAIL)), 409);
    expect(conflict.body.detail).toContain(SECRET_EMAIL); // the client is told; the log is not
    // A PATCH with a bad value.
    const [row] = await bed.t.gateway.db.query('SELECT id FROM connection_users WHERE user_name = ?', [SECRET_EMAIL]);
    await send('bad-patch', bed.scim(bed.a, 'patch', `/Users/${row.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: SECRET_WORD }] }), 400);
    // A wrong token: unknown (no connection: not recorded) …
    await send('unknown-token', bed.t.http.get('/scim/v2/Users').set('Authorization', `Bearer scim_${'x'.repeat(43)}`), 401);
    await flush();
  });

  it('records each refusal with its connection, route pattern, status, scimType, code, detail and request id', async () => {
    const res = await bed.t.admin('get', `/admin/v1/connections/${bed.a.connectionId}/activity`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.connection).toEqual({ id: bed.a.connectionId, name: 'Okta A' });
    const byRequest = Object.fromEntries(res.body.items.map((i: { requestId: string }) => [i.requestId, i]));
    expect(byRequest[requestIds['bad-filter']!]).toMatchObject({ outcome: 'refused', surface: 'scim', method: 'GET', route: '/scim/v2/Users', status: 400, scimType: 'invalidFilter' });
    expect(byRequest[requestIds['unknown-attribute']!]).toMatchObject({ status: 400, scimType: 'invalidFilter', route: '/scim/v2/Users' });
    expect(byRequest[requestIds.uniqueness!]).toMatchObject({ method: 'POST', status: 409, scimType: 'uniqueness', code: 'DMN_SCIM_USERNAME_TAKEN' });
    expect(byRequest[requestIds.uniqueness!].detail).toMatch(/userName '…' already exists/);
    expect(byRequest[requestIds['bad-patch']!]).toMatchObject({ method: 'PATCH', route: '/scim/v2/Users/:id', status: 400 });
    // Newest first.
    const times = res.body.items.map((i: { at: string }) => i.at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('never stores the body, a query value or the token', async () => {
    const rows = await rawRows(bed.a.connectionId);
    if (process.env.SHOW_ROWS) console.log(rows);
    expect(rows.length).toBeGreaterThanOrEqual(4);
    const text = JSON.stringify(rows);
    for (const secret of [SECRET_EMAIL, SECRET_WORD, 'grace.hopper', bed.a.token, 'favouriteColour eq', '?filter', 'Lovelace']) expect(text, secret).not.toContain(secret);
  });

  it('does not record a refusal it cannot attribute to a connection (unknown token)', async () => {
    const [{ n }] = await bed.t.gateway.db.query('SELECT COUNT(*) AS n FROM connection_activity WHERE request_id = ?', [requestIds['unknown-token']]);
    expect(Number(n)).toBe(0);
  });
});

describe('authentication and rate limits', () => {
  it('records a revoked token (its connection is known) and the rate limit, on that connection', async () => {
    const tokens = await bed.t.admin('post', `/admin/v1/connections/${bed.b.connectionId}/scim-tokens`).send({ name: 'to revoke' });
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(201);
    const secret = tokens.body.secret ?? tokens.body.token;
    expect((await bed.t.admin('delete', `/admin/v1/connections/${bed.b.connectionId}/scim-tokens/${tokens.body.id}`)).status).toBeLessThan(300);
    const revoked = await bed.t.http.get('/scim/v2/Users').set('Authorization', `Bearer ${secret}`).set('X-Request-Id', 'req-revoked');
    expect(revoked.status).toBe(401);

    expect((await bed.t.admin('patch', `/admin/v1/connections/${bed.b.connectionId}`).send({ rateLimitPerSecond: 1 })).status).toBe(200);
    let limited = 0;
    for (let i = 0; i < 40 && limited === 0; i++) {
      const res = await bed.scim(bed.b, 'get', '/Users?count=1').set('X-Request-Id', `req-burst-${i}`);
      if (res.status === 429) limited++;
    }
    expect(limited).toBe(1);
    await flush();

    const res = await bed.t.admin('get', '/admin/v1/connections/Entra%20B/activity');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const statuses = res.body.items.map((i: { status: number; code: string; route: string }) => [i.status, i.code, i.route]);
    expect(statuses).toEqual(expect.arrayContaining([[401, 'DMN_UNAUTHENTICATED', '/scim/v2/Users'], [429, 'DMN_SCIM_RATE_LIMITED', '/scim/v2/Users']]));
    expect(JSON.stringify(await rawRows(bed.b.connectionId))).not.toContain(secret);
  });
});

describe('refused SSO requests', () => {
  it('records a refused SAML response on its connection, without the response', async () => {
    const samlResponse = Buffer.from(`<samlp:Response>${SECRET_WORD}</samlp:Response>`).toString('base64');
    const res = await bed.t.http
      .post(`/sso/saml/acs?connection=${bed.a.connectionId}`)
      .set('X-Request-Id', 'req-saml')
      .type('form')
      .send({ SAMLResponse: samlResponse });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    await flush();
    const rows = (await rawRows(bed.a.connectionId)).filter((r) => r.request_id === 'req-saml');
    expect(rows).toEqual([expect.objectContaining({ surface: 'sso', method: 'POST', route: '/sso/saml/acs', status: res.status })]);
    expect(JSON.stringify(rows)).not.toContain(SECRET_WORD);
    expect(JSON.stringify(rows)).not.toContain(samlResponse.slice(0, 20));
  });
});

describe('GET /admin/v1/connections/:connection/activity', () => {
  it('outcome=all adds the accepted changes from the audit trail, and pages with a cursor', async () => {
    const all = await bed.t.admin('get', `/admin/v1/connections/${bed.a.connectionId}/activity?outcome=all&limit=200`);
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    const outcomes = new Set(all.body.items.map((i: { outcome: string }) => i.outcome));
    expect([...outcomes].sort()).toEqual(['accepted', 'refused']);
    expect(all.body.items).toContainEqual(expect.objectContaining({ outcome: 'accepted', surface: 'scim', action: 'user.created', eventId: expect.any(String), target: { type: 'user', id: expect.any(String) } }));
    const errorsOnly = await bed.t.admin('get', `/admin/v1/connections/${bed.a.connectionId}/activity`);
    expect(new Set(errorsOnly.body.items.map((i: { outcome: string }) => i.outcome))).toEqual(new Set(['refused']));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: Array<{ at: string; requestId: string }>; nextCursor: string | null } } = await bed.t.admin(
        'get',
        `/admin/v1/connections/${bed.a.connectionId}/activity?outcome=all&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((i) => `${i.at} ${i.requestId}`));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.items.map((i: { at: string; requestId: string }) => `${i.at} ${i.requestId}`));
  });

  it('names a bad parameter and 404s an unknown connection', async () => {
    const bad = await bed.t.admin('get', `/admin/v1/connections/${bed.a.connectionId}/activity?outcome=some`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('outcome');
    expect((await bed.t.admin('get', `/admin/v1/connections/${bed.a.connectionId}/activity?cursor=nope`)).body.error.field).toBe('cursor');
    const missing = await bed.t.admin('get', '/admin/v1/connections/no-such-idp/activity');
    expect(missing.status).toBe(404);
    expect(missing.body.error.field).toBe('connection');
  });
});
