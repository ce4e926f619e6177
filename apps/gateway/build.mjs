// Bundles the gateway and the CLI into dist/ so production runs plain `node` (no TypeScript loader):
// the workspace packages (TypeScript sources) are compiled in, third-party packages stay external
// and load from node_modules. `pnpm --filter @doorman/gateway deploy --legacy --prod <dir>` makes that
// node_modules (README, "Production build"); dist/externals.json lists what the bundle imports, and a
// test checks each is a dependency of this package (so the deployed node_modules has it).
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const externals = new Set();
const external = {
  name: 'third-party-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@doorman/')) return undefined;
      if (!args.path.startsWith('node:')) externals.add(args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0]);
      return { path: args.path, external: true };
    });
  },
};

const outdir = process.env.DOORMAN_BUILD_OUTDIR ?? 'dist';
await build({
  entryPoints: { main: 'src/main.ts', cli: 'src/cli.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  plugins: [external],
  logLevel: 'warning',
});
writeFileSync(`${outdir}/externals.json`, `${JSON.stringify([...externals].sort(), null, 2)}\n`);
console.log(`built ${outdir}/main.mjs and ${outdir}/cli.mjs`);
