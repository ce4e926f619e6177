import { defineError, type PluginDefinition } from '@doorman/plugin-api';

/** Unknown plugin ids, a required plugin not enabled, or a dependency cycle. */
export const PluginResolutionError = defineError('DMN_PLUGIN_RESOLUTION_FAILED', 500);

/**
 * Orders the enabled plugins so each comes after what it depends on.
 * Refuses unknown ids, missing required dependencies and cycles, naming them all.
 */
export function resolvePlugins(enabledIds: readonly string[], catalog: readonly PluginDefinition<any>[]): PluginDefinition<any>[] {
  const byId = new Map(catalog.map((p) => [p.id, p]));
  const problems: string[] = [];
  const unknown = enabledIds.filter((id) => !byId.has(id));
  if (unknown.length) problems.push(`unknown plugin(s): ${unknown.join(', ')} (known: ${[...byId.keys()].join(', ')})`);
  const enabled = new Set(enabledIds.filter((id) => byId.has(id)));
  for (const id of enabled) {
    const missing = (byId.get(id)!.dependencies ?? []).filter((d) => !enabled.has(d));
    if (missing.length) problems.push(`plugin '${id}' needs ${missing.map((m) => `'${m}'`).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not enabled`);
  }
  if (problems.length) throw new PluginResolutionError(problems.join('; '));

  const ordered: PluginDefinition<any>[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new PluginResolutionError(`plugin dependency cycle: ${[...path, id].join(' -> ')}`);
    state.set(id, 'visiting');
    const p = byId.get(id)!;
    for (const dep of [...(p.dependencies ?? []), ...(p.optionalDependencies ?? [])]) if (enabled.has(dep)) visit(dep, [...path, id]);
    state.set(id, 'done');
    ordered.push(p);
  };
  for (const id of enabledIds) if (enabled.has(id)) visit(id, []);
  return ordered;
}
