import type { EntityManager } from 'typeorm';
import { inTransaction, transactionBuffer, type JobRegistry } from '@doorman/core';
import type { Actor, DomainEvent, TransactionRunner } from '@doorman/plugin-api';
import { deliverIntent } from './jobs.ts';
import { bumpSubjectCounters, marks, sqlTime } from './sql.ts';
import { mapDomainEvent, subjectKey, typeMatches, type MappedEvent } from './types.ts';
import { newRowId } from '@doorman/model';

interface PendingEvent {
  mapped: MappedEvent;
  actor: Actor;
  orgId: string | null;
  connectionId: string | null;
  occurredAt: Date;
}

const EVENT_COLUMNS = 'id, type, occurred_at, org_id, connection_id, subject_type, subject_id, subject_seq, actor_type, data';
const DELIVERY_COLUMNS = 'id, endpoint_id, event_id, subject_key, subject_seq, kind, status, attempts, next_attempt_at, created_at, updated_at';

/**
 * Records published domain events as webhook events, with their deliveries and job intents, in the
 * publisher's transaction (docs/webhooks.md). Written just before COMMIT (core's `transactionBuffer`,
 * packages/core/src/commit-hooks.ts), so one transaction costs one statement of each kind; a failure
 * there fails the commit, so no change commits without its events and their outbox intents. What a
 * rolled-back savepoint published is dropped.
 */
export class EventRecorder {
  /** Flushed before COMMIT: every event the transaction published. */
  private readonly unwritten = transactionBuffer<PendingEvent>((tx, published) => this.write(tx, published));

  constructor(
    private readonly jobs: JobRegistry,
    private readonly transaction: TransactionRunner,
    private readonly clock: { now(): Date },
  ) {}

  /** The event bus subscriber. */
  async record(tx: EntityManager, actor: Actor, event: DomainEvent): Promise<void> {
    const mapped = mapDomainEvent(event);
    if (!mapped) return;
    const item = { mapped, actor, orgId: event.orgId ?? null, connectionId: event.connectionId ?? null, occurredAt: this.clock.now() };
    // Outside a transaction: a transaction of its own, so the event, its deliveries and intents commit together.
    if (!inTransaction(tx)) await this.transaction((own) => this.write(own, [item]));
    else await this.unwritten.add(tx, item);
  }

  private async write(tx: EntityManager, published: PendingEvent[]): Promise<void> {
    // Within one transaction a subject's creation is numbered first and its deletion last, whatever
    // order the producers published in (a SCIM create publishes the memberships it grants first).
    const rank = (i: PendingEvent) => (i.mapped.type.endsWith('.created') ? 0 : i.mapped.type.endsWith('.deleted') ? 2 : 1);
    const items = [...published].sort((x, y) => rank(x) - rank(y));
    const counts = new Map<string, number>();
    for (const i of items) counts.set(subjectKey(i.mapped.subject), (counts.get(subjectKey(i.mapped.subject)) ?? 0) + 1);
    const last = await bumpSubjectCounters(tx, counts);
    // Sequence numbers in publish order within this transaction: the counter now holds the last one.
    const next = new Map([...counts].map(([k, n]) => [k, last.get(k)! - n + 1]));

    // A person's events name no organization (SCIM users belong to a connection): use the connection's default.
    const orgless = [...new Set(items.filter((i) => !i.orgId && i.connectionId).map((i) => i.connectionId!))];
    const defaultOrg = new Map<string, string | null>();
    if (orgless.length) {
      const rows: Array<{ id: string; default_org_id: string | null }> = await tx.query(`SELECT id, default_org_id FROM sso_connections WHERE id IN (${marks(orgless.length)})`, orgless);
      for (const r of rows) defaultOrg.set(r.id, r.default_org_id);
    }

    const events = items.map((i) => {
      const key = subjectKey(i.mapped.subject);
      const seq = next.get(key)!;
      next.set(key, seq + 1);
      const orgId = i.orgId ?? (i.connectionId ? (defaultOrg.get(i.connectionId) ?? null) : null);
      return { id: newRowId(), item: i, key, seq, orgId };
    });
    const params: unknown[] = [];
    for (const e of events) {
      const { mapped, actor, connectionId, occurredAt } = e.item;
      params.push(e.id, mapped.type, sqlTime(occurredAt), e.orgId, connectionId, mapped.subject.type, mapped.subject.id.slice(0, 255), e.seq, actor.type, JSON.stringify({ changes: mapped.changes }));
    }
    await tx.query(`INSERT INTO webhook_events (${EVENT_COLUMNS}) VALUES ${events.map(() => `(${marks(10)})`).join(', ')}`, params);

    const endpoints: Array<{ id: string; event_types: string | null; org_id: string | null }> = await tx.query('SELECT id, event_types, org_id FROM webhook_endpoints WHERE enabled = 1');
    if (!endpoints.length) return;
    const filters = endpoints.map((ep) => ({ id: ep.id, orgId: ep.org_id, types: ep.event_types ? (JSON.parse(ep.event_types) as string[]) : null }));
    const now = sqlTime(this.clock.now());
    const rows: unknown[] = [];
    const intents = [];
    for (const e of events) {
      const ids: string[] = [];
      for (const ep of filters) {
        if (ep.orgId && ep.orgId !== e.orgId) continue;
        if (!typeMatches(ep.types, e.item.mapped.type)) continue;
        const id = newRowId();
        ids.push(id);
        rows.push(id, ep.id, e.id, e.key, e.seq, 'event', 'pending', 0, now, now, now);
      }
      if (ids.length) intents.push(deliverIntent(e.id, 'new', ids));
    }
    if (!intents.length) return;
    await tx.query(`INSERT INTO webhook_deliveries (${DELIVERY_COLUMNS}) VALUES ${new Array(rows.length / 11).fill(`(${marks(11)})`).join(', ')}`, rows);
    await this.jobs.enqueue(tx, ...intents);
  }
}
