import { defineConfig } from 'vitest/config';

// One config for every package: integration tests share the machine's MariaDB and Redis, so files
// run one at a time within a package (each test file still gets its own database). The JSON report
// lets `npm test` print one closing "N passed, N failed" line for the whole workspace.
export const sharedVitestConfig = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
  },
});
