import type { Context, Middleware } from 'koa';
import { ZodError } from 'zod';
import {
  DatabaseBusy,
  DatabaseUnavailable,
  DoormanError,
  InputError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  scimErrorBody,
  RuntimeError,
  ServiceUnavailableError,
} from '@doorman/plugin-api';
import { databaseOutageKind } from '../db.ts';
import type { RequestRefusal } from '@doorman/plugin-api';
import { redactDetail, requestValues, routePattern } from './refusal.ts';

export const isScimRequest = (ctx: Context) => ctx.path === '/scim/v2' || ctx.path.startsWith('/scim/v2/');

/** Maps what libraries throw (body parser, router, zod) onto the closed error set. */
export function toDoormanError(err: unknown): DoormanError | undefined {
  if (err instanceof DoormanError) return err;
  if (err instanceof ZodError) {
    const issue = err.issues[0];
    const field = issue?.path.join('.') || undefined;
    return new InputError(field ? `${field}: ${issue!.message}` : (issue?.message ?? 'invalid input'), { field, scimType: 'invalidValue' });
  }
  const e = err as { status?: number; type?: string; expose?: boolean; message?: string };
  if (e?.type === 'entity.parse.failed' || (e?.status === 400 && /JSON/i.test(e.message ?? ''))) {
    return new InputError('request body is not valid JSON', { scimType: 'invalidSyntax' });
  }
  if (e?.type === 'entity.too.large' || e?.status === 413) return new PayloadTooLargeError('request body is larger than the configured limit');
  if (e?.status === 415) return new InputError('unsupported content type: send application/scim+json or application/json', { scimType: 'invalidSyntax' });
  if (e?.status === 405) return new MethodNotAllowedError(e.message ?? 'method not allowed');
  if (e?.status === 404) return new NotFoundError('not found');
  if (e?.status && e.status >= 400 && e.status < 500 && e.expose) return new InputError(e.message ?? 'bad request');
  // A database outage or contention is not a bug: 503 with Retry-After, never 500. A write whose commit
  // acknowledgement was lost may have committed; retrying it is safe (README "Failure behaviour").
  const outage = databaseOutageKind(err);
  if (outage === 'unavailable') return new DatabaseUnavailable(undefined, { cause: err });
  if (outage === 'busy') return new DatabaseBusy(undefined, { cause: err });
  return undefined;
}

const codeOf = (err: unknown): string | undefined => {
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.code ?? e?.driverError?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * The one place errors become responses: SCIM error JSON on SCIM routes, `{error:{code,message,field}}`
 * elsewhere. Unknown errors are logged and answered 500 without details.
 */
export function errorMiddleware(options: { onRefused?: (refusal: RequestRefusal) => void; now?: () => Date } = {}): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new NotFoundError(`no route for ${ctx.method} ${ctx.path}`);
    } catch (err) {
      const mapped = toDoormanError(err);
      // A RuntimeError is the gateway's failure, not the caller's: answered like any bug (500, no
      // message, it may name internals), but its code is kept for the body, the header and the logs.
      const known = mapped instanceof RuntimeError ? undefined : mapped;
      const status = known?.status ?? 500;
      const code = mapped?.code ?? 'DMN_INTERNAL';
      // The access-log line of this request carries the code (observability.ts).
      ctx.state.errorCode = code;
      // Logged through the central error serializer (logging.ts): no body, SQL parameters or headers.
      if (!known) ctx.state.logger?.error({ err, code }, 'unhandled error');
      // Only the code: a database error carries the statement's parameters (personal data, secrets).
      else if (known instanceof ServiceUnavailableError && known.cause) ctx.state.logger?.warn({ code, cause: codeOf(known.cause) }, 'dependency unavailable');
      const message = known?.message ?? 'internal error';
      ctx.status = status;
      for (const [k, v] of Object.entries(known?.headers ?? {})) ctx.set(k, v);
      ctx.set('Doorman-Error-Code', code);
      if (isScimRequest(ctx)) {
        // RFC 7644 §3.12 body unchanged; the code travels in the Doorman-Error-Code header only.
        ctx.type = 'application/scim+json';
        ctx.body = scimErrorBody(status, message, known?.scimType);
      } else {
        ctx.type = 'application/json';
        ctx.body = { error: { code, message, ...(known?.field ? { field: known.field } : {}) } };
      }
      if (known && status < 500 && options.onRefused) reportRefusal(ctx, known, options.onRefused, options.now ?? (() => new Date()));
    }
  };
}

/**
 * A refused SCIM or SSO request about a known connection goes to the activity log
 * (docs/connection-activity.md). One with no known connection (an unknown or malformed token, an SSO
 * request naming none) is not recorded: it cannot be attributed to a tenant, and an anonymous caller
 * must not be able to write rows; the access log and the request metrics count it.
 */
function reportRefusal(ctx: Context, error: DoormanError, onRefused: (refusal: RequestRefusal) => void, now: () => Date) {
  const surface = isScimRequest(ctx) ? 'scim' : ctx.path.startsWith('/sso/') ? 'sso' : null;
  const connectionId: unknown = ctx.state.connectionId ?? ctx.state.auth?.connectionId;
  if (!surface || typeof connectionId !== 'string') return;
  try {
    onRefused({
      connectionId,
      at: now(),
      surface,
      method: ctx.method.slice(0, 8),
      route: routePattern(ctx.path, (ctx as unknown as { _matchedRoute?: string })._matchedRoute),
      status: error.status,
      scimType: error.scimType ?? null,
      code: error.code,
      detail: redactDetail(error.message, requestValues(ctx.querystring, (ctx.request as { body?: unknown }).body)),
      requestId: String(ctx.state.requestId ?? ''),
    });
  } catch (err) {
    ctx.state.logger?.warn({ err: (err as Error).message }, 'refused request not recorded');
  }
}
