import { z } from 'zod';
import { defineError, type JobIntent } from '@doorman/core';
import type { JsonDocument } from '@doorman/model';

/**
 * The contract between a job's producers and its processor: queue, name and payload schema.
 * Plugins spread a spec into `env.jobs.define({ ...spec, process })`, so both sides share one schema.
 */
export interface JobSpec<T> {
  queue: string;
  name: string;
  schema: z.ZodType<T>;
  /**
   * BullMQ deduplication key: while a job with this key is waiting or active, a new one with the same
   * key is not started alongside it (see `keepLastIfActive` in the README). Read by the runtime from
   * the job definition, so spreading the spec into `define()` carries it over.
   */
  deduplicationKey?: (data: T) => string;
}

/** Membership changes for one person: deactivation and reactivation. */
export const PROVISIONING_QUEUE = 'provisioning';
/** Re-applying provisioning policy to every user of a connection. */
export const SYNC_QUEUE = 'sync';

const uuidLike = z.string().min(1).max(64);

export const deactivateUserJob = {
  queue: PROVISIONING_QUEUE,
  name: 'deactivate-user',
  schema: z.object({
    connectionId: uuidLike,
    connectionUserId: uuidLike,
    userId: uuidLike,
    reason: z.enum(['inactive', 'deleted']),
    /** Causal links for the audit trail (docs/people-and-explain.md): the SCIM request, and its `user.deactivated`/`user.deleted` event. */
    requestId: z.string().max(64).optional(),
    causeEventId: z.string().max(64).optional(),
  }),
} satisfies JobSpec<unknown>;
export type DeactivateUserPayload = z.infer<typeof deactivateUserJob.schema>;

export const reactivateUserJob = {
  queue: PROVISIONING_QUEUE,
  name: 'reactivate-user',
  schema: z.object({
    connectionId: uuidLike,
    connectionUserId: uuidLike,
    userId: uuidLike,
  }),
} satisfies JobSpec<unknown>;
export type ReactivateUserPayload = z.infer<typeof reactivateUserJob.schema>;

const syncSchema = z.object({
  connectionId: uuidLike,
  trigger: z.enum(['schedule', 'default-changed', 'manual', 'rules-changed', 'groups-changed']),
  /** Only the people these groups concern (their members and whoever they granted something); absent: every user. */
  groupIds: z.array(uuidLike).max(10_000).optional(),
  /** Distinguishes scoped requests, which are never merged with one another (each names other people). */
  requestId: uuidLike.optional(),
});
export type SyncConnectionPayload = z.infer<typeof syncSchema>;

export const syncConnectionJob: JobSpec<SyncConnectionPayload> & { schema: typeof syncSchema } = {
  queue: SYNC_QUEUE,
  name: 'sync-connection',
  schema: syncSchema,
  // One sync per connection at a time: a request while one is waiting is merged into it, and a
  // request while one is running is kept (latest only) and started after it finishes.
  // A scoped run (groupIds) is its own job: merging it into another would drop the people it names.
  deduplicationKey: (data) => (data.groupIds ? `sync.${data.connectionId}.${data.requestId ?? data.groupIds.join('.')}` : `sync.${data.connectionId}`),
};

/** A job id BullMQ would refuse or rewrite: a bug in the plugin that names it. */
export const JobIdInvalid = defineError('DMN_JOB_ID_INVALID', 500);

/**
 * Checks that an id is usable as a BullMQ job id as given: BullMQ refuses ids that are integers or
 * contain ':' (the runtime would escape them, but readable ids are nicer in the dashboard).
 */
export function assertJobId(id: string): void {
  if (!id || id.length > 255) throw new JobIdInvalid(`job id must be 1..255 characters, got ${id.length}`);
  if (id.includes(':')) throw new JobIdInvalid(`job id must not contain ':' (BullMQ reserves it): ${id}`);
  if (`${parseInt(id, 10)}` === id) throw new JobIdInvalid(`job id must not be an integer (BullMQ reserves those): ${id}`);
}

/**
 * A typed, validated job intent for `env.jobs.enqueue(tx, ...)`.
 *
 * The id must be unique per *intent*, not per subject: relaying the same id twice runs one job, and
 * BullMQ keeps finished job ids for a day, so a repeat of the same intent with the same id would be
 * dropped. E.g. deactivate → reactivate → deactivate of one user needs two ids: include the
 * connection user's version (or another per-change counter), e.g. `deactivate-user.<cuId>.v<version>`.
 */
export function jobIntent<T>(spec: JobSpec<T>, id: string, data: NoInfer<T>): JobIntent {
  assertJobId(id);
  const parsed = spec.schema.parse(data);
  return { queue: spec.queue, name: spec.name, id, data: parsed as JsonDocument };
}
