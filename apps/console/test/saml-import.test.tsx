// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { SamlMetadataImport } from '../src/pages/connection/SamlMetadataImport.tsx';
import { respond } from './helpers.tsx';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});
const READ = { idpIssuer: 'http://www.okta.com/exk1', entryPoint: 'https://acme.okta.com/sso', idpCert: '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n', certificate: { subject: 'CN=idp.example.com', validTo: 'Dec  1 15:47:28 2036 GMT' }, otherSigningCertificates: 1 };

describe('SAML metadata import', () => {
  it('sends the URL to the admin API (the browser never fetches it) and hands the settings read to the form', async () => {
    const fetchMock = vi.fn(async (_request: Request) => respond(200, READ));
    vi.stubGlobal('fetch', fetchMock);
    const onRead = vi.fn();
    render(<SamlMetadataImport onRead={onRead} />);
    expect(screen.getByRole('button', { name: 'Fetch metadata' })).toHaveProperty('disabled', true);
    await userEvent.type(screen.getByLabelText('Metadata URL'), 'https://acme.okta.com/app/exk1/sso/saml/metadata');
    await userEvent.click(screen.getByRole('button', { name: 'Fetch metadata' }));
    expect(onRead).toHaveBeenCalledWith(READ);
    const request = fetchMock.mock.calls[0]![0];
    expect([request.method, new URL(request.url).pathname]).toEqual(['POST', '/admin/v1/saml-metadata']);
    expect(await request.json()).toEqual({ url: 'https://acme.okta.com/app/exk1/sso/saml/metadata' });
    expect((await screen.findByText(/CN=idp.example.com/)).textContent).toMatch(/1 more signing certificate/);
  });

  it('sends pasted XML, and shows the server’s refusal with the field it names', async () => {
    const fetchMock = vi.fn(async (_request: Request) => respond(400, { error: { code: 'DMN_INPUT_INVALID', message: 'xml: no IDPSSODescriptor: this metadata does not describe an identity provider', field: 'xml' } }));
    vi.stubGlobal('fetch', fetchMock);
    const onRead = vi.fn();
    render(<SamlMetadataImport onRead={onRead} />);
    await userEvent.click(screen.getByLabelText('Metadata XML'));
    await userEvent.paste('<md:EntityDescriptor/>');
    await userEvent.click(screen.getByRole('button', { name: 'Read metadata' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('does not describe an identity provider');
    expect(alert.textContent).toContain('field: xml');
    expect(onRead).not.toHaveBeenCalled();
    expect(await fetchMock.mock.calls[0]![0].json()).toEqual({ xml: '<md:EntityDescriptor/>' });
  });
});
