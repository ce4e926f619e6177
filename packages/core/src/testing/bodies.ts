import { brotliCompressSync, gzipSync } from 'node:zlib';
import type supertest from 'supertest';

/** A string planted in every malformed body: a test asserts no log line ever contains it. */
export const BODY_MARKER = 'pii-marker-7f3a';

export interface MalformedBody {
  name: string;
  body: Buffer;
  headers?: Record<string, string>;
  status: 400 | 413 | 415;
  /** The RequestBodyError code the admin error body carries. */
  code: string;
}

const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/**
 * Every class of malformed request body the gateway refuses before a route runs, for a gateway
 * started with the defaults (BODY_MAX_DEPTH 32, BODY_MAX_VALUES 100,000) and a body limit of
 * `limitBytes` (BODY_LIMIT_BYTES, default 1 MiB).
 */
export function malformedBodies(limitBytes = 1_048_576, maxValues = 100_000): MalformedBody[] {
  const m = BODY_MARKER;
  return [
    { name: '__proto__ key', body: Buffer.from(`{"name":"${m}","__proto__":{"isAdmin":true}}`), status: 400, code: 'DMN_BODY_FORBIDDEN_KEY' },
    { name: 'nested constructor.prototype', body: json({ name: m, schemas: [{ constructor: { prototype: { polluted: 1 } } }] }), status: 400, code: 'DMN_BODY_FORBIDDEN_KEY' },
    { name: 'prototype key', body: json({ userName: m, Prototype: 1 }), status: 400, code: 'DMN_BODY_FORBIDDEN_KEY' },
    { name: 'not JSON', body: Buffer.from(`{"name": ${m}}`), status: 400, code: 'DMN_BODY_NOT_JSON' },
    { name: 'a JSON scalar', body: Buffer.from(`"${m}"`), status: 400, code: 'DMN_BODY_NOT_JSON' },
    { name: 'thousands of nesting levels', body: Buffer.from(`{"name":"${m}","x":${nested(5000)}}`), status: 400, code: 'DMN_BODY_TOO_DEEP' },
    { name: 'too many values', body: Buffer.from(`{"name":"${m}","x":[${'0,'.repeat(maxValues)}0]}`), status: 400, code: 'DMN_BODY_TOO_MANY_VALUES' },
    { name: 'larger than the limit', body: json({ name: m, x: 'y'.repeat(limitBytes) }), status: 413, code: 'DMN_BODY_TOO_LARGE' },
    { name: 'gzip declared on plain JSON', body: json({ name: m }), headers: { 'Content-Encoding': 'gzip' }, status: 400, code: 'DMN_BODY_ENCODING_INVALID' },
    { name: 'deflate declared on plain JSON', body: json({ name: m }), headers: { 'Content-Encoding': 'deflate' }, status: 400, code: 'DMN_BODY_ENCODING_INVALID' },
    { name: 'br declared on plain JSON', body: json({ name: m }), headers: { 'Content-Encoding': 'br' }, status: 400, code: 'DMN_BODY_ENCODING_INVALID' },
    { name: 'br data declared as gzip', body: brotliCompressSync(json({ name: m })), headers: { 'Content-Encoding': 'gzip' }, status: 400, code: 'DMN_BODY_ENCODING_INVALID' },
    { name: 'truncated gzip stream', body: gzipSync(json({ name: m, pad: 'z'.repeat(300) })).subarray(0, 40), headers: { 'Content-Encoding': 'gzip' }, status: 400, code: 'DMN_BODY_ENCODING_INVALID' },
    { name: 'gzip that inflates past the limit', body: gzipSync(json({ name: m, pad: 'z'.repeat(limitBytes + 10) })), headers: { 'Content-Encoding': 'gzip' }, status: 413, code: 'DMN_BODY_TOO_LARGE' },
    { name: 'unknown encoding', body: json({ name: m }), headers: { 'Content-Encoding': 'compress' }, status: 415, code: 'DMN_BODY_ENCODING_UNSUPPORTED' },
    { name: 'stacked encodings', body: json({ name: m }), headers: { 'Content-Encoding': 'gzip, br' }, status: 415, code: 'DMN_BODY_ENCODING_UNSUPPORTED' },
    { name: 'invalid UTF-8', body: Buffer.concat([Buffer.from(`{"name":"${m}`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), status: 400, code: 'DMN_BODY_NOT_UTF8' },
  ];
}

/** Sends `body` byte for byte (supertest would JSON-encode a Buffer sent as JSON). */
export function sendRaw(req: supertest.Test, body: Buffer, headers: Record<string, string> = {}): supertest.Test {
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
  return req.serialize((b: unknown) => b as string).send(body);
}
