import { z } from 'zod';
import { defineJob } from '@doorman/plugin-api';

/** The audit plugin's scheduled jobs (processed in index.ts); none is enqueued by a change. */
export const AUDIT_QUEUE = 'audit';
const noData = z.object({}).loose();

/** Writes a signed checkpoint of every chain head (docs/audit-anchoring.md). */
export const exportCheckpointJob = defineJob({ queue: AUDIT_QUEUE, name: 'export-checkpoint', schema: noData });
/** Links committed, unsealed events into their organization's hash chain. */
export const sealChainsJob = defineJob({ queue: AUDIT_QUEUE, name: 'seal-chains', schema: noData });
/** Deletes events past AUDIT_RETENTION_DAYS. */
export const purgeExpiredJob = defineJob({ queue: AUDIT_QUEUE, name: 'purge-expired', schema: noData });
