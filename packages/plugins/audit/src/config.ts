import { z } from 'zod';

/** Settings: `plugins.audit` in the config file, or `AUDIT_*` environment variables. */
export const auditConfigSchema = z
  .object({
    /** AUDIT_RETENTION_DAYS: events older than this are purged; 0 keeps them forever. */
    retentionDays: z.coerce.number().int().min(0).max(36_500).default(365),
    /** AUDIT_PURGE_CRON: when the retention job runs (cron, UTC). */
    purgeCron: z
      .string()
      .regex(/^\S+( \S+){4,5}$/, 'a cron pattern with 5 or 6 fields, e.g. "30 3 * * *"')
      .default('30 3 * * *'),
    /** AUDIT_PURGE_BATCH_SIZE: events deleted per transaction by the retention job. */
    purgeBatchSize: z.coerce.number().int().min(1).max(10_000).default(1000),
  })
  .strict();

export type AuditConfig = z.infer<typeof auditConfigSchema>;
