import { EntitySchema } from 'typeorm';
import type { JsonDocument } from './entities.ts';

/** Tables of the webhooks plugin (migration Webhooks1733024000000; see docs/webhooks.md). */

const uuid = (nullable = false) => ({ type: 'varchar', length: 36, nullable }) as const;
const time = (name: string, nullable = false) => ({ type: 'datetime', precision: 3, name, nullable }) as const;

/** A provisioning change as published to webhook endpoints and the pull API. */
export interface WebhookEvent {
  seq: number;
  id: string;
  type: string;
  occurredAt: Date;
  orgId: string | null;
  connectionId: string | null;
  subjectType: string;
  subjectId: string;
  /** 1, 2, … per subject (a person, a group, a connection), in commit order. */
  subjectSeq: number;
  actorType: string;
  data: JsonDocument;
  /** Commit-order position (the pull API's cursor), assigned after commit; NULL until then. */
  position: number | null;
}
export const WebhookEventEntity = new EntitySchema<WebhookEvent>({
  name: 'WebhookEvent',
  tableName: 'webhook_events',
  columns: {
    seq: { type: 'bigint', primary: true, generated: 'increment' },
    id: uuid(),
    type: { type: 'varchar', length: 64 },
    occurredAt: time('occurred_at'),
    orgId: { ...uuid(true), name: 'org_id' },
    connectionId: { ...uuid(true), name: 'connection_id' },
    subjectType: { type: 'varchar', length: 32, name: 'subject_type' },
    subjectId: { type: 'varchar', length: 255, name: 'subject_id' },
    subjectSeq: { type: 'bigint', name: 'subject_seq' },
    actorType: { type: 'varchar', length: 16, name: 'actor_type' },
    data: { type: 'simple-json' },
    position: { type: 'bigint', nullable: true },
  },
});

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  /** Event types delivered; null = every type. */
  eventTypes: string[] | null;
  /** Only events of this organization; null = every organization. */
  orgId: string | null;
  enabled: boolean;
  /** Standard Webhooks signing secret (`whsec_…`), shown once. */
  secret: string;
  /** The secret before the last rotation, still signing until `previousSecretExpiresAt`. */
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  /** Deliveries dead-lettered since the last success (the endpoint is disabled at a threshold). */
  consecutiveDead: number;
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}
export const WebhookEndpointEntity = new EntitySchema<WebhookEndpoint>({
  name: 'WebhookEndpoint',
  tableName: 'webhook_endpoints',
  columns: {
    id: { ...uuid(), primary: true },
    url: { type: 'varchar', length: 2048 },
    description: { type: 'varchar', length: 255, nullable: true },
    eventTypes: { type: 'simple-json', nullable: true, name: 'event_types' },
    orgId: { ...uuid(true), name: 'org_id' },
    enabled: { type: 'boolean' },
    secret: { type: 'varchar', length: 128 },
    previousSecret: { type: 'varchar', length: 128, nullable: true, name: 'previous_secret' },
    previousSecretExpiresAt: time('previous_secret_expires_at', true),
    consecutiveDead: { type: 'int', name: 'consecutive_dead' },
    disabledReason: { type: 'varchar', length: 255, nullable: true, name: 'disabled_reason' },
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
});

export type WebhookDeliveryStatus = 'pending' | 'waiting' | 'delivered' | 'dead';
export interface WebhookDelivery {
  seq: number;
  id: string;
  endpointId: string;
  eventId: string;
  subjectKey: string;
  subjectSeq: number;
  /** `event` (ordered per subject and endpoint) or `redelivery` (manual, outside the order). */
  kind: 'event' | 'redelivery';
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  kickedAt: Date | null;
  lastStatusCode: number | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}
export const WebhookDeliveryEntity = new EntitySchema<WebhookDelivery>({
  name: 'WebhookDelivery',
  tableName: 'webhook_deliveries',
  columns: {
    seq: { type: 'bigint', primary: true, generated: 'increment' },
    id: uuid(),
    endpointId: { ...uuid(), name: 'endpoint_id' },
    eventId: { ...uuid(), name: 'event_id' },
    subjectKey: { type: 'varchar', length: 128, name: 'subject_key' },
    subjectSeq: { type: 'bigint', name: 'subject_seq' },
    kind: { type: 'varchar', length: 16 },
    status: { type: 'varchar', length: 16 },
    attempts: { type: 'int' },
    nextAttemptAt: time('next_attempt_at'),
    kickedAt: time('kicked_at', true),
    lastStatusCode: { type: 'int', nullable: true, name: 'last_status_code' },
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
    finishedAt: time('finished_at', true),
  },
});

export interface WebhookAttempt {
  seq: number;
  deliveryId: string;
  endpointId: string;
  attempt: number;
  startedAt: Date;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseSnippet: string | null;
}
export const WebhookAttemptEntity = new EntitySchema<WebhookAttempt>({
  name: 'WebhookAttempt',
  tableName: 'webhook_attempts',
  columns: {
    seq: { type: 'bigint', primary: true, generated: 'increment' },
    deliveryId: { ...uuid(), name: 'delivery_id' },
    endpointId: { ...uuid(), name: 'endpoint_id' },
    attempt: { type: 'int' },
    startedAt: time('started_at'),
    statusCode: { type: 'int', nullable: true, name: 'status_code' },
    latencyMs: { type: 'int', name: 'latency_ms' },
    error: { type: 'varchar', length: 255, nullable: true },
    responseSnippet: { type: 'varchar', length: 1024, nullable: true, name: 'response_snippet' },
  },
});

export const WEBHOOK_ENTITIES = [WebhookEventEntity, WebhookEndpointEntity, WebhookDeliveryEntity, WebhookAttemptEntity];
