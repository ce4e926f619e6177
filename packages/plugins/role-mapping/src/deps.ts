import { coreServices, groupDirectoryRef, optionalRef, ssoSessionServiceRef, type ResolvedDeps } from '@doorman/plugin-api';

/** What the plugin's `register` receives (docs/architecture.md "Plugins"); its route modules take parts of it. */
export const roleMappingDeps = {
  config: coreServices.config,
  db: coreServices.database,
  transaction: coreServices.transaction,
  http: coreServices.http,
  events: coreServices.events,
  jobs: coreServices.jobs,
  clock: coreServices.clock,
  provider: coreServices.provider,
  // scim-groups registers after this plugin (it needs role mapping), so both are looked up when
  // needed; without scim-groups a person simply has no SCIM groups, without jit-provisioning no sessions.
  groupDirectory: optionalRef(groupDirectoryRef),
  sessions: optionalRef(ssoSessionServiceRef),
};
export type RoleMappingEnv = ResolvedDeps<typeof roleMappingDeps>;
