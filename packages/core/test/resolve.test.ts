import { describe, expect, it } from 'vitest';
import { definePlugin } from '@doorman/plugin-api';
import { resolvePlugins } from '../src/resolve.ts';

const p = (id: string, dependencies: string[] = [], optionalDependencies: string[] = []) =>
  definePlugin({ id, description: id, dependencies, optionalDependencies, register() {} });
const catalog = [p('token-auth'), p('scim-users', ['token-auth', 'role-mapping'], ['audit']), p('role-mapping'), p('audit'), p('a', ['b']), p('b', ['a'])];

describe('resolvePlugins', () => {
  it.each([
    { enabled: ['scim-users', 'role-mapping', 'token-auth'], order: ['token-auth', 'role-mapping', 'scim-users'] },
    { enabled: ['audit', 'scim-users', 'token-auth', 'role-mapping'], order: ['audit', 'token-auth', 'role-mapping', 'scim-users'] },
    { enabled: ['scim-users', 'audit', 'role-mapping', 'token-auth'], order: ['token-auth', 'role-mapping', 'audit', 'scim-users'] },
    { enabled: [], order: [] },
  ])('orders $enabled after their dependencies', ({ enabled, order }) => {
    expect(resolvePlugins(enabled, catalog).map((x) => x.id)).toEqual(order);
  });

  it.each([
    { enabled: ['scim-users'], error: "plugin 'scim-users' needs 'token-auth', 'role-mapping', which are not enabled" },
    { enabled: ['scim-users', 'token-auth'], error: "plugin 'scim-users' needs 'role-mapping', which is not enabled" },
    { enabled: ['nope', 'token-auth', 'zap'], error: 'unknown plugin(s): nope, zap' },
    { enabled: ['a', 'b'], error: 'plugin dependency cycle: a -> b -> a' },
  ])('refuses $enabled', ({ enabled, error }) => {
    expect(() => resolvePlugins(enabled, catalog)).toThrow(error);
  });
});
