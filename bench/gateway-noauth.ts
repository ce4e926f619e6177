/**
 * Bench-only gateway entry: the same composition as apps/gateway/src/main.ts (same catalog, same
 * settings from the environment, same job runtime), plus one plugin that replaces the SCIM
 * authenticator with a stub admitting every request as BENCH_NOAUTH_CONNECTION_ID. Comparing
 * get-by-id here with the real gateway gives the per-request cost of token-auth (hash, cache,
 * Redis rate limit). Never used outside the benchmark. Prints `READY <port>` once listening and
 * exits when its parent closes stdin.
 */
import { buildGateway, ConfigError, coreServices, definePlugin, parseGatewayConfig, readRawConfig, resolvePlugins, validatePluginSettings } from '@doorman/core';
import { stubScimAuthenticator } from '@doorman/plugin-token-auth/bench';
import { BUILTIN_PLUGINS, PLUGIN_CATALOG } from '@doorman/gateway';
import { startJobRuntime } from '@doorman/jobs';

const connectionId = process.env.BENCH_NOAUTH_CONNECTION_ID;
if (!connectionId) {
  process.stderr.write('gateway-noauth: BENCH_NOAUTH_CONNECTION_ID is required\n');
  process.exit(2);
}

/** Registered after token-auth (its dependency), so its authenticator is the one in force. */
const benchNoAuthPlugin = definePlugin({
  id: 'bench-noauth',
  description: 'Benchmark only: admits every SCIM request as one fixed connection',
  dependencies: ['token-auth'],
  deps: { http: coreServices.http },
  register({ http }) {
    http.setScimAuthenticator(stubScimAuthenticator(connectionId, 'bench-noauth'));
  },
});

async function main() {
  const catalog = [...PLUGIN_CATALOG, benchNoAuthPlugin];
  const raw = readRawConfig(process.env, [...catalog, ...BUILTIN_PLUGINS].map((p) => p.id));
  const { config, problems } = parseGatewayConfig(raw.gateway);
  if (!config) throw new ConfigError(problems);
  config.plugins = [...config.plugins, benchNoAuthPlugin.id];
  problems.push(...validatePluginSettings([...BUILTIN_PLUGINS, ...resolvePlugins(config.plugins, catalog)], raw.plugins).problems);
  if (problems.length) throw new ConfigError(problems);

  const gateway = await buildGateway({ config, pluginSettings: raw.plugins, catalog, builtins: BUILTIN_PLUGINS });
  const runtime = await startJobRuntime({
    registry: gateway.jobs,
    db: gateway.db,
    redisUrl: config.redisUrl ?? null,
    role: config.role,
    mode: config.mode,
    logger: gateway.logger.child({ component: 'jobs' }),
    metrics: gateway.metrics,
    extraQueues: ['provisioning', 'sync'], // scim-users' and role mapping's queues, as the gateway's dashboard shows them
  });
  gateway.addShutdownHook(() => runtime.close());
  const server = await gateway.listen();
  const address = server.address();
  process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : config.port}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await gateway.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.stdin.on('end', () => void stop());
  process.stdin.resume();
}

main().catch((err) => {
  process.stderr.write(`gateway-noauth: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
