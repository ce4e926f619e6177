import { describe, expect, it } from 'vitest';
import { coreServices, createServiceRef, definePlugin, optionalRef } from '@doorman/plugin-api';
import { PluginDependencyMissingError, resolvePlugins } from '../src/resolve.ts';

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

describe('resolvePlugins with service refs', () => {
  const service = createServiceRef<{ hello(): string }>('provider.hello');
  const other = createServiceRef<{ bye(): string }>('late.bye');
  const provider = definePlugin({ id: 'provider', description: 'provides hello', provides: [service], register() {} });
  const consumer = definePlugin({ id: 'consumer', description: 'needs hello', deps: { hello: service, log: coreServices.logger }, register() {} });
  // Optional both ways round a required edge: 'late' needs 'early'; 'early' reads 'late' when it is there.
  const early = definePlugin({ id: 'early', description: 'provides hello, reads bye', provides: [service], deps: { bye: optionalRef(other) }, register() {} });
  const late = definePlugin({ id: 'late', description: 'needs hello, provides bye', provides: [other], deps: { hello: service }, register() {} });
  const reader = definePlugin({ id: 'reader', description: 'reads bye when there', deps: { bye: optionalRef(other) }, register() {} });

  it.each([
    { enabled: ['consumer', 'provider'], catalog: [provider, consumer], order: ['provider', 'consumer'] },
    { enabled: ['late', 'early'], catalog: [early, late], order: ['early', 'late'] },
    { enabled: ['early', 'late'], catalog: [early, late], order: ['early', 'late'] },
    { enabled: ['reader', 'late', 'early'], catalog: [early, late, reader], order: ['early', 'late', 'reader'] },
    { enabled: ['reader'], catalog: [early, late, reader], order: ['reader'] },
  ])('orders $enabled after the providers of their refs', ({ enabled, catalog: plugins, order }) => {
    expect(resolvePlugins(enabled, plugins).map((x) => x.id)).toEqual(order);
  });

  it('refuses a required ref no enabled plugin provides, naming plugin, ref and provider (DMN_PLUGIN_DEPENDENCY_MISSING)', () => {
    let error: unknown;
    try {
      resolvePlugins(['consumer'], [provider, consumer]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PluginDependencyMissingError);
    expect(error).toMatchObject({ code: 'DMN_PLUGIN_DEPENDENCY_MISSING', plugin: 'consumer', ref: 'provider.hello' });
    expect((error as Error).message).toBe(
      "DMN_PLUGIN_DEPENDENCY_MISSING: plugin 'consumer' needs service 'provider.hello' (provided by 'provider'), which no enabled plugin provides",
    );
  });

  it('accepts a builtin as the provider', () => {
    expect(resolvePlugins(['consumer'], [consumer], [provider]).map((x) => x.id)).toEqual(['consumer']);
  });
});
