import { z } from 'zod';

/** Settings: `plugins.console` in the config file, or CONSOLE_* variables. */
export const configSchema = z
  .object({
    /** A session unused this long ends (OWASP session management: idle timeout). */
    idleMinutes: z.coerce.number().int().min(1).max(1440).default(30),
    /** A session ends this long after sign-in, used or not (absolute timeout). */
    absoluteHours: z.coerce.number().int().min(1).max(168).default(12),
    /** Name of the session cookie. */
    cookieName: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" and "-" only (1-64)')
      .default('doorman_console'),
    /** Directory of the built console (apps/console/dist); found next to the sources when unset. */
    assetsDir: z.string().min(1).optional(),
  })
  .strict();

export type ConsoleConfig = z.infer<typeof configSchema>;
