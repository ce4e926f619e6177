import type { RuntimeType, Transaction } from './runtime-types.ts';

/** Who acts: a SCIM token, an admin token, a signed-in person, or a system job. */
export type ActorType = 'scim_token' | 'admin_token' | 'sso_user' | 'system';

/**
 * Who did it: a SCIM token, an admin token, a signed-in person, or a system job — and what caused it
 * (docs/people-and-explain.md, "Causal links"): the HTTP request (a job carries the request that enqueued
 * it), the job that wrote it, and the audit event it follows from. Recorded on every audit event.
 */
export interface Actor {
  type: ActorType;
  id: string | null;
  requestId: string | null;
  /** The job writing the event (deactivation, sync). */
  jobId?: string | null;
  /** The id of the audit event this follows from (e.g. the SCIM `user.deactivated` a deactivation job follows). */
  cause?: string | null;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null, requestId: null };

/** A provisioning change, published inside the transaction that made it. */
export interface DomainEvent {
  /** Dotted action name, e.g. `user.created`, `member.role_changed`. */
  action: string;
  orgId?: string | null;
  connectionId?: string | null;
  target?: { type: string; id: string } | null;
  /** Changed fields, before and after. Never secrets. */
  changes?: Record<string, { before?: unknown; after?: unknown }> | null;
  /** The audit event id, when the publisher must name it as another event's or job's cause (else generated). */
  id?: string;
  /**
   * The decision's inputs (role mapping: the rule and the attributes, groups, seat and owner counts it
   * read; a refused sign-in: why). Never secrets, request bodies or query values.
   */
  context?: Record<string, unknown> | null;
  /** The audit event this one follows from, when it is not the actor's (`Actor.cause`). */
  cause?: string | null;
}

export type EventSubscriber = (tx: Transaction, actor: Actor, event: DomainEvent) => Promise<void>;

/**
 * In-transaction domain events (the runtime's EventBus): subscribers run inside the publisher's
 * transaction, so what they write commits or rolls back with the change.
 */
export interface MinimalEvents {
  subscribe(subscriber: EventSubscriber): void;
  publish(tx: Transaction, actor: Actor, ...events: DomainEvent[]): Promise<void>;
}

/** The runtime's event bus (packages/core/src/events.ts), or the minimal interface above. */
export type Events = RuntimeType<'events', MinimalEvents>;
