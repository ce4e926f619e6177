import { defineConfig, mergeConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { sharedVitestConfig } from '@doorman/tooling/vitest';

// Component tests run in happy-dom (each file says so in its first line); the end-to-end test runs
// in node and drives Debian's Chromium (test/e2e.test.ts).
export default mergeConfig(sharedVitestConfig, defineConfig({ plugins: [react()], test: { include: ['test/**/*.test.ts', 'test/**/*.test.tsx'], testTimeout: 60_000, hookTimeout: 120_000 } }));
