import tseslint from 'typescript-eslint';

/**
 * Lint rules that guard the architecture more than the style: a plugin never imports another
 * plugin (cross-plugin contracts live in @doorman/core refs and domain events), and shared
 * packages never import plugins. Tests and benchmarks may compose plugins.
 */
const pluginPackages = ['admin', 'audit', 'console', 'jit-provisioning', 'people', 'role-mapping', 'scim-groups', 'scim-users', 'token-auth', 'webhooks'];

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
              message: 'A plugin never imports another plugin: use a service ref in @doorman/core (refs.ts) or domain events.',
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
      'no-restricted-imports': ['error', { patterns: [{ group: ['@doorman/plugin-*'], message: 'Shared packages never depend on plugins.' }] }],
    },
  },
);
