import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import type { JobDefinition, JobRegistry } from '@doorman/core';

export const definitionKey = (queue: string, name: string) => `${queue}/${name}`;
export const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A job that cannot succeed (no definition in this process, or an invalid payload): BullMQ does not retry it. */
export class PermanentJobError extends UnrecoverableError {
  readonly code = 'DMN_JOB_PERMANENT_FAILURE';
}

/** Validates a payload against its definition, or fails the job permanently (no retries). */
export function parsePayload(definition: JobDefinition | undefined, queue: string, name: string, data: unknown): unknown {
  if (!definition) throw new PermanentJobError(`no job definition for ${queue}/${name} in this process`);
  const parsed = definition.schema.safeParse(data);
  if (!parsed.success) throw new PermanentJobError(`invalid payload for ${queue}/${name}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function queueNamesOf(registry: JobRegistry, extra: string[] = []): string[] {
  return [...new Set([...[...registry.definitions.values()].map((d) => d.queue), ...registry.schedules.map((s) => s.queue), ...extra])];
}

/** Serialises calls in this process (the timer loop and explicit relayOnce calls). */
export function serialised<T>(fn: () => Promise<T>): () => Promise<T> {
  let chain: Promise<unknown> = Promise.resolve();
  return () => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };
}
