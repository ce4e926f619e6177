/** JIT rules (docs/docker-behaviour.md §2.7), driven through real SAML sign-ins. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { adminPlugin } from '@doorman/plugin-admin';
import { roleMappingPlugin } from '@doorman/plugin-role-mapping';
import { jitProvisioningPlugin } from '../src/index.ts';
import { spUrls } from '../src/saml.ts';
import {
  addConnectionUser,
  addMembership,
  authnRequestId,
  b64,
  CookieJar,
  createConnection,
  createOrg,
  createUser,
  makeIdpKeys,
  membershipsOf,
  rowCounts,
  samlResponseXml,
  sessionSetCookie,
  signSaml,
} from './fixtures.ts';

const PUBLIC = 'https://sso.doorman.test';
let t: TestGateway;
let ds: DataSource;
const idp = makeIdpKeys();
let org: { id: string; name: string };
let other: { id: string; name: string };
let conn: string;
let domain: string;

beforeAll(async () => {
  t = await startTestGateway({
    plugins: [roleMappingPlugin, jitProvisioningPlugin],
    builtins: [adminPlugin],
    gateway: { publicUrl: PUBLIC },
    pluginSettings: { 'jit-provisioning': { sessionSecret: 'jit-test-secret-0123456789abcdef0123456789', sessionMinutes: '60', cookieName: 'sid' } },
  });
  ds = t.gateway.db;
});
afterAll(async () => t?.close());

async function world(opts: { jitEnabled?: boolean; scimEnabled?: boolean } = {}) {
  const tag = randomUUID().slice(0, 8);
  domain = `${tag}.example.com`;
  org = { id: await createOrg(ds, `moby-${tag}`), name: `moby-${tag}` };
  other = { id: await createOrg(ds, `whale-${tag}`), name: `whale-${tag}` };
  conn = await createConnection(ds, {
    type: 'saml',
    orgIds: [org.id, other.id],
    defaultOrgId: org.id,
    defaultTeam: 'everyone',
    domains: [{ domain, verified: true }],
    idp: { entryPoint: 'https://idp.example.test/sso', idpCert: idp.cert },
    ...opts,
  });
}

async function signInAs(email: string, attributes: Record<string, string | string[]> = {}) {
  const login = await t.http.get('/sso/login').query({ email });
  expect(login.status).toBe(302);
  const browser = new CookieJar().absorb(login);
  const urls = spUrls(PUBLIC, conn);
  const xml = samlResponseXml({ acsUrl: urls.acsUrl, audience: urls.entityId, nameId: email, inResponseTo: authnRequestId(login.headers.location), attributes });
  return t.http.post(`/sso/saml/acs?connection=${conn}`).set('Cookie', browser.header()).type('form').send({ SAMLResponse: b64(signSaml(xml, idp)) });
}
const userId = async (email: string) => ((await ds.query('SELECT id FROM users WHERE email_lc = ?', [email.toLowerCase()])) as Array<{ id: string }>)[0]?.id;

describe('JIT on', () => {
  beforeEach(() => world());

  it('sets the role only on the first sign-in; later sign-ins update the name and add teams, never remove them', async () => {
    const email = `ann@${domain}`;
    const first = await signInAs(email, { name: 'Ann One', dockerRole: 'owner', dockerTeam: 'alpha' });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ firstTime: true, accountCreated: true });
    // Secure follows the https public URL; the lifetime and name follow the settings.
    expect(String(sessionSetCookie(first, 'sid'))).toMatch(/^sid=.*; Max-Age=3600; HttpOnly; SameSite=Lax; Secure$/);
    const id = (await userId(email))!;
    expect(await membershipsOf(ds, id)).toEqual({ orgs: [{ org: org.name, role: 'owner', source: 'jit' }], teams: [{ org: org.name, team: 'alpha' }] });

    const later = await signInAs(email, { name: 'Ann Two', dockerRole: 'member', dockerTeam: 'beta', groups: [`${other.name}:ops`] });
    expect(later.status, JSON.stringify(later.body)).toBe(200);
    expect(later.body).toMatchObject({ firstTime: false, accountCreated: false, user: { fullName: 'Ann Two' } });
    expect(await membershipsOf(ds, id)).toEqual({
      orgs: [
        { org: org.name, role: 'owner', source: 'jit' },
        { org: other.name, role: 'member', source: 'jit' },
      ],
      teams: [
        { org: org.name, team: 'alpha' },
        { org: org.name, team: 'beta' },
        { org: other.name, team: 'ops' },
      ],
    });
    const users: Array<{ full_name: string }> = await ds.query('SELECT full_name FROM users WHERE id = ?', [id]);
    expect(users[0]!.full_name).toBe('Ann Two');
  });

  it('uses the existing account of the same email (any case) instead of creating one', async () => {
    const id = await createUser(ds, `Bea@${domain}`, 'Old Name');
    const res = await signInAs(`bea@${domain.toUpperCase()}`, { name: 'Bea New' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ accountCreated: false, firstTime: true, user: { id, fullName: 'Bea New' } });
    expect(Number((await ds.query('SELECT COUNT(*) AS n FROM users WHERE email_lc = ?', [`bea@${domain}`]))[0].n)).toBe(1);
  });

  it('refuses a role mapping the organization cannot take (unknown dockerOrg) with the mapping message, nothing written', async () => {
    const before = await rowCounts(ds);
    const res = await signInAs(`cid@${domain}`, { dockerOrg: 'no-such-org' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^dockerOrg 'no-such-org' is not an organization served by this SSO connection\. TraceID: /);
    expect(await rowCounts(ds)).toEqual(before);
  });

  it('two concurrent first sign-ins of the same new person create one account', async () => {
    const email = `kim@${domain}`;
    const [a, b] = await Promise.all([signInAs(email, { dockerTeam: 'race' }), signInAs(email, { dockerTeam: 'race' })]);
    expect([a.status, b.status], JSON.stringify([a.body, b.body])).toEqual([200, 200]);
    expect(a.body.user.id).toBe(b.body.user.id);
    expect(await membershipsOf(ds, a.body.user.id)).toEqual({ orgs: [{ org: org.name, role: 'member', source: 'jit' }], teams: [{ org: org.name, team: 'race' }] });
  });

  it('does not bring back a user SCIM deactivated', async () => {
    const email = `dan@${domain}`;
    const id = await createUser(ds, email);
    await addConnectionUser(ds, { connectionId: conn, userId: id, email, active: false });
    const before = await rowCounts(ds);
    const res = await signInAs(email, { dockerRole: 'owner' });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(new RegExp(`^User '${email}' is deactivated in this SSO organization\\. Contact your administrator\\. TraceID: `));
    expect(await rowCounts(ds)).toEqual(before);
  });

  it('SCIM then JIT on the same person: the SCIM role stays, JIT adds the team', async () => {
    const email = `eve@${domain}`;
    const id = await createUser(ds, email, 'Eve Scim');
    await addConnectionUser(ds, { connectionId: conn, userId: id, email, active: true });
    await addMembership(ds, { orgId: org.id, userId: id, role: 'editor', source: 'scim', connectionId: conn });
    const res = await signInAs(email, { dockerRole: 'owner', dockerTeam: 'gamma' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.firstTime).toBe(false);
    expect(await membershipsOf(ds, id)).toEqual({ orgs: [{ org: org.name, role: 'editor', source: 'scim' }], teams: [{ org: org.name, team: 'gamma' }] });
  });
});

describe('JIT off (SCIM on)', () => {
  beforeEach(() => world({ jitEnabled: false, scimEnabled: true }));

  it('refuses a person who is neither a member nor SCIM-provisioned, and creates no account', async () => {
    const before = await rowCounts(ds);
    const res = await signInAs(`fay@${domain}`, { dockerRole: 'owner' });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(new RegExp(`^User 'fay@${domain.replace(/\./g, '\\.')}' is not assigned to this SSO organization\\. Contact your administrator\\. TraceID: `));
    expect(await rowCounts(ds)).toEqual({ ...before });
    expect(await userId(`fay@${domain}`)).toBeUndefined();
  });

  it('signs in a SCIM-provisioned person without touching memberships', async () => {
    const email = `gus@${domain}`;
    const id = await createUser(ds, email, 'Gus');
    await addConnectionUser(ds, { connectionId: conn, userId: id, email, active: true });
    await addMembership(ds, { orgId: org.id, userId: id, role: 'member', source: 'scim', connectionId: conn });
    const res = await signInAs(email, { dockerRole: 'owner', dockerTeam: 'new-team', name: 'Gus Renamed' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await membershipsOf(ds, id)).toEqual({ orgs: [{ org: org.name, role: 'member', source: 'scim' }], teams: [] });
    expect(res.body.user.fullName).toBe('Gus');
  });

  it('signs in an admin-added member', async () => {
    const email = `hal@${domain}`;
    const id = await createUser(ds, email);
    await addMembership(ds, { orgId: other.id, userId: id, role: 'member', source: 'manual', connectionId: null });
    expect((await signInAs(email)).status).toBe(200);
  });

  it('refuses a SCIM-deactivated person', async () => {
    const email = `ivy@${domain}`;
    const id = await createUser(ds, email);
    await addConnectionUser(ds, { connectionId: conn, userId: id, email, active: false });
    await addMembership(ds, { orgId: org.id, userId: id, role: 'member', source: 'manual', connectionId: null });
    expect((await signInAs(email)).status).toBe(403);
  });
});
