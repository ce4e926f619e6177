import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { coreServices, definePlugin, type DomainEvent } from '@doorman/plugin-api';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { adminPlugin } from '@doorman/plugin-admin';
import { roleMappingPlugin } from '@doorman/plugin-role-mapping';
import { jitProvisioningPlugin } from '../src/index.ts';
import { spUrls } from '../src/saml.ts';
import { authnRequestId, b64, CookieJar, createConnection, sessionSetCookie, createSignInWorld, makeIdpKeys, membershipsOf, rowCounts, samlResponseXml, signSaml, type ResponseOptions } from './fixtures.ts';

const PUBLIC = 'http://localhost:8080';
const events: DomainEvent[] = [];
const recorder = definePlugin({
  id: 'test-events',
  description: 'records domain events',
  deps: { events: coreServices.events },
  register(env) {
    env.events.subscribe(async (_tx, _actor, event) => void events.push(event));
  },
});

let t: TestGateway;
let ds: DataSource;
const idp = makeIdpKeys();
const attacker = makeIdpKeys('Attacker');
let tag: string;
let org: { id: string; name: string };
let conn: string;
let domain: string;
/** The browser that starts the sign-ins: its transaction cookies go with the SAMLResponse it posts. */
const browser = new CookieJar();

beforeAll(async () => {
  t = await startTestGateway({
    plugins: [roleMappingPlugin, jitProvisioningPlugin, recorder],
    builtins: [adminPlugin],
    gateway: { publicUrl: PUBLIC },
    pluginSettings: { 'jit-provisioning': { sessionSecret: 'test-session-secret-0123456789abcdef0123' } },
  });
  ds = t.gateway.db;
});
afterAll(async () => t?.close());

beforeEach(async () => {
  ({ tag, domain, org, connectionId: conn } = await createSignInWorld(ds, {
    type: 'saml',
    idp: { entryPoint: 'https://idp.example.test/sso', idpIssuer: 'https://idp.example.test', idpCert: idp.cert },
  }));
  events.splice(0);
  browser.clear();
});

const urls = () => spUrls(PUBLIC, conn);
async function spLogin(email: string, connection?: string): Promise<string> {
  const res = await t.http.get('/sso/login').query({ email, ...(connection ? { connection } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(302);
  expect(res.headers.location).toMatch(/^https:\/\/idp\.example\.test\/sso\?SAMLRequest=/);
  browser.absorb(res);
  return authnRequestId(res.headers.location);
}
const response = (o: Partial<ResponseOptions> & { nameId: string }) => samlResponseXml({ acsUrl: urls().acsUrl, audience: urls().entityId, ...o });
const post = (xml: string, connectionId = conn, jar = browser) =>
  t.http.post(`/sso/saml/acs?connection=${connectionId}`).set('Cookie', jar.header()).type('form').send({ SAMLResponse: b64(xml) });
const cookieOf = (res: { headers: Record<string, any> }) => String(sessionSetCookie(res) ?? '').split(';')[0]!;

describe('SP-initiated SAML sign-in', () => {
  it('publishes SP metadata with the entity id and the ACS URL', async () => {
    const res = await t.http.get(`/sso/saml/metadata/${conn}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('application/samlmetadata+xml');
    expect(res.text).toContain(`entityID="${urls().entityId}"`);
    expect(res.text).toContain(`Location="${urls().acsUrl}"`);
    expect(res.text).toContain('WantAssertionsSigned="true"');
    expect((await t.http.get(`/sso/saml/metadata/${randomUUID()}`)).status).toBe(404);
  });

  it('provisions the person on the first sign-in, sets a signed session cookie, and /sso/me shows the account', async () => {
    const email = `Alice.Smith@${domain}`;
    const requestId = await spLogin(email);
    const xml = signSaml(
      response({
        nameId: email,
        inResponseTo: requestId,
        attributes: { 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name': 'Alice Smith', dockerRole: 'editor', groups: [`${org.name}:platform`] },
      }),
      idp,
    );
    const res = await post(xml);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ user: { email, fullName: 'Alice Smith', username: expect.stringMatching(/^alicesmith\d{4}$/) }, firstTime: true, accountCreated: true });
    const setCookie = String(sessionSetCookie(res));
    expect(setCookie).toMatch(/^doorman_sso=[0-9a-f-]{36}\.[A-Za-z0-9_-]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax$/);

    const me = await t.http.get('/sso/me').set('Cookie', cookieOf(res));
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(email);
    // A group mapping replaces the default team (Docker's JIT rule), and dockerRole applies on the first sign-in.
    expect(me.body.organizations).toEqual([{ id: org.id, name: org.name, role: 'editor', teams: [{ id: expect.any(String), name: 'platform' }] }]);
    expect(events.map((e) => e.action)).toEqual(['member.added', 'team.created', 'team_member.added', 'jit.provisioned', 'sso.signed_in']);
    expect(JSON.stringify(events)).not.toContain('Assertion');
  });

  it('accepts a signed response when the connection wants one, and refuses an assertion-only signature there', async () => {
    await ds.query('UPDATE sso_connections SET idp_settings = ? WHERE id = ?', [
      JSON.stringify({ entryPoint: 'https://idp.example.test/sso', idpCert: idp.cert, wantAuthnResponseSigned: true }),
      conn,
    ]);
    const email = `bob@${domain}`;
    const onlyAssertion = await post(signSaml(response({ nameId: email, inResponseTo: await spLogin(email) }), idp, 'assertion'));
    expect(onlyAssertion.status).toBe(401);
    expect(onlyAssertion.body.error.message).toMatch(/Invalid document signature/);
    const both = await post(signSaml(response({ nameId: email, inResponseTo: await spLogin(email) }), idp, 'both'));
    expect(both.status, JSON.stringify(both.body)).toBe(200);
  });

  it('honours dockerSessionMinutes for the session lifetime', async () => {
    const email = `carol@${domain}`;
    const res = await post(signSaml(response({ nameId: email, inResponseTo: await spLogin(email), attributes: { dockerSessionMinutes: '15' } }), idp));
    expect(res.status).toBe(200);
    expect(String(sessionSetCookie(res))).toContain('Max-Age=900');
    const bad = await post(signSaml(response({ nameId: email, inResponseTo: await spLogin(email), attributes: { dockerSessionMinutes: '0' } }), idp));
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^Invalid dockerSessionMinutes '0': must be a positive integer greater than 0\. TraceID: /);
  });
});

describe('refused SAML responses: clear error, nothing written', () => {
  const email = () => `dave@${domain}`;
  type Case = [string, (requestId: string) => string, number, RegExp];
  const cases: Case[] = [
    ['signed with another key', (id) => signSaml(response({ nameId: email(), inResponseTo: id }), attacker), 401, /Invalid signature/],
    ['not signed at all', (id) => response({ nameId: email(), inResponseTo: id }), 401, /Invalid signature/],
    [
      'altered after signing (Name ID swapped)',
      (id) => signSaml(response({ nameId: email(), inResponseTo: id }), idp).replace(email(), `mallory@${domain}`),
      401,
      /Invalid signature/,
    ],
    [
      'signature wrapping: forged assertion, the signed one hidden inside it',
      (id) => {
        const signed = signSaml(response({ nameId: email(), inResponseTo: id }), idp);
        const original = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(signed)![0];
        const forged = original
          .replace(/ID="[^"]+"/, 'ID="_forged"')
          .replace(email(), `mallory@${domain}`)
          .replace(/<(ds:)?Signature[\s\S]*<\/(ds:)?Signature>/, '');
        const wrapped = forged.replace('</saml:Subject>', `</saml:Subject><saml:Advice>${original}</saml:Advice>`);
        return signed.replace(original, wrapped);
      },
      401,
      /signature/i,
    ],
    [
      'signature wrapping: the signature moved onto a forged assertion',
      (id) => {
        const signed = signSaml(response({ nameId: email(), inResponseTo: id }), idp);
        const original = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(signed)![0];
        const signature = /<(ds:)?Signature[\s\S]*<\/(ds:)?Signature>/.exec(original)![0];
        const forged = original.replace(/ID="[^"]+"/, 'ID="_forged"').replace(email(), `mallory@${domain}`);
        return signed.replace(original, forged.replace(/<(ds:)?Signature[\s\S]*<\/(ds:)?Signature>/, signature));
      },
      401,
      /signature/i,
    ],
    [
      'two assertions',
      (id) => {
        const signed = signSaml(response({ nameId: email(), inResponseTo: id }), idp);
        const original = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(signed)![0];
        return signed.replace(original, original + original.replace(/ID="_a/, 'ID="_b'));
      },
      401,
      /multiple assertions/,
    ],
    ['wrong audience', (id) => signSaml(response({ nameId: email(), inResponseTo: id, audience: 'https://other-sp.example.test' }), idp), 401, /audience mismatch/],
    ['expired', (id) => signSaml(response({ nameId: email(), inResponseTo: id, issueInstant: Date.now() - 3_600_000, notOnOrAfter: Date.now() - 3_000_000 }), idp), 401, /expired|No valid subject confirmation/],
    ['wrong Recipient', (id) => signSaml(response({ nameId: email(), inResponseTo: id, recipient: `${PUBLIC}/sso/saml/acs?connection=${randomUUID()}` }), idp), 401, /Recipient/],
    ['wrong Destination', (id) => signSaml(response({ nameId: email(), inResponseTo: id, destination: 'https://evil.example.test/acs' }), idp), 401, /Destination/],
    ['wrong issuer', (id) => signSaml(response({ nameId: email(), inResponseTo: id, issuer: 'https://other-idp.example.test' }), idp), 401, /issuer/],
    // Never issued, so no browser holds its transaction cookie (login CSRF binding, docs/sso-login-csrf.md).
    ['an AuthnRequest id never issued', () => signSaml(response({ nameId: email(), inResponseTo: `_${randomUUID()}` }), idp), 403, /^This sign-in was not started in this browser/],
    [
      'a Name ID that is not an email',
      (id) => signSaml(response({ nameId: 'a1b2c3d4-opaque', inResponseTo: id }), idp),
      400,
      /^The name ID sent by the identity provider is not an email address\. Contact your company administrator\. TraceID: /,
    ],
    [
      'an email attribute naming another person than the Name ID',
      (id) => signSaml(response({ nameId: email(), inResponseTo: id, attributes: { 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': `ceo@${domain}` } }), idp),
      403,
      /^The identity provider sent Name ID 'dave@[^']+' but its '[^']+emailaddress' attribute names 'ceo@[^']+': the Name ID must be the person's email address/,
    ],
    [
      'an email on an unverified domain',
      (id) => signSaml(response({ nameId: `dave@unverified-${domain}`, inResponseTo: id }), idp),
      403,
      /^Domain 'unverified-[^']+' is not verified for your SSO connection\. Contact your company administrator\. TraceID: /,
    ],
    [
      'IdP-initiated (no InResponseTo) on a connection that does not allow it',
      () => signSaml(response({ nameId: email(), inResponseTo: null }), idp),
      403,
      /^IdP-Initiated sign in is not enabled for connection 'conn-[^']+'\. TraceID: /,
    ],
  ];

  it.each(cases)('%s', async (_name, build, status, message) => {
    const requestId = await spLogin(email());
    const before = await rowCounts(ds);
    const res = await post(build(requestId));
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.error.message).toMatch(message);
    expect(res.body.error.message).toContain(`TraceID: ${res.headers['x-request-id']}`);
    expect(await rowCounts(ds)).toEqual(before);
    expect(sessionSetCookie(res)).toBeUndefined();
    expect(events.map((e) => e.action)).toEqual(['sso.sign_in_denied']);
    expect(events[0]!.connectionId).toBe(conn);
  });

  it('refuses a replayed response: the AuthnRequest id is consumed by the first POST', async () => {
    const xml = signSaml(response({ nameId: email(), inResponseTo: await spLogin(email()) }), idp);
    expect((await post(xml)).status).toBe(200);
    const before = await rowCounts(ds);
    const again = await post(xml);
    expect(again.status).toBe(401);
    expect(again.body.error.message).toMatch(/We couldn't find your session|already used/);
    expect(await rowCounts(ds)).toEqual(before);
  });

  it('refuses a form that is not urlencoded, a missing SAMLResponse and an unknown connection', async () => {
    expect((await t.http.post(`/sso/saml/acs?connection=${conn}`).send({ SAMLResponse: 'x' })).status).toBe(400);
    expect((await t.http.post(`/sso/saml/acs?connection=${conn}`).type('form').send({ other: 'x' })).body.error.field).toBe('SAMLResponse');
    expect((await t.http.post(`/sso/saml/acs?connection=${randomUUID()}`).type('form').send({ SAMLResponse: 'eA==' })).status).toBe(404);
    const garbage = await t.http.post(`/sso/saml/acs?connection=${conn}`).type('form').send({ SAMLResponse: b64('<not-saml/>') });
    expect(garbage.status).toBe(401);
    expect(garbage.body.error.message).toMatch(/not a SAML 2.0 Response/);
  });
});

describe('IdP-initiated SAML, when the connection allows it', () => {
  beforeEach(async () => {
    await ds.query('UPDATE sso_connections SET idp_settings = ? WHERE id = ?', [
      JSON.stringify({ entryPoint: 'https://idp.example.test/sso', idpCert: idp.cert, allowIdpInitiated: true }),
      conn,
    ]);
  });

  it('signs in, and refuses the same assertion posted again (replay cache in Redis)', async () => {
    const xml = signSaml(response({ nameId: `erin@${domain}`, inResponseTo: null }), idp);
    expect((await post(xml)).status).toBe(200);
    const before = await rowCounts(ds);
    const again = await post(xml);
    expect(again.status).toBe(401);
    expect(again.body.error.message).toMatch(/^This sign-in response was already used\. Sign in again\. TraceID: /);
    expect(await rowCounts(ds)).toEqual(before);
  });

  it('refuses an expired SubjectConfirmationData NotOnOrAfter even though the Conditions are still valid', async () => {
    const before = await rowCounts(ds);
    const xml = signSaml(response({ nameId: `erin@${domain}`, inResponseTo: null, confirmationNotOnOrAfter: Date.now() - 10 * 60_000 }), idp);
    const res = await post(xml);
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/expired \(SubjectConfirmationData NotOnOrAfter\)/);
    expect(await rowCounts(ds)).toEqual(before);
  });
});

describe('GET /sso/login', () => {
  it('names the field for a missing email, and refuses unknown and unverified domains with Docker wording', async () => {
    expect((await t.http.get('/sso/login')).body.error.field).toBe('email');
    const unknown = await t.http.get('/sso/login').query({ email: `x@nowhere-${tag}.test` });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/^No SSO connection is configured for domain 'nowhere-[^']+'\. Contact your company administrator\. TraceID: /);
    const unverified = await t.http.get('/sso/login').query({ email: `x@unverified-${domain}` });
    expect(unverified.status).toBe(403);
    expect(unverified.body.error.message).toMatch(/^Domain 'unverified-[^']+' is not verified for your SSO connection\./);
  });

  it('refuses a connection whose IdP settings are incomplete with a clear 503', async () => {
    await ds.query('UPDATE sso_connections SET idp_settings = ? WHERE id = ?', [JSON.stringify({ idpCert: idp.cert }), conn]);
    const res = await t.http.get('/sso/login').query({ email: `x@${domain}` });
    expect(res.status).toBe(503);
    expect(res.body.error.message).toMatch(/is not fully configured \(missing entryPoint\)/);
  });

  it('lets the person choose when several connections serve the domain', async () => {
    const other = await createConnection(ds, {
      type: 'oidc',
      name: `zz-${tag}`,
      orgIds: [org.id],
      defaultOrgId: org.id,
      domains: [{ domain, verified: true }],
      idp: { issuer: 'http://127.0.0.1:9/', clientId: 'x' },
    });
    const res = await t.http.get('/sso/login').query({ email: `x@${domain}` });
    expect(res.status).toBe(409);
    // The OIDC one's issuer is unreachable: a clear 503, not a 500.
    const down = await t.http.get('/sso/login').query({ email: `x@${domain}`, connection: other });
    expect(down.status).toBe(503);
    expect(down.body.error.message).toMatch(/could not be reached \(OpenID discovery failed\)/);
    expect(res.body.connections.map((c: { id: string }) => c.id)).toEqual([conn, other]);
    await spLogin(`x@${domain}`, conn);
    expect((await t.http.get('/sso/login').query({ email: `x@${domain}`, connection: randomUUID() })).status).toBe(404);
  });
});

describe('the session', () => {
  async function signedIn(email = `frank@${domain}`) {
    const res = await post(signSaml(response({ nameId: email, inResponseTo: await spLogin(email) }), idp));
    expect(res.status).toBe(200);
    return cookieOf(res);
  }

  it('refuses a missing or tampered cookie', async () => {
    expect((await t.http.get('/sso/me')).status).toBe(401);
    const cookie = await signedIn();
    const tampered = cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await t.http.get('/sso/me').set('Cookie', tampered)).status).toBe(401);
    expect((await t.http.get('/sso/me').set('Cookie', cookie)).status).toBe(200);
  });

  it('ends on logout, and when the deactivation job sets ended_at', async () => {
    const a = await signedIn();
    const out = await t.http.post('/sso/logout').set('Cookie', a);
    expect(out.status).toBe(204);
    expect(String(sessionSetCookie(out))).toMatch(/^doorman_sso=; Path=\/; Max-Age=0/);
    expect((await t.http.get('/sso/me').set('Cookie', a)).status).toBe(401);

    const b = await signedIn();
    const sessionId = b.split('=')[1]!.split('.')[0]!;
    await ds.query('UPDATE sso_sessions SET ended_at = NOW(3) WHERE id = ?', [sessionId]);
    expect((await t.http.get('/sso/me').set('Cookie', b)).status).toBe(401);
  });

  it('is stored as a row per sign-in with the user and connection', async () => {
    await signedIn(`gina@${domain}`);
    const rows: Array<{ connection_id: string; email: string }> = await ds.query(
      'SELECT s.connection_id, u.email FROM sso_sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ?',
      [`gina@${domain}`],
    );
    expect(rows).toEqual([{ connection_id: conn, email: `gina@${domain}` }]);
    const user: Array<{ id: string }> = await ds.query('SELECT id FROM users WHERE email = ?', [`gina@${domain}`]);
    expect(await membershipsOf(ds, user[0]!.id)).toEqual({ orgs: [{ org: org.name, role: 'member', source: 'jit' }], teams: [{ org: org.name, team: 'everyone' }] });
  });
});
