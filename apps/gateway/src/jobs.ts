import type { Gateway } from '@doorman/core';
import { startJobRuntime, type JobRuntime } from '@doorman/jobs';
import { PROVISIONING_QUEUE } from '@doorman/plugin-scim-users';
import { SYNC_QUEUE } from '@doorman/plugin-role-mapping';

/**
 * Starts the job runtime for this process's role: the outbox relay everywhere, BullMQ workers in
 * `worker` and `all`; inline (in-process) only in development without Redis. The runtime closes
 * before the plugins' hooks and the database pool, so workers finish their active jobs first.
 */
export async function startJobs(gateway: Gateway): Promise<JobRuntime> {
  const runtime = await startJobRuntime({
    registry: gateway.jobs,
    db: gateway.db,
    transaction: gateway.transaction,
    redisUrl: gateway.config.redisUrl ?? null,
    role: gateway.config.role,
    mode: gateway.config.mode,
    logger: gateway.logger,
    metrics: gateway.metrics,
    prefix: gateway.config.jobsPrefix,
    // The dashboard shows these even when the plugins that own them are off.
    extraQueues: [PROVISIONING_QUEUE, SYNC_QUEUE],
  });
  gateway.addShutdownHook(() => runtime.close());
  return runtime;
}
