import { describe, expect, it } from 'vitest';
import { InputError } from '@doorman/plugin-api';
import { compileFilter, compileSort, type Dialect } from '@doorman/scim';
import { USER_ATTRIBUTES } from '../src/filter-columns.ts';

// The User filter's SQL over this plugin's tables (src/filter-columns.ts), table-driven, no I/O;
// the filter's grammar and the generic compiler are tested in packages/scim (test/filter.test.ts).

const EMAILS = 'EXISTS (SELECT 1 FROM connection_user_emails e0 WHERE e0.connection_user_id = u.id AND';
const MY_ESC = "ESCAPE '\\\\'"; // the SQL text ESCAPE '\\' (MySQL: one backslash)
const LITE_ESC = "ESCAPE '\\'"; // the SQL text ESCAPE '\'

interface Case {
  filter: string;
  /** One string when both dialects compile alike. */
  sql: string | Record<Dialect, string>;
  params: Record<string, unknown>;
  prefix?: string;
}

const cases: Case[] = [
  // case-insensitive strings: lower-cased column, lower-cased value
  { filter: 'userName eq "Bjensen@Example.com"', sql: 'u.user_name_lc = :p0', params: { p0: 'bjensen@example.com' } },
  { filter: 'USERNAME EQ "a@x.com"', sql: 'u.user_name_lc = :p0', params: { p0: 'a@x.com' } },
  { filter: 'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "A"', sql: 'u.user_name_lc = :p0', params: { p0: 'a' } },
  { filter: 'displayName ne "Bob"', sql: '(u.display_name_lc <> :p0 OR u.display_name_lc IS NULL)', params: { p0: 'bob' } },
  { filter: 'name.givenName eq "Barbara"', sql: 'u.given_name_lc = :p0', params: { p0: 'barbara' } },
  { filter: 'name.familyName ew "SEN"', sql: { mysql: `u.family_name_lc LIKE :p0 ${MY_ESC}`, sqlite: `u.family_name_lc LIKE :p0 ${LITE_ESC}` }, params: { p0: '%sen' } },
  { filter: 'name.formatted co "Ba J"', sql: { mysql: `u.formatted_name_lc LIKE :p0 ${MY_ESC}`, sqlite: `u.formatted_name_lc LIKE :p0 ${LITE_ESC}` }, params: { p0: '%ba j%' } },
  { filter: 'userName sw "J"', sql: { mysql: `u.user_name_lc LIKE :p0 ${MY_ESC}`, sqlite: `u.user_name_lc LIKE :p0 ${LITE_ESC}` }, params: { p0: 'j%' } },
  // LIKE metacharacters in the value are escaped
  { filter: 'userName co "100%_\\\\x"', sql: { mysql: `u.user_name_lc LIKE :p0 ${MY_ESC}`, sqlite: `u.user_name_lc LIKE :p0 ${LITE_ESC}` }, params: { p0: '%100\\%\\_\\\\x%' } },
  { filter: 'displayName gt "M"', sql: 'u.display_name_lc > :p0', params: { p0: 'm' } },
  { filter: 'displayName le "m"', sql: 'u.display_name_lc <= :p0', params: { p0: 'm' } },
  // case-exact strings: value kept; SQLite avoids LIKE (it ignores ASCII case)
  { filter: 'externalId eq "AbC-1"', sql: 'u.external_id = :p0', params: { p0: 'AbC-1' } },
  { filter: 'id eq "2819c223-7f76-453a-919d-413861904646"', sql: 'u.id = :p0', params: { p0: '2819c223-7f76-453a-919d-413861904646' } },
  { filter: 'externalId co "Ab"', sql: { mysql: `u.external_id LIKE :p0 ${MY_ESC}`, sqlite: 'instr(u.external_id, :p0) > 0' }, params: {} },
  { filter: 'externalId sw "A_b"', sql: { mysql: `u.external_id LIKE :p0 ${MY_ESC}`, sqlite: 'substr(u.external_id, 1, length(:p0)) = :p0' }, params: {} },
  { filter: 'externalId ew "%B"', sql: { mysql: `u.external_id LIKE :p0 ${MY_ESC}`, sqlite: 'substr(u.external_id, -length(:p0)) = :p0' }, params: {} },
  { filter: 'externalId ne "x"', sql: '(u.external_id <> :p0 OR u.external_id IS NULL)', params: { p0: 'x' } },
  // presence and null
  { filter: 'userName pr', sql: "(u.user_name_lc IS NOT NULL AND u.user_name_lc <> '')", params: {} },
  { filter: 'active pr', sql: 'u.active IS NOT NULL', params: {} },
  { filter: 'displayName eq null', sql: 'u.display_name_lc IS NULL', params: {} },
  { filter: 'displayName ne null', sql: 'u.display_name_lc IS NOT NULL', params: {} },
  // booleans (Entra sends "True"/"False")
  { filter: 'active eq true', sql: 'u.active = :p0', params: { p0: 1 } },
  { filter: 'active eq false', sql: 'u.active = :p0', params: { p0: 0 } },
  { filter: 'active eq "True"', sql: 'u.active = :p0', params: { p0: 1 } },
  { filter: 'active eq "FALSE"', sql: 'u.active = :p0', params: { p0: 0 } },
  { filter: 'active ne true', sql: '(u.active <> :p0 OR u.active IS NULL)', params: { p0: 1 } },
  // date-times → Date parameters
  { filter: 'meta.created gt "2024-01-01T00:00:00Z"', sql: 'u.created_at > :p0', params: { p0: new Date('2024-01-01T00:00:00Z') } },
  { filter: 'meta.lastModified le "2024-05-06T07:08:09.123+02:00"', sql: 'u.updated_at <= :p0', params: { p0: new Date('2024-05-06T05:08:09.123Z') } },
  { filter: 'meta.created ge "2024-02-03"', sql: 'u.created_at >= :p0', params: { p0: new Date('2024-02-03T00:00:00Z') } },
  { filter: 'meta.created lt "2024-02-03T10:00:00"', sql: 'u.created_at < :p0', params: { p0: new Date('2024-02-03T10:00:00Z') } },
  { filter: 'meta.created ne "2024-02-03T10:00:00Z"', sql: '(u.created_at <> :p0 OR u.created_at IS NULL)', params: { p0: new Date('2024-02-03T10:00:00Z') } },
  // logic: precedence (and binds tighter), parentheses, NULL-safe not
  {
    filter: 'userName eq "a" or displayName eq "b" and active eq true',
    sql: '(u.user_name_lc = :p0 OR (u.display_name_lc = :p1 AND u.active = :p2))',
    params: { p0: 'a', p1: 'b', p2: 1 },
  },
  {
    filter: '(userName eq "a" or displayName eq "b") and active eq true',
    sql: '((u.user_name_lc = :p0 OR u.display_name_lc = :p1) AND u.active = :p2)',
    params: { p0: 'a', p1: 'b', p2: 1 },
  },
  { filter: 'not (displayName eq "x")', sql: '(NOT COALESCE(u.display_name_lc = :p0, 0))', params: { p0: 'x' } },
  {
    filter: 'NOT (displayName eq "x" or name.givenName pr) and active eq true',
    sql: "((NOT COALESCE((u.display_name_lc = :p0 OR (u.given_name_lc IS NOT NULL AND u.given_name_lc <> '')), 0)) AND u.active = :p1)",
    params: { p0: 'x', p1: 1 },
  },
  { filter: 'not (not (userName eq "x"))', sql: '(NOT COALESCE((NOT COALESCE(u.user_name_lc = :p0, 0)), 0))', params: { p0: 'x' } },
  // multi-valued: EXISTS with a fresh alias per occurrence
  {
    filter: 'emails[type eq "work" and value co "@Example.com"]',
    sql: {
      mysql: `${EMAILS} (e0.type_lc = :p0 AND e0.value_lc LIKE :p1 ${MY_ESC}))`,
      sqlite: `${EMAILS} (e0.type_lc = :p0 AND e0.value_lc LIKE :p1 ${LITE_ESC}))`,
    },
    params: { p0: 'work', p1: '%@example.com%' },
  },
  { filter: 'emails eq "A@x.com"', sql: `${EMAILS} e0.value_lc = :p0)`, params: { p0: 'a@x.com' } },
  { filter: 'emails.type eq "Work"', sql: `${EMAILS} e0.type_lc = :p0)`, params: { p0: 'work' } },
  { filter: 'emails[primary eq true]', sql: `${EMAILS} e0.is_primary = :p0)`, params: { p0: 1 } },
  { filter: 'emails[emails.primary eq "True"]', sql: `${EMAILS} e0.is_primary = :p0)`, params: { p0: 1 } },
  { filter: 'emails pr', sql: `${EMAILS} (e0.value_lc IS NOT NULL AND e0.value_lc <> ''))`, params: {} },
  { filter: 'not (emails[type eq "work"])', sql: `(NOT COALESCE(${EMAILS} e0.type_lc = :p0), 0))`, params: { p0: 'work' } },
  {
    filter: 'emails[type eq "work"] and emails[type eq "home"]',
    sql: `(${EMAILS} e0.type_lc = :p0) AND EXISTS (SELECT 1 FROM connection_user_emails e1 WHERE e1.connection_user_id = u.id AND e1.type_lc = :p1))`,
    params: { p0: 'work', p1: 'home' },
  },
  // a value path on a single-valued complex attribute
  { filter: 'name[givenName eq "Bob" and familyName pr]', sql: "(u.given_name_lc = :p0 AND (u.family_name_lc IS NOT NULL AND u.family_name_lc <> ''))", params: { p0: 'bob' } },
  // extension attributes: qualified (any case) and unqualified
  { filter: 'urn:ietf:params:scim:schemas:extension:docker:2.0:User:dockerRole eq "Owner"', sql: 'u.docker_role_lc = :p0', params: { p0: 'owner' } },
  { filter: 'URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:DOCKER:2.0:USER:DOCKERORG eq "Moby"', sql: 'u.docker_org_lc = :p0', params: { p0: 'moby' } },
  { filter: 'dockerTeam sw "Dev"', sql: { mysql: `u.docker_team_lc LIKE :p0 ${MY_ESC}`, sqlite: `u.docker_team_lc LIKE :p0 ${LITE_ESC}` }, params: { p0: 'dev%' } },
  { filter: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "E-7"', sql: 'u.employee_number_lc = :p0', params: { p0: 'e-7' } },
  { filter: 'employeeNumber eq "E-7"', sql: 'u.employee_number_lc = :p0', params: { p0: 'e-7' } },
  // JSON string escapes are decoded (the parser alone doubles backslashes)
  { filter: 'externalId eq "a\\\\b"', sql: 'u.external_id = :p0', params: { p0: 'a\\b' } },
  { filter: 'externalId eq "ends with \\\\"', sql: 'u.external_id = :p0', params: { p0: 'ends with \\' } },
  { filter: 'externalId eq "say \\"hi\\""', sql: 'u.external_id = :p0', params: { p0: 'say "hi"' } },
  { filter: 'displayName eq "Ren\\u00C9e"', sql: 'u.display_name_lc = :p0', params: { p0: 'renée' } },
  { filter: 'externalId eq "x] or (userName pr"', sql: 'u.external_id = :p0', params: { p0: 'x] or (userName pr' } },
  { filter: 'externalId eq "2"', sql: 'u.external_id = :p0', params: { p0: '2' } },
  // Entra / Okta lookups
  { filter: 'externalId eq "9c5f3d0a-3b4e-4e9a-9b1a-0d3c1f2e4a5b"', sql: 'u.external_id = :p0', params: { p0: '9c5f3d0a-3b4e-4e9a-9b1a-0d3c1f2e4a5b' } },
  { filter: 'userName eq "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081"', sql: 'u.user_name_lc = :p0', params: { p0: 'test_user_dfeef4c5-5681-4387-b016-bdf221e82081' } },
  // parameter prefix
  { filter: 'userName eq "a" and externalId eq "B"', prefix: 'f', sql: '(u.user_name_lc = :f0 AND u.external_id = :f1)', params: { f0: 'a', f1: 'B' } },
];

// Cases whose params depend on the dialect are listed here instead of in `params`.
const dialectParams: Record<string, Record<Dialect, Record<string, unknown>>> = {
  'externalId co "Ab"': { mysql: { p0: '%Ab%' }, sqlite: { p0: 'Ab' } },
  'externalId sw "A_b"': { mysql: { p0: 'A\\_b%' }, sqlite: { p0: 'A_b' } },
  'externalId ew "%B"': { mysql: { p0: '%\\%B' }, sqlite: { p0: '%B' } },
};

describe('compileFilter', () => {
  for (const dialect of ['mysql', 'sqlite'] as const) {
    it.each(cases)(`${dialect}: $filter`, (c) => {
      const out = compileFilter(c.filter, USER_ATTRIBUTES, dialect, c.prefix);
      expect(out.sql).toBe(typeof c.sql === 'string' ? c.sql : c.sql[dialect]);
      expect(out.params).toEqual(dialectParams[c.filter]?.[dialect] ?? c.params);
    });
  }

  it.each([
    ['userName eq "Ada@Example.com"', { column: 'u.user_name_lc', value: 'ada@example.com' }],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "A"', { column: 'u.user_name_lc', value: 'a' }],
    ['externalId eq "B"', { column: 'u.external_id', value: 'B' }],
    ['userName eq null', undefined],
    ['userName co "a"', undefined],
    ['userName eq "a" and externalId eq "B"', undefined],
    ['emails.value eq "a@b.c"', undefined],
    ['emails[value eq "a@b.c"]', undefined],
  ])('reports a single equality on a column attribute: %s', (filter, equals) => {
    expect(compileFilter(filter, USER_ATTRIBUTES, 'mysql', 'f').equals).toEqual(equals);
  });

  it('uses parameters for every value (nothing from the filter reaches the SQL text)', () => {
    const out = compileFilter(`userName eq "x' OR 1=1 --" or externalId co "%'"`, USER_ATTRIBUTES, 'mysql');
    expect(out.sql).not.toContain("'%");
    expect(out.sql).not.toContain('1=1');
    expect(Object.values(out.params)).toEqual(["x' or 1=1 --", "%\\%'%"]);
  });

  const errors: Array<{ filter: string; message: RegExp }> = [
    { filter: '', message: /empty/ },
    { filter: '   ', message: /empty/ },
    { filter: 'userName', message: /Invalid filter/ },
    { filter: 'userName eq', message: /Invalid filter/ },
    { filter: 'userName eq "x" and', message: /Invalid filter/ },
    { filter: '(userName eq "x"', message: /Invalid filter/ },
    { filter: 'userName eq "x")', message: /Invalid filter/ },
    { filter: 'userName xx "x"', message: /Invalid filter/ },
    { filter: 'userName eq "x" userName', message: /Invalid filter/ },
    { filter: 'userName eq x', message: /Invalid filter/ },
    { filter: 'userName eq "unterminated', message: /Unterminated string/ },
    { filter: 'userName eq "bad \\x escape"', message: /Invalid string/ },
    { filter: 'foo eq "x"', message: /Unknown attribute "foo"/ },
    { filter: 'name eq "x"', message: /Unknown attribute "name"/ },
    { filter: 'urn:ietf:params:scim:schemas:extension:docker:2.0:User:dockerFoo eq "x"', message: /dockerFoo/ },
    { filter: 'userName eq "a" or favouriteColour pr', message: /Unknown attribute "favouriteColour"/ },
    { filter: 'emails[flavour eq "x"]', message: /Unknown attribute "emails.flavour"/ },
    { filter: 'emails[type eq "work"].value', message: /inside the brackets/ },
    { filter: 'emails[type eq "work"].value eq "x" and phoneNumbers[type eq "work"].foo.bar eq "y"', message: /inside the brackets/ },
    { filter: 'phoneNumbers[type eq "work"].flavour eq "x"', message: /Unknown attribute "phoneNumbers.flavour"/ },
    { filter: 'title gt 3', message: /"title" is a string/ },
    // `groups` is scim-groups' to add (scimUserFiltersRef; its test/filter-sql.test.ts): unknown here.
    { filter: 'groups.value eq "g"', message: /Unknown attribute "groups.value"/ },
    { filter: 'userName[value eq "x"]', message: /not multi-valued/ },
    { filter: 'emails.value[value eq "x"]', message: /not multi-valued/ },
    { filter: 'emails[type[value eq "x"]]', message: /cannot be nested|Invalid filter/ },
    { filter: 'userName eq 12', message: /"userName" is a string/ },
    { filter: 'externalId eq true', message: /"externalId" is a string/ },
    { filter: 'userName gt null', message: /cannot compare "userName" with null/ },
    { filter: 'active gt true', message: /"gt" is not supported on boolean attribute "active"/ },
    { filter: 'active co "t"', message: /"co" is not supported on boolean attribute "active"/ },
    { filter: 'active eq "yes"', message: /"active" is a boolean/ },
    { filter: 'active eq 1', message: /"active" is a boolean/ },
    { filter: 'emails[primary sw "t"]', message: /boolean attribute "emails.primary"/ },
    { filter: 'meta.created co "2024"', message: /"co" is not supported on dateTime attribute "meta.created"/ },
    { filter: 'meta.created gt "yesterday"', message: /"meta.created" is a dateTime/ },
    { filter: 'meta.created gt "2024-13-45T00:00:00Z"', message: /"meta.created" is a dateTime/ },
    { filter: 'meta.created gt 1700000000', message: /"meta.created" is a dateTime/ },
    { filter: `userName eq "${'x'.repeat(10_001)}"`, message: /longer than/ },
  ];

  it.each(errors)('rejects $filter with invalidFilter', ({ filter, message }) => {
    for (const dialect of ['mysql', 'sqlite'] as const) {
      let caught: unknown;
      try {
        compileFilter(filter, USER_ATTRIBUTES, dialect);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InputError);
      expect((caught as InputError).scimType).toBe('invalidFilter');
      expect((caught as InputError).status).toBe(400);
      expect((caught as InputError).message).toMatch(message);
    }
  });

  it('rejects a parameter prefix that is not an identifier', () => {
    expect(() => compileFilter('userName pr', USER_ATTRIBUTES, 'mysql', 'p-')).toThrow(TypeError);
  });
});

describe('compileSort', () => {
  it.each([
    { sortBy: 'userName', sortOrder: undefined, out: { column: 'u.user_name_lc', direction: 'ASC' } },
    { sortBy: 'USERNAME', sortOrder: 'descending', out: { column: 'u.user_name_lc', direction: 'DESC' } },
    { sortBy: 'meta.created', sortOrder: 'Ascending', out: { column: 'u.created_at', direction: 'ASC' } },
    { sortBy: 'name.familyName', sortOrder: 'DESCENDING', out: { column: 'u.family_name_lc', direction: 'DESC' } },
    { sortBy: 'dockerRole', sortOrder: undefined, out: { column: 'u.docker_role_lc', direction: 'ASC' } },
    { sortBy: 'externalId', sortOrder: 'ascending', out: { column: 'u.external_id', direction: 'ASC' } },
    { sortBy: undefined, sortOrder: 'descending', out: undefined },
    { sortBy: '', sortOrder: undefined, out: undefined },
  ])('$sortBy $sortOrder', ({ sortBy, sortOrder, out }) => {
    expect(compileSort(sortBy, sortOrder, USER_ATTRIBUTES)).toEqual(out);
  });

  it.each([
    { sortBy: 'emails', sortOrder: undefined, field: 'sortBy' },
    { sortBy: 'emails.value', sortOrder: undefined, field: 'sortBy' },
    { sortBy: 'nickName', sortOrder: undefined, field: 'sortBy' },
    { sortBy: 'name', sortOrder: undefined, field: 'sortBy' },
    { sortBy: 'userName', sortOrder: 'up', field: 'sortOrder' },
  ])('rejects $sortBy / $sortOrder with invalidValue', ({ sortBy, sortOrder, field }) => {
    expect(() => compileSort(sortBy, sortOrder, USER_ATTRIBUTES)).toThrow(
      expect.objectContaining({ scimType: 'invalidValue', field, status: 400 }),
    );
  });
});
