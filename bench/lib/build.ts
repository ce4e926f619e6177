import { build } from 'esbuild';
import { ROOT } from './gateway.ts';

/**
 * The gateway entries the benchmarks start, bundled as `apps/gateway/build.mjs` bundles production
 * (workspace packages compiled in, third-party packages external), so the bench measures what the
 * Dockerfile runs: plain `node` on a bundle, without the TypeScript loader (its own thread and
 * caches add ~50 MB of RSS). Written under apps/gateway/.bench-dist/ so third-party imports resolve
 * from the gateway's node_modules, as dist/ does.
 */
export const BUNDLE_DIR = `${ROOT}/apps/gateway/.bench-dist`;

export async function bundleGatewayEntries(): Promise<{ gateway: string; noauth: string }> {
  await build({
    entryPoints: { gateway: `${ROOT}/apps/gateway/src/main.ts`, noauth: `${ROOT}/bench/gateway-noauth.ts` },
    outdir: BUNDLE_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'warning',
    plugins: [
      {
        name: 'third-party-external',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@doorman/') ? undefined : { path: args.path, external: true }));
        },
      },
    ],
  });
  return { gateway: `${BUNDLE_DIR}/gateway.mjs`, noauth: `${BUNDLE_DIR}/noauth.mjs` };
}
