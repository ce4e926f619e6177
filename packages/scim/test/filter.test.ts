import { describe, expect, it } from 'vitest';
import { InputError } from '@doorman/plugin-api';
import { compileFilter, parseScimFilter, type AttributeMap } from '../src/filter.ts';

// The grammar and the generic compiler over small attribute maps; the User and Group maps (table
// and column names) and their SQL are tested in the plugins that own the tables (scim-users,
// scim-groups: test/filter-sql.test.ts).
describe('compileFilter', () => {
  const ambiguous: AttributeMap = {
    'urn:a:user:role': { kind: 'column', column: 'u.a_role', type: 'string', caseExact: true },
    'urn:b:user:role': { kind: 'column', column: 'u.b_role', type: 'string', caseExact: true },
    'urn:b:user:level': { kind: 'column', column: 'u.level', type: 'integer', caseExact: false },
  };

  it('compares case-insensitive columns without a lower-cased twin through LOWER()', () => {
    const attrs: AttributeMap = { nick: { kind: 'column', column: 'u.nick', type: 'string', caseExact: false } };
    expect(compileFilter('nick eq "Babs"', attrs, 'mysql')).toEqual({ sql: 'LOWER(u.nick) = :p0', params: { p0: 'babs' } });
  });

  it('compiles integer attributes', () => {
    expect(compileFilter('level ge 3', ambiguous, 'sqlite')).toEqual({ sql: 'u.level >= :p0', params: { p0: 3 } });
  });

  it.each([
    { filter: 'role eq "x"', message: /"role" is ambiguous/ },
    { filter: 'level eq 1.5', message: /"level" is an integer/ },
    { filter: 'level co 1', message: /"co" is not supported on integer/ },
  ])('rejects $filter with invalidFilter', ({ filter, message }) => {
    for (const dialect of ['mysql', 'sqlite'] as const) {
      const compile = () => compileFilter(filter, ambiguous, dialect);
      expect(compile).toThrow(InputError);
      expect(compile).toThrow(message);
      expect(compile).toThrow(expect.objectContaining({ scimType: 'invalidFilter', status: 400 }));
    }
  });
});

describe('parseScimFilter', () => {
  it.each([
    { filter: 'userName eq "a\\\\b"', ast: { op: 'eq', attrPath: 'userName', compValue: 'a\\b' } },
    { filter: 'x eq "0" or y eq "1"', ast: { op: 'or', filters: [{ op: 'eq', attrPath: 'x', compValue: '0' }, { op: 'eq', attrPath: 'y', compValue: '1' }] } },
    { filter: 'x eq 0', ast: { op: 'eq', attrPath: 'x', compValue: 0 } },
    { filter: 'emails[value co "]"]', ast: { op: '[]', attrPath: 'emails', valFilter: { op: 'co', attrPath: 'value', compValue: ']' } } },
  ])('decodes $filter', ({ filter, ast }) => {
    expect(parseScimFilter(filter)).toEqual(ast);
  });
});
