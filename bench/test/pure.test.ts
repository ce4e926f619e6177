import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../lib/args.ts';
import { seedRows, seedUserBody, USER_SCHEMA } from '../lib/seed.ts';

describe('parseBenchArgs', () => {
  it.each([
    { argv: [], want: { users: 100_000, duration: 10, connections: 32, warmup: 2, quick: false, authControl: false } },
    { argv: ['--quick', '--auth-control'], want: { users: 2_000, quick: true, authControl: true } },
    { argv: ['--quick'], want: { users: 2_000, duration: 3, connections: 32, warmup: 1, quick: true } },
    { argv: ['--quick', '--users', '5000'], want: { users: 5_000, duration: 3 } },
    { argv: ['--users=300', '--duration', '1.5', '--connections', '8'], want: { users: 300, duration: 1.5, connections: 8 } },
    { argv: ['--', '--warmup', '0'], want: { warmup: 0 } },
  ])('$argv', ({ argv, want }) => {
    expect(parseBenchArgs(argv)).toMatchObject(want);
  });

  it.each([
    { argv: ['--user', '5'], error: /unknown option --user/ },
    { argv: ['--users'], error: /--users needs a number/ },
    { argv: ['--duration', 'abc'], error: /--duration needs a number/ },
    { argv: ['--connections', '0'], error: /--connections needs a number >= 1/ },
    { argv: ['--users', '50'], error: /--users must be at least 200/ },
  ])('refuses $argv', ({ argv, error }) => {
    expect(() => parseBenchArgs(argv)).toThrow(error);
  });
});

describe('seedRows', () => {
  const target = { connectionId: 'c-1', orgId: 'o-1', tag: 't' };
  const body = seedUserBody('Ada.Lovelace@Bench.Example', 42);
  const rows = seedRows(target, body, new Date('2025-01-01T00:00:00Z'));

  it('stores the resource as scim-users does: the body, active last', () => {
    expect(Object.keys(JSON.parse(rows.connectionUser.resource as string))).toEqual(['schemas', 'externalId', 'userName', 'name', 'displayName', 'emails', 'active']);
    expect(JSON.parse(rows.connectionUser.resource as string).schemas).toEqual([USER_SCHEMA]);
  });

  it.each([
    ['user_name_lc', 'ada.lovelace@bench.example'],
    ['display_name_lc', 'given42 family42'],
    ['given_name_lc', 'given42'],
    ['family_name_lc', 'family42'],
    ['external_id', 'ext-42'],
    ['active', 1],
    ['version', 1],
    ['formatted_name', null],
  ])('connection_users.%s = %j', (column, value) => {
    expect(rows.connectionUser[column]).toEqual(value);
  });

  it('links the four tables', () => {
    expect(rows.user).toMatchObject({ email: 'Ada.Lovelace@Bench.Example', email_lc: 'ada.lovelace@bench.example', full_name: 'Given42 Family42' });
    expect(rows.user.username).toMatch(/^adalovelace\d{4}$/);
    expect(rows.connectionUser.user_id).toBe(rows.user.id);
    expect(rows.emails).toEqual([expect.objectContaining({ connection_user_id: rows.connectionUser.id, value_lc: 'ada.lovelace@bench.example', type: 'work', is_primary: 1 })]);
    expect(rows.membership).toMatchObject({ org_id: 'o-1', user_id: rows.user.id, role: 'member', source: 'scim', connection_id: 'c-1' });
  });
});
