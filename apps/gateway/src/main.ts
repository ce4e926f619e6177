import { buildGateway, ConfigError } from '@doorman/core';
import { redactUrl } from '@doorman/model';
import { BUILTIN_PLUGINS, PLUGIN_CATALOG } from './catalog.ts';
import { loadStartupSettings } from './startup.ts';
import { startJobs } from './jobs.ts';
import { JOB_DASHBOARD_PATH, mountJobDashboard, mountJobDashboardUnavailable } from './dashboard.ts';

/**
 * The program people run: config → core services → enabled plugins → listen (role api/all),
 * job workers (role worker/all). SIGTERM/SIGINT drain and exit 0.
 */
async function main() {
  let settings;
  try {
    settings = loadStartupSettings(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`doorman: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const { config, pluginSettings } = settings;
  const gateway = await buildGateway({ config, pluginSettings, catalog: PLUGIN_CATALOG, builtins: BUILTIN_PLUGINS });
  const { logger } = gateway;
  const jobs = await startJobs(gateway);
  const dashboard = jobs.driver === 'bullmq';
  if (dashboard) mountJobDashboard(gateway.http, [...jobs.queues.values()]);
  else mountJobDashboardUnavailable(gateway.http);
  const server = await gateway.listen();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    { port, plugins: gateway.plugins.map((p) => p.id), database: redactUrl(config.databaseUrl), redis: config.redisUrl ? redactUrl(config.redisUrl) : null },
    'doorman started',
  );
  if (config.role !== 'worker') {
    process.stdout.write(
      [
        '',
        `  Doorman is listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`,
        `  SCIM base URL:   ${config.publicUrl}/scim/v2`,
        `  Get a token:     npm run doorman -- orgs create acme`,
        `                   npm run doorman -- connections create "My IdP" --type saml --org-ids acme --scim-enabled true --idp '<IdP settings JSON>'`,
        `                   npm run doorman -- scim-tokens create "My IdP"      (README: Quick start)`,
        `  Admin API:       ${config.publicUrl}/admin/v1   (ADMIN_BOOTSTRAP_TOKEN or \`npm run doorman -- admin-tokens create --name ops\`)`,
        dashboard
          ? `  Job dashboard:   ${config.publicUrl}${JOB_DASHBOARD_PATH}   (browser: any user name, an admin token as the password)`
          : `  Job dashboard:   off: it needs Redis (set REDIS_URL); jobs run inline in this process`,
        '',
      ].join('\n') + '\n',
    );
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining requests and jobs');
    try {
      await gateway.close();
      logger.info('shutdown complete');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`doorman: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
