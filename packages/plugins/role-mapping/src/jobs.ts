import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { defineJob, type JobIntent } from '@doorman/plugin-api';

/** Re-applying provisioning policy to the users of a connection (the dashboard's `sync` queue). */
export const SYNC_QUEUE = 'sync';

const id = z.string().min(1).max(64);

/** Re-applies the mapping to a connection's users (sync.ts); enqueued by http.ts, rules-http.ts, index.ts and sync-all. */
export const syncConnectionJob = defineJob({
  queue: SYNC_QUEUE,
  name: 'sync-connection',
  schema: z.object({
    connectionId: id,
    trigger: z.enum(['schedule', 'default-changed', 'manual', 'rules-changed', 'groups-changed']),
    /** Only the people these groups concern (their members and whoever they granted something); absent: every user. */
    groupIds: z.array(id).max(10_000).optional(),
    /** Distinguishes scoped requests, which are never merged with one another (each names other people). */
    requestId: id.optional(),
  }),
  // One sync per connection at a time: a request while one is waiting is merged into it, and a
  // request while one is running is kept (latest only) and started after it finishes.
  // A scoped run (groupIds) is its own job: merging it into another would drop the people it names.
  deduplicationKey: (data) => (data.groupIds ? `sync.${data.connectionId}.${data.requestId ?? data.groupIds.join('.')}` : `sync.${data.connectionId}`),
});
export type SyncConnectionData = z.infer<typeof syncConnectionJob.schema>;
export type SyncTrigger = SyncConnectionData['trigger'];

/** Fans the schedule out: one sync-connection job per SCIM-enabled connection. */
export const syncAllJob = defineJob({ queue: SYNC_QUEUE, name: 'sync-all', schema: z.object({}).loose() });

/**
 * A sync-connection intent, `sync-connection.<connectionId>.<timestamp>`: relaying it twice enqueues
 * one job, and the spec's deduplication key merges requests for one connection.
 */
export function syncIntent(connectionId: string, trigger: SyncTrigger, now: Date, groupIds?: string[]): JobIntent {
  if (groupIds) {
    // Scoped runs are never merged (docs/group-mapping.md): a unique id and deduplication key each.
    const requestId = randomUUID();
    return syncConnectionJob.intent(`sync-connection.${connectionId}.${now.getTime()}.${requestId}`, { connectionId, trigger, groupIds, requestId });
  }
  return syncConnectionJob.intent(`sync-connection.${connectionId}.${now.getTime()}`, { connectionId, trigger });
}
