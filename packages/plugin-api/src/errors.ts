/**
 * The closed set of errors a plugin may throw. One gateway middleware renders them:
 * SCIM routes get RFC 7644 §3.12 error JSON, everything else `{ error: { code, message, field } }`.
 * Anything else thrown becomes a 500 (and is a bug).
 */

/** RFC 7644 §3.12 scimType values (plus the ones RFC 7644 uses for 4xx on PATCH). */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export interface DoormanErrorOptions {
  /** The request field / attribute at fault, named in the response. */
  field?: string;
  /** SCIM detail type, for SCIM routes. */
  scimType?: ScimType;
  /** Extra headers to send (e.g. Retry-After, WWW-Authenticate). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export abstract class DoormanError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly field?: string;
  readonly scimType?: ScimType;
  readonly headers: Record<string, string>;

  constructor(message: string, options: DoormanErrorOptions = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.field = options.field;
    this.scimType = options.scimType;
    this.headers = options.headers ?? {};
  }
}

/** 400: the request is malformed or a value is not acceptable. */
export class InputError extends DoormanError {
  readonly status = 400;
  readonly code = 'invalid_input';
}

/** 401: no, malformed, unknown, revoked or expired credentials. */
export class AuthenticationError extends DoormanError {
  readonly status = 401;
  readonly code = 'unauthenticated';
}

/** 403: authenticated, but not allowed (e.g. SCIM disabled on the connection). */
export class NotAllowedError extends DoormanError {
  readonly status = 403;
  readonly code = 'forbidden';
}

/** 404: unknown id, or an id outside the caller's tenant (never distinguish the two). */
export class NotFoundError extends DoormanError {
  readonly status = 404;
  readonly code = 'not_found';
}

/** 405 */
export class MethodNotAllowedError extends DoormanError {
  readonly status = 405;
  readonly code = 'method_not_allowed';
}

/** 409: uniqueness conflict. */
export class ConflictError extends DoormanError {
  readonly status = 409;
  readonly code = 'conflict';
}

/** 412: If-Match did not match the current version. */
export class PreconditionFailedError extends DoormanError {
  readonly status = 412;
  readonly code = 'precondition_failed';
}

/** 413 */
export class PayloadTooLargeError extends DoormanError {
  readonly status = 413;
  readonly code = 'payload_too_large';
}

/** 429: rate limited; carries Retry-After. */
export class RateLimitedError extends DoormanError {
  readonly status = 429;
  readonly code = 'rate_limited';
}

/** 501: a SCIM feature we do not advertise. */
export class NotImplementedError extends DoormanError {
  readonly status = 501;
  readonly code = 'not_implemented';
}

/** 503: a dependency (database, Redis) is unavailable. */
export class ServiceUnavailableError extends DoormanError {
  readonly status = 503;
  readonly code = 'unavailable';
}

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12 body; `status` is a string per the RFC. */
export function scimErrorBody(status: number, detail: string, scimType?: ScimType) {
  return {
    schemas: [SCIM_ERROR_SCHEMA],
    status: String(status),
    ...(scimType ? { scimType } : {}),
    detail,
  };
}

/** 400: a name given where an id or a unique name is expected matches several objects. */
export class AmbiguousNameError extends DoormanError {
  readonly status = 400;
  readonly code = 'DMN_NAME_AMBIGUOUS';
}
