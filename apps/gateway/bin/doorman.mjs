#!/usr/bin/env node
// The `doorman` command (`npx doorman …`, `pnpm exec doorman …` after install). In a checkout it
// runs the TypeScript CLI through tsx, so it never runs a stale bundle; where only the production
// bundle was deployed (no src/ beside it), it runs dist/cli.mjs on plain node.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const bundle = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));

if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source);
} else if (existsSync(bundle)) {
  await import(bundle);
} else {
  process.stderr.write('doorman: neither src/cli.ts nor dist/cli.mjs found beside bin/: run `npm run build` or reinstall\n');
  process.exit(1);
}
