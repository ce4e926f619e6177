import { describe, expect, it } from 'vitest';
import { InputError } from '@doorman/plugin-api';
import { applyPatch, normalizePatchRequest } from '../src/patch.ts';
import type { ScimResource } from '../src/resource.ts';
import { DOCKER_USER_SCHEMA as DOCKER, ENTERPRISE_USER_SCHEMA as ENTERPRISE, GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA } from '../src/schemas.ts';

const patchOp = (...Operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations });

const WORK = { value: 'bjensen@example.com', type: 'work', primary: true };
const HOME = { value: 'babs@home.example', type: 'home', primary: false };

const USER: ScimResource = {
  schemas: [USER_SCHEMA],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: 'bjensen',
  userName: 'bjensen@example.com',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  displayName: 'Babs',
  active: true,
  emails: [WORK, HOME],
  meta: {
    resourceType: 'User',
    created: '2024-01-01T00:00:00.000Z',
    lastModified: '2024-01-02T00:00:00.000Z',
    location: 'https://gw.example/scim/v2/Users/2819c223-7f76-453a-919d-413861904646',
  },
};

const WITH_EXT: ScimResource = {
  ...USER,
  schemas: [USER_SCHEMA, ENTERPRISE, DOCKER],
  [ENTERPRISE]: { employeeNumber: '701984', manager: { value: 'mgr-1' } },
  [DOCKER]: { dockerRole: 'member', dockerOrg: 'moby' },
};

const GROUP: ScimResource = {
  schemas: [GROUP_SCHEMA],
  id: 'e9e30dba-f08f-4109-8486-d5c6a331660a',
  displayName: 'moby:developers',
  members: [
    { value: 'u-1', display: 'alice@example.com' },
    { value: 'u-2', display: 'bob@example.com' },
  ],
  meta: { resourceType: 'Group', created: '2024-01-01T00:00:00.000Z', lastModified: '2024-01-01T00:00:00.000Z' },
};

const without = (r: ScimResource, ...keys: string[]) =>
  Object.fromEntries(Object.entries(r).filter(([k]) => !keys.includes(k))) as ScimResource;

interface Case {
  name: string;
  schema?: 'User' | 'Group';
  resource?: ScimResource;
  body: unknown;
  expected: ScimResource;
}

const entra: Case[] = [
  {
    name: 'disable user, pre-aadOptscim062020 ("Replace", "False")',
    body: patchOp({ op: 'Replace', path: 'active', value: 'False' }),
    expected: { ...USER, active: false },
  },
  {
    name: 'disable user, compliant',
    body: patchOp({ op: 'replace', path: 'active', value: false }),
    expected: { ...USER, active: false },
  },
  {
    name: 'enable user with "True"',
    resource: { ...USER, active: false },
    body: patchOp({ op: 'Replace', path: 'active', value: 'True' }),
    expected: USER,
  },
  {
    name: 'update multi-valued and single-valued properties',
    body: patchOp(
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
      { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
    ),
    expected: {
      ...USER,
      name: { givenName: 'Barbara', familyName: 'updatedFamilyName' },
      emails: [{ ...WORK, value: 'updatedEmail@microsoft.com' }, HOME],
    },
  },
  {
    name: 'update userName',
    body: patchOp({ op: 'Replace', path: 'userName', value: '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com' }),
    expected: { ...USER, userName: '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com' },
  },
  {
    name: '"Add" on an existing work email replaces its value (Entra sends Add for changes)',
    body: patchOp({ op: 'Add', path: 'emails[type eq "work"].value', value: 'new@example.com' }),
    expected: { ...USER, emails: [{ ...WORK, value: 'new@example.com' }, HOME] },
  },
  {
    name: 'path-less replace with dotted, filtered and URN-qualified keys (aadOptscim062020)',
    body: patchOp({
      op: 'replace',
      value: {
        displayName: 'Pvlo',
        'emails[type eq "work"].value': 'TestBcwqnm@test.microsoft.com',
        'name.givenName': 'Gtfd',
        'name.familyName': 'Pkqf',
        externalId: 'Eqpj',
        [`${ENTERPRISE}:employeeNumber`]: 'Eqpj',
        active: 'False',
      },
    }),
    expected: {
      ...USER,
      schemas: [USER_SCHEMA, ENTERPRISE],
      displayName: 'Pvlo',
      emails: [{ ...WORK, value: 'TestBcwqnm@test.microsoft.com' }, HOME],
      name: { givenName: 'Gtfd', familyName: 'Pkqf' },
      externalId: 'Eqpj',
      active: false,
      [ENTERPRISE]: { employeeNumber: 'Eqpj' },
    },
  },
  {
    name: 'add an unmodelled single-valued attribute (kept as sent)',
    body: patchOp({ op: 'Add', path: 'nickName', value: 'Babs' }),
    expected: { ...USER, nickName: 'Babs' },
  },
  {
    name: 'path-less add of an unmodelled attribute (aadOptscim062020)',
    body: patchOp({ op: 'add', value: { nickName: 'Babs' } }),
    expected: { ...USER, nickName: 'Babs' },
  },
  {
    name: 'enterprise manager sent as a bare id',
    body: patchOp({ op: 'Add', path: `${ENTERPRISE}:manager`, value: '2819c223-7f76-453a-919d-413861904646' }),
    expected: { ...USER, schemas: [USER_SCHEMA, ENTERPRISE], [ENTERPRISE]: { manager: { value: '2819c223-7f76-453a-919d-413861904646' } } },
  },
  {
    name: 'enterprise manager.value path',
    resource: WITH_EXT,
    body: patchOp({ op: 'Replace', path: `${ENTERPRISE}:manager.value`, value: 'mgr-2' }),
    expected: { ...WITH_EXT, [ENTERPRISE]: { employeeNumber: '701984', manager: { value: 'mgr-2' } } },
  },
  {
    name: 'remove the last enterprise attribute drops the extension and its schema URN',
    resource: { ...USER, schemas: [USER_SCHEMA, ENTERPRISE], [ENTERPRISE]: { manager: { value: 'mgr-1' } } },
    body: patchOp({ op: 'Remove', path: `${ENTERPRISE}:manager` }),
    expected: USER,
  },
  {
    name: 'Docker role mapping attributes (custom extension, Entra target paths)',
    body: patchOp(
      { op: 'Add', path: `${DOCKER}:dockerRole`, value: 'owner' },
      { op: 'Add', path: `${DOCKER}:dockerOrg`, value: 'moby' },
      { op: 'Add', path: `${DOCKER}:dockerTeam`, value: 'dev' },
    ),
    expected: { ...USER, schemas: [USER_SCHEMA, DOCKER], [DOCKER]: { dockerRole: 'owner', dockerOrg: 'moby', dockerTeam: 'dev' } },
  },
  {
    name: 'Docker extension path in another case',
    resource: WITH_EXT,
    body: patchOp({ op: 'Replace', path: 'URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:DOCKER:2.0:USER:DOCKERROLE', value: 'editor' }),
    expected: { ...WITH_EXT, [DOCKER]: { dockerRole: 'editor', dockerOrg: 'moby' } },
  },
  {
    name: 'primary given as "True" inside a new email',
    body: patchOp({ op: 'Add', path: 'emails', value: [{ value: 'x@example.com', type: 'other', primary: 'True' }] }),
    expected: { ...USER, emails: [WORK, HOME, { value: 'x@example.com', type: 'other', primary: true }] },
  },
  {
    name: 'set primary through a filtered path with "False"',
    body: patchOp({ op: 'Replace', path: 'emails[type eq "work"].primary', value: 'False' }),
    expected: { ...USER, emails: [{ ...WORK, primary: false }, HOME] },
  },
];

const entraGroups: Case[] = [
  {
    name: 'add members (with name and "$ref": null)',
    schema: 'Group',
    resource: GROUP,
    body: patchOp({ name: 'addMember', op: 'Add', path: 'members', value: [{ $ref: null, value: 'u-3' }] }),
    expected: { ...GROUP, members: [...(GROUP.members as unknown[]), { value: 'u-3' }] },
  },
  {
    name: 'remove members by value, pre-aadOptscim062020 (no wipe of the group)',
    schema: 'Group',
    resource: GROUP,
    body: patchOp({ name: 'removeMember', op: 'Remove', path: 'members', value: [{ $ref: null, value: 'u-1' }] }),
    expected: { ...GROUP, members: [{ value: 'u-2', display: 'bob@example.com' }] },
  },
  {
    name: 'remove members with a value filter (aadOptscim062020)',
    schema: 'Group',
    resource: GROUP,
    body: patchOp({ op: 'remove', path: 'members[value eq "u-2"]' }),
    expected: { ...GROUP, members: [{ value: 'u-1', display: 'alice@example.com' }] },
  },
  {
    name: 'remove the last member leaves the attribute unassigned',
    schema: 'Group',
    resource: { ...GROUP, members: [{ value: 'u-1' }] },
    body: patchOp({ op: 'Remove', path: 'members', value: [{ value: 'u-1' }] }),
    expected: without(GROUP, 'members'),
  },
  {
    name: 'remove a member that is not there is a no-op',
    schema: 'Group',
    resource: GROUP,
    body: patchOp({ op: 'Remove', path: 'members', value: [{ value: 'u-9' }] }),
    expected: GROUP,
  },
  {
    name: 'add an existing member does not duplicate it',
    schema: 'Group',
    resource: GROUP,
    body: patchOp({ op: 'Add', path: 'members', value: [{ value: 'u-1' }, { value: 'u-4' }, { value: 'u-4' }] }),
    expected: { ...GROUP, members: [...(GROUP.members as unknown[]), { value: 'u-4' }] },
  },
  {
    name: 'rename a group',
    schema: 'Group',
    resource: GROUP,
    body: patchOp({ op: 'Replace', path: 'displayName', value: 'moby:ops' }),
    expected: { ...GROUP, displayName: 'moby:ops' },
  },
];

const okta: Case[] = [
  {
    name: 'deactivate (path-less replace)',
    body: patchOp({ op: 'replace', value: { active: false } }),
    expected: { ...USER, active: false },
  },
  {
    name: 'password sync is accepted but never stored',
    body: patchOp({ op: 'replace', value: { password: 't1meMa$heen' } }),
    expected: USER,
  },
  {
    name: 'profile update with a complex value merges sub-attributes',
    body: patchOp({ op: 'replace', value: { name: { givenName: 'Barb' } } }),
    expected: { ...USER, name: { givenName: 'Barb', familyName: 'Jensen' } },
  },
  {
    name: 'group rename repeats the unchanged id',
    schema: 'Group',
    resource: GROUP,
    body: patchOp({ op: 'replace', value: { id: GROUP.id, displayName: 'Test SCIMv2' } }),
    expected: { ...GROUP, displayName: 'Test SCIMv2' },
  },
  {
    name: 'group add members',
    schema: 'Group',
    resource: GROUP,
    body: patchOp({ op: 'add', path: 'members', value: [{ value: 'u-5', display: 'test.user@okta.local' }] }),
    expected: { ...GROUP, members: [...(GROUP.members as unknown[]), { value: 'u-5', display: 'test.user@okta.local' }] },
  },
  {
    name: 'group add members when the group has none',
    schema: 'Group',
    resource: without(GROUP, 'members'),
    body: patchOp({ op: 'add', path: 'members', value: [{ value: 'u-5' }] }),
    expected: { ...GROUP, members: [{ value: 'u-5' }] },
  },
  {
    name: 'group remove member by value filter',
    schema: 'Group',
    resource: GROUP,
    body: patchOp({ op: 'remove', path: 'members[value eq "u-1"]' }),
    expected: { ...GROUP, members: [{ value: 'u-2', display: 'bob@example.com' }] },
  },
  {
    name: 'group replace members',
    schema: 'Group',
    resource: GROUP,
    body: patchOp({ op: 'replace', path: 'members', value: [{ value: 'u-9' }] }),
    expected: { ...GROUP, members: [{ value: 'u-9' }] },
  },
];

const rfc: Case[] = [
  {
    name: 'value filter containing ":" (scim-patch splits paths at the last ":")',
    resource: { ...USER, emails: [{ value: 'sip:babs@example.com', type: 'other' }] },
    body: patchOp({ op: 'replace', path: 'emails[value eq "sip:babs@example.com"].display', value: 'SIP' }),
    expected: { ...USER, emails: [{ value: 'sip:babs@example.com', type: 'other', display: 'SIP' }] },
  },
  {
    name: 'value filter with an escaped quote',
    resource: { ...USER, emails: [{ value: 'a"b@example.com', type: 'work' }] },
    body: patchOp({ op: 'remove', path: 'emails[value eq "a\\"b@example.com"]' }),
    expected: without(USER, 'emails'),
  },
  {
    name: 'value filters compare case-insensitively for caseExact=false sub-attributes',
    body: patchOp({ op: 'remove', path: 'emails[type eq "WORK"]' }),
    expected: { ...USER, emails: [HOME] },
  },
  {
    name: 'remove with a filter that matches nothing is a no-op',
    body: patchOp({ op: 'remove', path: 'emails[type eq "other"]' }),
    expected: USER,
  },
  {
    name: 'remove a path that does not exist is a no-op',
    body: patchOp({ op: 'remove', path: 'title' }, { op: 'remove', path: `${ENTERPRISE}:department` }),
    expected: USER,
  },
  {
    name: 'add through a filter that matches nothing creates the value',
    body: patchOp({ op: 'add', path: 'emails[type eq "other"].value', value: 'o@example.com' }),
    expected: { ...USER, emails: [WORK, HOME, { type: 'other', value: 'o@example.com' }] },
  },
  {
    name: 'replace a whole filtered value merges into it',
    body: patchOp({ op: 'replace', path: 'emails[type eq "home"]', value: { value: 'new@home.example', display: 'Home' } }),
    expected: { ...USER, emails: [WORK, { value: 'new@home.example', type: 'home', primary: false, display: 'Home' }] },
  },
  {
    name: 'complex filter with and/not',
    body: patchOp({ op: 'replace', path: 'emails[type eq "home" and not (primary eq true)].display', value: 'H' }),
    expected: { ...USER, emails: [WORK, { ...HOME, display: 'H' }] },
  },
  {
    name: 'remove a sub-attribute of the filtered values',
    body: patchOp({ op: 'remove', path: 'emails[type eq "home"].primary' }),
    expected: { ...USER, emails: [WORK, { value: 'babs@home.example', type: 'home' }] },
  },
  {
    name: 'attribute names in paths are case-insensitive (canonical names in the result)',
    body: patchOp({ op: 'replace', path: 'NAME.GIVENNAME', value: 'B' }, { op: 'replace', path: 'DisplayName', value: 'b' }),
    expected: { ...USER, name: { givenName: 'B', familyName: 'Jensen' }, displayName: 'b' },
  },
  {
    name: 'core-schema-qualified path',
    body: patchOp({ op: 'replace', path: `${USER_SCHEMA}:name.givenName`, value: 'B' }),
    expected: { ...USER, name: { givenName: 'B', familyName: 'Jensen' } },
  },
  {
    name: "Docker's `enabled` alias for active (path)",
    body: patchOp({ op: 'replace', path: 'enabled', value: false }),
    expected: { ...USER, active: false },
  },
  {
    name: "Docker's `enabled` alias for active (path-less, string)",
    body: patchOp({ op: 'Replace', value: { enabled: 'false' } }),
    expected: { ...USER, active: false },
  },
  {
    name: 'replace on a bare extension URN merges its attributes',
    resource: WITH_EXT,
    body: patchOp({ op: 'replace', path: DOCKER, value: { dockerTeam: 'ops' } }),
    expected: { ...WITH_EXT, [DOCKER]: { dockerRole: 'member', dockerOrg: 'moby', dockerTeam: 'ops' } },
  },
  {
    name: 'path-less add with a nested extension object',
    body: patchOp({ op: 'add', value: { [DOCKER]: { dockerRole: 'owner' }, 'name.formatted': 'Ms. Barbara Jensen' } }),
    expected: {
      ...USER,
      schemas: [USER_SCHEMA, DOCKER],
      name: { givenName: 'Barbara', familyName: 'Jensen', formatted: 'Ms. Barbara Jensen' },
      [DOCKER]: { dockerRole: 'owner' },
    },
  },
  {
    name: 'remove a whole extension',
    resource: WITH_EXT,
    body: patchOp({ op: 'remove', path: ENTERPRISE }),
    expected: { ...without(WITH_EXT, ENTERPRISE), schemas: [USER_SCHEMA, DOCKER] },
  },
  {
    name: 'add a lone email object (read as a one-element list)',
    body: patchOp({ op: 'add', path: 'emails', value: { value: 'o@example.com' } }),
    expected: { ...USER, emails: [WORK, HOME, { value: 'o@example.com' }] },
  },
  {
    name: 'replace with null unassigns',
    body: patchOp({ op: 'replace', path: 'displayName', value: null }),
    expected: without(USER, 'displayName'),
  },
  {
    name: 'remove all emails',
    body: patchOp({ op: 'remove', path: 'emails' }),
    expected: without(USER, 'emails'),
  },
  {
    name: 'operations apply in order',
    body: patchOp({ op: 'replace', path: 'displayName', value: 'one' }, { op: 'replace', path: 'displayName', value: 'two' }),
    expected: { ...USER, displayName: 'two' },
  },
  {
    name: 'adding an extension URN to schemas is allowed',
    body: patchOp({ op: 'add', path: 'schemas', value: [DOCKER] }),
    expected: { ...USER, schemas: [USER_SCHEMA, DOCKER] },
  },
];

describe('applyPatch', () => {
  describe.each([
    ['Microsoft Entra ID (users)', entra],
    ['Microsoft Entra ID (groups)', entraGroups],
    ['Okta', okta],
    ['RFC 7644 §3.5.2', rfc],
  ] as const)('%s', (_, cases) => {
    it.each(cases)('$name', ({ schema = 'User', resource = USER, body, expected }) => {
      expect(applyPatch(resource, body, { schema })).toEqual(expected);
    });
  });

  it('does not modify its input and keeps meta as given', () => {
    const created = new Date('2024-01-01T00:00:00Z');
    const resource = { ...structuredClone(USER), meta: { resourceType: 'User', created } };
    const snapshot = structuredClone(resource);
    const out = applyPatch(resource, patchOp({ op: 'replace', path: 'emails[type eq "work"].value', value: 'z@x.com' }), { schema: 'User' });
    expect(resource).toEqual(snapshot);
    expect(out.meta?.created).toBeInstanceOf(Date);
    expect(out).not.toBe(resource);
  });

  const errors: Array<{ name: string; body: unknown; scimType: string; schema?: 'User' | 'Group'; resource?: ScimResource }> = [
    { name: 'body is not an object', body: [], scimType: 'invalidSyntax' },
    { name: 'schemas missing', body: { Operations: [{ op: 'add', path: 'nickName', value: 'x' }] }, scimType: 'invalidSyntax' },
    { name: 'schemas without PatchOp', body: { schemas: [USER_SCHEMA], Operations: [{ op: 'add', path: 'nickName', value: 'x' }] }, scimType: 'invalidSyntax' },
    { name: 'Operations missing', body: { schemas: [PATCH_OP_SCHEMA] }, scimType: 'invalidSyntax' },
    { name: 'Operations empty', body: patchOp(), scimType: 'invalidSyntax' },
    { name: 'operation not an object', body: patchOp('replace'), scimType: 'invalidSyntax' },
    { name: 'unknown op', body: patchOp({ op: 'move', path: 'userName', value: 'x' }), scimType: 'invalidSyntax' },
    { name: 'remove without path', body: patchOp({ op: 'remove' }), scimType: 'noTarget' },
    { name: 'add without value', body: patchOp({ op: 'add', path: 'nickName' }), scimType: 'invalidValue' },
    { name: 'path not a string', body: patchOp({ op: 'replace', path: 5, value: 'x' }), scimType: 'invalidPath' },
    { name: 'unterminated bracket', body: patchOp({ op: 'replace', path: 'emails[type eq "work"', value: 'x' }), scimType: 'invalidPath' },
    { name: 'two sub-attribute levels', body: patchOp({ op: 'replace', path: 'name.givenName.x', value: 'x' }), scimType: 'invalidPath' },
    { name: 'unknown schema URN', body: patchOp({ op: 'replace', path: 'urn:example:custom:2.0:User:x', value: 'x' }), scimType: 'invalidPath' },
    { name: 'user extension on a group', schema: 'Group', resource: GROUP, body: patchOp({ op: 'replace', path: `${DOCKER}:dockerRole`, value: 'x' }), scimType: 'invalidPath' },
    { name: 'bad value filter', body: patchOp({ op: 'replace', path: 'emails[type eqq "work"].value', value: 'x' }), scimType: 'invalidPath' },
    { name: 'path through a string', body: patchOp({ op: 'replace', path: 'userName.first', value: 'x' }), scimType: 'invalidPath' },
    { name: 'replace filtered value with no match', body: patchOp({ op: 'replace', path: 'emails[type eq "other"]', value: { value: 'x' } }), scimType: 'noTarget' },
    { name: 'replace sub-attribute, complex filter, no match', body: patchOp({ op: 'replace', path: 'emails[type eq "a" or type eq "b"].value', value: 'x' }), scimType: 'noTarget' },
    { name: 'replace id', body: patchOp({ op: 'replace', path: 'id', value: 'other' }), scimType: 'mutability' },
    { name: 'replace id path-less', body: patchOp({ op: 'replace', value: { id: 'other', displayName: 'x' } }), scimType: 'mutability' },
    { name: 'replace meta.created', body: patchOp({ op: 'replace', path: 'meta.created', value: '2020-01-01T00:00:00Z' }), scimType: 'mutability' },
    { name: 'remove meta', body: patchOp({ op: 'remove', path: 'meta' }), scimType: 'mutability' },
    { name: 'add groups on a user', body: patchOp({ op: 'add', path: 'groups', value: [{ value: 'g-1' }] }), scimType: 'mutability' },
    { name: 'change a member id', schema: 'Group', resource: GROUP, body: patchOp({ op: 'replace', path: 'members[value eq "u-1"].value', value: 'u-9' }), scimType: 'mutability' },
    { name: 'set a read-only sub-attribute', body: patchOp({ op: 'replace', path: `${ENTERPRISE}:manager.displayName`, value: 'Boss' }), scimType: 'mutability' },
    { name: 'drop the core schema', body: patchOp({ op: 'replace', path: 'schemas', value: [ENTERPRISE] }), scimType: 'mutability' },
    { name: 'add an unknown schema', body: patchOp({ op: 'add', path: 'schemas', value: ['urn:example:x'] }), scimType: 'mutability' },
    { name: 'active not a boolean', body: patchOp({ op: 'replace', path: 'active', value: 'yes' }), scimType: 'invalidValue' },
    { name: 'primary not a boolean', body: patchOp({ op: 'add', path: 'emails', value: [{ value: 'a@b.c', primary: 'maybe' }] }), scimType: 'invalidValue' },
    { name: 'path-less value not an object', body: patchOp({ op: 'replace', value: 'x' }), scimType: 'invalidValue' },
    { name: 'path-less extension key not an object', body: patchOp({ op: 'replace', value: { [DOCKER]: 'owner' } }), scimType: 'invalidValue' },
    { name: 'remove userName (required)', body: patchOp({ op: 'remove', path: 'userName' }), scimType: 'invalidValue' },
    { name: 'userName set to a number', body: patchOp({ op: 'replace', path: 'userName', value: 42 }), scimType: 'invalidValue' },
    { name: 'name set to a string', body: patchOp({ op: 'replace', path: 'name', value: 'Barbara' }), scimType: 'invalidValue' },
    { name: 'whole filtered value replaced by a string', body: patchOp({ op: 'replace', path: 'emails[type eq "work"]', value: 'x' }), scimType: 'invalidValue' },
    { name: 'remove displayName of a group (required)', schema: 'Group', resource: GROUP, body: patchOp({ op: 'remove', path: 'displayName' }), scimType: 'invalidValue' },
  ];

  it.each(errors)('rejects: $name → $scimType', ({ body, scimType, schema = 'User', resource = USER }) => {
    let caught: unknown;
    try {
      applyPatch(resource, body, { schema });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect(caught).toMatchObject({ status: 400, scimType });
  });
});

describe('normalizePatchRequest', () => {
  it.each([
    {
      name: 'lower-cases ops and keeps explicit paths',
      body: { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'Remove', path: 'members[value eq "u-1"]' }] },
      schema: 'Group' as const,
      out: [{ op: 'remove', path: 'members[value eq "u-1"]' }],
    },
    {
      name: 'splits path-less values per attribute, canonicalising names and booleans',
      body: patchOp({ op: 'Replace', value: { 'NAME.givenname': 'A', Active: 'True', [`${ENTERPRISE.toLowerCase()}:Department`]: 'R&D' } }),
      schema: 'User' as const,
      out: [
        { op: 'replace', path: 'name.givenName', value: 'A' },
        { op: 'replace', path: 'active', value: true },
        { op: 'replace', path: `${ENTERPRISE}:department`, value: 'R&D' },
      ],
    },
    {
      name: 'expands nested extension objects and maps enabled → active',
      body: patchOp({ op: 'add', value: { [DOCKER]: { dockerRole: 'owner', dockerorg: 'moby' }, enabled: true } }),
      schema: 'User' as const,
      out: [
        { op: 'add', path: `${DOCKER}:dockerRole`, value: 'owner' },
        { op: 'add', path: `${DOCKER}:dockerOrg`, value: 'moby' },
        { op: 'add', path: 'active', value: true },
      ],
    },
    {
      name: 'drops password',
      body: patchOp({ op: 'replace', value: { password: 'x', active: false } }),
      schema: 'User' as const,
      out: [{ op: 'replace', path: 'active', value: false }],
    },
    {
      name: 'accepts lower-case "operations" and wraps a bare manager id',
      body: { schemas: [PATCH_OP_SCHEMA], operations: [{ op: 'Add', path: `${ENTERPRISE}:manager`, value: 'm-1' }] },
      schema: 'User' as const,
      out: [{ op: 'add', path: `${ENTERPRISE}:manager`, value: { value: 'm-1' } }],
    },
    {
      name: 'leaves `enabled` alone on groups (it is a User alias)',
      body: patchOp({ op: 'add', path: 'enabled', value: 'x' }),
      schema: 'Group' as const,
      out: [{ op: 'add', path: 'enabled', value: 'x' }],
    },
  ])('$name', ({ body, schema, out }) => {
    expect(normalizePatchRequest(body, { schema })).toEqual({ schemas: [PATCH_OP_SCHEMA], Operations: out });
  });
});
