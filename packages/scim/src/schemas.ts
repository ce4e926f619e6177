/**
 * Schema URNs, the attribute definitions of the resources we serve, and the discovery documents
 * (RFC 7643 §5–§7, RFC 7644 §4). The attribute definitions are also the source of truth for the
 * PATCH normalizer (canonical names, booleans, mutability) and for attribute projection.
 */

import {
  attr,
  GROUP_SCHEMA,
  RESOURCE_TYPE_SCHEMA,
  SCHEMA_SCHEMA,
  SERVICE_PROVIDER_CONFIG_SCHEMA,
  type AttributeDefinition,
  type ResourceSchema,
  type SchemaDefinition,
} from './schema-types.ts';
import type { ScimAuthenticationScheme } from '@doorman/plugin-api';
import { DOCKER_USER_SCHEMA_DEFINITION, ENTERPRISE_USER_SCHEMA_DEFINITION, USER_SCHEMA_DEFINITION } from './user-schema.ts';

export * from './schema-types.ts';
export * from './user-schema.ts';

/**
 * RFC 7643 §3.1 common attributes. They belong to every resource but are not part of any schema
 * document, so they are kept apart from the schema attribute lists.
 */
export const COMMON_ATTRIBUTES: readonly AttributeDefinition[] = [
  attr('id', 'Unique identifier for the SCIM resource, assigned by the service provider.', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  }),
  attr('externalId', 'Identifier of the resource as defined by the provisioning client.', {
    caseExact: true,
  }),
  attr('meta', 'Resource metadata.', {
    type: 'complex',
    mutability: 'readOnly',
    subAttributes: [
      attr('resourceType', 'Name of the resource type.', { caseExact: true, mutability: 'readOnly' }),
      attr('created', 'When the resource was added.', { type: 'dateTime', mutability: 'readOnly' }),
      attr('lastModified', 'When the resource was last modified.', {
        type: 'dateTime',
        mutability: 'readOnly',
      }),
      attr('location', 'URI of the resource.', {
        type: 'reference',
        referenceTypes: ['uri'],
        caseExact: true,
        mutability: 'readOnly',
      }),
      attr('version', 'Version (ETag) of the resource.', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
];

export const GROUP_SCHEMA_DEFINITION: SchemaDefinition = {
  id: GROUP_SCHEMA,
  name: 'Group',
  description: 'Group, mapped to a team by its organization:team display name',
  attributes: [
    attr('displayName', 'Group name in the organization:team format.', { required: true }),
    attr('members', 'Members of the group.', {
      type: 'complex',
      multiValued: true,
      subAttributes: [
        attr('value', 'The id of the member.', { caseExact: true, mutability: 'immutable' }),
        attr('$ref', 'The URI of the member.', {
          type: 'reference',
          referenceTypes: ['User'],
          caseExact: true,
          mutability: 'immutable',
        }),
        attr('display', 'The display name of the member.', { mutability: 'readOnly' }),
        attr('type', 'The type of the member.', {
          canonicalValues: ['User'],
          mutability: 'immutable',
        }),
      ],
    }),
  ],
};

export const USER_RESOURCE: ResourceSchema = {
  resourceType: 'User',
  endpoint: '/Users',
  core: USER_SCHEMA_DEFINITION,
  extensions: [ENTERPRISE_USER_SCHEMA_DEFINITION, DOCKER_USER_SCHEMA_DEFINITION],
};

export const GROUP_RESOURCE: ResourceSchema = {
  resourceType: 'Group',
  endpoint: '/Groups',
  core: GROUP_SCHEMA_DEFINITION,
  extensions: [],
};

export function resourceSchemaFor(resourceType: 'User' | 'Group'): ResourceSchema {
  return resourceType === 'User' ? USER_RESOURCE : GROUP_RESOURCE;
}

/** Finds an attribute by name (case-insensitive, RFC 7644 §3.10); `urn` undefined means the core schema. */
export function findAttribute(
  schema: ResourceSchema,
  urn: string | undefined,
  name: string,
): AttributeDefinition | undefined {
  const index = attributeIndex(schema);
  const names = urn === undefined ? index.core : index.extensions.get(urn);
  return names?.get(name.toLowerCase());
}

/**
 * Attribute definitions by lower-cased name, per schema (core with the common attributes, and each
 * extension by its exact URN), built once: projection looks up every key of every resource on a list
 * page. Schemas are constants (readonly), so the index never goes stale. The first definition of a
 * name wins, as a search in declaration order would find it.
 */
const attributeIndexes = new WeakMap<ResourceSchema, { core: Map<string, AttributeDefinition>; extensions: Map<string, Map<string, AttributeDefinition>> }>();
function attributeIndex(schema: ResourceSchema) {
  let index = attributeIndexes.get(schema);
  if (!index) {
    const byName = (defs: readonly AttributeDefinition[]) => {
      const map = new Map<string, AttributeDefinition>();
      for (const def of defs) if (!map.has(def.name.toLowerCase())) map.set(def.name.toLowerCase(), def);
      return map;
    };
    const extensions = new Map<string, Map<string, AttributeDefinition>>();
    for (const ext of schema.extensions) if (!extensions.has(ext.id)) extensions.set(ext.id, byName(ext.attributes));
    index = { core: byName([...COMMON_ATTRIBUTES, ...schema.core.attributes]), extensions };
    attributeIndexes.set(schema, index);
  }
  return index;
}

export function findSubAttribute(
  parent: AttributeDefinition | undefined,
  name: string,
): AttributeDefinition | undefined {
  const lc = name.toLowerCase();
  return parent?.subAttributes?.find((a) => a.name.toLowerCase() === lc);
}

function trimBase(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

export interface ServiceProviderConfigOptions {
  baseUrl: string;
  /** Largest page a list or filter returns (RFC 7644 §5 filter.maxResults). */
  maxResults: number;
  /** Largest accepted request body, in bytes. */
  maxPayloadSize: number;
  /** What the installed SCIM authenticator accepts (token-auth: OAuth bearer tokens). */
  authenticationSchemes: readonly ScimAuthenticationScheme[];
  documentationUri?: string;
}

/** RFC 7643 §5. */
export function serviceProviderConfig(opts: ServiceProviderConfigOptions) {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
    ...(opts.documentationUri ? { documentationUri: opts.documentationUri } : {}),
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: opts.maxPayloadSize },
    filter: { supported: true, maxResults: opts.maxResults },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: opts.authenticationSchemes,
    meta: {
      resourceType: 'ServiceProviderConfig',
      location: `${trimBase(opts.baseUrl)}/ServiceProviderConfig`,
    },
  };
}

/** RFC 7643 §6: the User type (with the enterprise and Docker extensions) and the Group type. */
export function resourceTypes(baseUrl: string) {
  return [USER_RESOURCE, GROUP_RESOURCE].map((rt) => resourceTypeDocument(rt, baseUrl));
}

/** RFC 7643 §6: the ResourceType document of one resource (what a plugin serving it advertises). */
export function resourceTypeDocument(rt: ResourceSchema, baseUrl: string) {
  const base = trimBase(baseUrl);
  return {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: rt.resourceType,
    name: rt.resourceType,
    description: rt.core.description,
    endpoint: rt.endpoint,
    schema: rt.core.id,
    ...(rt.extensions.length > 0
      ? { schemaExtensions: rt.extensions.map((e) => ({ schema: e.id, required: false })) }
      : {}),
    meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/${rt.resourceType}` },
  };
}

function renderAttribute(a: AttributeDefinition): Record<string, unknown> {
  return {
    name: a.name,
    type: a.type,
    multiValued: a.multiValued,
    description: a.description,
    required: a.required,
    caseExact: a.caseExact,
    mutability: a.mutability,
    returned: a.returned,
    uniqueness: a.uniqueness,
    ...(a.canonicalValues ? { canonicalValues: [...a.canonicalValues] } : {}),
    ...(a.referenceTypes ? { referenceTypes: [...a.referenceTypes] } : {}),
    ...(a.subAttributes ? { subAttributes: a.subAttributes.map(renderAttribute) } : {}),
  };
}

/** RFC 7643 §7: User, Enterprise User, Docker User and Group schema representations. */
export function schemaDocuments(baseUrl: string) {
  return [USER_RESOURCE, GROUP_RESOURCE].flatMap((rt) => resourceSchemaDocuments(rt, baseUrl));
}

/** RFC 7643 §7: the schema representations of one resource, its core schema then its extensions. */
export function resourceSchemaDocuments(rt: ResourceSchema, baseUrl: string) {
  const base = trimBase(baseUrl);
  return [rt.core, ...rt.extensions].map((s) => ({
    schemas: [SCHEMA_SCHEMA],
    id: s.id,
    name: s.name,
    description: s.description,
    attributes: s.attributes.map(renderAttribute),
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${s.id}` },
  }));
}
