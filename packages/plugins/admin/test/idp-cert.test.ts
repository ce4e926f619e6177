/** idpCert is an X.509 certificate, checked when a connection is saved (src/certificates.ts); deprovisioningScope. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { startTestGateway, TEST_IDP_CERT, type TestGateway } from '@doorman/core/testing';
import { SsoConnectionEntity } from '@doorman/model';
import { parseIdpCert } from '../src/certificates.ts';
import { adminPlugin } from '../src/index.ts';

const der = new X509Certificate(TEST_IDP_CERT).raw;
const base64 = der.toString('base64');
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('parseIdpCert', () => {
  it.each([
    ['PEM', TEST_IDP_CERT],
    ['PEM with CRLF and surrounding blank lines', `\r\n${TEST_IDP_CERT.replace(/\n/g, '\r\n')}\r\n`],
    ['base64 DER on one line', base64],
    ['base64 DER wrapped at 64 columns', base64.match(/.{1,64}/g)!.join('\n')],
  ])('accepts %s and stores PEM', (_name, raw) => {
    const parsed = parseIdpCert(raw);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(new X509Certificate(parsed.pem).raw.equals(der)).toBe(true);
  });

  it.each([
    ['any 64 characters', 'MIIC'.padEnd(64, 'A'), /does not parse/],
    ['truncated DER', base64.slice(0, 400), /does not parse/],
    ['a private key', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, /private key/],
    ['a public key PEM', '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----', /one PEM block/],
    ['two certificates', TEST_IDP_CERT + TEST_IDP_CERT, /one PEM block|does not parse/],
    ['not base64', 'this is not a certificate at all, not even close!', /not PEM or base64/],
    ['empty', '  ', /^empty/],
  ])('refuses %s', (_name, raw, message) => {
    const parsed = parseIdpCert(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});

describe('connections API', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ plugins: [], builtins: [adminPlugin] });
    await t.admin('post', '/admin/v1/orgs').send({ name: 'acme' });
  });
  afterAll(async () => t?.close());
  const connections = () => t.gateway.db.getRepository(SsoConnectionEntity).count();

  it('answers 400 naming idp.idpCert for a certificate that does not parse, on create and update, and changes nothing', async () => {
    const before = await connections();
    const bad = await t.admin('post', '/admin/v1/connections').send({ name: 'c', type: 'saml', orgIds: ['acme'], idp: { idpCert: 'MIIC'.padEnd(64, 'A') } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ field: 'idp.idpCert', message: expect.stringMatching(/^idp\.idpCert: not an X\.509 certificate/) });
    expect(await connections()).toBe(before);

    const ok = await t.admin('post', '/admin/v1/connections').send({ name: 'c', type: 'saml', orgIds: ['acme'], idp: { idpCert: base64 } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.idpSettings.idpCert).toBe(new X509Certificate(TEST_IDP_CERT).toString());
    const patched = await t.admin('patch', `/admin/v1/connections/${ok.body.id}`).send({ idp: { idpCert: 'garbage!' } });
    expect(patched.status).toBe(400);
    expect(patched.body.error.field).toBe('idp.idpCert');
    expect((await t.admin('get', `/admin/v1/connections/${ok.body.id}`)).body.idpSettings.idpCert).toContain('BEGIN CERTIFICATE');
  });

  it('takes deprovisioningScope (default organization), naming the field when it is wrong', async () => {
    const created = await t.admin('post', '/admin/v1/connections').send({ name: 'd', type: 'oidc', orgIds: ['acme'] });
    expect(created.body.deprovisioningScope).toBe('organization');
    const patched = await t.admin('patch', `/admin/v1/connections/${created.body.id}`).send({ deprovisioningScope: 'connection' });
    expect(patched.status).toBe(200);
    expect(patched.body.deprovisioningScope).toBe('connection');
    const bad = await t.admin('patch', `/admin/v1/connections/${created.body.id}`).send({ deprovisioningScope: 'everything' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('deprovisioningScope');
  });
});
