/**
 * The admin API's OpenAPI 3.1 document, generated from the routes' own zod schemas by zod-openapi
 * (which renders through zod 4's JSON Schema support), and a response checker against that very
 * document (ajv, JSON Schema 2020-12) for tests. docs/admin-api.md.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { defaultParamsSchema, openApiPath, type RegisteredAdminRoute } from './admin-routes.ts';

export const ADMIN_API_PREFIX = '/admin/v1';

/** The body of every admin error (core's error middleware). */
export const adminErrorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'stable error code, e.g. invalid_input, not_found, conflict' }),
      message: z.string(),
      field: z.string().optional().meta({ description: 'the request field at fault, when there is one' }),
    }),
  })
  .meta({ id: 'Error' });

/** The document's own top-level shape (the route serving it). */
export const openApiDocumentSchema = z.looseObject({
  openapi: z.literal('3.1.0'),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.looseObject({})),
});

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: adminErrorSchema } } });

function operation(route: RegisteredAdminRoute): ZodOpenApiOperationObject {
  const d = route.definition;
  const responses: Record<string, ZodOpenApiOperationObject['responses'][string & keyof ZodOpenApiOperationObject['responses']]> = {};
  for (const [status, spec] of Object.entries(d.responses)) {
    const types = spec.contentType === undefined ? ['application/json'] : typeof spec.contentType === 'string' ? [spec.contentType] : [...spec.contentType];
    responses[status] =
      spec.schema === null
        ? { description: spec.description }
        : { description: spec.description, content: Object.fromEntries(types.map((t) => [t, { schema: t === 'application/json' ? spec.schema! : z.string() }])) };
  }
  responses['400'] ??= errorResponse('invalid input: the error names the field');
  responses['401'] ??= errorResponse('admin token missing or not valid');
  if (d.path.includes(':')) responses['404'] ??= errorResponse('not found');
  const params = (d.params ?? defaultParamsSchema(d.path)) as z.ZodObject;
  return {
    operationId: `${d.method}${d.path.replace(/[:/{}-]+([A-Za-z0-9])?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: d.summary,
    ...(d.description ? { description: d.description } : {}),
    tags: d.tags ?? [route.pluginId],
    requestParams: {
      ...(Object.keys(params.shape).length ? { path: params } : {}),
      ...(d.query ? { query: d.query as z.ZodObject } : {}),
    },
    ...(d.body ? { requestBody: { required: true, content: { 'application/json': { schema: d.body } } } } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of the given admin routes (paths relative to the server URL /admin/v1). */
export function buildOpenApiDocument(routes: readonly RegisteredAdminRoute[], info: { version: string; serverUrl?: string }) {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const path = openApiPath(route.definition.path);
    paths[path] = { ...paths[path], [route.definition.method]: operation(route) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Doorman admin API',
      version: info.version,
      description: 'Organizations, teams, SSO connections, tokens, people, audit. Authenticate with `Authorization: Bearer <admin token>` (or Basic with the token as password).',
    },
    servers: [{ url: info.serverUrl ?? ADMIN_API_PREFIX }],
    security: [{ bearer: [] }, { basic: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an admin token (ADMIN_BOOTSTRAP_TOKEN or one issued by `doorman admin-tokens create`)' },
        basic: { type: 'http', scheme: 'basic', description: 'any user name, the admin token as password (browsers)' },
      },
    },
    paths,
  });
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/**
 * Checks a JSON response against the schema the document gives it (`undefined` = valid). Compiled
 * once per operation and status.
 */
export function documentResponseChecker(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  addFormats.default(ajv);
  ajv.addSchema(document as object, 'doc');
  const compiled = new Map<string, ValidateFunction | null>();
  return (method: string, koaPath: string, status: number, body: unknown): string | undefined => {
    const path = openApiPath(koaPath);
    const key = `${method} ${path} ${status}`;
    if (!compiled.has(key)) {
      const response = (document.paths?.[path] as Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }> | undefined)?.[method]?.responses?.[String(status)];
      compiled.set(key, response?.content?.['application/json'] ? ajv.compile({ $ref: `doc#/${pointer('paths', path, method, 'responses', String(status), 'content', 'application/json', 'schema')}` }) : null);
    }
    const validate = compiled.get(key);
    if (!validate || validate(body)) return undefined;
    return ajv.errorsText(validate.errors, { dataVar: 'response' });
  };
}
