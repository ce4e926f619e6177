/** Fast retries and loopback targets: what the tests need (the defaults are a day of retries, public targets only). */
export const TEST_SETTINGS = {
  allowPrivateTargets: 'true',
  backoffMs: '50',
  maxAttempts: '3',
  timeoutMs: '1000',
  sweepIntervalMs: '0',
  sequenceIntervalMs: '0',
};
