// Bundles the gateway and the CLI into dist/ so production runs plain `node` (no TypeScript loader):
// the workspace packages (TypeScript sources) are compiled in, third-party packages stay external
// and load from node_modules as usual.
import { build } from 'esbuild';

const external = {
  name: 'third-party-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@doorman/') ? undefined : { path: args.path, external: true }));
  },
};

await build({
  entryPoints: { main: 'src/main.ts', cli: 'src/cli.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  plugins: [external],
  logLevel: 'warning',
});
console.log('built dist/main.mjs and dist/cli.mjs');
