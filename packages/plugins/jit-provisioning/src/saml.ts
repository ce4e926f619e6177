/**
 * SAML 2.0 service provider on @node-saml/node-saml, plus the checks that library leaves to us
 * (issue 9 "Known library pitfalls"): Destination and Recipient against the ACS URL, the bearer
 * SubjectConfirmationData time window (node-saml skips it unless InResponseTo is validated),
 * the assertion Issuer against `idpIssuer` (node-saml only checks it on logout messages), a replay
 * cache of assertion ids shared by every replica, and AuthnRequest ids kept in that shared store.
 */
import { SAML, ValidateInResponseTo, type CacheProvider, type Profile } from '@node-saml/node-saml';
// The library's own hardened DOM parser: we read the response with exactly the parser that verifies it.
import { parseDomFromString } from '@node-saml/node-saml/lib/xml.js';
import type { SsoConnection } from '@doorman/model';
import { denials, SignInDenied } from './errors.ts';
import type { EphemeralStore } from './store.ts';
import { defineError } from '@doorman/plugin-api';

/** node-saml answered without what it promises (an AuthnRequest id, a profile); a response without one is refused as invalid. */
const SamlLibraryFailed = defineError('DMN_SSO_SAML_FAILED', 500);

export const REQUEST_TTL_MS = 10 * 60_000;
export const CLOCK_SKEW_MS = 60_000;
const SAML_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

export interface SpUrls {
  entityId: string;
  acsUrl: string;
}

export function spUrls(publicUrl: string, connectionId: string): SpUrls {
  return {
    entityId: `${publicUrl}/sso/saml/metadata/${connectionId}`,
    // The connection travels in the ACS URL (as Docker's does), so an IdP-initiated response
    // without InResponseTo still names its connection, and Recipient/Destination bind to it.
    acsUrl: `${publicUrl}/sso/saml/acs?connection=${encodeURIComponent(connectionId)}`,
  };
}

/**
 * node-saml's InResponseTo cache, in the shared store: saved when the AuthnRequest is built,
 * looked up and removed when the response arrives on whichever replica it lands.
 */
export function requestIdCache(store: EphemeralStore, connectionId: string, onSaved?: (id: string) => void): CacheProvider {
  const key = (id: string) => `saml:req:${connectionId}:${id}`;
  return {
    async saveAsync(id, value) {
      await store.put(key(id), value, REQUEST_TTL_MS);
      onSaved?.(id);
      return { value, createdAt: Date.now() };
    },
    getAsync: (id) => store.get(key(id)),
    async removeAsync(id) {
      if (!id) return null;
      return store.take(key(id));
    },
  };
}

function samlFor(connection: SsoConnection, urls: SpUrls, store: EphemeralStore, onRequestSaved?: (id: string) => void): SAML {
  const s = connection.idpSettings;
  return new SAML({
    idpCert: s.idpCert ?? '',
    issuer: urls.entityId,
    callbackUrl: urls.acsUrl,
    entryPoint: s.entryPoint,
    audience: urls.entityId,
    // Okta and Entra sign the assertion, not always the response: the assertion signature is
    // always required, the response signature per connection.
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: s.wantAuthnResponseSigned === true,
    validateInResponseTo: s.allowIdpInitiated ? ValidateInResponseTo.ifPresent : ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: REQUEST_TTL_MS,
    cacheProvider: requestIdCache(store, connection.id, onRequestSaved),
    acceptedClockSkewMs: CLOCK_SKEW_MS,
    identifierFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    disableRequestedAuthnContext: true,
    signatureAlgorithm: 'sha256',
  });
}

/**
 * Redirect URL carrying a new AuthnRequest (HTTP-Redirect binding); its id goes to the shared store
 * and is returned, for the routes to bind it to the browser with a transaction cookie.
 */
export async function samlLoginUrl(connection: SsoConnection, urls: SpUrls, store: EphemeralStore): Promise<{ url: string; requestId: string }> {
  let requestId: string | undefined;
  const url = await samlFor(connection, urls, store, (id) => (requestId = id)).getAuthorizeUrlAsync('', undefined, {});
  if (!requestId) throw new SamlLibraryFailed('node-saml built an AuthnRequest without saving its id');
  return { url, requestId };
}

export function samlMetadata(connection: SsoConnection, urls: SpUrls, store: EphemeralStore): string {
  return samlFor(connection, urls, store).generateServiceProviderMetadata(null, null);
}

export interface VerifiedAssertion {
  profile: Profile;
  assertionId: string;
  /** When the assertion stops being acceptable: how long its id is remembered. */
  notOnOrAfter: number;
}

type XmlJs = Record<string, any>;
const attr = (node: XmlJs | undefined, name: string): string | undefined => node?.$?.[name];
const text = (node: unknown): string | undefined => (typeof node === 'string' ? node : (node as XmlJs | undefined)?._);
const time = (value: string | undefined) => (value ? Date.parse(value) : NaN);

/**
 * Verifies a posted SAMLResponse for `connection`. Throws SignInDenied with Docker's wording;
 * returns the signed assertion's profile only when every check passed and its id was unused.
 */
export async function verifySamlResponse(input: {
  connection: SsoConnection;
  urls: SpUrls;
  store: EphemeralStore;
  samlResponse: string;
  now: number;
  traceId: string;
  /** Throws when this browser did not send the AuthnRequest `inResponseTo` answers (login CSRF). */
  bindRequest: (inResponseTo: string) => void;
}): Promise<VerifiedAssertion> {
  const { connection, urls, store, traceId, now } = input;
  const invalid = (detail: string): SignInDenied => denials.invalidResponse(detail, traceId);

  let root: Element;
  try {
    const xml = Buffer.from(input.samlResponse, 'base64').toString('utf8');
    root = (await parseDomFromString(xml)).documentElement;
  } catch {
    throw invalid('SAMLResponse is not a base64-encoded XML document');
  }
  if (root.localName !== 'Response' || root.namespaceURI !== SAML_PROTOCOL) throw invalid('SAMLResponse is not a SAML 2.0 Response');

  const inResponseTo = root.getAttribute('InResponseTo');
  if (!inResponseTo && !connection.idpSettings.allowIdpInitiated) throw denials.idpInitiatedDisabled(connection.name, traceId);
  // An answer to an AuthnRequest is accepted only in the browser that sent it; checked before the
  // request id is consumed, so a response carried to another browser changes nothing.
  if (inResponseTo) input.bindRequest(inResponseTo);
  // Destination is optional in the schema but, when sent, must be where the response was posted.
  const destination = root.getAttribute('Destination');
  if (destination && destination !== urls.acsUrl) throw invalid(`Destination '${destination}' is not this connection's ACS URL`);

  let profile: Profile;
  try {
    const result = await samlFor(connection, urls, store).validatePostResponseAsync({ SAMLResponse: input.samlResponse });
    if (!result.profile) throw new SamlLibraryFailed('no assertion in the response');
    profile = result.profile;
  } catch (err) {
    if (err instanceof SignInDenied) throw err;
    const message = (err as Error).message ?? 'invalid';
    if (inResponseTo && /InResponseTo/i.test(message)) throw denials.sessionNotFound(traceId);
    throw invalid(message.replace(/\.$/, ''));
  }

  // Everything below reads the SIGNED assertion (node-saml returns only verified content).
  const assertion: XmlJs = (profile.getAssertion?.() as XmlJs | undefined)?.Assertion;
  if (!assertion) throw invalid('no signed assertion');
  const assertionId = attr(assertion, 'ID');
  if (!assertionId) throw invalid('the assertion has no ID');

  const expectedIssuer = connection.idpSettings.idpIssuer;
  if (expectedIssuer && text(assertion.Issuer?.[0]) !== expectedIssuer) throw invalid(`the assertion issuer is not '${expectedIssuer}'`);

  // Web SSO profile: a bearer SubjectConfirmation whose Recipient is our ACS URL and whose
  // NotOnOrAfter has not passed (checked here for IdP-initiated responses too).
  const confirmations: XmlJs[] = assertion.Subject?.[0]?.SubjectConfirmation ?? [];
  const bearer = confirmations.filter((c) => attr(c, 'Method') === BEARER).map((c) => c.SubjectConfirmationData?.[0] as XmlJs | undefined);
  if (!bearer.length) throw invalid('the assertion has no bearer SubjectConfirmation');
  if (!bearer.some((d) => attr(d, 'Recipient') === urls.acsUrl)) throw invalid("the SubjectConfirmationData Recipient is not this connection's ACS URL");
  const valid = bearer.filter((d) => attr(d, 'Recipient') === urls.acsUrl && time(attr(d, 'NotOnOrAfter')) > now - CLOCK_SKEW_MS);
  if (!valid.length) throw invalid('the assertion has expired (SubjectConfirmationData NotOnOrAfter)');
  if (inResponseTo && !valid.some((d) => attr(d, 'InResponseTo') === undefined || attr(d, 'InResponseTo') === inResponseTo)) {
    throw invalid('the SubjectConfirmationData InResponseTo does not match the response');
  }
  // The signed assertion answers an AuthnRequest but the (possibly unsigned) response names none: an
  // SP-initiated response stripped to pass as IdP-initiated, around the browser binding.
  if (!inResponseTo && valid.some((d) => attr(d, 'InResponseTo') !== undefined)) {
    throw invalid('the assertion answers an AuthnRequest, but the response has no InResponseTo');
  }

  // Remember the id until the assertion could no longer be accepted anyway, on every replica.
  const conditionsEnd = time(attr(assertion.Conditions?.[0], 'NotOnOrAfter'));
  const confirmationEnd = Math.max(...valid.map((d) => time(attr(d, 'NotOnOrAfter'))));
  const notOnOrAfter = Number.isFinite(conditionsEnd) ? Math.min(conditionsEnd, confirmationEnd) : confirmationEnd;
  const fresh = await store.claim(`saml:assertion:${connection.id}:${assertionId}`, notOnOrAfter - now + CLOCK_SKEW_MS);
  if (!fresh) throw denials.replayed(traceId);

  return { profile, assertionId, notOnOrAfter };
}
