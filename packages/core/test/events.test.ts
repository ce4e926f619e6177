import { describe, expect, it } from 'vitest';
import type { EntityManager } from 'typeorm';
import { connectionDeleted, defineEvent, EventBus, SYSTEM_ACTOR, userCreated, userDeleted, type DomainEvent } from '../src/index.ts';

// The bus never touches the transaction: it hands it to the subscribers.
const tx = {} as EntityManager;

describe('EventBus: typed definitions', () => {
  it('defineEvent builds the event with its action name, which a payload cannot override', () => {
    const widgetMoved = defineEvent('widget.moved');
    expect(widgetMoved.action).toBe('widget.moved');
    const event = widgetMoved({ orgId: 'o1', target: { type: 'widget', id: 'w1' } });
    expect(event).toEqual({ action: 'widget.moved', orgId: 'o1', target: { type: 'widget', id: 'w1' } });
    expect({ ...widgetMoved({ action: 'other' } as never) }.action).toBe('widget.moved');
  });

  it('routes each event to the subscribers of its definition, in subscription order, and everything to subscribe()', async () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.subscribe(async (_tx, _actor, e) => void seen.push(`all-1:${e.action}`));
    bus.on(userDeleted, async (_tx, _actor, e) => void seen.push(`deleted:${e.action}:${e.connectionId}`));
    bus.on([userCreated, connectionDeleted], async (_tx, _actor, e) => void seen.push(`created-or-conn:${e.action}`));
    bus.subscribe(async (_tx, _actor, e) => void seen.push(`all-2:${e.action}`));

    const user = { type: 'user', id: 'u1' };
    await bus.publish(tx, SYSTEM_ACTOR, userCreated({ connectionId: 'c1', target: user }), userDeleted({ connectionId: 'c1', target: user }));
    await bus.publish(tx, SYSTEM_ACTOR, connectionDeleted({ connectionId: 'c1', target: { type: 'connection', id: 'c1' } }));
    await bus.publish(tx, SYSTEM_ACTOR, defineEvent('widget.moved')({}));

    expect(seen).toEqual([
      'all-1:user.created',
      'created-or-conn:user.created',
      'all-2:user.created',
      'all-1:user.deleted',
      'deleted:user.deleted:c1',
      'all-2:user.deleted',
      'all-1:connection.deleted',
      'created-or-conn:connection.deleted',
      'all-2:connection.deleted',
      'all-1:widget.moved',
      'all-2:widget.moved',
    ]);
  });

  it('a subscriber added after a publish sees the next events (routes are rebuilt)', async () => {
    const bus = new EventBus();
    const seen: DomainEvent[] = [];
    await bus.publish(tx, SYSTEM_ACTOR, userCreated({ connectionId: 'c1', target: { type: 'user', id: 'u1' } }));
    bus.on(userCreated, async (_tx, _actor, e) => void seen.push(e));
    await bus.publish(tx, SYSTEM_ACTOR, userCreated({ connectionId: 'c2', target: { type: 'user', id: 'u2' } }));
    expect(seen.map((e) => e.connectionId)).toEqual(['c2']);
  });

  it('passes the transaction and actor through, and a failing subscriber fails the publish (its transaction rolls back)', async () => {
    const bus = new EventBus();
    const actor = { type: 'admin_token' as const, id: 't1', requestId: 'r1' };
    const got: unknown[] = [];
    bus.on(userDeleted, async (t, a) => void got.push(t, a));
    bus.on(userDeleted, async () => {
      throw new Error('subscriber failed');
    });
    await expect(bus.publish(tx, actor, userDeleted({ connectionId: 'c1', target: { type: 'user', id: 'u1' } }))).rejects.toThrow('subscriber failed');
    expect(got).toEqual([tx, actor]);
  });

  it('types: a misspelt action or a literal event does not compile', () => {
    const bus = new EventBus();
    // @ts-expect-error publish takes events built by a definition, not hand-written literals
    void bus.publish(tx, SYSTEM_ACTOR, { action: 'user.craeted' });
    bus.on(userDeleted, async (_tx, _actor, e) => {
      // The payload is typed: a SCIM user event always names its connection.
      const id: string = e.connectionId;
      // @ts-expect-error the handler only sees user.deleted
      if (e.action === 'user.created') void id;
    });
    expect(userDeleted.action).toBe('user.deleted');
  });
});
