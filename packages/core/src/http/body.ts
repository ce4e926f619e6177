import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createUnzip } from 'node:zlib';
import type { Context, Middleware } from 'koa';
import getRawBody from 'raw-body';
import { DoormanError, type ScimType } from '@doorman/plugin-api';

/**
 * The JSON request body reader. It runs after authentication (the gateway installs it behind the
 * admin and SCIM authenticators, see gateway.ts), so an unauthenticated caller cannot make the
 * gateway read, inflate or parse anything. Every refusal is a RequestBodyError with a stable code;
 * the body itself never reaches a log line, an error message or an audit event (docs/security.md).
 */

declare module 'koa' {
  interface Request {
    /** The parsed JSON body of a write request (set by jsonBodyMiddleware after authentication). */
    body?: unknown;
  }
}

export interface BodyLimits {
  /** Largest body after decompression, in bytes (BODY_LIMIT_BYTES). */
  limitBytes: number;
  /** Deepest nesting of objects and arrays (BODY_MAX_DEPTH). */
  maxDepth: number;
  /** Most values in one body: object members plus array elements, counted everywhere (BODY_MAX_VALUES). */
  maxValues: number;
}

export type BodyErrorCode =
  | 'DMN_BODY_NOT_JSON'
  | 'DMN_BODY_NOT_UTF8'
  | 'DMN_BODY_FORBIDDEN_KEY'
  | 'DMN_BODY_TOO_DEEP'
  | 'DMN_BODY_TOO_MANY_VALUES'
  | 'DMN_BODY_TOO_LARGE'
  | 'DMN_BODY_ENCODING_UNSUPPORTED'
  | 'DMN_BODY_ENCODING_INVALID'
  | 'DMN_BODY_INCOMPLETE';

/** A refused request body: 400 (SCIM `invalidSyntax`), 413 or 415. */
export class RequestBodyError extends DoormanError {
  readonly status: number;
  readonly code: BodyErrorCode;
  constructor(status: 400 | 413 | 415, code: BodyErrorCode, message: string) {
    const scimType: ScimType | undefined = status === 400 ? 'invalidSyntax' : undefined;
    super(message, { scimType });
    this.status = status;
    this.code = code;
  }
}

/**
 * Keys that reach Object.prototype (or a constructor) when code copies a parsed body with
 * assignment or a merge: refused anywhere in a body, in any letter case (SCIM names are
 * case-insensitive, and code looks attributes up by lower-cased name).
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Nesting depth before JSON.parse runs: a string of thousands of `[` parses fine but makes every
 * recursive consumer (PATCH application, projection, clone) overflow the stack later.
 */
function checkDepth(text: string, maxDepth: number) {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) throw new RequestBodyError(400, 'DMN_BODY_TOO_DEEP', `request body is nested deeper than ${maxDepth} levels`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

/** Walks the parsed body once: refuses reserved keys and more than `maxValues` values. */
function checkValues(root: unknown, maxValues: number) {
  let values = 0;
  const stack: Array<{ value: unknown; path: string }> = [{ value: root, path: '' }];
  while (stack.length) {
    const { value, path } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    const isArray = Array.isArray(value);
    const keys = isArray ? null : Object.keys(value);
    values += isArray ? value.length : keys!.length;
    if (values > maxValues) throw new RequestBodyError(400, 'DMN_BODY_TOO_MANY_VALUES', `request body holds more than ${maxValues} values`);
    if (isArray) value.forEach((v, i) => stack.push({ value: v, path: `${path}[${i}]` }));
    else
      for (const k of keys!) {
        const at = path ? `${path}.${k}` : k;
        if (FORBIDDEN_KEYS.has(k.toLowerCase())) throw new RequestBodyError(400, 'DMN_BODY_FORBIDDEN_KEY', `request body uses the reserved key "${k}" (at ${at})`);
        stack.push({ value: (value as Record<string, unknown>)[k], path: at });
      }
  }
}

/**
 * Parses a JSON request body under the limits (pure). An empty body is `{}`; the top level must be
 * an object or an array. Messages never quote the body (a JSON.parse message does: only its
 * position is kept).
 */
export function parseJsonBody(text: string, limits: Pick<BodyLimits, 'maxDepth' | 'maxValues'>): unknown {
  if (text.trim() === '') return {};
  if (!/^[\x20\x09\x0a\x0d]*[[{]/.test(text)) throw new RequestBodyError(400, 'DMN_BODY_NOT_JSON', 'request body must be a JSON object');
  checkDepth(text, limits.maxDepth);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new RequestBodyError(400, 'DMN_BODY_NOT_JSON', `request body is not valid JSON${position ? ` (at character ${position})` : ''}`);
  }
  checkValues(parsed, limits.maxValues);
  return parsed;
}

const JSON_TYPES = ['application/json', 'application/scim+json'];
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** The request stream, decompressed as Content-Encoding says; an encoding we do not know is 415. */
function decoded(ctx: Context): { stream: Readable; encoding: string } {
  const encoding = (ctx.get('content-encoding') || 'identity').trim().toLowerCase();
  const inflater = encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate' ? createUnzip() : encoding === 'br' ? createBrotliDecompress() : null;
  if (encoding === 'identity') return { stream: ctx.req, encoding };
  if (!inflater) {
    throw new RequestBodyError(415, 'DMN_BODY_ENCODING_UNSUPPORTED', `Content-Encoding "${encoding.slice(0, 32)}" is not supported: send identity, gzip, deflate or br`);
  }
  // pipeline destroys the inflater when the client aborts, so the read below ends instead of hanging.
  pipeline(ctx.req, inflater, () => {});
  return { stream: inflater, encoding };
}

async function readBody(ctx: Context, limits: BodyLimits): Promise<unknown> {
  const { stream, encoding } = decoded(ctx);
  const declared = ctx.get('content-length');
  let buffer: Buffer;
  try {
    buffer = await getRawBody(stream, { limit: limits.limitBytes, length: encoding === 'identity' && declared ? Number(declared) : null });
  } catch (err) {
    const e = err as { type?: string; code?: string };
    if (e.type === 'entity.too.large') throw new RequestBodyError(413, 'DMN_BODY_TOO_LARGE', `request body is larger than ${limits.limitBytes} bytes`);
    if (e.type === 'request.aborted' || e.type === 'request.size.invalid') {
      throw new RequestBodyError(400, 'DMN_BODY_INCOMPLETE', 'request body ended before the length it declared');
    }
    if (encoding !== 'identity') throw new RequestBodyError(400, 'DMN_BODY_ENCODING_INVALID', `request body is not valid ${encoding} data`);
    throw new RequestBodyError(400, 'DMN_BODY_INCOMPLETE', 'request body could not be read');
  }
  ctx.state.bodyBytes = buffer.length;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buffer);
  } catch {
    throw new RequestBodyError(400, 'DMN_BODY_NOT_UTF8', 'request body is not valid UTF-8');
  }
  return parseJsonBody(text, limits);
}

/**
 * Reads JSON bodies (`application/json`, `application/scim+json`) of write requests into
 * `ctx.request.body`; other content types leave `{}` for the route's validation to refuse.
 * A refusal is logged with the body's size and the reason code only.
 */
export function jsonBodyMiddleware(limits: BodyLimits): Middleware {
  return async (ctx, next) => {
    if (!WRITE_METHODS.has(ctx.method) || ctx.request.body !== undefined) return next();
    if (!ctx.request.is(JSON_TYPES)) {
      ctx.request.body = {};
      return next();
    }
    try {
      ctx.request.body = await readBody(ctx, limits);
    } catch (err) {
      if (err instanceof RequestBodyError) {
        const declared = Number(ctx.get('content-length')) || undefined;
        ctx.state.logger?.info({ bodyBytes: ctx.state.bodyBytes ?? declared, reason: err.code, status: err.status }, 'request body refused');
      }
      throw err;
    }
    return next();
  };
}
