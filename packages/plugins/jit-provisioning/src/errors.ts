/**
 * Sign-in refusals worded as Docker words them (docs/docker-behaviour.md §2.2, §2.6, §2.7, §5), each
 * ending with the trace id (the request id, also in the X-Request-Id header and the logs).
 */
import { AuthenticationError, InputError, NotAllowedError, NotFoundError, type DoormanError } from '@doorman/plugin-api';

/** Why a sign-in was refused: recorded on `sso.sign_in_denied`. */
export type DenialReason =
  | 'unknown_domain'
  | 'unverified_domain'
  | 'idp_initiated_disabled'
  | 'name_id_not_email'
  | 'email_missing'
  | 'email_not_verified'
  | 'invalid_response'
  | 'replayed'
  | 'session_not_found'
  | 'browser_mismatch'
  | 'deprovisioned'
  | 'email_mismatch'
  | 'not_assigned'
  | 'deactivated'
  | 'invalid_attribute'
  | 'mapping_refused';

export class SignInDenied extends Error {
  constructor(
    readonly reason: DenialReason,
    readonly error: DoormanError,
  ) {
    super(error.message);
  }

  /** The wrapped refusal's code (docs/errors.md). */
  get code(): string {
    return this.error.code;
  }
}

const trace = (traceId: string) => ` TraceID: ${traceId}`;

export const denials = {
  unknownDomain: (domain: string, t: string) =>
    new SignInDenied('unknown_domain', new NotFoundError(`No SSO connection is configured for domain '${domain}'. Contact your company administrator.${trace(t)}`, { field: 'email' })),
  unverifiedDomain: (domain: string, t: string) =>
    new SignInDenied('unverified_domain', new NotAllowedError(`Domain '${domain}' is not verified for your SSO connection. Contact your company administrator.${trace(t)}`)),
  idpInitiatedDisabled: (connectionName: string, t: string) =>
    new SignInDenied('idp_initiated_disabled', new NotAllowedError(`IdP-Initiated sign in is not enabled for connection '${connectionName}'.${trace(t)}`)),
  nameIdNotEmail: (t: string) =>
    new SignInDenied(
      'name_id_not_email',
      new InputError(`The name ID sent by the identity provider is not an email address. Contact your company administrator.${trace(t)}`),
    ),
  emailMismatch: (nameId: string, attribute: string, value: string, t: string) =>
    new SignInDenied(
      'email_mismatch',
      new NotAllowedError(
        `The identity provider sent Name ID '${nameId}' but its '${attribute}' attribute names '${value}': the Name ID must be the person's email address and the email attribute must agree. Contact your company administrator.${trace(t)}`,
        { field: 'email' },
      ),
    ),
  emailMissing: (t: string) =>
    new SignInDenied('email_missing', new InputError(`The identity provider sent no email address. Contact your company administrator.${trace(t)}`)),
  emailNotVerified: (t: string) =>
    new SignInDenied('email_not_verified', new NotAllowedError(`The identity provider says the email address is not verified. Contact your company administrator.${trace(t)}`)),
  invalidResponse: (detail: string, t: string) =>
    new SignInDenied('invalid_response', new AuthenticationError(`The identity provider's response was rejected: ${detail}.${trace(t)}`)),
  replayed: (t: string) =>
    new SignInDenied('replayed', new AuthenticationError(`This sign-in response was already used. Sign in again.${trace(t)}`)),
  sessionNotFound: (t: string) =>
    new SignInDenied(
      'session_not_found',
      new AuthenticationError(`We couldn't find your session. It may have expired or been used already: sign in again.${trace(t)}`),
    ),
  browserMismatch: (t: string) =>
    new SignInDenied(
      'browser_mismatch',
      new NotAllowedError(
        `This sign-in was not started in this browser (its sign-in cookie is missing, invalid or older than 10 minutes), so it cannot finish here. Start the sign-in again from this browser.${trace(t)}`,
      ),
    ),
  deprovisioned: (email: string, by: { orgName: string | null; orgId: string; connectionName: string | null; connectionId: string }, t: string) =>
    new SignInDenied(
      'deprovisioned',
      new NotAllowedError(
        `User '${email}' was deprovisioned from organization '${by.orgName ?? by.orgId}' by SSO connection '${by.connectionName ?? by.connectionId}': signing in to it is refused until that connection reactivates them. Contact your administrator.${trace(t)}`,
      ),
    ),
  notAssigned: (email: string, t: string) =>
    new SignInDenied('not_assigned', new NotAllowedError(`User '${email}' is not assigned to this SSO organization. Contact your administrator.${trace(t)}`)),
  deactivated: (email: string, t: string) =>
    new SignInDenied('deactivated', new NotAllowedError(`User '${email}' is deactivated in this SSO organization. Contact your administrator.${trace(t)}`)),
  invalidAttribute: (message: string, field: string, t: string) =>
    new SignInDenied('invalid_attribute', new InputError(`${message}${trace(t)}`, { field })),
  mappingRefused: (err: DoormanError, t: string) => {
    const Ctor = err.status === 403 ? NotAllowedError : InputError;
    return new SignInDenied('mapping_refused', new Ctor(`${err.message}${trace(t)}`, { field: err.field }));
  },
};
