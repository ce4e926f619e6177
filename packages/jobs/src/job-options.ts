import type { JobsOptions } from 'bullmq';
import type { JobDefinition } from '@doorman/core';

export const DEFAULT_ATTEMPTS = 8;
export const DEFAULT_BACKOFF_MS = 1000;
export const REMOVE_ON_COMPLETE = { age: 24 * 3600, count: 10_000 };
export const REMOVE_ON_FAIL = { age: 7 * 24 * 3600 };

/**
 * Maps an outbox job id onto one BullMQ accepts, injectively: BullMQ refuses ids containing ':'
 * and ids that parse as integers. '%' and ':' are percent-escaped; an integer-looking id gets a
 * '%i' prefix (a literal '%' is always escaped, so that prefix cannot come from a real id).
 */
export function toBullJobId(id: string): string {
  const escaped = id.replace(/%/g, '%25').replace(/:/g, '%3A');
  return `${parseInt(escaped, 10)}` === escaped ? `%i${escaped}` : escaped;
}

/** The outbox job id a BullMQ id came from: the inverse of `toBullJobId`. */
export function fromBullJobId(id: string): string {
  const body = id.startsWith('%i') ? id.slice(2) : id;
  return body.replace(/%(25|3A)/g, (_, code: string) => (code === '25' ? '%' : ':'));
}

/** The deduplication key a definition declares (carried over from its `defineJob` spec), if any. */
export function deduplicationKeyOf(definition: JobDefinition | undefined, data: unknown): string | undefined {
  const key = definition?.deduplicationKey;
  if (!key) return undefined;
  try {
    return key(data);
  } catch {
    // A payload the key function cannot read is invalid anyway; the worker fails it permanently.
    return undefined;
  }
}

export function jobOptionsFor(definition: JobDefinition | undefined, jobId: string, data: unknown): JobsOptions {
  const dedup = deduplicationKeyOf(definition, data);
  return {
    jobId: toBullJobId(jobId),
    attempts: definition?.attempts ?? DEFAULT_ATTEMPTS,
    backoff: { type: 'exponential', delay: definition?.backoffMs ?? DEFAULT_BACKOFF_MS },
    removeOnComplete: REMOVE_ON_COMPLETE,
    removeOnFail: REMOVE_ON_FAIL,
    ...(dedup ? { deduplication: { id: dedup, keepLastIfActive: true } } : {}),
  };
}
