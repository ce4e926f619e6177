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
  /** Stable `DMN_*` code (docs/errors.md): in error bodies, logs and the `Doorman-Error-Code` header. */
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

// The families. Each carries a generic code; `defineError` derives specific codes from them, so
// `instanceof InputError` holds for every 400 whatever its code.

/** 400: the request is malformed or a value is not acceptable. */
export class InputError extends DoormanError {
  readonly status: number = 400;
  readonly code: string = 'DMN_INPUT_INVALID';
}

/** 401: no, malformed, unknown, revoked or expired credentials. */
export class AuthenticationError extends DoormanError {
  readonly status: number = 401;
  readonly code: string = 'DMN_UNAUTHENTICATED';
}

/** 403: authenticated, but not allowed (e.g. SCIM disabled on the connection). */
export class NotAllowedError extends DoormanError {
  readonly status: number = 403;
  readonly code: string = 'DMN_FORBIDDEN';
}

/** 404: unknown id, or an id outside the caller's tenant (never distinguish the two). */
export class NotFoundError extends DoormanError {
  readonly status: number = 404;
  readonly code: string = 'DMN_NOT_FOUND';
}

/** 405 */
export class MethodNotAllowedError extends DoormanError {
  readonly status: number = 405;
  readonly code: string = 'DMN_METHOD_NOT_ALLOWED';
}

/** 409: uniqueness conflict. */
export class ConflictError extends DoormanError {
  readonly status: number = 409;
  readonly code: string = 'DMN_CONFLICT';
}

/** 412: If-Match did not match the current version. */
export class PreconditionFailedError extends DoormanError {
  readonly status: number = 412;
  readonly code: string = 'DMN_PRECONDITION_FAILED';
}

/** 413 */
export class PayloadTooLargeError extends DoormanError {
  readonly status: number = 413;
  readonly code: string = 'DMN_PAYLOAD_TOO_LARGE';
}

/** 429: rate limited; carries Retry-After. */
export class RateLimitedError extends DoormanError {
  readonly status: number = 429;
  readonly code: string = 'DMN_RATE_LIMITED';
}

/** 501: a SCIM feature we do not advertise. */
export class NotImplementedError extends DoormanError {
  readonly status: number = 501;
  readonly code: string = 'DMN_NOT_IMPLEMENTED';
}

/** 503: a dependency (database, Redis) is unavailable. */
export class ServiceUnavailableError extends DoormanError {
  readonly status: number = 503;
  readonly code: string = 'DMN_UNAVAILABLE';
}

/**
 * A failure that is not the caller's: a wrong setting, plugins wired wrongly, a broken invariant,
 * a dependency failing outside a request. Thrown at start-up, in jobs and in the CLI; one that
 * reaches the HTTP error middleware is answered 500 with its code and no message (it may name
 * internals), and logged.
 */
export class RuntimeError extends DoormanError {
  readonly status: number = 500;
  readonly code: string = 'DMN_INTERNAL';
}

/** A RuntimeError of the data layer (packages/model): schema, migrations, row mapping. */
export class ModelError extends RuntimeError {
  readonly code: string = 'DMN_MODEL_FAILED';
}

/** 400: a name given where an id or a unique name is expected matches several objects. */
export class AmbiguousNameError extends InputError {
  readonly code: string = 'DMN_NAME_AMBIGUOUS';
}

/** The status a `defineError` code may take, and the family its class extends. */
const FAMILIES = {
  400: InputError,
  401: AuthenticationError,
  403: NotAllowedError,
  404: NotFoundError,
  405: MethodNotAllowedError,
  409: ConflictError,
  412: PreconditionFailedError,
  413: PayloadTooLargeError,
  429: RateLimitedError,
  500: RuntimeError,
  501: NotImplementedError,
  503: ServiceUnavailableError,
} as const;
type Families = typeof FAMILIES;
export type ErrorStatus = keyof Families;

type ErrorFamily<B extends DoormanError> = abstract new (message: string, options?: DoormanErrorOptions) => B;

/** A class made by `defineError`: `new X()` (the template as message) or `new X(message, options)`. */
export interface CodedErrorClass<C extends string, B extends DoormanError> {
  new (message?: string, options?: DoormanErrorOptions): B & { readonly code: C };
  readonly code: C;
  readonly prototype: B;
}

export interface CodedErrorDefaults {
  scimType?: ScimType;
  headers?: Record<string, string>;
}

/**
 * Declares an error with a stable code, Fastify's `createError` style (FST_ERR_* there, DMN_* here):
 *
 *     export const UserNameTaken = defineError('DMN_SCIM_USERNAME_TAKEN', 409, 'userName is already taken', { scimType: 'uniqueness' });
 *     throw new UserNameTaken(`userName '${name}' is already taken`);
 *
 * The second argument is a status (the class extends that status's family: 409 → ConflictError,
 * 500 → RuntimeError) or a family class itself (ModelError, or a plugin's own subclass). The
 * template is the message when none is given. Every code is listed in docs/errors.md; a test
 * (packages/plugin-api/test/error-codes.test.ts) fails when one is missing there.
 */
export function defineError<C extends `DMN_${string}`, S extends ErrorStatus>(
  code: C,
  status: S,
  messageTemplate?: string,
  defaults?: CodedErrorDefaults,
): CodedErrorClass<C, InstanceType<Families[S]>>;
export function defineError<C extends `DMN_${string}`, B extends DoormanError>(
  code: C,
  family: ErrorFamily<B>,
  messageTemplate?: string,
  defaults?: CodedErrorDefaults,
): CodedErrorClass<C, B>;
export function defineError(code: string, family: ErrorStatus | ErrorFamily<DoormanError>, messageTemplate?: string, defaults: CodedErrorDefaults = {}) {
  const Base = (typeof family === 'number' ? FAMILIES[family] : family) as unknown as typeof InputError;
  if (!Base) throw new TypeError(`defineError(${code}): no error family for status ${String(family)}`);
  const Coded = class extends Base {
    static readonly code = code;
    readonly code: string = code;
    constructor(message?: string, options: DoormanErrorOptions = {}) {
      super(message ?? messageTemplate ?? code, {
        ...options,
        scimType: options.scimType ?? defaults.scimType,
        headers: { ...defaults.headers, ...options.headers },
      });
    }
  };
  // The code is the class's name, so `err.name` and the log's `type` show it.
  Object.defineProperty(Coded, 'name', { value: code });
  return Coded;
}

/**
 * Whether an error answers a request (the caller's fault, or a dependency's outage) rather than
 * being the gateway's own failure (a RuntimeError, or anything not a DoormanError). Code that
 * collects refusals per person (a sync, a preview) and fails on the rest asks this.
 */
export function isRefusal(err: unknown): err is DoormanError {
  return err instanceof DoormanError && !(err instanceof RuntimeError);
}

/** The code of anything thrown: a DoormanError's own, `DMN_INTERNAL` for the rest. */
export function errorCode(err: unknown): string {
  return err instanceof DoormanError ? err.code : 'DMN_INTERNAL';
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

// Codes more than one package throws. A package's own codes are defined beside the code that throws
// them; docs/errors.md lists them all.

/** A plugin asked for a service (by ref) that no registered plugin provides. */
export const PluginDependencyMissing = defineError('DMN_PLUGIN_DEPENDENCY_MISSING', 500, 'a plugin needs a service no registered plugin provides');
/** Two plugins provide the same service, or one declares the same thing twice. */
export const PluginDeclaredTwice = defineError('DMN_PLUGIN_DECLARED_TWICE', 500, 'declared twice');
/** A setting is missing or invalid; the process exits 2 before listening. */
export const ConfigInvalid = defineError('DMN_CONFIG_INVALID', 500, 'invalid configuration');
/** The database cannot be reached (or the connection dropped): 503, retry. */
export const DatabaseUnavailable = defineError('DMN_DATABASE_UNAVAILABLE', 503, 'the database is temporarily unavailable; retry shortly', { headers: { 'Retry-After': '2' } });
/** The database answered with a lock wait timeout or a deadlock: 503, retry. */
export const DatabaseBusy = defineError('DMN_DATABASE_BUSY', 503, 'the database is busy; retry shortly', { headers: { 'Retry-After': '1' } });
/** Redis (the job queue) cannot be reached. */
export const RedisUnavailable = defineError('DMN_REDIS_UNAVAILABLE', 503, 'redis is unavailable; retry shortly', { headers: { 'Retry-After': '2' } });
/** 403: the connection has SCIM turned off (SCIM requests, and a sync that has nothing to read). */
export const ScimDisabled = defineError('DMN_SCIM_DISABLED', 403, 'SCIM provisioning is disabled for this SSO connection');
/** An operation did not finish within its time limit. */
export const TimedOut = defineError('DMN_TIMEOUT', 500, 'timed out');
