import { DOCKER_USER_SCHEMA as DOCKER, ENTERPRISE_USER_SCHEMA as ENTERPRISE, USER_SCHEMA } from '../src/schemas.ts';
import { patchOp, WORK, HOME, USER, WITH_EXT, GROUP, without, type Case } from './patch-fixture.ts';

export const entra: Case[] = [
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

export const entraGroups: Case[] = [
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

export const okta: Case[] = [
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
