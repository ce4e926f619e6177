import { z } from 'zod';

const cron = (example: string) => z.string().regex(/^\S+( \S+){4,5}$/, `a cron pattern with 5 or 6 fields, e.g. "${example}"`);

/** Settings: `plugins.webhooks` in the config file, or `WEBHOOKS_*` environment variables. */
export const webhooksConfigSchema = z
  .object({
    /** WEBHOOKS_ALLOW_PRIVATE_TARGETS: allow endpoints resolving to private, loopback or link-local addresses. */
    allowPrivateTargets: z.stringbool().default(false),
    /** WEBHOOKS_TIMEOUT_MS: one delivery attempt's limit (connect, send, response headers and body). */
    timeoutMs: z.coerce.number().int().min(100).max(60_000).default(10_000),
    /** WEBHOOKS_MAX_ATTEMPTS: attempts before a delivery is dead-lettered. */
    maxAttempts: z.coerce.number().int().min(1).max(30).default(14),
    /** WEBHOOKS_BACKOFF_MS: base of the exponential backoff between attempts (14 attempts from 10 s ≈ 23 h). */
    backoffMs: z.coerce.number().int().min(10).max(3_600_000).default(10_000),
    /** WEBHOOKS_RESPONSE_SNIPPET_BYTES: most bytes of a response body read and kept in the delivery log. */
    responseSnippetBytes: z.coerce.number().int().min(0).max(1024).default(512),
    /** WEBHOOKS_DISABLE_AFTER_DEAD_LETTERS: consecutive dead-lettered deliveries that disable an endpoint (0 = never). */
    disableAfterDeadLetters: z.coerce.number().int().min(0).max(10_000).default(5),
    /** WEBHOOKS_CONCURRENCY: deliveries in flight per worker process. */
    concurrency: z.coerce.number().int().min(1).max(500).default(50),
    /** WEBHOOKS_ROTATION_OVERLAP_MINUTES: how long the previous secret keeps signing after a rotation, by default. */
    rotationOverlapMinutes: z.coerce.number().int().min(0).max(10_080).default(1440),
    /** WEBHOOKS_RETENTION_DAYS: events and delivery logs kept; unset = the audit plugin's AUDIT_RETENTION_DAYS (365 without it); 0 keeps forever. */
    retentionDays: z.coerce.number().int().min(0).max(36_500).optional(),
    /** WEBHOOKS_PURGE_CRON: when the retention job runs. */
    purgeCron: cron('45 3 * * *').default('45 3 * * *'),
    /** WEBHOOKS_SWEEP_INTERVAL_MS: how often a worker re-sends deliveries whose job went missing (0 = off). */
    sweepIntervalMs: z.coerce.number().int().min(0).max(3_600_000).default(15_000),
    /** WEBHOOKS_SWEEP_GRACE_MS: how overdue a delivery must be before the sweeper re-sends it. */
    sweepGraceMs: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
    /** WEBHOOKS_SEQUENCE_INTERVAL_MS: how often committed events get their pull-API position (0 = only on read). */
    sequenceIntervalMs: z.coerce.number().int().min(0).max(60_000).default(1000),
  })
  .strict();

export type WebhooksConfig = z.infer<typeof webhooksConfigSchema>;
