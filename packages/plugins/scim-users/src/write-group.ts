import type { EntityManager } from 'typeorm';
import { isMemberError, NotFoundError, type Actor, type EventBus, type JobIntent, type JobRegistry, type MemberOutcome, type PublishedEvent } from '@doorman/core';
import type { ConnectionUser, RowCodec } from '@doorman/model';
import type { ScimResource } from '@doorman/scim';
import type { Tenant } from './store.ts';

/** A PUT or PATCH of one user, as the SCIM route received it. */
export interface WriteRequest {
  kind: 'put' | 'patch';
  tenant: Tenant;
  id: string;
  body: unknown;
  ifMatch?: string;
}

/**
 * A write decided in memory from the locked row. `simple`: one UPDATE of the row plus the events and
 * job intents it publishes — nothing else is written, so a failure of that one statement leaves
 * nothing of the member behind. Otherwise `complex` (emails, userName or mapping attributes change,
 * or a reactivation): the member's statements run inside a savepoint.
 */
export type WriteStep =
  | { kind: 'unchanged'; resource: ScimResource }
  | { kind: 'simple'; next: ConnectionUser; changed: Partial<ConnectionUser>; update: { sql: string; params: unknown[] }; events: PublishedEvent[]; intents: JobIntent[]; resource: ScimResource }
  | { kind: 'complex' };

export interface WriteGroupHost {
  events: EventBus;
  jobs: JobRegistry;
  /** The rows of `ids`, locked for the transaction (one statement, primary-key order). */
  lockRows(tx: EntityManager, ids: string[]): Promise<Map<string, ConnectionUser>>;
  /** Writes the changed columns of several rows (`id` and what changed; one UPDATE per set of columns). */
  updateRows(tx: EntityManager, rows: Array<Partial<ConnectionUser> & { id: string }>): Promise<void>;
  /** Decides the write from the current row (pure: may throw the member's own 4xx). */
  decide(current: ConnectionUser, request: WriteRequest): WriteStep;
  /** Today's single-request write path, run inside the member's savepoint. */
  writeComplex(tx: EntityManager, current: ConnectionUser, request: WriteRequest): Promise<{ resource: ScimResource; next: ConnectionUser }>;
}

/**
 * Runs a group of PUT/PATCH requests in one transaction (docs/group-commit.md): every row the group
 * writes is locked by one `SELECT … FOR UPDATE` in primary-key order (so two groups never wait on each
 * other in opposite orders), each member is decided from the row as the members before it left it
 * (two writes of one user in one group apply in arrival order: no lost update), the simple members'
 * changes are written together (one UPDATE per set of changed columns, usually one per group), and
 * their events and job intents are published together (one multi-row INSERT each, the audit rows at COMMIT). A complex member runs in a savepoint: on its own
 * error, ROLLBACK TO SAVEPOINT undoes its statements and the events it published (the audit writer
 * is savepoint-aware), and the others go on.
 */
export async function runWriteGroup(host: WriteGroupHost, tx: EntityManager, requests: WriteRequest[]): Promise<Array<MemberOutcome<ScimResource>>> {
  const rows = await host.lockRows(tx, [...new Set(requests.map((r) => r.id))].sort());
  const outcomes: Array<MemberOutcome<ScimResource>> = [];
  let published: Array<{ actor: Actor; events: PublishedEvent[] }> = [];
  const intents: JobIntent[] = [];
  // Simple members' changes, merged per row (a later member's value of a column wins; the row map
  // holds what they add up to): written together, one UPDATE per set of changed columns — usually one
  // for the whole group — before a complex member runs (it reads and writes the rows in the database)
  // and before the commit.
  const updates = new Map<string, Partial<ConnectionUser>>();
  const writeUpdates = async () => {
    if (!updates.size) return;
    const rows = [...updates].map(([id, changed]) => ({ ...changed, id }));
    updates.clear();
    await host.updateRows(tx, rows);
  };
  // Events are published in the members' order: what simple members collected goes out before a
  // complex member publishes its own.
  const publishCollected = async () => {
    for (const { actor, events } of published) await host.events.publish(tx, actor, ...events);
    published = [];
  };
  for (const request of requests) {
    const current = rows.get(request.id);
    try {
      // Another tenant's id answers exactly like an unknown one.
      if (!current || current.connectionId !== request.tenant.connectionId) throw new NotFoundError(`User ${request.id} not found`);
      const step = host.decide(current, request);
      if (step.kind === 'unchanged') {
        outcomes.push({ ok: true, value: step.resource });
      } else if (step.kind === 'simple') {
        updates.set(request.id, { ...updates.get(request.id), ...step.changed });
        rows.set(request.id, step.next);
        if (step.events.length) published.push({ actor: request.tenant.actor, events: step.events });
        intents.push(...step.intents);
        outcomes.push({ ok: true, value: step.resource });
      } else {
        await writeUpdates();
        await publishCollected();
        outcomes.push(await inSavepoint(tx, async () => {
          const written = await host.writeComplex(tx, current, request);
          rows.set(request.id, written.next);
          return written.resource;
        }));
      }
    } catch (err) {
      if (!isMemberError(err)) throw err;
      outcomes.push({ ok: false, error: err });
    }
  }
  await writeUpdates();
  await publishCollected();
  await host.jobs.enqueue(tx, ...intents);
  return outcomes;
}

/** Rows' changed columns (`id` and what changed): one UPDATE per set of columns — for a group's profile changes or deactivations, one. */
export async function updateChangedRows(tx: EntityManager, codec: RowCodec<ConnectionUser>, rows: Array<Partial<ConnectionUser> & { id: string }>): Promise<void> {
  const bySet = new Map<string, Array<Partial<ConnectionUser> & { id: string }>>();
  for (const row of rows) {
    const set = Object.keys(row).sort().join(' ');
    bySet.set(set, [...(bySet.get(set) ?? []), row]);
  }
  for (const same of bySet.values()) {
    if (same.length === 1) {
      const { id, ...changed } = same[0]!;
      const set = codec.assignments(changed);
      await tx.query(`UPDATE connection_users SET ${set.sql} WHERE id = ?`, [...set.params, id]);
    } else {
      // Every row with its properties in one order (updateEach's shape check).
      const keys = Object.keys(same[0]!) as Array<keyof ConnectionUser>;
      const update = codec.updateEach('id', same.map((row) => Object.fromEntries(keys.map((k) => [k, row[k]])) as Partial<ConnectionUser>));
      await tx.query(update.sql, update.params);
    }
  }
}

/**
 * Runs `work` in a savepoint of `tx` (TypeORM's nested transaction: SAVEPOINT … RELEASE, and the
 * audit writer drops what a rolled-back savepoint published). An error that is the member's own
 * (`own`; by default a 4xx) rolls back to the savepoint and becomes its outcome; any other error fails the group.
 */
export async function inSavepoint<T>(tx: EntityManager, work: () => Promise<T>, own: (err: unknown) => boolean = isMemberError): Promise<MemberOutcome<T>> {
  const qr = tx.queryRunner!;
  await qr.startTransaction();
  let value: T;
  try {
    value = await work();
  } catch (err) {
    // Back to the enclosing level whatever the error. Left open, TypeORM's rollback of the group
    // would only roll back to this savepoint, and the pooled connection's next START TRANSACTION
    // would commit the members before it — while they are re-run alone (a double write).
    try {
      await qr.rollbackTransaction();
    } catch (rollbackError) {
      // The savepoint is gone (InnoDB rolled the whole transaction back, or the connection broke):
      // end whatever is left, and fail the group.
      await qr.query('ROLLBACK').catch(() => undefined);
      throw own(err) ? rollbackError : err;
    }
    if (!own(err)) throw err;
    return { ok: false, error: err };
  }
  await qr.commitTransaction();
  return { ok: true, value };
}
