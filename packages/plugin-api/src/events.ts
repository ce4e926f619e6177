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

/** Changed fields, before and after. Never secrets. */
export type EventChanges = Record<string, { before?: unknown; after?: unknown }>;

/** What an event is about (`{ type: 'user', id }`, `{ type: 'connection', id }`, …). */
export interface EventTarget {
  type: string;
  id: string;
}

/** What a domain event carries besides its action name. */
export interface EventPayload {
  orgId?: string | null;
  connectionId?: string | null;
  target?: EventTarget | null;
  /** Changed fields, before and after. Never secrets. */
  changes?: EventChanges | null;
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

/** A provisioning change, published inside the transaction that made it. */
export interface DomainEvent<A extends string = string> extends EventPayload {
  /** Dotted action name, e.g. `user.created`, `member.role_changed` (the catalog: event-catalog.ts). */
  action: A;
}

// Type-only brand: an event is published only as its definition built it, so no action is spelt by hand.
declare const defined: unique symbol;

/** A domain event built by its definition (`userCreated({ ... })`): what `publish` accepts. */
export type PublishedEvent<A extends string = string, P extends EventPayload = EventPayload> = DomainEvent<A> & P & { readonly [defined]: true };

/**
 * A domain event's definition (docs/architecture.md "Events"): its action name, typed as a literal,
 * and the payload it carries. Calling it builds the event to publish; `events.on` subscribes to it.
 */
export interface EventDefinition<A extends string = string, P extends EventPayload = EventPayload> {
  (payload: P): PublishedEvent<A, P>;
  readonly action: A;
}

/** Defines a domain event: `export const userCreated = defineEvent<'user.created', ScimUserPayload>('user.created')`. */
export function defineEvent<const A extends string, P extends EventPayload = EventPayload>(action: A): EventDefinition<A, P> {
  const build = (payload: P) => ({ ...payload, action }) as PublishedEvent<A, P>;
  return Object.assign(build, { action });
}

export type AnyEventDefinition = EventDefinition<string, any>;

/** The event a subscriber to `D` (one definition or a union of them) receives. */
export type EventOf<D extends AnyEventDefinition> = D extends EventDefinition<infer A, infer P> ? DomainEvent<A> & P : never;

export type EventHandler<E extends DomainEvent = DomainEvent> = (tx: Transaction, actor: Actor, event: E) => Promise<void>;

/** Subscribes to every event (audit, webhooks). */
export type EventSubscriber = EventHandler<DomainEvent>;

/**
 * In-transaction domain events (the runtime's EventBus): subscribers run inside the publisher's
 * transaction, in the order they subscribed, so what they write commits or rolls back with the change.
 */
export interface MinimalEvents {
  /** Every event, whatever its action (audit, webhooks). */
  subscribe(subscriber: EventSubscriber): void;
  /** The events of these definitions only, typed: `events.on([userDeleted, userDeactivated], handler)`. */
  on<const D extends AnyEventDefinition>(events: D | readonly D[], handler: EventHandler<EventOf<D>>): void;
  publish(tx: Transaction, actor: Actor, ...events: PublishedEvent[]): Promise<void>;
}

/** The runtime's event bus (packages/core/src/events.ts), or the minimal interface above. */
export type Events = RuntimeType<'events', MinimalEvents>;
