/**
 * Where deliveries may go (docs/webhooks.md, "Safety"): the core's outbound policy, shared with every
 * other request Doorman makes to an admin-given URL (docs/outbound-requests.md).
 */
export { assertLiteralAllowed, assertTargetAllowed, guardedLookup, isPublicAddress, TargetRefused } from '@doorman/core';
