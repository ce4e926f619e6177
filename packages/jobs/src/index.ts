export { startJobRuntime, hashTaggedPrefix, INLINE_WARNING, DEFAULT_PREFIX, type JobRuntime, type JobRuntimeOptions, type JobsLogger } from './runtime.ts';
export { toBullJobId, fromBullJobId, jobOptionsFor, DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS } from './job-options.ts';
export { countPendingIntents, countUnfinishedIntents, type Transact } from './outbox.ts';
export type { Queue } from 'bullmq';
