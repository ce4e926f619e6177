/**
 * An organization owner signs in to the console through Doorman's SSO, in real Chromium against the
 * real gateway (docs/console.md, "Organization owners"). The IdP is a small server in this process
 * that answers every AuthnRequest with a signed SAML response (jit-provisioning's test fixtures) in an
 * auto-submitting form, as an IdP's page would.
 */
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { authnRequestId, b64, makeIdpKeys, samlResponseXml, signSaml, spUrls } from '@doorman/plugin-jit-provisioning/testing';
import { startStack, stepsOn, type Stack } from './harness.ts';

let stack: Stack;
let idpServer: Server;
let connectionId = '';
const keys = makeIdpKeys();
const domain = `${randomUUID().slice(0, 8)}.example.com`;
const email = `olive@${domain}`;

const step = stepsOn(() => stack);

/** The IdP: signs the person in at once and posts the response back to Doorman's ACS. */
async function startIdp(): Promise<string> {
  idpServer = createServer((req, res) => {
    const location = `http://idp.test${req.url}`;
    const urls = spUrls(stack.base, connectionId);
    const xml = signSaml(samlResponseXml({ acsUrl: urls.acsUrl, audience: urls.entityId, nameId: email, inResponseTo: authnRequestId(location) }), keys);
    res.setHeader('Content-Type', 'text/html');
    res.end(`<!doctype html><form method="post" action="${urls.acsUrl}"><input type="hidden" name="SAMLResponse" value="${b64(xml)}"></form><script>document.forms[0].submit()</script>`);
  });
  await new Promise<void>((resolve) => idpServer.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(idpServer.address() as { port: number }).port}/sso`;
}

beforeAll(async () => {
  stack = await startStack();
  const entryPoint = await startIdp();
  for (const name of ['olive-co', 'someone-else']) expect((await stack.admin('POST', '/orgs', { name })).status).toBe(201);
  const created = await stack.admin('POST', '/connections', { name: 'Olive SSO', type: 'saml', orgIds: ['olive-co'], defaultOrgId: 'olive-co', idp: { entryPoint, idpCert: keys.cert } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  connectionId = created.body.id;
  expect((await stack.admin('POST', `/connections/${connectionId}/domains`, { domain })).status).toBe(201);
  // Domain verification needs a DNS TXT record this machine cannot publish.
  await stack.sql('UPDATE connection_domains SET verified = 1 WHERE connection_id = ?', [connectionId]);
});
afterAll(async () => {
  idpServer?.close();
  await stack?.close();
});

describe('an organization owner in the console', () => {
  step('a member who owns nothing is told so after the IdP round trip', async () => {
    const { page } = stack;
    await page.goto('/console/');
    await page.getByLabel('Work email').fill(email);
    await page.getByRole('button', { name: 'Continue with SSO' }).click();
    await page.getByRole('alert').filter({ hasText: 'you do not own an organization' }).waitFor();
    expect(new URL(page.url()).search).toBe('');
  });

  step('the owner signs in through SSO and sees only their organization and what they can use', async () => {
    const { page } = stack;
    await stack.sql("UPDATE org_memberships m JOIN users u ON u.id = m.user_id SET m.role = 'owner' WHERE u.email_lc = ?", [email]);
    await page.goto('/console/');
    await page.getByLabel('Work email').fill(email);
    await page.getByRole('button', { name: 'Continue with SSO' }).click();
    await page.getByRole('heading', { name: 'Organizations', level: 1 }).waitFor();
    await page.getByText('olive-co').first().waitFor();
    expect(await page.getByText('someone-else').count()).toBe(0);
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Organizations', 'SSO connections', 'People']);
    await page.getByText(email).waitFor();
    const console = (await stack.context.cookies()).find((c) => c.name === 'doorman_console');
    expect(console).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await stack.screenshot('owner-organizations');
    // The server, not the page, is the boundary: another organization and the dashboard are refused.
    const other = await page.evaluate(async () => (await fetch('/admin/v1/orgs/someone-else')).status);
    expect(other).toBe(404);
    const dashboard = await page.evaluate(async () => (await fetch('/admin/queues')).status);
    expect(dashboard).toBe(403);
  });
});
