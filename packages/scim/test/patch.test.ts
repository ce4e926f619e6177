import { describe, expect, it } from 'vitest';
import { InputError } from '@doorman/plugin-api';
import { applyPatch, normalizePatchRequest } from '../src/patch.ts';
import type { ScimResource } from '../src/resource.ts';
import { DOCKER_USER_SCHEMA as DOCKER, ENTERPRISE_USER_SCHEMA as ENTERPRISE, PATCH_OP_SCHEMA, USER_SCHEMA } from '../src/schemas.ts';
import { patchOp, USER, GROUP } from './patch-fixture.ts';
import { entra, entraGroups, okta } from './patch-cases-idp.ts';
import { rfc } from './patch-cases-rfc.ts';

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
