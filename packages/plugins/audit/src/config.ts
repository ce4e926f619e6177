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
    /** AUDIT_SEAL_INTERVAL_MS: how often each process seals committed events into their chains; 0 = only the job. */
    sealIntervalMs: z.coerce.number().int().min(0).max(3_600_000).default(1000),
    /** AUDIT_SEAL_CRON: when the sealing job runs (a backstop for processes whose timer is off). */
    sealCron: z
      .string()
      .regex(/^\S+( \S+){4,5}$/, 'a cron pattern with 5 or 6 fields, e.g. "* * * * *"')
      .default('* * * * *'),
    /** AUDIT_SEAL_BATCH_SIZE: events sealed per transaction. */
    sealBatchSize: z.coerce.number().int().min(1).max(2000).default(500),
    /** AUDIT_UNSEALED_ALERT_SECONDS: verification reports events unsealed for longer than this. */
    unsealedAlertSeconds: z.coerce.number().int().min(1).max(86_400).default(120),
  })
  .strict();

export type AuditConfig = z.infer<typeof auditConfigSchema>;
