import { z } from 'zod';

/** Settings: `plugins.people` in the config file, or `PEOPLE_*` environment variables. */
export const peopleConfigSchema = z
  .object({
    /** PEOPLE_ACTIVITY_PER_SECOND: refused requests recorded per connection per second, per process (0 = none). */
    activityPerSecond: z.coerce.number().int().min(0).max(1000).default(10),
    /** PEOPLE_ACTIVITY_PURGE_CRON: when refused requests older than the audit retention are deleted. */
    activityPurgeCron: z
      .string()
      .regex(/^\S+( \S+){4,5}$/, 'a cron pattern with 5 or 6 fields, e.g. "50 3 * * *"')
      .default('50 3 * * *'),
  })
  .strict();

export type PeopleConfig = z.infer<typeof peopleConfigSchema>;
