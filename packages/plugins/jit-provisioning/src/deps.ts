import { coreServices, roleMappingServiceRef, type ResolvedDeps } from '@doorman/plugin-api';
import type { JitProvisioningConfig } from './config.ts';

/** What the plugin's `register` receives (docs/architecture.md "Plugins"); the routes and sign-in take parts of it. */
export const jitDeps = {
  config: coreServices.config,
  gateway: coreServices.gateway,
  logger: coreServices.logger,
  db: coreServices.database,
  transaction: coreServices.transaction,
  redis: coreServices.redis,
  http: coreServices.http,
  events: coreServices.events,
  clock: coreServices.clock,
  provider: coreServices.provider,
  roleMapping: roleMappingServiceRef,
};
export type JitEnv = ResolvedDeps<typeof jitDeps, JitProvisioningConfig>;
