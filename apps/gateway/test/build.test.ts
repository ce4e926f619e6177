import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

/**
 * The production bundle (build.mjs) imports third-party packages from node_modules: each must be a
 * dependency of @doorman/gateway, so `pnpm --filter @doorman/gateway deploy --legacy --prod <dir>`
 * (README, "Production build") puts it beside the bundle. The bundle then runs on plain node.
 */
const APP = fileURLToPath(new URL('../', import.meta.url));
const out = mkdtempSync(join(APP, '.build-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('bundles main and cli; every package the bundle imports is a runtime dependency; the CLI bundle runs', () => {
  execFileSync(process.execPath, ['build.mjs'], { cwd: APP, env: { ...process.env, DOORMAN_BUILD_OUTDIR: out }, stdio: 'pipe' });
  const externals = JSON.parse(readFileSync(join(out, 'externals.json'), 'utf8')) as string[];
  const { dependencies } = JSON.parse(readFileSync(join(APP, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  expect(externals.length).toBeGreaterThan(5);
  // TypeORM loads its drivers by name at run time, so they are not imports of the bundle.
  for (const name of [...externals, 'better-sqlite3', 'mysql2']) expect(dependencies, name).toHaveProperty([name]);
  const help = spawnSync(process.execPath, [join(out, 'cli.mjs'), '--help'], { encoding: 'utf8' });
  expect(help.status, help.stderr).toBe(0);
  expect(help.stdout).toContain('scim-tokens');
});
