/**
 * Reads what a SAML connection needs from an IdP's metadata (what Okta and Entra ID offer as a file
 * or URL), so an admin imports it instead of copying a certificate by hand: the IdP's entity id, its
 * single sign-on URL (HTTP-Redirect, else HTTP-POST; Doorman sends AuthnRequests by redirect) and its
 * signing certificate (docs/saml-metadata.md). Pure: no I/O. Parsed with @xmldom/xmldom, the parser
 * node-saml itself uses; it resolves no external entities and loads no DTD.
 */
import { DOMParser } from '@xmldom/xmldom';
import { parseIdpCert } from './certificates.ts';

export const MD_NS = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

export interface IdpMetadata {
  idpIssuer: string;
  entryPoint: string;
  /** PEM, as connections store it. */
  idpCert: string;
  certificate: { subject: string; validTo: string };
  /** Further signing certificates the metadata lists (a rollover): only the first is used. */
  otherSigningCertificates: number;
}

export type MetadataResult = { ok: true; metadata: IdpMetadata } | { ok: false; message: string };

type El = Element;
const children = (parent: Node, ns: string, name: string): El[] => {
  const out: El[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === 1 && (n as El).namespaceURI === ns && (n as El).localName === name) out.push(n as El);
  return out;
};
const descendants = (parent: El, ns: string, name: string): El[] => Array.from(parent.getElementsByTagNameNS(ns, name) as unknown as ArrayLike<El>);

export function parseIdpMetadata(xml: string): MetadataResult {
  if (!xml.trim()) return { ok: false, message: 'empty: paste the IdP metadata XML' };
  // A DOCTYPE is how entity-expansion attacks start, and SAML metadata never needs one.
  if (/<!DOCTYPE/i.test(xml)) return { ok: false, message: 'metadata with a DOCTYPE is refused' };
  const problems: string[] = [];
  const doc = new DOMParser({ errorHandler: { warning: () => undefined, error: (m: string) => problems.push(m), fatalError: (m: string) => problems.push(m) } }).parseFromString(xml, 'application/xml');
  const root = doc?.documentElement as El | null;
  if (problems.length || !root) return { ok: false, message: 'this is not well-formed XML' };
  // An EntitiesDescriptor (a federation) may list several entities: the first IdP is used.
  const entities = root.namespaceURI === MD_NS && root.localName === 'EntityDescriptor' ? [root] : descendants(root, MD_NS, 'EntityDescriptor');
  if (!entities.length) return { ok: false, message: 'no md:EntityDescriptor: this is not SAML 2.0 metadata' };
  const entity = entities.find((e) => children(e, MD_NS, 'IDPSSODescriptor').length);
  if (!entity) return { ok: false, message: 'no IDPSSODescriptor: this metadata does not describe an identity provider' };
  const idp = children(entity, MD_NS, 'IDPSSODescriptor')[0]!;
  const issuer = entity.getAttribute('entityID')?.trim();
  if (!issuer) return { ok: false, message: 'the EntityDescriptor has no entityID' };
  const services = children(idp, MD_NS, 'SingleSignOnService');
  const sso = services.find((s) => s.getAttribute('Binding') === REDIRECT) ?? services.find((s) => s.getAttribute('Binding') === POST);
  const location = sso?.getAttribute('Location')?.trim();
  if (!location) return { ok: false, message: 'no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding' };
  if (!/^https?:\/\//i.test(location)) return { ok: false, message: `the SingleSignOnService Location is not an http(s) URL: ${location.slice(0, 200)}` };
  const keys = children(idp, MD_NS, 'KeyDescriptor').filter((k) => (k.getAttribute('use') ?? 'signing') === 'signing');
  const certs = keys.flatMap((k) => descendants(k, DSIG_NS, 'X509Certificate')).map((c) => (c.textContent ?? '').replace(/\s+/g, '')).filter(Boolean);
  if (!certs.length) return { ok: false, message: 'no signing certificate (KeyDescriptor use="signing" with an X509Certificate)' };
  const cert = parseIdpCert(certs[0]!);
  if (!cert.ok) return { ok: false, message: `the signing certificate: ${cert.message}` };
  return {
    ok: true,
    metadata: { idpIssuer: issuer, entryPoint: location, idpCert: cert.pem, certificate: { subject: cert.subject, validTo: cert.validTo }, otherSigningCertificates: new Set(certs).size - 1 },
  };
}
