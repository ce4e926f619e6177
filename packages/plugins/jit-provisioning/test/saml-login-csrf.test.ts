/**
 * SAML sign-in bound to the browser that sent the AuthnRequest (docs/sso-login-csrf.md): a response
 * posted from another browser is refused with 403 and provisions nothing; IdP-initiated responses are
 * refused unless the connection allows them, and an SP-initiated response cannot pass as one.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { coreServices, definePlugin, type DomainEvent } from '@doorman/core';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { roleMappingPlugin } from '@doorman/plugin-role-mapping';
import { jitProvisioningPlugin } from '../src/index.ts';
import { spUrls } from '../src/saml.ts';
import { authnRequestId, b64, CookieJar, createSignInWorld, makeIdpKeys, rowCounts, samlResponseXml, sessionSetCookie, setCookies, signSaml } from './fixtures.ts';

const PUBLIC = 'https://sso.doorman.test';
const events: DomainEvent[] = [];
const recorder = definePlugin({ id: 'test-events', description: 'records domain events', deps: { events: coreServices.events }, register: (env) => env.events.subscribe(async (_tx, _a, e) => void events.push(e)) });
const idp = makeIdpKeys();
let t: TestGateway;
let ds: DataSource;
let conn: string;
let domain: string;

beforeAll(async () => {
  t = await startTestGateway({
    plugins: [roleMappingPlugin, jitProvisioningPlugin, recorder],
    gateway: { publicUrl: PUBLIC },
    pluginSettings: { 'jit-provisioning': { sessionSecret: 'csrf-test-secret-0123456789abcdef0123456789' } },
  });
  ds = t.gateway.db;
});
afterAll(async () => t?.close());
beforeEach(async () => {
  ({ domain, connectionId: conn } = await createSignInWorld(ds, { type: 'saml', idp: { entryPoint: 'https://idp.example.test/sso', idpCert: idp.cert } }));
  events.splice(0);
});

async function login(email: string, jar: CookieJar) {
  const res = await t.http.get('/sso/login').query({ email });
  expect(res.status).toBe(302);
  jar.absorb(res);
  return { res, requestId: authnRequestId(res.headers.location) };
}
const signed = (email: string, inResponseTo: string | null) => {
  const urls = spUrls(PUBLIC, conn);
  return signSaml(samlResponseXml({ acsUrl: urls.acsUrl, audience: urls.entityId, nameId: email, inResponseTo }), idp);
};
const post = (xml: string, jar: CookieJar) => t.http.post(`/sso/saml/acs?connection=${conn}`).set('Cookie', jar.header()).type('form').send({ SAMLResponse: b64(xml) });

describe('SAML login CSRF', () => {
  it('sets a SameSite=None; Secure transaction cookie for the ACS path when PUBLIC_URL is https', async () => {
    const { res } = await login(`ann@${domain}`, new CookieJar());
    const tx = setCookies(res).find((c) => c.startsWith('doorman_sso_tx_'));
    expect(tx).toMatch(/; Path=\/sso\/saml\/acs; Max-Age=600; HttpOnly; SameSite=None; Secure$/);
  });

  it("refuses the attacker's response posted from the victim's browser: 403, nothing provisioned, denial recorded", async () => {
    const attacker = new CookieJar();
    const { requestId } = await login(`mallory@${domain}`, attacker);
    const xml = signed(`mallory@${domain}`, requestId);
    const before = await rowCounts(ds);
    const victim = new CookieJar();
    await login(`victim@${domain}`, victim); // the victim may even have a sign-in of their own pending
    for (const jar of [new CookieJar(), victim]) {
      const res = await post(xml, jar);
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(res.body.error.message).toMatch(/^This sign-in was not started in this browser .* TraceID: /);
      expect(sessionSetCookie(res)).toBeUndefined();
    }
    expect(await rowCounts(ds)).toEqual(before);
    expect(events.map((e) => [e.action, e.changes?.reason?.after])).toEqual([
      ['sso.sign_in_denied', 'browser_mismatch'],
      ['sso.sign_in_denied', 'browser_mismatch'],
    ]);
    // The refusals consumed nothing: the browser that started it still signs in, once.
    const ok = await post(xml, attacker);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await post(xml, attacker)).status).toBe(401);
  });

  it('refuses unsolicited responses by default, and an SP-initiated response stripped of InResponseTo where they are allowed', async () => {
    const email = `ida@${domain}`;
    const unsolicited = await post(signed(email, null), new CookieJar());
    expect(unsolicited.status).toBe(403);
    expect(unsolicited.body.error.message).toMatch(/^IdP-Initiated sign in is not enabled for connection/);

    await ds.query('UPDATE sso_connections SET idp_settings = ? WHERE id = ?', [JSON.stringify({ entryPoint: 'https://idp.example.test/sso', idpCert: idp.cert, allowIdpInitiated: true }), conn]);
    const { requestId } = await login(email, new CookieJar());
    // The assertion (signed) answers the AuthnRequest; the unsigned Response element's InResponseTo is removed.
    const stripped = signed(email, requestId).replace(/(<samlp:Response[^>]*?) InResponseTo="[^"]+"/, '$1');
    const before = await rowCounts(ds);
    const res = await post(stripped, new CookieJar());
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/the assertion answers an AuthnRequest, but the response has no InResponseTo/);
    expect(await rowCounts(ds)).toEqual(before);
    // A genuine IdP-initiated response is accepted there (no browser binding exists for it: documented).
    expect((await post(signed(email, null), new CookieJar())).status).toBe(200);
  });
});
