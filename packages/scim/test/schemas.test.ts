import { describe, expect, it } from 'vitest';
import {
  DOCKER_USER_SCHEMA,
  ENTERPRISE_USER_SCHEMA,
  GROUP_RESOURCE,
  GROUP_SCHEMA,
  RESOURCE_TYPE_SCHEMA,
  SCHEMA_SCHEMA,
  SERVICE_PROVIDER_CONFIG_SCHEMA,
  USER_RESOURCE,
  USER_SCHEMA,
  findAttribute,
  findSubAttribute,
  resourceTypes,
  schemaDocuments,
  serviceProviderConfig,
} from '../src/schemas.ts';

const BASE = 'https://gw.example/scim/v2';

describe('serviceProviderConfig', () => {
  const bearer = { type: 'oauthbearertoken', name: 'OAuth Bearer Token', description: 'a token', primary: true };
  const spc = serviceProviderConfig({ baseUrl: `${BASE}/`, maxResults: 200, maxPayloadSize: 1_048_576, authenticationSchemes: [bearer] });
  it.each([
    ['schemas', [SERVICE_PROVIDER_CONFIG_SCHEMA]],
    ['patch', { supported: true }],
    ['bulk', { supported: false, maxOperations: 0, maxPayloadSize: 1_048_576 }],
    ['filter', { supported: true, maxResults: 200 }],
    ['changePassword', { supported: false }],
    ['sort', { supported: true }],
    ['etag', { supported: true }],
    ['meta', { resourceType: 'ServiceProviderConfig', location: `${BASE}/ServiceProviderConfig` }],
  ])('%s', (key, value) => {
    expect(spc[key as keyof typeof spc]).toEqual(value);
  });

  it("advertises the authenticator's schemes (an array, as RFC 7643 §5 says)", () => {
    expect(spc.authenticationSchemes).toEqual([bearer]);
  });
});

describe('resourceTypes', () => {
  const types = resourceTypes(BASE);
  it.each([
    {
      id: 'User',
      endpoint: '/Users',
      schema: USER_SCHEMA,
      schemaExtensions: [
        { schema: ENTERPRISE_USER_SCHEMA, required: false },
        { schema: DOCKER_USER_SCHEMA, required: false },
      ],
    },
    { id: 'Group', endpoint: '/Groups', schema: GROUP_SCHEMA, schemaExtensions: undefined },
  ])('$id', ({ id, endpoint, schema, schemaExtensions }) => {
    const rt = types.find((t) => t.id === id)!;
    expect(rt).toMatchObject({ schemas: [RESOURCE_TYPE_SCHEMA], name: id, endpoint, schema });
    expect((rt as { schemaExtensions?: unknown }).schemaExtensions).toEqual(schemaExtensions);
    expect(rt.meta).toEqual({ resourceType: 'ResourceType', location: `${BASE}/ResourceTypes/${id}` });
  });
});

describe('schemaDocuments', () => {
  const docs = schemaDocuments(BASE);
  const byId = (id: string) => docs.find((d) => d.id === id)!;
  type Attr = Record<string, unknown> & { name: string; subAttributes?: Attr[] };
  const attr = (id: string, path: string): Attr => {
    const [top, sub] = path.split('.');
    const a = (byId(id).attributes as Attr[]).find((x) => x.name === top)!;
    return sub ? a.subAttributes!.find((x) => x.name === sub)! : a;
  };

  it('lists the four schemas, each with meta.location', () => {
    expect(docs.map((d) => d.id)).toEqual([USER_SCHEMA, ENTERPRISE_USER_SCHEMA, DOCKER_USER_SCHEMA, GROUP_SCHEMA]);
    for (const d of docs) {
      expect(d.schemas).toEqual([SCHEMA_SCHEMA]);
      expect(d.meta).toEqual({ resourceType: 'Schema', location: `${BASE}/Schemas/${d.id}` });
    }
  });

  it('describes every attribute with all RFC 7643 §7 characteristics', () => {
    const walk = (attrs: Attr[]) => {
      for (const a of attrs) {
        for (const key of ['name', 'type', 'multiValued', 'description', 'required', 'caseExact', 'mutability', 'returned', 'uniqueness']) {
          expect(a, `${a.name}.${key}`).toHaveProperty(key);
        }
        expect(a.type === 'complex').toBe(Array.isArray(a.subAttributes));
        if (a.subAttributes) walk(a.subAttributes);
      }
    };
    for (const d of docs) walk(d.attributes as Attr[]);
  });

  it.each([
    { id: USER_SCHEMA, path: 'userName', expected: { type: 'string', required: true, caseExact: false, uniqueness: 'server' } },
    { id: USER_SCHEMA, path: 'active', expected: { type: 'boolean', mutability: 'readWrite' } },
    { id: USER_SCHEMA, path: 'name.givenName', expected: { type: 'string', multiValued: false } },
    { id: USER_SCHEMA, path: 'emails', expected: { type: 'complex', multiValued: true } },
    { id: USER_SCHEMA, path: 'emails.primary', expected: { type: 'boolean' } },
    { id: USER_SCHEMA, path: 'groups', expected: { mutability: 'readOnly', multiValued: true } },
    { id: ENTERPRISE_USER_SCHEMA, path: 'employeeNumber', expected: { type: 'string' } },
    { id: ENTERPRISE_USER_SCHEMA, path: 'manager.value', expected: { caseExact: true } },
    { id: DOCKER_USER_SCHEMA, path: 'dockerRole', expected: { type: 'string', canonicalValues: ['member', 'editor', 'owner'] } },
    { id: DOCKER_USER_SCHEMA, path: 'dockerOrg', expected: { type: 'string', mutability: 'readWrite' } },
    { id: DOCKER_USER_SCHEMA, path: 'dockerTeam', expected: { type: 'string' } },
    { id: GROUP_SCHEMA, path: 'displayName', expected: { required: true } },
    { id: GROUP_SCHEMA, path: 'members.value', expected: { caseExact: true, mutability: 'immutable' } },
  ])('$id $path', ({ id, path, expected }) => {
    expect(attr(id, path)).toMatchObject(expected);
  });

  it('leaves the common attributes (id, externalId, meta) out of schema documents', () => {
    const names = (byId(USER_SCHEMA).attributes as Attr[]).map((a) => a.name);
    expect(names).not.toContain('id');
    expect(names).not.toContain('meta');
  });
});

describe('findAttribute', () => {
  it.each([
    { schema: USER_RESOURCE, urn: undefined, name: 'USERNAME', found: 'userName' },
    { schema: USER_RESOURCE, urn: undefined, name: 'id', found: 'id' },
    { schema: USER_RESOURCE, urn: undefined, name: 'externalid', found: 'externalId' },
    { schema: USER_RESOURCE, urn: DOCKER_USER_SCHEMA, name: 'dockerrole', found: 'dockerRole' },
    { schema: USER_RESOURCE, urn: undefined, name: 'dockerRole', found: undefined },
    { schema: USER_RESOURCE, urn: undefined, name: 'nickname', found: 'nickName' },
    { schema: USER_RESOURCE, urn: undefined, name: 'password', found: undefined },
    { schema: GROUP_RESOURCE, urn: undefined, name: 'Members', found: 'members' },
    { schema: GROUP_RESOURCE, urn: DOCKER_USER_SCHEMA, name: 'dockerRole', found: undefined },
  ])('$name in $urn', ({ schema, urn, name, found }) => {
    expect(findAttribute(schema, urn, name)?.name).toBe(found);
  });

  it('finds sub-attributes case-insensitively', () => {
    expect(findSubAttribute(findAttribute(USER_RESOURCE, undefined, 'emails'), 'PRIMARY')?.name).toBe('primary');
    expect(findSubAttribute(undefined, 'x')).toBeUndefined();
  });
});
