import { describe, expect, it } from 'vitest';
import { InputError } from '@doorman/plugin-api';
import { compileFilter, compileSort } from '@doorman/scim';
import { GROUP_ATTRIBUTES, userGroupsAttributes } from '../src/filter-columns.ts';

// The Group filter's SQL over this plugin's tables (src/filter-columns.ts), table-driven, no I/O.
const cases = [
  { filter: 'displayName eq "Moby:Developers"', sql: 'g.display_name_lc = :p0', params: { p0: 'moby:developers' } },
  { filter: 'externalId eq "ObjId"', sql: 'g.external_id = :p0', params: { p0: 'ObjId' } },
  {
    filter: 'members[value eq "U-1"]',
    sql: 'EXISTS (SELECT 1 FROM group_members m0 WHERE m0.group_id = g.id AND m0.connection_user_id = :p0)',
    params: { p0: 'U-1' },
  },
  {
    filter: 'displayName eq "a" and members eq "u1"',
    sql: '(g.display_name_lc = :p0 AND EXISTS (SELECT 1 FROM group_members m0 WHERE m0.group_id = g.id AND m0.connection_user_id = :p1))',
    params: { p0: 'a', p1: 'u1' },
  },
  { filter: 'meta.lastModified gt "2024-01-01T00:00:00Z"', sql: 'g.updated_at > :p0', params: { p0: new Date('2024-01-01T00:00:00Z') } },
];

describe('compileFilter (Groups)', () => {
  for (const dialect of ['mysql', 'sqlite'] as const) {
    it.each(cases)(`${dialect}: $filter`, (c) => {
      const out = compileFilter(c.filter, GROUP_ATTRIBUTES, dialect);
      expect(out.sql).toBe(c.sql);
      expect(out.params).toEqual(c.params);
    });
  }

  it.each([
    { filter: 'members[display eq "x"]', message: /Unknown attribute "members.display"/ },
    { filter: 'userName eq "x"', message: /Unknown attribute "userName"/ },
  ])('rejects $filter with invalidFilter', ({ filter, message }) => {
    const compile = () => compileFilter(filter, GROUP_ATTRIBUTES, 'mysql');
    expect(compile).toThrow(InputError);
    expect(compile).toThrow(message);
    expect(compile).toThrow(expect.objectContaining({ scimType: 'invalidFilter', status: 400 }));
  });

  it('sorts groups by display name', () => {
    expect(compileSort('displayName', undefined, GROUP_ATTRIBUTES)).toEqual({ column: 'g.display_name_lc', direction: 'ASC' });
  });
});

// The User attribute `groups` this plugin adds to scim-users' filters (scimUserFiltersRef), joined on
// the User id expression scim-users hands it.
describe('compileFilter (User groups, added to scim-users)', () => {
  const USER_GROUPS = userGroupsAttributes('u.id');
  const member = (cond: string) => `EXISTS (SELECT 1 FROM group_members gm0 WHERE gm0.connection_user_id = u.id AND ${cond})`;
  it.each([
    { filter: 'groups.value eq "G-1"', sql: member('gm0.group_id = :p0'), params: { p0: 'G-1' } },
    { filter: 'groups[value eq "G-1"]', sql: member('gm0.group_id = :p0'), params: { p0: 'G-1' } },
    { filter: 'groups.display eq "Platform Admins"', sql: member('(SELECT sg.display_name_lc FROM scim_groups sg WHERE sg.id = gm0.group_id) = :p0'), params: { p0: 'platform admins' } },
    { filter: 'groups pr', sql: member("(gm0.group_id IS NOT NULL AND gm0.group_id <> '')"), params: {} },
  ])('$filter', (c) => {
    const out = compileFilter(c.filter, USER_GROUPS, 'mysql');
    expect(out.sql).toBe(c.sql);
    expect(out.params).toEqual(c.params);
  });

  it.each([
    { filter: 'groups.value co 1', message: /"groups.value" is a string/ },
    { filter: 'groups.flavour eq "x"', message: /Unknown attribute "groups.flavour"/ },
  ])('rejects $filter with invalidFilter', ({ filter, message }) => {
    const compile = () => compileFilter(filter, USER_GROUPS, 'sqlite');
    expect(compile).toThrow(message);
    expect(compile).toThrow(expect.objectContaining({ scimType: 'invalidFilter', status: 400 }));
  });
});
