/** Without Redis (embedded development mode) sign-in state lives in the process; production needs a session secret. */
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTestGateway } from '@doorman/core/testing';
import { roleMappingPlugin } from '@doorman/plugin-role-mapping';
import { jitProvisioningPlugin } from '../src/index.ts';
import { spUrls } from '../src/saml.ts';
import { authnRequestId, b64, CookieJar, createConnection, sessionSetCookie, createOrg, makeIdpKeys, samlResponseXml, signSaml } from './fixtures.ts';

describe('embedded mode', () => {
  it('signs in through SAML with the in-memory store and a per-process secret, warning loudly', async () => {
    const t = await startTestGateway({ plugins: [roleMappingPlugin, jitProvisioningPlugin], redis: false });
    try {
      expect(t.logs.join('\n')).toMatch(/JIT_PROVISIONING_SESSION_SECRET is not set/);
      const ds = t.gateway.db;
      const idp = makeIdpKeys();
      const domain = `${randomUUID().slice(0, 8)}.example.com`;
      const org = await createOrg(ds, `org-${domain}`);
      const conn = await createConnection(ds, {
        type: 'saml',
        orgIds: [org],
        defaultOrgId: org,
        domains: [{ domain, verified: true }],
        idp: { entryPoint: 'https://idp.example.test/sso', idpCert: idp.cert },
      });
      const email = `zed@${domain}`;
      const login = await t.http.get('/sso/login').query({ email });
      const browser = new CookieJar().absorb(login);
      const urls = spUrls(t.gateway.config.publicUrl, conn);
      const xml = signSaml(samlResponseXml({ acsUrl: urls.acsUrl, audience: urls.entityId, nameId: email, inResponseTo: authnRequestId(login.headers.location) }), idp);
      const res = await t.http.post(`/sso/saml/acs?connection=${conn}`).set('Cookie', browser.header()).type('form').send({ SAMLResponse: b64(xml) });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const again = await t.http.post(`/sso/saml/acs?connection=${conn}`).set('Cookie', browser.header()).type('form').send({ SAMLResponse: b64(xml) });
      expect(again.status).toBe(401);
      const me = await t.http.get('/sso/me').set('Cookie', String(sessionSetCookie(res)).split(';')[0]!);
      expect(me.body.user.email).toBe(email);
    } finally {
      await t.close();
    }
  });

  it('refuses to start in production without a session secret', () => {
    // register() checks the secret before touching anything else (no gateway needed, nothing leaked).
    const env = { config: { sessionMinutes: 480, cookieName: 'doorman_sso' }, gateway: { mode: 'production' } } as unknown as Parameters<typeof jitProvisioningPlugin.register>[0];
    expect(() => jitProvisioningPlugin.register(env)).toThrow(/JIT_PROVISIONING_SESSION_SECRET: required in production mode/);
  });
});
