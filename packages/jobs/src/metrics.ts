import type { MetricsRegistry } from '@doorman/core';

export type { MetricsRegistry };

interface Sample {
  labels?: Record<string, string>;
  value: number;
}

/**
 * A gauge whose samples are computed when Prometheus scrapes. Written against prom-client's
 * metric contract (name/help/type/get) rather than its Gauge class, because prom-client is core's
 * dependency, not this package's; the registry treats it like any other metric.
 */
export function registerCollectedGauge(registry: MetricsRegistry, name: string, help: string, labelNames: string[], collect: () => Promise<Sample[]>): () => void {
  const metric = {
    name,
    help,
    type: 'gauge',
    labelNames,
    aggregator: 'sum',
    async get() {
      let values: Sample[] = [];
      try {
        values = await collect();
      } catch {
        // A scrape must not fail because Redis or the database is briefly away; the series just go missing.
      }
      return { name, help, type: 'gauge', aggregator: 'sum', values };
    },
    reset() {},
  };
  registry.registerMetric(metric as unknown as Parameters<MetricsRegistry['registerMetric']>[0]);
  return () => registry.removeSingleMetric(name);
}
