/**
 * Organization-wide deprovisioning (docs/org-wide-deprovisioning.md), through the real SCIM Users
 * plugin: when SCIM connection A deactivates or deletes a person, their sessions into A's
 * organizations end whichever connection opened them, /sso/me refuses them before the deactivation
 * job has run, and a JIT sign-in through another connection C into those organizations is refused
 * until A reactivates them. The role-mapping sync reconciles memberships AND sessions.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { JobContext, JobDefinition } from '@doorman/core';
import { newUser, PATCH_OP, startScimTestBed, type ScimTestBed } from '@doorman/plugin-scim-users/testing';
import { jitProvisioningPlugin } from '../src/index.ts';
import { spUrls } from '../src/saml.ts';
import { authnRequestId, b64, CookieJar, createConnection, makeIdpKeys, rowCounts, samlResponseXml, sessionSetCookie, signSaml } from './fixtures.ts';

const idp = makeIdpKeys();
let bed: ScimTestBed;
let c: string; // the JIT (SAML) connection C, serving acme
let domain: string;

beforeAll(async () => {
  bed = await startScimTestBed({ plugins: [jitProvisioningPlugin], pluginSettings: { 'jit-provisioning': { sessionSecret: 'deprov-test-secret-0123456789abcdef012345' } } });
});
afterAll(async () => bed?.t.close());
beforeEach(async () => {
  domain = `${randomUUID().slice(0, 8)}.example.com`;
  c = await createConnection(bed.t.gateway.db, {
    type: 'saml',
    name: `jit-${domain}`,
    orgIds: [bed.orgs.acme!],
    defaultOrgId: bed.orgs.acme!,
    domains: [{ domain, verified: true }],
    idp: { entryPoint: 'https://idp.example.test/sso', idpCert: idp.cert },
  });
  await bed.t.admin('patch', `/admin/v1/connections/${bed.a.connectionId}`).send({ deprovisioningScope: 'organization' });
});

const db = () => bed.t.gateway.db;
/** A whole SP-initiated SAML sign-in through C, in a browser of its own. */
async function signInThroughC(email: string) {
  const login = await bed.t.http.get('/sso/login').query({ email });
  expect(login.status, JSON.stringify(login.body)).toBe(302);
  const browser = new CookieJar().absorb(login);
  const urls = spUrls(bed.t.gateway.config.publicUrl, c);
  const xml = signSaml(samlResponseXml({ acsUrl: urls.acsUrl, audience: urls.entityId, nameId: email, inResponseTo: authnRequestId(login.headers.location) }), idp);
  const res = await bed.t.http.post(`/sso/saml/acs?connection=${c}`).set('Cookie', browser.header()).type('form').send({ SAMLResponse: b64(xml) });
  return { res, cookie: String(sessionSetCookie(res) ?? '').split(';')[0]! };
}
const me = (cookie: string) => bed.t.http.get('/sso/me').set('Cookie', cookie);
const scimCreate = async (email: string) => {
  const res = await bed.scim(bed.a, 'post', '/Users').send(newUser(email));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
};
const setActive = async (scimId: string, active: boolean) => {
  const res = await bed.scim(bed.a, 'patch', `/Users/${scimId}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active } }] });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
};
const membershipsOfA = async (email: string) =>
  Number((await db().query('SELECT COUNT(*) AS n FROM org_memberships m JOIN users u ON u.id = m.user_id WHERE u.email_lc = ? AND m.connection_id = ?', [email, bed.a.connectionId]))[0].n);
const liveSessions = async (email: string) =>
  Number((await db().query('SELECT COUNT(*) AS n FROM sso_sessions s JOIN users u ON u.id = s.user_id WHERE u.email_lc = ? AND s.ended_at IS NULL', [email]))[0].n);

describe('organization-wide deprovisioning', () => {
  it('deactivation by SCIM connection A ends the session opened through C at once, before the job runs, and refuses sign-in through C until A reactivates', async () => {
    const email = `ann@${domain}`;
    const scimId = await scimCreate(email);
    const first = await signInThroughC(email);
    expect(first.res.status, JSON.stringify(first.res.body)).toBe(200);
    expect((await me(first.cookie)).status).toBe(200);

    await setActive(scimId, false);
    // No job runtime runs in this test: A's memberships are still there (the deactivation job would
    // remove them), yet the session check refuses and the session row is ended.
    expect(await membershipsOfA(email)).toBeGreaterThan(0);
    const refused = await me(first.cookie);
    expect(refused.status).toBe(401);
    expect(await liveSessions(email)).toBe(0);
    const rows: Array<{ org_id: string; org_wide: number | boolean; reason: string }> = await db().query(
      'SELECT d.org_id, d.org_wide, d.reason FROM sso_deprovisionings d JOIN users u ON u.id = d.user_id WHERE u.email_lc = ? ORDER BY d.org_id',
      [email],
    );
    expect(rows.map((r) => [r.org_id, Number(r.org_wide), r.reason])).toEqual([bed.orgs.acme!, bed.orgs.globex!].sort().map((o) => [o, 1, 'inactive']));

    const before = await rowCounts(db());
    const again = await signInThroughC(email);
    expect(again.res.status).toBe(403);
    expect(again.res.body.error.message).toMatch(
      new RegExp(`^User '${email.replace(/\./g, '\\.')}' was deprovisioned from organization 'acme' by SSO connection 'Okta A': signing in to it is refused until that connection reactivates them\\. Contact your administrator\\. TraceID: `),
    );
    expect(await rowCounts(db())).toEqual(before);

    await setActive(scimId, true);
    const back = await signInThroughC(email);
    expect(back.res.status, JSON.stringify(back.res.body)).toBe(200);
    expect((await me(back.cookie)).status).toBe(200);
  });

  it('deletion by A does the same, and re-creation by A lifts it', async () => {
    const email = `bob@${domain}`;
    const scimId = await scimCreate(email);
    const { cookie } = await signInThroughC(email);
    expect((await bed.scim(bed.a, 'delete', `/Users/${scimId}`)).status).toBe(204);
    expect((await me(cookie)).status).toBe(401);
    expect((await signInThroughC(email)).res.status).toBe(403);
    await scimCreate(email);
    expect((await signInThroughC(email)).res.status).toBe(200);
  });

  it("leaves other connections' sessions and sign-ins alone when A's scope is 'connection'", async () => {
    const patched = await bed.t.admin('patch', `/admin/v1/connections/${bed.a.connectionId}`).send({ deprovisioningScope: 'connection' });
    expect(patched.status).toBe(200);
    const email = `cid@${domain}`;
    const scimId = await scimCreate(email);
    const { cookie } = await signInThroughC(email);
    await setActive(scimId, false);
    expect((await me(cookie)).status).toBe(200);
    expect((await signInThroughC(email)).res.status).toBe(200);
  });

  it('a deprovisioning of organization initech (connection B) does not touch sessions into acme', async () => {
    const email = `dee@${domain}`;
    const res = await bed.scim(bed.b, 'post', '/Users').send(newUser(email));
    const { cookie } = await signInThroughC(email);
    const off = await bed.scim(bed.b, 'patch', `/Users/${res.body.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
    expect(off.status).toBe(200);
    expect((await me(cookie)).status).toBe(200);
  });

  it('the role-mapping sync reconciles an inactive person fully: memberships and sessions', async () => {
    const email = `eve@${domain}`;
    await scimCreate(email);
    const { cookie } = await signInThroughC(email);
    // Deactivated behind the events' back (data from before this version, a lost event):
    await db().query('UPDATE connection_users SET active = 0 WHERE connection_id = ? AND user_name_lc = ?', [bed.a.connectionId, email]);
    expect((await me(cookie)).status).toBe(200);

    const sync = bed.t.gateway.jobs.definitions.get('sync/sync-connection') as JobDefinition;
    const job: JobContext = { id: 'test', attemptsMade: 0, logger: bed.t.gateway.logger, updateProgress: async () => undefined };
    const summary = (await sync.process(sync.schema.parse({ connectionId: bed.a.connectionId, trigger: 'manual' }), job)) as { changes: { sessionsEnded: number; removed: number } };
    // Earlier tests' inactive people of A count too (e.g. the one A deactivated with scope 'connection').
    expect(summary.changes.sessionsEnded).toBeGreaterThanOrEqual(1);
    expect(await liveSessions(email)).toBe(0);
    expect(await membershipsOfA(email)).toBe(0);
    expect((await me(cookie)).status).toBe(401);
    expect((await signInThroughC(email)).res.status).toBe(403);
  });
});
