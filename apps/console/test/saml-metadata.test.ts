// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { MetadataError, parseIdpMetadata } from '../src/api/saml-metadata.ts';

const CERT = 'MIIDpDCCAoygAwIBAgIGAX'.padEnd(120, 'A');
const metadata = (sso: string, key = `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>\n  ${CERT.slice(0, 60)}\n  ${CERT.slice(60)}\n</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`) =>
  `<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="http://www.okta.com/exk123"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${key}${sso}</md:IDPSSODescriptor></md:EntityDescriptor>`;
const redirect = '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://acme.okta.com/app/x/sso/saml"/>';
const post = '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://acme.okta.com/app/x/sso/post"/>';

describe('parseIdpMetadata', () => {
  it('reads the entity id, the Redirect SSO URL and the signing certificate (whitespace removed)', () => {
    expect(parseIdpMetadata(metadata(post + redirect))).toEqual({ idpIssuer: 'http://www.okta.com/exk123', entryPoint: 'https://acme.okta.com/app/x/sso/saml', idpCert: CERT });
  });
  it('falls back to the POST binding, and to a KeyDescriptor without use', () => {
    const key = `<md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${CERT}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
    expect(parseIdpMetadata(metadata(post, key))).toMatchObject({ entryPoint: 'https://acme.okta.com/app/x/sso/post', idpCert: CERT });
  });
  it.each([
    ['not XML', '<oops', /well-formed/],
    ['not metadata', '<root/>', /EntityDescriptor/],
    ['no SSO service', metadata(''), /SingleSignOnService/],
    ['no certificate', metadata(redirect, ''), /signing certificate/],
  ])('explains %s', (_name, xml, message) => {
    expect(() => parseIdpMetadata(xml)).toThrow(MetadataError);
    expect(() => parseIdpMetadata(xml)).toThrow(message);
  });
});
