import { z } from 'zod';
import { defineJob } from '@doorman/plugin-api';

/** Deletes refused requests past retention (scheduled; processed in index.ts). */
export const purgeActivityJob = defineJob({ queue: 'people', name: 'purge-activity', schema: z.object({}).loose() });
