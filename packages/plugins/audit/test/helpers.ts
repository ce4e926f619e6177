import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { coreServices, definePlugin, InputError, memberAdded, userCreated, type Actor } from '@doorman/core';
import { OrgMembershipEntity, UserEntity, isMysql, type JsonDocument } from '@doorman/model';
import { testEvent, type TestGateway } from '@doorman/core/testing';
import { chainKeyOf, hashEvent, sqlTime, type HashedFields } from '../src/chain.ts';
import { ChainSealer } from '../src/sealer.ts';

const createUserBody = z
  .object({ orgId: z.string().min(1), email: z.string().email(), fail: z.enum(['after-publish']).optional() })
  .strict();
const publishBody = z
  .object({
    orgId: z.string().nullable().optional(),
    connectionId: z.string().optional(),
    action: z.string().min(1),
    target: z.object({ type: z.string(), id: z.string() }).optional(),
    changes: z.record(z.string(), z.any()).optional(),
  })
  .strict();

/**
 * A stand-in producer, as scim-users will be: creates a user and its membership and publishes the
 * events in one transaction; `fail: 'after-publish'` throws after publishing.
 */
export const producerPlugin = definePlugin({
  id: 'producer',
  description: 'test producer of domain events',
  deps: { http: coreServices.http, transaction: coreServices.transaction, events: coreServices.events, db: coreServices.database },
  register({ http, transaction, events, db }) {
    const actorOf = (state: { actor?: Actor }): Actor => state.actor ?? { type: 'system', id: null, requestId: null };
    http.admin.post('/producer/users', async (ctx) => {
      const body = createUserBody.parse(ctx.request.body);
      const actor = actorOf(ctx.state);
      ctx.body = await transaction(async (tx) => {
        const userId = randomUUID();
        await tx.getRepository(UserEntity).insert({ id: userId, email: body.email, emailLc: body.email.toLowerCase(), username: `u${userId.slice(0, 12)}`, fullName: null });
        await tx.getRepository(OrgMembershipEntity).insert({ id: randomUUID(), orgId: body.orgId, userId, role: 'member', source: 'scim', connectionId: null });
        await events.publish(
          tx,
          actor,
          // Published without a connection (a generic producer): built from its action name.
          testEvent({ action: userCreated.action, orgId: body.orgId, target: { type: 'user', id: userId }, changes: { email: { after: body.email } } }),
          memberAdded({ orgId: body.orgId, target: { type: 'user', id: userId }, changes: { role: { after: 'member' } } }),
        );
        if (body.fail) throw new InputError('forced failure after publishing', { field: 'fail' });
        return { userId };
      });
    });
    // Outer event kept; the event published inside a rolled-back savepoint is dropped.
    http.admin.post('/producer/savepoint', async (ctx) => {
      const body = publishBody.parse(ctx.request.body);
      await transaction(async (tx) => {
        await events.publish(tx, actorOf(ctx.state), testEvent({ ...body, action: `${body.action}.outer` }));
        await tx
          .transaction(async (inner) => {
            await events.publish(inner, actorOf(ctx.state), testEvent({ ...body, action: `${body.action}.inner` }));
            throw new Error('roll back the savepoint');
          })
          .catch(() => undefined);
        await tx.transaction((inner) => events.publish(inner, actorOf(ctx.state), testEvent({ ...body, action: `${body.action}.released` })));
      });
      ctx.status = 204;
    });
    // A producer publishing outside any transaction still gets its event.
    http.admin.post('/producer/untransacted', async (ctx) => {
      const body = publishBody.parse(ctx.request.body);
      await events.publish(db.manager, actorOf(ctx.state), testEvent(body));
      ctx.status = 204;
    });
    http.admin.post('/producer/pair', async (ctx) => {
      const body = z.object({ first: z.string(), second: z.string() }).parse(ctx.request.body);
      await transaction((tx) => events.publish(tx, actorOf(ctx.state), memberAdded({ orgId: body.first }), memberAdded({ orgId: body.second })));
      ctx.status = 204;
    });
    http.admin.post('/producer/events', async (ctx) => {
      const body = publishBody.parse(ctx.request.body);
      await transaction((tx) => events.publish(tx, actorOf(ctx.state), testEvent(body)));
      ctx.status = 204;
    });
  },
});

export interface SeedEvent {
  occurredAt: Date;
  action?: string;
  actorType?: HashedFields['actorType'];
  actorId?: string | null;
  targetId?: string | null;
  changes?: JsonDocument | null;
}

/** A sealer of the test gateway's database, as another replica would run it. */
export const sealerOf = (g: TestGateway) => new ChainSealer(g.gateway.db, g.gateway.transaction);

/**
 * Appends sealed events to one chain directly in SQL (multi-row INSERTs of `chunk` rows), computing a valid
 * chain from the current head and moving the head, as the plugin would. For large fixtures.
 */
export async function seedChain(db: DataSource, orgId: string | null, count: number, make: (i: number) => SeedEvent, chunk = 1000): Promise<void> {
  const key = chainKeyOf(orgId);
  const mysql = isMysql(db);
  const [head] = await db.query('SELECT last_hash AS lastHash, last_chain_seq AS lastChainSeq FROM audit_chain_heads WHERE chain_key = ?', [key]);
  let prevHash: string | null = head?.lastHash ?? null;
  let chainSeq = Number(head?.lastChainSeq ?? 0);
  const columns = 'id, occurred_at, org_id, connection_id, actor_type, actor_id, request_id, action, target_type, target_id, changes, prev_hash, hash, chain_seq';
  for (let start = 0; start < count; start += chunk) {
    const params: unknown[] = [];
    const n = Math.min(chunk, count - start);
    for (let i = start; i < start + n; i++) {
      const s = make(i);
      const e: HashedFields = {
        id: randomUUID(),
        occurredAt: s.occurredAt,
        orgId,
        connectionId: null,
        actorType: s.actorType ?? 'system',
        actorId: s.actorId ?? null,
        requestId: null,
        action: s.action ?? 'user.updated',
        targetType: s.targetId ? 'user' : null,
        targetId: s.targetId ?? null,
        changes: s.changes ?? null,
        prevHash,
      };
      const hash = hashEvent(e);
      params.push(e.id, sqlTime(e.occurredAt), e.orgId, e.connectionId, e.actorType, e.actorId, e.requestId, e.action, e.targetType, e.targetId, e.changes === null ? null : JSON.stringify(e.changes), e.prevHash, hash, ++chainSeq);
      prevHash = hash;
    }
    const row = `(${new Array(14).fill('?').join(',')})`;
    await db.query(`INSERT INTO audit_events (${columns}) VALUES ${new Array(n).fill(row).join(',')}`, params);
  }
  const [{ lastSeq }] = await db.query('SELECT MAX(seq) AS lastSeq FROM audit_events WHERE hash = ?', [prevHash]);
  await db.query(
    mysql
      ? 'INSERT INTO audit_chain_heads (chain_key, last_seq, last_hash, last_chain_seq) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE last_seq = VALUES(last_seq), last_hash = VALUES(last_hash), last_chain_seq = VALUES(last_chain_seq)'
      : 'INSERT INTO audit_chain_heads (chain_key, last_seq, last_hash, last_chain_seq) VALUES (?, ?, ?, ?) ON CONFLICT(chain_key) DO UPDATE SET last_seq = excluded.last_seq, last_hash = excluded.last_hash, last_chain_seq = excluded.last_chain_seq',
    [key, lastSeq, prevHash, chainSeq],
  );
}
