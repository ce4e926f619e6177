import { z } from 'zod';
import { InputError } from '@doorman/core';

function fail(error: z.ZodError): never {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join('.') || String((issue as { keys?: string[] }).keys?.[0] ?? '');
  throw new InputError(`${field || 'body'}: ${issue.message}`, { field: field || undefined });
}

/** Parses a query strictly: an unknown, repeated or bad parameter is a 400 that names it. */
export function parseQuery<S extends z.ZodObject>(schema: S, query: Record<string, string | string[] | undefined>): z.infer<S> {
  for (const [key, value] of Object.entries(query)) {
    if (!(key in schema.shape)) throw new InputError(`${key}: unknown query parameter`, { field: key });
    if (Array.isArray(value)) throw new InputError(`${key}: given more than once`, { field: key });
  }
  const parsed = schema.safeParse(query);
  return parsed.success ? parsed.data : fail(parsed.error);
}

/** Parses a JSON body; a bad or unknown field is a 400 that names it. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body ?? {});
  return parsed.success ? parsed.data : fail(parsed.error);
}
