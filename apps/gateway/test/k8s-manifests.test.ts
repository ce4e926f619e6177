import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Namespace, ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { GATEWAY_ENV, pluginEnvPrefix } from '@doorman/core';
import { BUILTIN_PLUGINS, PLUGIN_CATALOG } from '../src/catalog.ts';

/**
 * deploy/k8s (docs/deploy.md §7) against the Kubernetes API schemas — `kubernetes-models` validates
 * each object with the published OpenAPI schemas, no cluster needed — and against the rules the doc
 * states: probes on /healthz and /readyz, both roles, only settings Doorman knows, ConfigMap and
 * Secret present. compose.yaml is held to the same settings.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIR = join(ROOT, 'deploy/k8s');
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [key: string]: any;
}

function load(file: string): any[] {
  const docs = parseAllDocuments(readFileSync(join(DIR, file), 'utf8'), { merge: true });
  for (const d of docs) if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
  return docs.map((d) => d.toJS()).filter(Boolean);
}

const kustomization = load('kustomization.yaml')[0] as { resources: string[]; images: Array<{ name: string }> };
const objects: Array<{ file: string; obj: K8sObject }> = kustomization.resources.flatMap((file) => load(file).map((obj) => ({ file, obj })));

/** Every environment variable Doorman reads as a setting. */
const pluginPrefixes = [...BUILTIN_PLUGINS, ...PLUGIN_CATALOG].map((p) => pluginEnvPrefix(p.id));
const isKnownSetting = (name: string) => name in GATEWAY_ENV || pluginPrefixes.some((prefix) => name.startsWith(prefix));

describe('deploy/k8s', () => {
  it('lists every manifest file in the kustomization', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it.each(objects.map(({ file, obj }) => [`${file}: ${obj.kind} ${obj.metadata?.name}`, obj] as const))('%s is valid against the Kubernetes schema', (_name, obj) => {
    const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
    expect(Model, `no schema model for ${obj.apiVersion} ${obj.kind}: add it to MODELS`).toBeDefined();
    expect(() => new Model!(obj).validate()).not.toThrow();
  });

  it('refuses an invalid manifest (the check is real)', () => {
    const deployment = structuredClone(objects.find(({ obj }) => obj.kind === 'Deployment')!.obj);
    deployment.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    expect(() => new Deployment(deployment).validate()).toThrow(/containerPort/);
  });

  const deployments = objects.filter(({ obj }) => obj.kind === 'Deployment').map(({ obj }) => obj);
  const named = (kind: string) => new Set(objects.filter(({ obj }) => obj.kind === kind).map(({ obj }) => obj.metadata.name));

  it('runs an api and a worker Deployment, each probing /healthz (liveness, start-up) and /readyz (readiness) on a declared port', () => {
    const roles = deployments.map((d) => d.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'DOORMAN_ROLE')?.value).sort();
    expect(roles).toEqual(['api', 'worker']);
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0];
      const ports = new Set(c.ports.map((p: { name: string }) => p.name));
      expect(c.livenessProbe.httpGet.path, d.metadata.name).toBe('/healthz');
      expect(c.startupProbe.httpGet.path, d.metadata.name).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path, d.metadata.name).toBe('/readyz');
      for (const probe of [c.livenessProbe, c.startupProbe, c.readinessProbe]) expect(ports.has(probe.httpGet.port), d.metadata.name).toBe(true);
      expect(kustomization.images.map((i) => i.name)).toContain(c.image);
      // The grace period covers SHUTDOWN_TIMEOUT_MS (25 s).
      expect(d.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(25);
    }
  });

  it('takes its settings from the ConfigMap and Secret it ships, and sets only settings Doorman knows', () => {
    const configMaps = named('ConfigMap');
    const secrets = named('Secret');
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0];
      for (const from of c.envFrom) {
        if (from.configMapRef) expect(configMaps.has(from.configMapRef.name)).toBe(true);
        if (from.secretRef) expect(secrets.has(from.secretRef.name)).toBe(true);
      }
      for (const e of c.env) expect(isKnownSetting(e.name), e.name).toBe(true);
    }
    for (const { obj } of objects.filter(({ obj }) => obj.kind === 'ConfigMap' || obj.kind === 'Secret')) {
      for (const key of Object.keys(obj.data ?? obj.stringData ?? {})) expect(isKnownSetting(key), `${obj.metadata.name}: ${key}`).toBe(true);
    }
    const config = objects.find(({ obj }) => obj.kind === 'ConfigMap')!.obj.data;
    expect(config.DOORMAN_MODE).toBe('production');
    // The metrics Service targets the port METRICS_PORT opens.
    const metrics = objects.find(({ obj }) => obj.kind === 'Service' && obj.metadata.name === 'doorman-metrics')!.obj;
    expect(String(metrics.spec.ports[0].port)).toBe(config.METRICS_PORT);
  });
});

describe('compose.yaml', () => {
  it('sets only settings Doorman knows, for an api and a worker on MySQL and Redis', () => {
    const compose = load('../../compose.yaml')[0] as { services: Record<string, { environment?: Record<string, unknown> }> };
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['mysql', 'redis', 'api', 'worker']));
    for (const name of ['api', 'worker']) {
      const env = compose.services[name]!.environment!;
      for (const key of Object.keys(env)) expect(isKnownSetting(key), `${name}: ${key}`).toBe(true);
    }
    expect(compose.services.worker!.environment!.DOORMAN_ROLE).toBe('worker');
    expect(compose.services.api!.environment!.DOORMAN_ROLE).toBe('api');
  });
});
