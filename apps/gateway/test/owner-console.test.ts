/**
 * Organization owners in the console (docs/console.md, "Organization owners"), end to end on MariaDB
 * with every plugin that declares admin routes: Ann signs in through her organization's SAML
 * connection (`/console/api/sso` → `/sso/login` → the IdP → back to the console page →
 * `POST /console/api/session/sso`), owns acme only, and then every admin route registered — whatever
 * plugin declared it, so a new route is covered without touching this file — called as Ann about
 * another organization answers 403 or 404, and the lists show none of its rows.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditPlugin } from '@doorman/plugin-audit';
import { consolePlugin } from '@doorman/plugin-console';
import { jitProvisioningPlugin } from '@doorman/plugin-jit-provisioning';
import { authnRequestId, b64, CookieJar, createConnection, makeIdpKeys, samlResponseXml, signSaml, spUrls } from '@doorman/plugin-jit-provisioning/testing';
import { peoplePlugin } from '@doorman/plugin-people';
import { scimGroupsPlugin } from '@doorman/plugin-scim-groups';
import { webhooksPlugin } from '@doorman/plugin-webhooks';
import { newUser, startScimTestBed, type ScimTestBed } from '@doorman/plugin-scim-users/testing';

const idp = makeIdpKeys();
let bed: ScimTestBed;
let own: string; // Ann's connection: serves acme only
const domain = `${randomUUID().slice(0, 8)}.example.com`;
const ann = `ann@${domain}`;
const bob = `bob-${randomUUID().slice(0, 6)}@initech.example`;
let origin: string;
const db = () => bed.t.gateway.db;

/** A browser signing in to the console through SSO; returns its cookies and the console's session JSON. */
async function consoleSignIn(email: string) {
  const browser = new CookieJar();
  const start = await bed.t.http.get('/console/api/sso').query({ email });
  expect(start.status, start.text).toBe(303);
  const login = await bed.t.http.get(start.headers.location);
  expect(login.status, login.text).toBe(302);
  browser.absorb(login);
  const urls = spUrls(bed.t.gateway.config.publicUrl, own);
  const xml = signSaml(samlResponseXml({ acsUrl: urls.acsUrl, audience: urls.entityId, nameId: email, inResponseTo: authnRequestId(login.headers.location) }), idp);
  const acs = await bed.t.http.post(`/sso/saml/acs?connection=${own}`).set('Cookie', browser.header()).type('form').send({ SAMLResponse: b64(xml) });
  browser.absorb(acs);
  return { browser, acs, open: () => bed.t.http.post('/console/api/session/sso').set('Cookie', browser.header()).set('Origin', origin).send({}) };
}

let owner: { cookie: string; csrf: string; userId: string };
const asOwner = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string) => bed.t.http[method](path).set('Cookie', owner.cookie).set('X-CSRF-Token', owner.csrf);

beforeAll(async () => {
  bed = await startScimTestBed({
    plugins: [scimGroupsPlugin, auditPlugin, peoplePlugin, jitProvisioningPlugin, webhooksPlugin, consolePlugin],
    pluginSettings: { 'jit-provisioning': { sessionSecret: 'owner-console-test-secret-0123456789abcdef' } },
  });
  origin = new URL(bed.t.gateway.config.publicUrl).origin;
  own = await createConnection(db(), { type: 'saml', name: 'Acme SSO', orgIds: [bed.orgs.acme!], defaultOrgId: bed.orgs.acme!, domains: [{ domain, verified: true }], idp: { entryPoint: 'https://idp.example.test/sso', idpCert: idp.cert } });
  // Bob: provisioned into initech by its SCIM connection (B).
  const created = await bed.scim(bed.b, 'post', '/Users').send(newUser(bob));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  // Ann signs in once (just-in-time: a member of acme), and is made its owner.
  const first = await consoleSignIn(ann);
  expect(first.acs.status).toBe(303);
  const [{ id }] = await db().query('SELECT id FROM users WHERE email_lc = ?', [ann]);
  await db().query("UPDATE org_memberships SET role = 'owner' WHERE user_id = ? AND org_id = ?", [id, bed.orgs.acme]);
  const signedIn = await first.open();
  expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(201);
  first.browser.absorb(signedIn);
  owner = { cookie: first.browser.header(), csrf: signedIn.body.csrfToken, userId: id };
});
afterAll(async () => bed?.t.close());

describe('an organization owner signs in to the console through SSO', () => {
  it('comes back to the console page, and the session names the person and only the organizations they own', async () => {
    const again = await consoleSignIn(ann);
    expect(again.acs.status).toBe(303);
    expect(again.acs.headers.location).toBe(`${bed.t.gateway.config.publicUrl}/console/?sso=return`);
    const session = await bed.t.http.get('/console/api/session').set('Cookie', owner.cookie);
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ tokenId: null, owner: { userId: owner.userId, email: ann, organizations: [{ id: bed.orgs.acme, name: 'acme' }] } });
    const [row] = await db().query('SELECT token_id AS tokenId, user_id AS userId FROM console_sessions WHERE user_id = ? LIMIT 1', [owner.userId]);
    expect(row).toEqual({ tokenId: null, userId: owner.userId });
  });

  it('refuses a person who owns no organization, a POST from another origin, and a browser without an SSO session', async () => {
    const [{ id }] = await db().query('SELECT id FROM users WHERE email_lc = ?', [bob]);
    expect(id).toBeTruthy();
    const sso = await consoleSignIn(ann);
    const cross = await bed.t.http.post('/console/api/session/sso').set('Cookie', sso.browser.header()).set('Origin', 'https://evil.example').send({});
    expect(cross.status).toBe(403);
    const noSso = await bed.t.http.post('/console/api/session/sso').set('Origin', origin).send({});
    expect(noSso.status).toBe(401);
    await db().query("UPDATE org_memberships SET role = 'member' WHERE user_id = ?", [owner.userId]);
    try {
      const member = await sso.open();
      expect(member.status, JSON.stringify([member.body, await db().query('SELECT org_id, role FROM org_memberships WHERE user_id = ?', [owner.userId])])).toBe(403);
      expect(member.body.error.code).toBe('DMN_CONSOLE_NOT_AN_OWNER');
      // The open session ends with the owner role (re-read per request).
      expect((await asOwner('get', '/console/api/session')).status).toBe(401);
    } finally {
      await db().query("UPDATE org_memberships SET role = 'owner' WHERE user_id = ? AND org_id = ?", [owner.userId, bed.orgs.acme]);
    }
    expect((await asOwner('get', '/console/api/session')).status).toBe(200);
  });

  it('manages its own organization and sees only its own rows in the lists', async () => {
    expect((await asOwner('get', `/admin/v1/orgs/${bed.orgs.acme}`)).status).toBe(200);
    const renamed = await asOwner('patch', '/admin/v1/orgs/acme').send({ displayName: 'Acme Inc' });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    const orgs = await asOwner('get', '/admin/v1/orgs');
    expect(orgs.body.orgs.map((o: { name: string }) => o.name)).toEqual(['acme']);
    const connections = await asOwner('get', '/admin/v1/connections');
    expect(connections.body.connections.map((c: { id: string }) => c.id)).toEqual([own]);
    const people = await asOwner('get', '/admin/v1/people');
    expect(people.body.people.map((p: { email: string }) => p.email)).toEqual([ann]);
    expect((await asOwner('get', `/admin/v1/connections/${own}/group-rules`)).status).toBe(200);
    // A write without the CSRF token is refused as for any console session.
    expect((await bed.t.http.patch('/admin/v1/orgs/acme').set('Cookie', owner.cookie).send({ displayName: 'x' })).status).toBe(403);
  });

  it('every registered admin route, called about another organization, answers 403 or 404; lists show none of its rows', async () => {
    const [{ id: bobId }] = await db().query('SELECT id FROM users WHERE email_lc = ?', [bob]);
    const foreign = [bed.orgs.initech!, bed.orgs.globex!, bed.a.connectionId, bed.b.connectionId, bobId, bob];
    const values: Record<string, string> = { org: 'initech', connectionId: bed.b.connectionId, person: bob };
    const routes = bed.t.gateway.adminRoutes.routes;
    expect(routes.length).toBeGreaterThan(50);
    const problems: string[] = [];
    for (const { definition } of routes) {
      const path = `/admin/v1${definition.path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => encodeURIComponent(values[name] ?? randomUUID()))}`;
      const res = await asOwner(definition.method, path).send(definition.method === 'get' || definition.method === 'delete' ? undefined : {});
      const key = `${definition.method.toUpperCase()} ${definition.path} (${String(typeof definition.scope === 'string' ? definition.scope : Object.keys(definition.scope)[0])})`;
      if (definition.scope === 'filtered') {
        if (res.status !== 200) problems.push(`${key}: ${res.status}`);
        const leaked = foreign.filter((v) => JSON.stringify(res.body).includes(v));
        if (leaked.length) problems.push(`${key}: shows ${leaked.join(', ')}`);
      } else if (![403, 404].includes(res.status)) problems.push(`${key}: ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
    }
    expect(problems).toEqual([]);
    // The same routes about acme, through a connection that also serves globex, are refused too.
    expect((await asOwner('get', `/admin/v1/connections/${bed.a.connectionId}`)).status).toBe(404);
  });

  it('the job dashboard and the API reference refuse owners', async () => {
    expect((await asOwner('get', '/admin/queues')).status).toBe(403);
    expect((await asOwner('get', '/admin/docs')).status).toBe(403);
  });

  it('the console session ends with the SSO session', async () => {
    const other = await consoleSignIn(ann);
    const opened = await other.open();
    expect(opened.status).toBe(201);
    other.browser.absorb(opened);
    const cookie = other.browser.header();
    expect((await bed.t.http.get('/console/api/session').set('Cookie', cookie)).status).toBe(200);
    expect((await bed.t.http.post('/sso/logout').set('Cookie', cookie)).status).toBe(204);
    expect((await bed.t.http.get('/console/api/session').set('Cookie', cookie)).status).toBe(401);
    expect((await bed.t.http.get('/admin/v1/orgs').set('Cookie', cookie)).status).toBe(401);
  });
});
