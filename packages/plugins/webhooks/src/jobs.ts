import { z } from 'zod';
import { defineJob, type JobIntent } from '@doorman/plugin-api';

export const WEBHOOKS_QUEUE = 'webhooks';

/** Sends the listed deliveries (one event's, or one delivery being retried or handed on). */
export const deliverJob = defineJob({
  queue: WEBHOOKS_QUEUE,
  name: 'deliver',
  schema: z.object({ deliveryIds: z.array(z.string().min(1).max(36)).min(1).max(1000) }),
});

/** Deletes events and delivery logs older than the retention. */
export const purgeJob = defineJob({ queue: WEBHOOKS_QUEUE, name: 'purge-expired', schema: z.object({}).loose() });

/** A deliver intent; `reason` makes the id unique per hand-over, so BullMQ never drops it as a repeat. */
export const deliverIntent = (key: string, reason: string, deliveryIds: string[]): JobIntent => deliverJob.intent(`deliver.${key}.${reason}`, { deliveryIds });
