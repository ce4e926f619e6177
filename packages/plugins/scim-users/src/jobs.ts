import { z } from 'zod';
import { defineJob } from '@doorman/plugin-api';

/** Membership changes for one person (the dashboard's `provisioning` queue). */
export const PROVISIONING_QUEUE = 'provisioning';

const id = z.string().min(1).max(64);

/**
 * Deprovisions one person of one connection: enqueued with the SCIM change that deactivated or
 * deleted them (store.ts, write-group.ts), processed here (deprovision.ts). Ids are per change:
 * `deactivate-user.<connectionUserId>.v<version>` or `.deleted`.
 */
export const deactivateUserJob = defineJob({
  queue: PROVISIONING_QUEUE,
  name: 'deactivate-user',
  schema: z.object({
    connectionId: id,
    connectionUserId: id,
    userId: id,
    reason: z.enum(['inactive', 'deleted']),
    /** Causal links for the audit trail (docs/people-and-explain.md): the SCIM request, and its `user.deactivated`/`user.deleted` event. */
    requestId: z.string().max(64).optional(),
    causeEventId: z.string().max(64).optional(),
  }),
});
export type DeactivateUserPayload = z.infer<typeof deactivateUserJob.schema>;
