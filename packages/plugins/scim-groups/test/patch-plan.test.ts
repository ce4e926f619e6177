import { describe, expect, it } from 'vitest';
import { InputError } from '@doorman/plugin-api';
import { readDisplayName, readGroupBody } from '../src/group-resource.ts';
import { planGroupPatch, type PatchStep } from '../src/patch-plan.ts';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const body = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

describe('planGroupPatch', () => {
  const cases: Array<[string, unknown, PatchStep[]]> = [
    ['Okta add', body({ op: 'add', path: 'members', value: [{ value: 'u1', display: 'a@x' }, { value: 'u2' }] }), [{ kind: 'addMembers', ids: ['u1', 'u2'] }]],
    ['Entra Add, lone object', body({ op: 'Add', path: 'members', value: { value: 'u1' } }), [{ kind: 'addMembers', ids: ['u1'] }]],
    ['Okta remove by filter', body({ op: 'remove', path: 'members[value eq "u1"]' }), [{ kind: 'removeMembersWhere', filter: 'value eq "u1"' }]],
    ['Entra Remove with a value list', body({ op: 'Remove', path: 'members', value: [{ $ref: null, value: 'u1' }, { value: 'u2' }] }), [{ kind: 'removeMembers', ids: ['u1', 'u2'] }]],
    ['remove without a value empties the group', body({ op: 'remove', path: 'members' }), [{ kind: 'replaceMembers', ids: [] }]],
    ['replace of the list', body({ op: 'replace', path: 'members', value: [{ value: 'u3' }] }), [{ kind: 'replaceMembers', ids: ['u3'] }]],
    ['path-less replace with the echoed id', body({ op: 'replace', value: { id: 'g1', displayName: 'acme:New' } }), [{ kind: 'displayName', value: 'acme:New' }]],
    ['duplicates collapse', body({ op: 'add', path: 'members', value: [{ value: 'u1' }, { value: 'u1' }] }), [{ kind: 'addMembers', ids: ['u1'] }]],
    ['externalId set and removed', body({ op: 'replace', path: 'externalId', value: 'obj-1' }, { op: 'remove', path: 'externalId' }), [{ kind: 'externalId', value: 'obj-1' }, { kind: 'externalId', value: null }]],
    ['unmodelled attributes are accepted and not kept', body({ op: 'replace', path: 'description', value: 'x' }), []],
    ['order is kept', body({ op: 'add', path: 'members', value: [{ value: 'u1' }] }, { op: 'remove', path: 'members[value eq "u1"]' }), [{ kind: 'addMembers', ids: ['u1'] }, { kind: 'removeMembersWhere', filter: 'value eq "u1"' }]],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(planGroupPatch(input, 'g1')).toEqual(expected);
  });

  const errors: Array<[string, unknown, string]> = [
    ['remove displayName', body({ op: 'remove', path: 'displayName' }), 'invalidValue'],
    ['blank new displayName', body({ op: 'replace', path: 'displayName', value: '  ' }), 'invalidValue'],
    ['add through a filter', body({ op: 'add', path: 'members[value eq "u1"]', value: { value: 'u1' } }), 'invalidPath'],
    ['member sub-attribute (read-only in the schema)', body({ op: 'replace', path: 'members[value eq "u1"].display', value: 'x' }), 'mutability'],
    ['member without value', body({ op: 'add', path: 'members', value: [{ display: 'x' }] }), 'invalidValue'],
    ['changed id', body({ op: 'replace', value: { id: 'other' } }), 'mutability'],
    ['not a PatchOp', { Operations: [{ op: 'add', path: 'members', value: [] }] }, 'invalidSyntax'],
  ];
  it.each(errors)('refuses %s', (_name, input, scimType) => {
    let error: unknown;
    try {
      planGroupPatch(input, 'g1');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).scimType).toBe(scimType);
  });
});

describe('readDisplayName: any name (rules decide what it grants)', () => {
  it.each([
    ['moby:developers', 'moby:developers'],
    [' Engineering ', 'Engineering'],
    ['All Staff (EU) / ünïcode', 'All Staff (EU) / ünïcode'],
    [':developers', ':developers'],
  ])('%s', (input, expected) => expect(readDisplayName(input)).toBe(expected));
  it.each([' ', '', 7, null, 'x'.padEnd(256, 'y')])('refuses %j', (input) => {
    expect(() => readDisplayName(input)).toThrow(InputError);
  });
});

describe('readGroupBody', () => {
  it('reads displayName, externalId and members case-insensitively; absent members stay undefined', () => {
    expect(readGroupBody({ schemas: [GROUP], DisplayName: 'moby:devs', externalId: 'obj', Members: [{ Value: 'u1' }] })).toEqual({
      displayName: 'moby:devs',
      externalId: 'obj',
      members: ['u1'],
    });
    expect(readGroupBody({ displayName: 'moby:devs' }).members).toBeUndefined();
  });
  it.each([
    [[], 'invalidSyntax'],
    [{ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], displayName: 'moby:devs' }, 'invalidValue'],
    [{ displayName: 'moby:devs', externalId: 5 }, 'invalidValue'],
    [{ displayName: 'moby:devs', members: [{ value: 3 }] }, 'invalidValue'],
  ])('refuses %j', (input, scimType) => {
    expect(() => readGroupBody(input)).toThrow(expect.objectContaining({ scimType }));
  });
});
