import type { PluginDefinition } from '@doorman/core';
import { adminPlugin } from '@doorman/plugin-admin';

/**
 * Every plugin this build of Doorman knows. `DOORMAN_PLUGINS` chooses among them per deployment;
 * the admin API is always on.
 */
export const PLUGIN_CATALOG: readonly PluginDefinition<any>[] = [];

export const BUILTIN_PLUGINS: readonly PluginDefinition<any>[] = [adminPlugin];
