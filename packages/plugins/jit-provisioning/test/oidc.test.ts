/** OIDC end to end against a real OpenID Provider (oidc-provider) on the loopback interface. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import Provider from 'oidc-provider';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { adminPlugin } from '@doorman/plugin-admin';
import { roleMappingPlugin } from '@doorman/plugin-role-mapping';
import { jitProvisioningPlugin } from '../src/index.ts';
import { CookieJar, createSignInWorld, membershipsOf, rowCounts, sessionSetCookie, setCookies } from './fixtures.ts';

const PUBLIC = 'http://localhost:8080';
const CLIENT = { client_id: 'doorman', client_secret: `secret-${randomUUID()}` };
const accounts = new Map<string, Record<string, unknown>>();

let t: TestGateway;
let ds: DataSource;
let idpServer: Server;
let issuer: string;
let org: { id: string; name: string };
let domain: string;
let jwksRequests = 0;
/** The browser that starts the sign-ins: its transaction cookies go with the callback. */
const browser = new CookieJar();

beforeAll(async () => {
  idpServer = createServer();
  await new Promise<void>((resolve) => idpServer.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(idpServer.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ ...CLIENT, redirect_uris: [`${PUBLIC}/sso/oidc/callback`], grant_types: ['authorization_code'], response_types: ['code'] }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'dockerRole', 'dockerTeam', 'dockerOrg', 'dockerSessionMinutes'] },
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id, ...(accounts.get(id) ?? {}) }) }),
    features: { devInteractions: { enabled: true } },
    cookies: { keys: [randomUUID()] },
  });
  idpServer.on('request', (req) => {
    if (req.url?.startsWith('/jwks')) jwksRequests++;
  });
  idpServer.on('request', provider.callback());

  t = await startTestGateway({
    plugins: [roleMappingPlugin, jitProvisioningPlugin],
    builtins: [adminPlugin],
    gateway: { publicUrl: PUBLIC },
    pluginSettings: { 'jit-provisioning': { sessionSecret: 'oidc-test-secret-0123456789abcdef0123456789' } },
  });
  ds = t.gateway.db;
});
afterAll(async () => {
  await t?.close();
  idpServer?.closeAllConnections();
  await new Promise((r) => idpServer?.close(r));
});

beforeEach(async () => {
  browser.clear();
  ({ domain, org } = await createSignInWorld(ds, { type: 'oidc', idp: { issuer, ...{ clientId: CLIENT.client_id, clientSecret: CLIENT.client_secret } } }));
});

/** A browser: follows the IdP's redirects with a cookie jar and submits its login and consent forms. */
async function authenticateAtIdp(authorizeUrl: string, accountId: string): Promise<URL> {
  const jar = new Map<string, string>();
  const send = async (url: string, form?: Record<string, string>) => {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return res;
  };
  let url = authorizeUrl;
  for (let hop = 0; hop < 12; hop++) {
    if (url.startsWith(PUBLIC)) return new URL(url);
    const page = await send(url);
    if (page.status >= 300 && page.status < 400) {
      url = new URL(page.headers.get('location')!, url).href;
      continue;
    }
    const html = await page.text();
    expect(page.status, html).toBe(200);
    const action = new URL(/action="([^"]+)"/.exec(html)![1]!, url).href;
    const form: Record<string, string> = html.includes('name="login"') ? { prompt: 'login', login: accountId, password: 'any' } : { prompt: 'consent' };
    const submitted = await send(action, form);
    expect(submitted.status).toBeGreaterThanOrEqual(300);
    url = new URL(submitted.headers.get('location')!, action).href;
  }
  throw new Error('too many redirects at the IdP');
}

async function startLogin(email: string) {
  const res = await t.http.get('/sso/login').query({ email });
  expect(res.status, JSON.stringify(res.body)).toBe(302);
  browser.absorb(res);
  const location = new URL(res.headers.location);
  expect(location.origin).toBe(issuer);
  return location;
}
const callback = (url: URL, jar = browser) => t.http.get(`${url.pathname}${url.search}`).set('Cookie', jar.header());

describe('OIDC sign-in', () => {
  it('runs the code flow with PKCE, state and nonce, and provisions from the claims', async () => {
    const email = `olga@${domain}`;
    accounts.set(email, { email, email_verified: true, name: 'Olga Oidc', dockerRole: 'editor', dockerTeam: 'desktop' });
    const authorize = await startLogin(email);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      client_id: CLIENT.client_id,
      redirect_uri: `${PUBLIC}/sso/oidc/callback`,
      response_type: 'code',
      code_challenge_method: 'S256',
      scope: 'openid email profile',
      login_hint: email,
    });
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    // The state, nonce and verifier are in Redis, not in this process.
    expect(await t.gateway.redis!.exists(`doorman:jit:oidc:state:${authorize.searchParams.get('state')}`)).toBe(1);

    const back = await authenticateAtIdp(authorize.href, email);
    const res = await callback(back);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ user: { email, fullName: 'Olga Oidc' }, firstTime: true });
    // The ID token signature was checked against the IdP's key set (off by default in openid-client 6).
    expect(jwksRequests).toBeGreaterThan(0);
    const me = await t.http.get('/sso/me').set('Cookie', String(sessionSetCookie(res)).split(';')[0]!);
    expect(me.body.organizations).toEqual([{ id: org.id, name: org.name, role: 'editor', teams: [{ id: expect.any(String), name: 'desktop' }] }]);

    // Neither the client secret nor the tokens' contents reach the logs.
    expect(t.logs.join('\n')).not.toContain(CLIENT.client_secret);
    expect(t.logs.join('\n')).not.toContain(back.searchParams.get('code')!);

    // The same callback again: the state was consumed.
    const before = await rowCounts(ds);
    const replay = await callback(back);
    expect(replay.status).toBe(401);
    expect(replay.body.error.message).toMatch(/^We couldn't find your session/);
    expect(await rowCounts(ds)).toEqual(before);
  });

  it('refuses a callback whose state was never issued, nothing written', async () => {
    const email = `pam@${domain}`;
    accounts.set(email, { email, email_verified: true, name: 'Pam' });
    const back = await authenticateAtIdp((await startLogin(email)).href, email);
    back.searchParams.set('state', randomUUID());
    const before = await rowCounts(ds);
    const res = await callback(back);
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/^We couldn't find your session.*TraceID: /);
    expect(await rowCounts(ds)).toEqual(before);
  });

  it('refuses a code from another login (state of one login, code of another): PKCE and nonce bind them', async () => {
    const email = `quinn@${domain}`;
    accounts.set(email, { email, email_verified: true });
    const mine = await startLogin(email);
    const theirs = await authenticateAtIdp((await startLogin(email)).href, email);
    theirs.searchParams.set('state', mine.searchParams.get('state')!);
    const before = await rowCounts(ds);
    const res = await callback(theirs);
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/OpenID Connect sign-in failed/);
    expect(await rowCounts(ds)).toEqual(before);
  });

  it('refuses an ID token whose nonce does not match the stored one', async () => {
    const email = `rita@${domain}`;
    accounts.set(email, { email, email_verified: true });
    const authorize = await startLogin(email);
    const key = `doorman:jit:oidc:state:${authorize.searchParams.get('state')}`;
    const pending = JSON.parse((await t.gateway.redis!.get(key))!);
    await t.gateway.redis!.set(key, JSON.stringify({ ...pending, nonce: 'another-nonce' }), 'PX', 60_000);
    const back = await authenticateAtIdp(authorize.href, email);
    const before = await rowCounts(ds);
    const res = await callback(back);
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/"nonce" claim/);
    expect(await rowCounts(ds)).toEqual(before);
  });

  it('refuses an email the IdP marks unverified, and an email on an unverified domain', async () => {
    const a = `sam@${domain}`;
    accounts.set(a, { email: a, email_verified: false });
    const ra = await callback(await authenticateAtIdp((await startLogin(a)).href, a));
    expect(ra.status).toBe(403);
    expect(ra.body.error.message).toMatch(/^The identity provider says the email address is not verified/);

    // The person typed a verified-domain email, the IdP answered with another domain's address.
    const b = `tom@${domain}`;
    accounts.set(b, { email: `tom@unverified-${domain}`, email_verified: true });
    const before = await rowCounts(ds);
    const rb = await callback(await authenticateAtIdp((await startLogin(b)).href, b));
    expect(rb.status).toBe(403);
    expect(rb.body.error.message).toMatch(/^Domain 'unverified-[^']+' is not verified for your SSO connection\. Contact your company administrator\. TraceID: /);
    expect(await rowCounts(ds)).toEqual(before);
  });

  it('keeps the role from the first sign-in on later ones', async () => {
    const email = `uma@${domain}`;
    accounts.set(email, { email, email_verified: true, dockerRole: 'owner' });
    expect((await callback(await authenticateAtIdp((await startLogin(email)).href, email))).status).toBe(200);
    accounts.set(email, { email, email_verified: true, dockerRole: 'member', dockerTeam: 'later' });
    const res = await callback(await authenticateAtIdp((await startLogin(email)).href, email));
    expect(res.status).toBe(200);
    expect(await membershipsOf(ds, res.body.user.id)).toEqual({
      orgs: [{ org: org.name, role: 'owner', source: 'jit' }],
      teams: [
        { org: org.name, team: 'everyone' },
        { org: org.name, team: 'later' },
      ],
    });
  });
});

describe('OIDC sign-in is bound to the browser that started it (login CSRF)', () => {
  it('sets an HttpOnly, SameSite=Lax transaction cookie for the callback path at /sso/login', async () => {
    const email = `vic@${domain}`;
    const res = await t.http.get('/sso/login').query({ email });
    const tx = setCookies(res).find((c) => c.startsWith('doorman_sso_tx_'));
    expect(tx).toMatch(/^doorman_sso_tx_[A-Za-z0-9_-]{16}=\d+\.[A-Za-z0-9_-]{43}; Path=\/sso\/oidc\/callback; Max-Age=600; HttpOnly; SameSite=Lax$/);
  });

  it("refuses the callback in another browser (403, nothing written), and the starting browser still finishes", async () => {
    const email = `wes@${domain}`;
    accounts.set(email, { email, email_verified: true, name: 'Wes' });
    const mine = new CookieJar();
    const login = await t.http.get('/sso/login').query({ email });
    mine.absorb(login);
    const back = await authenticateAtIdp(login.headers.location, email);
    const before = await rowCounts(ds);

    // The callback URL sent to a victim whose browser has no cookie, or a cookie of its own sign-in.
    const victim = new CookieJar();
    victim.absorb(await t.http.get('/sso/login').query({ email: `victim@${domain}` }));
    for (const jar of [new CookieJar(), victim]) {
      const res = await callback(back, jar);
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(res.body.error.message).toMatch(/^This sign-in was not started in this browser .* TraceID: /);
      expect(sessionSetCookie(res)).toBeUndefined();
    }
    // A forged cookie: the right name, another sign-in's value, or a tampered MAC.
    const [name, value] = [...mine.cookies][0]!;
    const forged = new CookieJar();
    forged.cookies.set(name, [...victim.cookies.values()][0]!);
    expect((await callback(back, forged)).status).toBe(403);
    forged.cookies.set(name, value.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
    expect((await callback(back, forged)).status).toBe(403);
    expect(await rowCounts(ds)).toEqual(before);

    const ok = await callback(back, mine);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.user.email).toBe(email);
    // The transaction cookie is cleared with the answer.
    expect(setCookies(ok).some((c) => c.startsWith(`${name}=;`) && c.includes('Max-Age=0'))).toBe(true);
  });
});
