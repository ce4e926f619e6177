/**
 * Reads what a SAML connection needs from an IdP's metadata XML (what Okta and Entra ID offer as a
 * download or URL), so an admin imports a file instead of copying a certificate by hand: the IdP's
 * entity id, its HTTP-Redirect (or HTTP-POST) single sign-on URL and its signing certificate.
 */
export interface SamlIdpSettings {
  idpIssuer: string;
  entryPoint: string;
  idpCert: string;
}

// Elements are matched by local name: IdPs use different prefixes (md:, none) for the same namespaces.
const byName = (root: Document | Element, name: string): Element[] => [...root.getElementsByTagName('*')].filter((e) => e.localName === name);
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

export class MetadataError extends Error {}

export function parseIdpMetadata(xml: string): SamlIdpSettings {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length) throw new MetadataError('This is not well-formed XML.');
  const entity = byName(doc, 'EntityDescriptor')[0];
  if (!entity) throw new MetadataError('No EntityDescriptor: this is not SAML 2.0 metadata.');
  const idp = byName(entity, 'IDPSSODescriptor')[0];
  if (!idp) throw new MetadataError('No IDPSSODescriptor: this metadata does not describe an identity provider.');
  const services = byName(idp, 'SingleSignOnService');
  const sso = services.find((s) => s.getAttribute('Binding') === REDIRECT) ?? services.find((s) => s.getAttribute('Binding') === POST);
  if (!sso?.getAttribute('Location')) throw new MetadataError('No SingleSignOnService with the HTTP-Redirect or HTTP-POST binding.');
  const keys = byName(idp, 'KeyDescriptor');
  const signing = keys.find((k) => k.getAttribute('use') === 'signing') ?? keys.find((k) => !k.getAttribute('use'));
  const cert = (signing ? byName(signing, 'X509Certificate')[0] : undefined)?.textContent?.replace(/\s+/g, '');
  if (!cert) throw new MetadataError('No signing certificate (KeyDescriptor use="signing" with an X509Certificate).');
  const issuer = entity.getAttribute('entityID');
  if (!issuer) throw new MetadataError('The EntityDescriptor has no entityID.');
  return { idpIssuer: issuer, entryPoint: sso.getAttribute('Location')!, idpCert: cert };
}
