import { defineError, PluginDependencyMissing, type AnyPluginDefinition, type AnyServiceRef } from '@doorman/plugin-api';

/** Unknown plugin ids, a required plugin not enabled, or a dependency cycle. */
export const PluginResolutionError = defineError('DMN_PLUGIN_RESOLUTION_FAILED', 500);

/**
 * A plugin declares a service ref in `deps` that no enabled plugin provides (or its provider did not
 * provide it). Start-up stops; the message names the plugin, the ref and, when the catalog knows it,
 * the plugin that would provide it.
 */
export class PluginDependencyMissingError extends PluginDependencyMissing {
  constructor(
    readonly plugin: string,
    readonly ref: string,
    provider?: string,
  ) {
    super(`${'DMN_PLUGIN_DEPENDENCY_MISSING'}: plugin '${plugin}' needs service '${ref}'${provider ? ` (provided by '${provider}')` : ''}, which no enabled plugin provides`);
  }
}

const isCore = (ref: AnyServiceRef) => ref.id.startsWith('core.');
const isOptional = (ref: AnyServiceRef) => 'optional' in ref && ref.optional === true;

/** The plugin service refs a plugin declares in `deps` (core services excluded). */
export function pluginServiceDeps(plugin: AnyPluginDefinition): Array<{ name: string; ref: AnyServiceRef; optional: boolean }> {
  return Object.entries((plugin.deps ?? {}) as Record<string, AnyServiceRef>)
    .filter(([, ref]) => !isCore(ref))
    .map(([name, ref]) => ({ name, ref, optional: isOptional(ref) }));
}

/**
 * Orders the enabled plugins so each comes after what it depends on: the plugins it names and the
 * providers of the service refs it requires (an optional ref's provider comes first unless that
 * would close a cycle; the plugin then finds it at run time). Refuses unknown ids, missing required
 * dependencies and refs (DMN_PLUGIN_DEPENDENCY_MISSING) and cycles, naming them. `builtins` are
 * registered before the enabled plugins and may provide services too.
 */
export function resolvePlugins(enabledIds: readonly string[], catalog: readonly AnyPluginDefinition[], builtins: readonly AnyPluginDefinition[] = []): AnyPluginDefinition[] {
  const byId = new Map(catalog.map((p) => [p.id, p]));
  const problems: string[] = [];
  const unknown = enabledIds.filter((id) => !byId.has(id));
  if (unknown.length) problems.push(`unknown plugin(s): ${unknown.join(', ')} (known: ${[...byId.keys()].join(', ')})`);
  const enabled = new Set(enabledIds.filter((id) => byId.has(id)));
  for (const id of enabled) {
    const missing = (byId.get(id)!.dependencies ?? []).filter((d) => !enabled.has(d));
    if (missing.length) problems.push(`plugin '${id}' needs ${missing.map((m) => `'${m}'`).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not enabled`);
  }

  // Which enabled (or builtin) plugin provides each ref; the catalog names a provider in errors.
  const providerOf = new Map<string, string>();
  const anyProvider = new Map<string, string>();
  for (const p of catalog) for (const ref of p.provides ?? []) anyProvider.set(ref.id, p.id);
  for (const p of [...builtins, ...[...enabled].map((id) => byId.get(id)!)]) for (const ref of p.provides ?? []) providerOf.set(ref.id, p.id);
  const missingRefs: PluginDependencyMissingError[] = [];
  for (const p of [...builtins, ...[...enabled].map((id) => byId.get(id)!)]) {
    for (const dep of pluginServiceDeps(p)) {
      if (!dep.optional && !providerOf.has(dep.ref.id)) missingRefs.push(new PluginDependencyMissingError(p.id, dep.ref.id, anyProvider.get(dep.ref.id)));
    }
  }
  // Every problem at once; a missing ref alone keeps its coded error (plugin and ref named).
  if (problems.length) throw new PluginResolutionError([...problems, ...missingRefs.map((e) => e.message)].join('; '));
  if (missingRefs.length === 1) throw missingRefs[0]!;
  if (missingRefs.length) throw new PluginResolutionError(missingRefs.map((e) => e.message).join('; '));
  const ordered: AnyPluginDefinition[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const hardDeps = (p: AnyPluginDefinition) =>
    new Set([...(p.dependencies ?? []), ...pluginServiceDeps(p).filter((d) => !d.optional).map((d) => providerOf.get(d.ref.id)!)].filter((d) => enabled.has(d) && d !== p.id));
  const softDeps = (p: AnyPluginDefinition) =>
    new Set([...(p.optionalDependencies ?? []), ...pluginServiceDeps(p).filter((d) => d.optional).flatMap((d) => providerOf.get(d.ref.id) ?? [])].filter((d) => enabled.has(d) && d !== p.id));
  /** Whether `from` needs, through required edges, a plugin being visited (so it cannot come first). */
  const reachesVisiting = (from: string, seen = new Set<string>()): boolean => {
    if (state.get(from) === 'visiting') return true;
    if (seen.has(from)) return false;
    seen.add(from);
    return [...hardDeps(byId.get(from)!)].some((d) => reachesVisiting(d, seen));
  };

  const visit = (id: string, path: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new PluginResolutionError(`plugin dependency cycle: ${[...path, id].join(' -> ')}`);
    state.set(id, 'visiting');
    const p = byId.get(id)!;
    for (const dep of hardDeps(p)) visit(dep, [...path, id]);
    for (const dep of softDeps(p)) if (!reachesVisiting(dep)) visit(dep, [...path, id]);
    state.set(id, 'done');
    ordered.push(p);
  };
  for (const id of enabledIds) if (enabled.has(id)) visit(id, []);
  return ordered;
}
