/** IdP metadata → SAML connection settings (src/saml-metadata.ts, src/metadata-route.ts; docs/saml-metadata.md). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TEST_IDP_CERT, type TestGateway } from '@doorman/core/testing';
import { parseIdpMetadata } from '../src/saml-metadata.ts';
import { adminPlugin } from '../src/index.ts';
import { adminConfigSchema } from '../src/config.ts';

const b64 = new X509Certificate(TEST_IDP_CERT).raw.toString('base64');
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const key = (use: string | null, cert = b64) =>
  `<md:KeyDescriptor${use ? ` use="${use}"` : ''}><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>\n${cert.match(/.{1,64}/g)!.join('\n')}\n</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
const sso = (binding: string, location: string) => `<md:SingleSignOnService Binding="${binding}" Location="${location}"/>`;
const metadata = (inner: string, entityId = 'http://www.okta.com/exk1') =>
  `<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${entityId}"><md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${inner}</md:IDPSSODescriptor></md:EntityDescriptor>`;
// Okta's shape: signing key, POST and Redirect bindings.
const OKTA = metadata(`${key('signing')}<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>${sso(POST, 'https://acme.okta.com/app/x/sso/saml')}${sso(REDIRECT, 'https://acme.okta.com/app/x/sso/saml?redirect')}`);
// Entra ID's shape: default namespace, a RoleDescriptor before the IdP, a key without `use`, two certificates (rollover).
const ENTRA = `<?xml version="1.0" encoding="utf-8"?><EntityDescriptor ID="_1" entityID="https://sts.windows.net/tenant/" xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><RoleDescriptor xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706"/><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${key(null).replace(/md:/g, '')}${key('signing').replace(/md:/g, '')}<SingleSignOnService Binding="${REDIRECT}" Location="https://login.microsoftonline.com/tenant/saml2"/></IDPSSODescriptor></EntityDescriptor>`;

describe('parseIdpMetadata (pure)', () => {
  it.each([
    ['Okta (md: prefix, Redirect preferred over POST)', OKTA, 'http://www.okta.com/exk1', 'https://acme.okta.com/app/x/sso/saml?redirect', 0],
    ['Entra ID (default namespace, RoleDescriptor, two signing certificates)', ENTRA, 'https://sts.windows.net/tenant/', 'https://login.microsoftonline.com/tenant/saml2', 0],
    ['POST binding only', metadata(`${key('signing')}${sso(POST, 'https://idp.example.com/post')}`), 'http://www.okta.com/exk1', 'https://idp.example.com/post', 0],
    ['a federation (EntitiesDescriptor)', `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${OKTA.replace(/^<\?xml[^>]*>/, '')}</md:EntitiesDescriptor>`, 'http://www.okta.com/exk1', 'https://acme.okta.com/app/x/sso/saml?redirect', 0],
  ])('reads %s', (_name, xml, issuer, entryPoint, others) => {
    const result = parseIdpMetadata(xml);
    expect(result).toMatchObject({ ok: true, metadata: { idpIssuer: issuer, entryPoint, otherSigningCertificates: others, certificate: { subject: expect.stringContaining('idp.example.com') } } });
    if (result.ok) expect(new X509Certificate(result.metadata.idpCert).raw.toString('base64')).toBe(b64);
  });

  it.each([
    ['empty', ' ', /^empty/],
    ['not XML', 'hello <world', /not well-formed/],
    ['a DOCTYPE (entity expansion)', `<!DOCTYPE x [<!ENTITY a "aaaa">]>${OKTA.replace(/^<\?xml[^>]*>/, '')}`, /DOCTYPE/],
    ['not SAML metadata', '<html><body>login</body></html>', /no md:EntityDescriptor/],
    ['an SP, not an IdP', '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="sp"><md:SPSSODescriptor/></md:EntityDescriptor>', /no IDPSSODescriptor/],
    ['no entityID', OKTA.replace(' entityID="http://www.okta.com/exk1"', ''), /no entityID/],
    ['no usable binding', metadata(`${key('signing')}${sso('urn:oasis:names:tc:SAML:2.0:bindings:SOAP', 'https://idp/soap')}`), /no SingleSignOnService/],
    ['a javascript: location', metadata(`${key('signing')}${sso(REDIRECT, 'javascript:alert(1)')}`), /not an http\(s\) URL/],
    ['only an encryption key', metadata(`${key('encryption')}${sso(REDIRECT, 'https://idp/sso')}`), /no signing certificate/],
    ['a certificate that does not parse', metadata(`${key('signing', 'MIIC'.padEnd(64, 'A'))}${sso(REDIRECT, 'https://idp/sso')}`), /signing certificate: not an X.509/],
  ])('refuses %s', (_name, xml, message) => {
    const result = parseIdpMetadata(xml);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });
});

/** A local IdP publishing metadata: the routes' answers per path. */
function idpServer() {
  const server = http.createServer((req, res) => {
    if (req.url === '/metadata') return res.writeHead(200, { 'Content-Type': 'application/samlmetadata+xml' }).end(OKTA);
    if (req.url === '/moved') return res.writeHead(302, { Location: '/metadata' }).end();
    if (req.url === '/huge') return res.writeHead(200).end(OKTA + ' '.repeat(4096));
    if (req.url === '/hang') return; // never answers
    res.writeHead(404).end('no');
  });
  return new Promise<{ url: string; close(): Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
      }),
    ),
  );
}

describe('POST /admin/v1/saml-metadata', () => {
  let strict: TestGateway;
  let lenient: TestGateway;
  let idp: Awaited<ReturnType<typeof idpServer>>;
  beforeAll(async () => {
    idp = await idpServer();
    strict = await startTestGateway({ plugins: [], builtins: [adminPlugin] });
    lenient = await startTestGateway({ plugins: [], builtins: [adminPlugin], pluginSettings: { admin: { metadataAllowPrivateUrls: 'true', metadataTimeoutMs: '300', metadataMaxBytes: '4096' } } });
  });
  afterAll(async () => {
    await strict?.close();
    await lenient?.close();
    await idp?.close();
  });

  it('reads pasted XML into the settings a SAML connection takes, and the connection accepts them', async () => {
    const res = await strict.admin('post', '/admin/v1/saml-metadata').send({ xml: OKTA });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ idpIssuer: 'http://www.okta.com/exk1', entryPoint: 'https://acme.okta.com/app/x/sso/saml?redirect', idpCert: expect.stringMatching(/^-----BEGIN CERTIFICATE-----/) });
    const org = await strict.admin('post', '/admin/v1/orgs').send({ name: 'meta-org' });
    const { idpIssuer, entryPoint, idpCert } = res.body;
    const created = await strict.admin('post', '/admin/v1/connections').send({ name: 'okta', type: 'saml', orgIds: [org.body.id], idp: { idpIssuer, entryPoint, idpCert } });
    expect(created.status).toBe(201);
    expect(created.body.ssoSettingsComplete).toBe(true);
  });

  it.each([
    [{}, 'xml', /exactly one of xml and url/],
    [{ xml: OKTA, url: 'https://idp.example.com/m' }, 'xml', /exactly one/],
    [{ xml: '<html/>' }, 'xml', /no md:EntityDescriptor/],
    [{ url: 'ftp://idp.example.com/m' }, 'url', /./],
  ])('refuses %j naming the field', async (body, field, message) => {
    const res = await strict.admin('post', '/admin/v1/saml-metadata').send(body);
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe(field);
    expect(res.body.error.message).toMatch(message);
  });

  it('refuses a loopback URL unless ADMIN_METADATA_ALLOW_PRIVATE_URLS, without fetching it', async () => {
    const res = await strict.admin('post', '/admin/v1/saml-metadata').send({ url: `${idp.url}/metadata` });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ field: 'url', message: expect.stringMatching(/127\.0\.0\.1 is not a public address.*ADMIN_METADATA_ALLOW_PRIVATE_URLS/) });
    const named = await strict.admin('post', '/admin/v1/saml-metadata').send({ url: `${idp.url.replace('127.0.0.1', 'localhost')}/metadata` });
    expect(named.body.error).toMatchObject({ field: 'url', message: expect.stringMatching(/localhost resolves to a non-public address/) });
  });

  it('fetches a URL when allowed; refuses a redirect, a document over the size limit, a 404 and a server that never answers', async () => {
    const ok = await lenient.admin('post', '/admin/v1/saml-metadata').send({ url: `${idp.url}/metadata` });
    expect(ok.status).toBe(200);
    expect(ok.body.idpIssuer).toBe('http://www.okta.com/exk1');
    for (const [path, message] of [
      ['/moved', /answered 302 \(a redirect, which is not followed\)/],
      ['/huge', /larger than 4096 bytes/],
      ['/missing', /answered 404/],
      ['/hang', /no complete answer within 300 ms/],
    ] as const) {
      const res = await lenient.admin('post', '/admin/v1/saml-metadata').send({ url: `${idp.url}${path}` });
      expect(res.status, path).toBe(400);
      expect(res.body.error, path).toMatchObject({ field: 'url', message: expect.stringMatching(message) });
    }
    const pasted = await lenient.admin('post', '/admin/v1/saml-metadata').send({ xml: OKTA + ' '.repeat(4096) });
    expect(pasted.body.error).toMatchObject({ field: 'xml', message: expect.stringMatching(/larger than 4096 bytes/) });
  });
});

describe('admin settings', () => {
  it('accept ADMIN_BOOTSTRAP_TOKEN (the gateway’s, under the same prefix) without keeping it, and refuse a misspelt setting', () => {
    const parsed = adminConfigSchema.parse({ bootstrapToken: 'x'.repeat(40), metadataTimeoutMs: '500' });
    expect(parsed).toEqual({ metadataAllowPrivateUrls: false, metadataTimeoutMs: 500, metadataMaxBytes: 1_048_576, bootstrapToken: undefined });
    expect(JSON.stringify(parsed)).not.toContain('xxxx');
    expect(adminConfigSchema.safeParse({ metadataTimeotMs: '5' }).success).toBe(false);
  });
});
