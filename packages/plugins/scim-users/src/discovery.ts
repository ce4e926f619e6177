import { NotFoundError, type ScimAuthenticationScheme, type ScimDiscovery, type ScimDiscoveryDocument } from '@doorman/plugin-api';
import { SCIM_CONTENT_TYPE as SCIM_JSON, type HttpSurface } from '@doorman/core';
import { listResponse, resourceSchemaDocuments, resourceSchemaFor, resourceTypeDocument, serviceProviderConfig } from '@doorman/scim';

/**
 * SCIM discovery (RFC 7644 §4): /ServiceProviderConfig, and /ResourceTypes and /Schemas assembled
 * from what each enabled plugin registers through `scimDiscoveryRef` (Users here; Groups by
 * scim-groups), so a deployment advertises exactly what it serves.
 */
export function mountDiscovery(http: HttpSurface, options: { baseUrl: string; maxResults: number; maxPayloadSize: number; authenticationSchemes: readonly ScimAuthenticationScheme[] }): ScimDiscovery {
  const { baseUrl } = options;
  const resourceTypes: ScimDiscoveryDocument[] = [];
  const schemas: ScimDiscoveryDocument[] = [];
  const discovery: ScimDiscovery = {
    addResourceType(resourceType, resourceSchemas) {
      if (resourceTypes.some((rt) => rt.id === resourceType.id)) throw new Error(`SCIM resource type ${resourceType.id} registered twice`);
      resourceTypes.push(resourceType);
      for (const schema of resourceSchemas) if (!schemas.some((s) => s.id === schema.id)) schemas.push(schema);
    },
  };
  const users = resourceSchemaFor('User');
  discovery.addResourceType(resourceTypeDocument(users, baseUrl), resourceSchemaDocuments(users, baseUrl));

  const r = http.scim;
  r.get('/ServiceProviderConfig', (ctx) => {
    ctx.type = SCIM_JSON;
    ctx.body = serviceProviderConfig({ baseUrl, maxResults: options.maxResults, maxPayloadSize: options.maxPayloadSize, authenticationSchemes: options.authenticationSchemes });
  });
  const listOf = (all: ScimDiscoveryDocument[]) => listResponse(all, { totalResults: all.length, startIndex: 1 });
  const oneOf = (all: ScimDiscoveryDocument[], id: string, what: string) => {
    const found = all.find((d) => d.id === id);
    if (!found) throw new NotFoundError(`${what} ${id} not found`);
    return found;
  };
  r.get('/ResourceTypes', (ctx) => {
    ctx.type = SCIM_JSON;
    ctx.body = listOf(resourceTypes);
  });
  r.get('/ResourceTypes/:name', (ctx) => {
    const found = oneOf(resourceTypes, ctx.params.name!, 'ResourceType');
    ctx.type = SCIM_JSON;
    ctx.body = found;
  });
  r.get('/Schemas', (ctx) => {
    ctx.type = SCIM_JSON;
    ctx.body = listOf(schemas);
  });
  r.get('/Schemas/:id', (ctx) => {
    const found = oneOf(schemas, ctx.params.id!, 'Schema');
    ctx.type = SCIM_JSON;
    ctx.body = found;
  });
  return discovery;
}
