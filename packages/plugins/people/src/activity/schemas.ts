import { z } from 'zod';

/** The activity route's request and response (docs/connection-activity.md, docs/admin-api.md). */
export const activityQuery = z.object({
  outcome: z.enum(['error', 'all']).default('error').meta({ description: 'error: refused requests only; all: also the changes accepted from this connection (from the audit trail)' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().meta({ description: 'nextCursor of the previous page' }),
});

const nullableText = z.string().nullable();
export const activityItem = z
  .object({
    outcome: z.enum(['refused', 'accepted']),
    at: z.iso.datetime(),
    requestId: nullableText.meta({ description: 'the X-Request-Id of the request (and the TraceID of SSO refusals)' }),
    surface: z.enum(['scim', 'sso']).nullable(),
    method: nullableText,
    route: nullableText.meta({ description: 'the route pattern (never the raw URL or query)' }),
    status: z.number().int().nullable(),
    scimType: nullableText,
    code: nullableText.meta({ description: 'the error code (DMN_* or the error class code)' }),
    detail: nullableText.meta({ description: 'the error detail sent to the client, with every request value redacted (…)' }),
    unrecorded: z.number().int().meta({ description: 'refusals of this connection not recorded (per-second cap) since the previous recorded one' }),
    action: nullableText.meta({ description: 'accepted: the audit action' }),
    eventId: nullableText.meta({ description: 'accepted: the audit event id' }),
    target: z.object({ type: z.string(), id: z.string() }).nullable(),
  })
  .meta({ id: 'ActivityItem' });

export const activityResult = z.object({
  connection: z.object({ id: z.string(), name: z.string() }),
  items: z.array(activityItem),
  nextCursor: z.string().nullable(),
});

export const endSessionsResult = z.object({ sessionsEnded: z.number().int().meta({ description: 'open sessions ended' }) });
