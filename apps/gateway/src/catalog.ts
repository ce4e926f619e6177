import type { AnyPluginDefinition } from '@doorman/core';
import { adminPlugin } from '@doorman/plugin-admin';
import { peoplePlugin } from '@doorman/plugin-people';
import { auditPlugin } from '@doorman/plugin-audit';
import { consolePlugin } from '@doorman/plugin-console';
import { jitProvisioningPlugin } from '@doorman/plugin-jit-provisioning';
import { roleMappingPlugin } from '@doorman/plugin-role-mapping';
import { scimUsersPlugin } from '@doorman/plugin-scim-users';
import { scimGroupsPlugin } from '@doorman/plugin-scim-groups';
import { tokenAuthPlugin } from '@doorman/plugin-token-auth';
import { webhooksPlugin } from '@doorman/plugin-webhooks';

/**
 * Every plugin this build of Doorman knows. `DOORMAN_PLUGINS` chooses among them per deployment;
 * the admin API is always on.
 */
export const PLUGIN_CATALOG: readonly AnyPluginDefinition[] = [
  tokenAuthPlugin,
  roleMappingPlugin,
  scimUsersPlugin,
  scimGroupsPlugin,
  auditPlugin,
  jitProvisioningPlugin,
  webhooksPlugin,
  consolePlugin,
];

export const BUILTIN_PLUGINS: readonly AnyPluginDefinition[] = [adminPlugin, peoplePlugin];
