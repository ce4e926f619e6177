#!/usr/bin/env node
// Runs every package's tests through turbo (one package at a time: they share MariaDB and Redis),
// then prints one closing line for the whole workspace from the packages' vitest JSON reports.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const packages = JSON.parse(spawnSync('npx', ['-y', 'pnpm@10.34.8', 'ls', '-r', '--depth', '-1', '--json'], { cwd: root, encoding: 'utf8' }).stdout).map((p) => p.path);
for (const dir of packages) rmSync(join(dir, '.vitest-report.json'), { force: true });

// turbo runs from the workspace's own bin with that bin first on PATH as an ABSOLUTE path: under
// `pnpm exec` PATH holds a relative `node_modules/.bin`, and turbo then spawns `./node_modules/.bin/pnpm`
// from each package's folder, where it does not exist.
const bin = join(root, 'node_modules', '.bin');
const turbo = spawnSync(join(bin, 'turbo'), ['run', 'test', '--concurrency=1', '--continue', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
});

let passed = 0;
let failed = 0;
let skipped = 0;
const failedPackages = [];
for (const dir of packages) {
  const file = join(dir, '.vitest-report.json');
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  // A file that fails to load fails no test, but fails the run: count it.
  failed += report.numFailedTests || (report.success ? 0 : Math.max(1, report.numFailedTestSuites));
  skipped += report.numPendingTests + report.numTodoTests;
  if (!report.success) failedPackages.push(dir.slice(root.length));
}
if (failedPackages.length) console.log(`failing packages: ${failedPackages.join(', ')}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(turbo.status === 0 && failed === 0 ? 0 : 1);
