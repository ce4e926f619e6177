import { z } from 'zod';
import { parseSigningKey, parseVerifyKey } from './checkpoint.ts';

/** An optional key setting that must parse with `parse` (its message names what is wrong). */
function keySetting(parse: (text: string) => unknown) {
  return z
    .string()
    .max(8192)
    .optional()
    .superRefine((v, ctx) => {
      if (v === undefined) return;
      try {
        parse(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    });
}

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
    /**
     * AUDIT_HMAC_KEY: key of each event's HMAC, never stored in the database (docs/audit-anchoring.md).
     * Required in production; the same on every replica.
     */
    hmacKey: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)').max(1024).optional(),
    /** AUDIT_CHECKPOINT_KEY: Ed25519 private key (PKCS#8 PEM or base64 DER) that signs checkpoints of the chain heads. */
    checkpointKey: keySetting(parseSigningKey),
    /** AUDIT_CHECKPOINT_PUBLIC_KEY: verifies checkpoints where the private key is not configured (an auditor's copy). */
    checkpointPublicKey: keySetting(parseVerifyKey),
    /** AUDIT_CHECKPOINT_DIR: where the checkpoint job writes signed checkpoint files (keep it off the database's host). */
    checkpointDir: z.string().min(1).max(4096).optional(),
    /** AUDIT_CHECKPOINT_CRON: when the checkpoint job runs (with a key and a directory). */
    checkpointCron: z
      .string()
      .regex(/^\S+( \S+){4,5}$/, 'a cron pattern with 5 or 6 fields, e.g. "*/15 * * * *"')
      .default('*/15 * * * *'),
  })
  .strict();

export type AuditConfig = z.infer<typeof auditConfigSchema>;
