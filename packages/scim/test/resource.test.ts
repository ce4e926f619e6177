import { describe, expect, it } from 'vitest';
import { InputError, PreconditionFailedError } from '@doorman/plugin-api';
import {
  assertIfMatch,
  etagFor,
  ifMatchSatisfied,
  listResponse,
  parseIfMatch,
  parseListParams,
  projectAttributes,
  type ScimResource,
} from '../src/resource.ts';
import { DOCKER_USER_SCHEMA as DOCKER, ENTERPRISE_USER_SCHEMA as ENTERPRISE, GROUP_RESOURCE, GROUP_SCHEMA, LIST_RESPONSE_SCHEMA, USER_RESOURCE, USER_SCHEMA } from '../src/schemas.ts';

describe('listResponse', () => {
  it.each([
    { resources: [{ id: 'a' }, { id: 'b' }], totalResults: 10, startIndex: 3 },
    { resources: [], totalResults: 10, startIndex: 1 },
    { resources: [], totalResults: 0, startIndex: 1 },
  ])('$totalResults total from $startIndex', ({ resources, totalResults, startIndex }) => {
    expect(listResponse(resources, { totalResults, startIndex })).toEqual({
      schemas: [LIST_RESPONSE_SCHEMA],
      totalResults,
      startIndex,
      itemsPerPage: resources.length,
      Resources: resources,
    });
  });
});

const USER: ScimResource = {
  schemas: [USER_SCHEMA, ENTERPRISE, DOCKER],
  id: 'u-1',
  externalId: 'ext',
  userName: 'bjensen@example.com',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  active: true,
  emails: [
    { value: 'b@example.com', type: 'work', primary: true },
    { value: 'b@home.example', type: 'home' },
  ],
  groups: [{ value: 'g-1', display: 'moby:dev' }],
  [ENTERPRISE]: { employeeNumber: '7', department: 'R&D' },
  [DOCKER]: { dockerRole: 'owner', dockerOrg: 'moby' },
  meta: { resourceType: 'User', location: 'https://gw/Users/u-1' },
};
const BASE = { schemas: USER.schemas, id: 'u-1' };

describe('projectAttributes', () => {
  it.each([
    { name: 'no parameters: everything', params: {}, out: USER },
    { name: 'attributes=userName', params: { attributes: ['userName'] }, out: { ...BASE, userName: USER.userName } },
    { name: 'comma-separated string, any case', params: { attributes: 'USERNAME, Active' }, out: { ...BASE, userName: USER.userName, active: true } },
    { name: 'a sub-attribute of a complex attribute', params: { attributes: ['name.givenName'] }, out: { ...BASE, name: { givenName: 'Barbara' } } },
    {
      name: 'sub-attributes of a multi-valued attribute',
      params: { attributes: ['emails.value', 'emails.type'] },
      out: { ...BASE, emails: [{ value: 'b@example.com', type: 'work' }, { value: 'b@home.example', type: 'home' }] },
    },
    { name: 'core-URN-qualified name', params: { attributes: [`${USER_SCHEMA}:userName`] }, out: { ...BASE, userName: USER.userName } },
    { name: 'extension attribute', params: { attributes: [`${DOCKER}:dockerRole`] }, out: { ...BASE, [DOCKER]: { dockerRole: 'owner' } } },
    { name: 'whole extension', params: { attributes: [ENTERPRISE.toLowerCase()] }, out: { ...BASE, [ENTERPRISE]: USER[ENTERPRISE] } },
    { name: 'meta only when asked', params: { attributes: ['meta'] }, out: { ...BASE, meta: USER.meta } },
    { name: 'unknown names select nothing', params: { attributes: ['nickName'] }, out: BASE },
    { name: 'id and schemas even when not requested', params: { attributes: ['externalId'] }, out: { ...BASE, externalId: 'ext' } },
    {
      name: 'excludedAttributes removes attributes',
      params: { excludedAttributes: ['emails', 'groups', ENTERPRISE, `${DOCKER}:dockerOrg`, 'name.familyName'] },
      out: {
        ...Object.fromEntries(Object.entries(USER).filter(([k]) => !['emails', 'groups', ENTERPRISE].includes(k))),
        name: { givenName: 'Barbara' },
        [DOCKER]: { dockerRole: 'owner' },
      },
    },
    { name: 'id cannot be excluded', params: { excludedAttributes: 'id,meta' }, out: Object.fromEntries(Object.entries(USER).filter(([k]) => k !== 'meta')) },
    {
      name: 'excluding a sub-attribute of a multi-valued attribute',
      params: { excludedAttributes: ['emails.primary', 'emails.type', 'groups', ENTERPRISE, DOCKER, 'name', 'meta'] },
      out: { ...BASE, externalId: 'ext', userName: USER.userName, active: true, emails: [{ value: 'b@example.com' }, { value: 'b@home.example' }] },
    },
    { name: 'attributes wins over excludedAttributes', params: { attributes: ['userName'], excludedAttributes: ['userName'] }, out: { ...BASE, userName: USER.userName } },
  ])('$name', ({ params, out }) => {
    expect(projectAttributes(USER, params, USER_RESOURCE)).toEqual(out);
  });

  it('Entra group lookups without members', () => {
    const group = { schemas: [GROUP_SCHEMA], id: 'g', displayName: 'a:b', members: [{ value: 'u' }] };
    expect(projectAttributes(group, { excludedAttributes: 'members' }, GROUP_RESOURCE)).toEqual({ schemas: [GROUP_SCHEMA], id: 'g', displayName: 'a:b' });
  });

  it('does not modify the resource', () => {
    const copy = structuredClone(USER);
    projectAttributes(USER, { excludedAttributes: ['name.givenName', 'emails.value'] }, USER_RESOURCE);
    expect(USER).toEqual(copy);
  });

  it.each(['emails[type eq "work"]', 'name.', 'urn:example:x:y'])('rejects %s with invalidValue', (name) => {
    expect(() => projectAttributes(USER, { attributes: [name] }, USER_RESOURCE)).toThrow(expect.objectContaining({ scimType: 'invalidValue' }));
  });
});

describe('parseListParams', () => {
  const opts = { maxCount: 200, defaultCount: 100 };
  const defaults = { startIndex: 1, count: 100, attributes: [], excludedAttributes: [] };
  it.each([
    { query: {}, out: defaults },
    { query: { startIndex: '21', count: '10' }, out: { ...defaults, startIndex: 21, count: 10 } },
    { query: { startIndex: '0' }, out: defaults },
    { query: { startIndex: '-4' }, out: defaults },
    { query: { count: '0' }, out: { ...defaults, count: 0 } },
    { query: { count: '-1' }, out: { ...defaults, count: 0 } },
    { query: { count: '5000' }, out: { ...defaults, count: 200 } },
    { query: { count: ' 7 ' }, out: { ...defaults, count: 7 } },
    { query: { STARTINDEX: '2', Count: '3' }, out: { ...defaults, startIndex: 2, count: 3 } },
    { query: { sortBy: 'userName', sortOrder: 'Descending' }, out: { ...defaults, sortBy: 'userName', sortOrder: 'descending' } },
    { query: { attributes: 'userName, name.givenName,,' }, out: { ...defaults, attributes: ['userName', 'name.givenName'] } },
    { query: { excludedAttributes: ['members', 'meta'] }, out: { ...defaults, excludedAttributes: ['members', 'meta'] } },
    { query: { filter: 'userName eq "a"' }, out: { ...defaults, filter: 'userName eq "a"' } },
    { query: { count: ['10'] }, out: { ...defaults, count: 10 } },
    { query: { other: 'x', startIndex: undefined }, out: defaults },
    // SearchRequest body (RFC 7644 §3.4.3): numbers and arrays
    { query: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], startIndex: 3, count: 2, attributes: ['userName'] }, out: { ...defaults, startIndex: 3, count: 2, attributes: ['userName'] } },
  ])('$query', ({ query, out }) => {
    expect(parseListParams(query, opts)).toEqual(out);
  });

  it('defaults count to maxCount', () => {
    expect(parseListParams({}, { maxCount: 50 }).count).toBe(50);
  });

  it.each([
    { query: { startIndex: 'abc' }, field: 'startIndex', scimType: 'invalidValue' },
    { query: { startIndex: '1.5' }, field: 'startIndex', scimType: 'invalidValue' },
    { query: { count: '' }, field: 'count', scimType: 'invalidValue' },
    { query: { count: 2.5 }, field: 'count', scimType: 'invalidValue' },
    { query: { count: ['1', '2'] }, field: 'count', scimType: 'invalidValue' },
    { query: { sortOrder: 'up' }, field: 'sortOrder', scimType: 'invalidValue' },
    { query: { sortBy: '' }, field: 'sortBy', scimType: 'invalidValue' },
    { query: { filter: '  ' }, field: 'filter', scimType: 'invalidFilter' },
    { query: { filter: 5 }, field: 'filter', scimType: 'invalidValue' },
  ])('rejects $query', ({ query, field, scimType }) => {
    let caught: unknown;
    try {
      parseListParams(query, opts);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect(caught).toMatchObject({ field, scimType, status: 400 });
  });
});

describe('ETags', () => {
  it.each([
    [0, 'W/"0"'],
    [7, 'W/"7"'],
    [123456, 'W/"123456"'],
  ])('etagFor(%i) = %s', (version, tag) => {
    expect(etagFor(version)).toBe(tag);
  });

  it.each([-1, 1.5, Number.NaN])('etagFor(%s) throws', (v) => {
    expect(() => etagFor(v)).toThrow(TypeError);
  });

  it.each([
    { header: undefined, parsed: undefined },
    { header: '', parsed: undefined },
    { header: '*', parsed: '*' },
    { header: ' * ', parsed: '*' },
    { header: 'W/"3"', parsed: [3] },
    { header: '"3"', parsed: [3] },
    { header: 'W/"3", W/"4"', parsed: [3, 4] },
    { header: ['W/"3"', '"5"'], parsed: [3, 5] },
    { header: '"abc", W/"2"', parsed: [2] },
    { header: 'garbage', parsed: [] },
  ])('parseIfMatch($header)', ({ header, parsed }) => {
    expect(parseIfMatch(header)).toEqual(parsed);
  });

  it.each([
    { header: undefined, version: 3, ok: true },
    { header: '*', version: 3, ok: true },
    { header: 'W/"3"', version: 3, ok: true },
    { header: 'W/"2", W/"3"', version: 3, ok: true },
    { header: 'W/"2"', version: 3, ok: false },
    { header: 'garbage', version: 3, ok: false },
  ])('ifMatchSatisfied($header, $version) = $ok', ({ header, version, ok }) => {
    expect(ifMatchSatisfied(header, version)).toBe(ok);
    if (ok) expect(() => assertIfMatch(header, version)).not.toThrow();
    else expect(() => assertIfMatch(header, version)).toThrow(PreconditionFailedError);
  });
});

// No attribute Doorman models is "returned: never" (passwords are discarded on write), but a schema
// may declare one: projection must drop it from the core and from extensions.
describe('returned: never', () => {
  const EXT = 'urn:example:params:scim:schemas:extension:secret:2.0:User';
  const neverDef = (name: string) => ({ ...USER_RESOURCE.core.attributes.find((a) => a.name === 'displayName')!, name, returned: 'never' as const });
  const schema = {
    ...USER_RESOURCE,
    core: { ...USER_RESOURCE.core, attributes: [...USER_RESOURCE.core.attributes, neverDef('secret')] },
    extensions: [...USER_RESOURCE.extensions, { id: EXT, name: 'Secret', description: '', attributes: [neverDef('pin')] }],
  };
  const user = { ...USER, schemas: [...USER.schemas, EXT], Secret: 's3cr3t', [EXT]: { PIN: '1234', note: 'kept' } };

  it.each([{}, { attributes: 'secret,userName' }, { excludedAttributes: 'emails' }])('a core attribute never leaves (%o)', (params) => {
    const out = projectAttributes(user, params, schema);
    expect(out).not.toHaveProperty('Secret');
    expect(out.id).toBe('u-1');
  });

  it('an extension attribute is dropped whatever the case of its key, and the resource is not modified', () => {
    const { Secret: _, ...withoutCoreSecret } = user;
    expect(projectAttributes(withoutCoreSecret, {}, schema)[EXT]).toEqual({ note: 'kept' });
    expect(projectAttributes(user, {}, schema)[EXT]).toEqual({ note: 'kept' });
    expect(user[EXT]).toEqual({ PIN: '1234', note: 'kept' });
    expect(user.Secret).toBe('s3cr3t');
  });
});
