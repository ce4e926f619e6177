import { z } from 'zod';

/** Settings: `plugins.admin` in the config file, or `ADMIN_*` environment variables. */
export const adminConfigSchema = z
  .object({
    /** ADMIN_METADATA_ALLOW_PRIVATE_URLS: let IdP metadata be fetched from private, loopback or link-local addresses (as WEBHOOKS_ALLOW_PRIVATE_TARGETS). */
    metadataAllowPrivateUrls: z.stringbool().default(false),
    /** ADMIN_METADATA_TIMEOUT_MS: one metadata fetch's limit (connect, headers and body). */
    metadataTimeoutMs: z.coerce.number().int().min(100).max(60_000).default(10_000),
    /** ADMIN_METADATA_MAX_BYTES: the largest metadata document read (pasted or fetched). */
    metadataMaxBytes: z.coerce.number().int().min(1024).max(10_485_760).default(1_048_576),
    /** ADMIN_BOOTSTRAP_TOKEN is the gateway's setting, read under this plugin's prefix too: accepted and dropped here. */
    bootstrapToken: z
      .unknown()
      .optional()
      .transform(() => undefined),
  })
  .strict();

export type AdminConfig = z.infer<typeof adminConfigSchema>;
