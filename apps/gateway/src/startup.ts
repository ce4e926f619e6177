import { ConfigError, gatewayConfigSchema, parseGatewayConfig, readRawConfig, resolvePlugins, validatePluginSettings, type GatewayConfig } from '@doorman/core';
import { BUILTIN_PLUGINS, PLUGIN_CATALOG } from './catalog.ts';

export interface StartupSettings {
  config: GatewayConfig;
  pluginSettings: Record<string, Record<string, unknown>>;
}

/**
 * Reads and validates every setting — the gateway's and each enabled plugin's — before anything
 * is opened, and reports all problems at once.
 */
export function loadStartupSettings(env: NodeJS.ProcessEnv): StartupSettings {
  const raw = readRawConfig(env, [...PLUGIN_CATALOG, ...BUILTIN_PLUGINS].map((p) => p.id));
  const { config, problems } = parseGatewayConfig(raw.gateway);
  // Plugins are checked even when gateway settings are wrong, so one run reports every problem.
  const pluginIds = config?.plugins ?? gatewayConfigSchema.shape.plugins.parse(raw.gateway.plugins);
  try {
    const enabled = resolvePlugins(pluginIds, PLUGIN_CATALOG);
    problems.push(...validatePluginSettings([...BUILTIN_PLUGINS, ...enabled], raw.plugins).problems);
  } catch (err) {
    problems.push(`DOORMAN_PLUGINS: ${(err as Error).message}`);
  }
  if (problems.length || !config) throw new ConfigError(problems);
  return { config, pluginSettings: raw.plugins };
}
