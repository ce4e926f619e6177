import type { EntityManager } from 'typeorm';
import { IsNull } from 'typeorm';
import { type EventBus } from '@doorman/core';
import { SYSTEM_ACTOR, userDeprovisioned, type Actor, type RoleMappingService } from '@doorman/plugin-api';
import { SsoSessionEntity } from '@doorman/model';
import type { DeactivateUserPayload } from './jobs.ts';

/**
 * The deactivation job's unit of work: remove the memberships this connection governs, end the
 * person's SSO sessions, keep the global account. Idempotent: a second run finds nothing to remove.
 * Skips when the user was reactivated after the job was enqueued (the row lock orders it against
 * a concurrent reactivation). Statements: the row lock, role mapping's revoke (one read, one DELETE
 * per table, plus the owner recount when the user owns an organization), the session update.
 */
type Job = DeactivateUserPayload & { jobId?: string };

/** What a deactivation job writes names the job, the SCIM request that deactivated the person and its event (docs/people-and-explain.md). */
const jobActor = (job: Job): Actor => ({ ...SYSTEM_ACTOR, requestId: job.requestId ?? null, jobId: job.jobId ?? null, cause: job.causeEventId ?? null });

export async function deprovisionUser(
  tx: EntityManager,
  deps: { roleMapping: RoleMappingService; events: EventBus; dialect: 'mysql' | 'sqlite'; now(): Date },
  job: Job,
): Promise<{ skipped?: string; removed: number; sessionsEnded: number }> {
  // Raw SQL: one round trip for the one column the decision needs (0/1 on both dialects).
  const [row]: Array<{ active: number | boolean }> = await tx.query(
    `SELECT active FROM connection_users WHERE id = ?${deps.dialect === 'mysql' ? ' FOR UPDATE' : ''}`,
    [job.connectionUserId],
  );
  if (job.reason === 'inactive' && (!row || Number(row.active) !== 0)) {
    return { skipped: row ? 'reactivated since' : 'deleted since (its own job deprovisions)', removed: 0, sessionsEnded: 0 };
  }
  const actor = jobActor(job);
  const summary = await deps.roleMapping.revokeConnectionMemberships(tx, { connectionId: job.connectionId, userId: job.userId, actor });
  const ended = await tx
    .getRepository(SsoSessionEntity)
    .update({ userId: job.userId, connectionId: job.connectionId, endedAt: IsNull() }, { endedAt: deps.now() });
  const sessionsEnded = ended.affected ?? 0;
  if (summary.changes.length || sessionsEnded) {
    await deps.events.publish(tx, actor, userDeprovisioned({
      connectionId: job.connectionId,
      target: { type: 'user', id: job.userId },
      changes: { memberships: { after: summary.changes.length }, sessions: { after: sessionsEnded }, reason: { after: job.reason } },
    }));
  }
  return { removed: summary.changes.length, sessionsEnded };
}

type Deps = Parameters<typeof deprovisionUser>[1];
type Outcome = Awaited<ReturnType<typeof deprovisionUser>>;
const marks = (n: number) => new Array(n).fill('?').join(', ');

/**
 * The same unit of work for a batch of jobs in one transaction (deprovision-batch.ts), with the
 * statements that do not depend on role mapping shared: one locking read of every job's row (primary
 * key order), role mapping's revoke for the batch (one locking read, one DELETE per table), then per
 * connection one locking read of the open sessions and one UPDATE ending them. Outcomes, events and idempotence as `deprovisionUser`'s; a
 * person in two jobs of the batch is deprovisioned by the first, the second finds nothing.
 */
export async function deprovisionUsers(tx: EntityManager, deps: Deps, jobs: Job[]): Promise<Outcome[]> {
  const lock = deps.dialect === 'mysql' ? ' FOR UPDATE' : '';
  const ids = [...new Set(jobs.map((j) => j.connectionUserId))].sort();
  const rows: Array<{ id: string; active: number | boolean }> = await tx.query(`SELECT id, active FROM connection_users WHERE id IN (${marks(ids.length)}) ORDER BY id${lock}`, ids);
  const active = new Map(rows.map((r) => [String(r.id), Number(r.active)]));
  const outcomes: Outcome[] = new Array(jobs.length);
  const removed = new Map<number, number>();
  jobs.forEach((job, i) => {
    if (job.reason === 'inactive' && active.get(job.connectionUserId) !== 0) {
      outcomes[i] = { skipped: active.has(job.connectionUserId) ? 'reactivated since' : 'deleted since (its own job deprovisions)', removed: 0, sessionsEnded: 0 };
    }
  });
  // Role mapping's revoke for every person at once: one locking read, one DELETE per table.
  const revoking = jobs.flatMap((job, i) => (outcomes[i] ? [] : [i]));
  const summaries = await deps.roleMapping.revokeConnectionMembershipsOfMany(
    tx,
    revoking.map((i) => ({ connectionId: jobs[i]!.connectionId, userId: jobs[i]!.userId, actor: jobActor(jobs[i]!) })),
  );
  revoking.forEach((i, k) => removed.set(i, summaries[k]!.changes.length));
  // Sessions, per connection: which are open (locked), then one UPDATE ending them all.
  const ended = new Map<string, number>(); // `${connectionId} ${userId}` → sessions ended
  const byConnection = new Map<string, Set<string>>();
  for (const i of removed.keys()) {
    const job = jobs[i]!;
    const users = byConnection.get(job.connectionId) ?? new Set<string>();
    users.add(job.userId);
    byConnection.set(job.connectionId, users);
  }
  const now = deps.now();
  for (const [connectionId, users] of byConnection) {
    const open: Array<{ id: string; user_id: string }> = await tx.query(
      `SELECT id, user_id FROM sso_sessions WHERE user_id IN (${marks(users.size)}) AND connection_id = ? AND ended_at IS NULL${lock}`,
      [...users, connectionId],
    );
    if (!open.length) continue;
    await tx.getRepository(SsoSessionEntity).update(open.map((s) => String(s.id)), { endedAt: now });
    for (const s of open) ended.set(`${connectionId} ${s.user_id}`, (ended.get(`${connectionId} ${s.user_id}`) ?? 0) + 1);
  }
  for (const [i, count] of removed) {
    const job = jobs[i]!;
    const key = `${job.connectionId} ${job.userId}`;
    const sessionsEnded = ended.get(key) ?? 0;
    ended.delete(key); // a second job of the same person in this batch ended nothing more
    outcomes[i] = { removed: count, sessionsEnded };
    if (count || sessionsEnded) {
      await deps.events.publish(tx, jobActor(job), userDeprovisioned({
        connectionId: job.connectionId,
        target: { type: 'user', id: job.userId },
        changes: { memberships: { after: count }, sessions: { after: sessionsEnded }, reason: { after: job.reason } },
      }));
    }
  }
  return outcomes;
}
