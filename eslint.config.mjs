import tseslint from 'typescript-eslint';

/**
 * Lint rules that guard the architecture more than the style (docs/architecture.md): a plugin never
 * imports another plugin (cross-plugin contracts live in @doorman/plugin-api: service refs and
 * events); shared packages never import plugins; the contract (@doorman/plugin-api) imports nothing
 * of the runtime; the SCIM protocol package (packages/scim) does no I/O. Tests and benchmarks may
 * compose plugins.
 */
const pluginPackages = ['admin', 'audit', 'console', 'jit-provisioning', 'people', 'role-mapping', 'scim-groups', 'scim-users', 'token-auth', 'webhooks'];

const runtimeLibraries = ['@doorman/core', '@doorman/core/*', '@doorman/model', '@doorman/model/*', '@doorman/jobs', '@doorman/jobs/*', 'koa', '@koa/*', 'typeorm', 'typeorm/*', 'ioredis', 'bullmq', 'mysql2', 'mysql2/*', 'better-sqlite3', 'pino', 'prom-client'];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.bench-dist/**', '**/.turbo/**', 'data/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...pluginPackages.map((name) => ({
    files: [`packages/plugins/${name}/src/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: pluginPackages.filter((p) => p !== name).map((p) => `@doorman/plugin-${p}`),
              message: 'A plugin never imports another plugin: use a service ref or an event of @doorman/plugin-api.',
            },
            { group: ['../../*/src/*', '../../../plugins/*'], message: 'Import workspace packages by name, not by path.' },
          ],
        },
      ],
    },
  })),
  {
    files: ['packages/core/src/**/*.ts', 'packages/model/src/**/*.ts', 'packages/scim/src/**/*.ts', 'packages/jobs/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@doorman/plugin-*', '!@doorman/plugin-api'], message: 'Shared packages never depend on plugins.' }] }],
    },
  },
  {
    // The contract: what a plugin author imports; type-only imports of the runtime are refused too.
    files: ['packages/plugin-api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: [...runtimeLibraries, '@doorman/plugin-*', '!@doorman/plugin-api'], message: '@doorman/plugin-api imports nothing of the runtime (docs/architecture.md "Contract and runtime").' }] },
      ],
    },
  },
  {
    // Pure protocol code: the contract (errors) and parsing libraries only, no I/O.
    files: ['packages/scim/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@doorman/*', '!@doorman/plugin-api'], message: 'packages/scim depends only on @doorman/plugin-api (docs/architecture.md).' },
            { group: runtimeLibraries, message: 'packages/scim does no I/O (docs/architecture.md).' },
            { group: ['node:fs', 'node:net', 'node:http', 'node:https', 'node:child_process', 'fs', 'net', 'http', 'https'], message: 'packages/scim does no I/O.' },
          ],
        },
      ],
    },
  },
);
