import type { Actor, AnyEventDefinition, DomainEvent, EventHandler, EventOf, EventSubscriber, MinimalEvents, PublishedEvent } from '@doorman/plugin-api';
import type { EntityManager } from 'typeorm';

/**
 * In-transaction domain events (docs/architecture.md "Events"): subscribers run inside the publisher's
 * transaction, in the order they subscribed, so what they write (e.g. audit events) commits or rolls
 * back with the change. With no subscriber, nothing happens.
 */
export class EventBus implements MinimalEvents {
  /** In subscription order; `actions` null = every event. */
  private readonly subscribers: Array<{ actions: ReadonlySet<string> | null; handler: EventSubscriber }> = [];
  /** Per action, the subscribers that see it (built on first publish, reset when one subscribes). */
  private readonly routes = new Map<string, EventSubscriber[]>();

  subscribe(subscriber: EventSubscriber): void {
    this.subscribers.push({ actions: null, handler: subscriber });
    this.routes.clear();
  }

  on<const D extends AnyEventDefinition>(events: D | readonly D[], handler: EventHandler<EventOf<D>>): void {
    const list: readonly AnyEventDefinition[] = Array.isArray(events) ? events : [events as D];
    // The runtime routes by action name, so the handler only ever sees the events it named.
    this.subscribers.push({ actions: new Set(list.map((d) => d.action)), handler: handler as EventSubscriber });
    this.routes.clear();
  }

  async publish(tx: EntityManager, actor: Actor, ...events: PublishedEvent[]): Promise<void> {
    for (const event of events) for (const s of this.route(event)) await s(tx, actor, event);
  }

  private route(event: DomainEvent): EventSubscriber[] {
    let list = this.routes.get(event.action);
    if (!list) {
      list = this.subscribers.filter((s) => !s.actions || s.actions.has(event.action)).map((s) => s.handler);
      this.routes.set(event.action, list);
    }
    return list;
  }
}
