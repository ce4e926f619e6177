import { z } from 'zod';

/** Response schemas of the admin routes (they describe them in the OpenAPI document and are checked in tests). */
const time = z.string().describe('ISO 8601 time');

export const eventSchema = z.object({
  object: z.literal('event'),
  id: z.string(),
  type: z.string(),
  createdAt: time,
  organizationId: z.string().nullable(),
  connectionId: z.string().nullable(),
  subject: z.object({ type: z.string(), id: z.string() }),
  sequence: z.number().int().describe('1, 2, … per subject, in commit order'),
  actor: z.object({ type: z.string() }),
  changes: z.record(z.string(), z.unknown()).describe('{ field: { before?, after? } }, never secrets'),
});
export const eventListSchema = z.object({
  object: z.literal('list'),
  data: z.array(eventSchema),
  listMetadata: z.object({ after: z.string().nullable().describe('pass as `after` for the next page') }),
});

export const endpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  eventTypes: z.array(z.string()).nullable(),
  orgId: z.string().nullable(),
  enabled: z.boolean(),
  disabledReason: z.string().nullable(),
  consecutiveDeadLetters: z.number().int(),
  previousSecretExpiresAt: time.nullable(),
  createdAt: time,
  updatedAt: time,
});
export const createdEndpointSchema = endpointSchema.extend({ secret: z.string().describe('the signing secret, shown only now') });
export const endpointListSchema = z.object({ endpoints: z.array(endpointSchema) });
export const rotatedSchema = z.object({ id: z.string(), secret: z.string().describe('the new signing secret, shown only now'), previousSecretExpiresAt: time.nullable() });

export const deliverySchema = z.object({
  id: z.string(),
  endpointId: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  kind: z.enum(['event', 'redelivery']),
  status: z.enum(['pending', 'waiting', 'delivered', 'dead']),
  attempts: z.number().int(),
  lastStatusCode: z.number().int().nullable(),
  nextAttemptAt: time.nullable(),
  createdAt: time,
  finishedAt: time.nullable(),
});
export const deliveryDetailSchema = deliverySchema.extend({
  attemptLog: z.array(
    z.object({
      attempt: z.number().int(),
      startedAt: time,
      statusCode: z.number().int().nullable(),
      latencyMs: z.number().int(),
      error: z.string().nullable(),
      responseSnippet: z.string().nullable(),
    }),
  ),
});
export const deliveryListSchema = z.object({ deliveries: z.array(deliverySchema), nextCursor: z.string().nullable() });
