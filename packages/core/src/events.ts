import type { Actor, DomainEvent, EventSubscriber, MinimalEvents } from '@doorman/plugin-api';
import type { EntityManager } from 'typeorm';

/**
 * In-transaction domain events: subscribers run inside the publisher's transaction, so what they
 * write (e.g. audit events) commits or rolls back with the change. With no subscriber, nothing happens.
 */
export class EventBus implements MinimalEvents {
  private readonly subscribers: EventSubscriber[] = [];

  subscribe(subscriber: EventSubscriber): void {
    this.subscribers.push(subscriber);
  }

  async publish(tx: EntityManager, actor: Actor, ...events: DomainEvent[]): Promise<void> {
    for (const event of events) for (const s of this.subscribers) await s(tx, actor, event);
  }
}
