import { DOCKER_USER_SCHEMA as DOCKER, ENTERPRISE_USER_SCHEMA as ENTERPRISE, USER_SCHEMA } from '../src/schemas.ts';
import { patchOp, WORK, HOME, USER, WITH_EXT, without, type Case } from './patch-fixture.ts';

export const rfc: Case[] = [
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
