import type { EntityManager } from 'typeorm';
import { IsNull } from 'typeorm';
import { SYSTEM_ACTOR, type EventBus, type RoleMappingService } from '@doorman/core';
import { SsoSessionEntity } from '@doorman/model';
import type { DeactivateUserPayload } from '@doorman/jobs';

/**
 * The deactivation job's unit of work: remove the memberships this connection governs, end the
 * person's SSO sessions, keep the global account. Idempotent: a second run finds nothing to remove.
 * Skips when the user was reactivated after the job was enqueued (the row lock orders it against
 * a concurrent reactivation). Statements: the row lock, role mapping's revoke (one read, one DELETE
 * per table, plus the owner recount when the user owns an organization), the session update.
 */
export async function deprovisionUser(
  tx: EntityManager,
  deps: { roleMapping: RoleMappingService; events: EventBus; dialect: 'mysql' | 'sqlite'; now(): Date },
  job: DeactivateUserPayload,
): Promise<{ skipped?: string; removed: number; sessionsEnded: number }> {
  // Raw SQL: one round trip for the one column the decision needs (0/1 on both dialects).
  const [row]: Array<{ active: number | boolean }> = await tx.query(
    `SELECT active FROM connection_users WHERE id = ?${deps.dialect === 'mysql' ? ' FOR UPDATE' : ''}`,
    [job.connectionUserId],
  );
  if (job.reason === 'inactive' && (!row || Number(row.active) !== 0)) {
    return { skipped: row ? 'reactivated since' : 'deleted since (its own job deprovisions)', removed: 0, sessionsEnded: 0 };
  }
  const summary = await deps.roleMapping.revokeConnectionMemberships(tx, { connectionId: job.connectionId, userId: job.userId, actor: SYSTEM_ACTOR });
  const ended = await tx
    .getRepository(SsoSessionEntity)
    .update({ userId: job.userId, connectionId: job.connectionId, endedAt: IsNull() }, { endedAt: deps.now() });
  const sessionsEnded = ended.affected ?? 0;
  if (summary.changes.length || sessionsEnded) {
    await deps.events.publish(tx, SYSTEM_ACTOR, {
      action: 'user.deprovisioned',
      connectionId: job.connectionId,
      target: { type: 'user', id: job.userId },
      changes: { memberships: { after: summary.changes.length }, sessions: { after: sessionsEnded }, reason: { after: job.reason } },
    });
  }
  return { removed: summary.changes.length, sessionsEnded };
}
