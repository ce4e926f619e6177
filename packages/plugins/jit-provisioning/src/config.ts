import { z } from 'zod';

/** Settings: `plugins.jit-provisioning` in the config file, or JIT_PROVISIONING_* variables. */
export const configSchema = z
  .object({
    /** HMAC key for the session cookie. Required in production; generated per process in development. */
    sessionSecret: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Session lifetime when the IdP sends no `dockerSessionMinutes`. */
    sessionMinutes: z.coerce.number().int().min(1).max(525_600).default(480),
    /** Name of the session cookie. */
    cookieName: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" and "-" only (1-64)')
      .default('doorman_sso'),
  })
  .strict();

export type JitProvisioningConfig = z.infer<typeof configSchema>;
