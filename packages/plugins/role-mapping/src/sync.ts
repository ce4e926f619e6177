/**
 * The sync job: re-applies the provisioning policy to every SCIM user of a connection, so that
 * drift (memberships changed behind the mapping's back, a changed default org or team) is repaired.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { MoreThan } from 'typeorm';
import { isRetryableTransactionError, type EventBus, type JobRegistry } from '@doorman/core';
import { defineError, isRefusal, syncCompleted, SYSTEM_ACTOR, type JobContext, type SsoSessionService } from '@doorman/plugin-api';
import { ConnectionUserEntity, isMysql, SsoConnectionEntity } from '@doorman/model';
import type { GroupDirectory } from '@doorman/plugin-api';
import { isMembershipChange } from './apply-changes.ts';
import { syncIntent, type SyncConnectionData } from './jobs.ts';
import { grantHolders, type ApplySummary, type RoleMappingServiceImpl } from './service.ts';

export interface SyncSummary {
  /** Users looked at (active and inactive). */
  users: number;
  /** Users whose memberships changed. */
  changed: number;
  /** Users the policy refused (bad stored attribute, seats, last owner): left as they are. */
  failed: number;
  /** `sessionsEnded`: SSO sessions of inactive users ended by this run (jit-provisioning's service). */
  changes: { added: number; removed: number; roleChanged: number; teamsCreated: number; sessionsEnded: number };
  /** The first refusals, for the operator. */
  errors: Array<{ userId: string; message: string }>;
}

export type SyncResult = SyncSummary | { skipped: string };

/** Thrown when another sync of the connection holds the lock and this one must run later. */
export const SyncAlreadyRunningError = defineError('DMN_SYNC_ALREADY_RUNNING', 500);

const MAX_REPORTED_ERRORS = 20;
const inProcessLocks = new Set<string>();

/**
 * One sync per connection at a time, across processes: MySQL's GET_LOCK on a dedicated connection,
 * held for the whole run (released on RELEASE_LOCK or when that connection closes, so a crashed
 * worker never leaves it behind). SQLite (embedded, one process): an in-process lock.
 * Returns the release function, or null when the lock is taken.
 */
export async function acquireSyncLock(db: DataSource, connectionId: string): Promise<(() => Promise<void>) | null> {
  const name = `doorman-sync-${connectionId}`;
  if (!isMysql(db)) {
    if (inProcessLocks.has(name)) return null;
    inProcessLocks.add(name);
    return async () => void inProcessLocks.delete(name);
  }
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    const [row] = await runner.query('SELECT GET_LOCK(?, 0) AS got', [name]);
    if (Number(row?.got) !== 1) {
      await runner.release();
      return null;
    }
  } catch (err) {
    await runner.release();
    throw err;
  }
  return async () => {
    try {
      await runner.query('SELECT RELEASE_LOCK(?)', [name]);
    } finally {
      await runner.release();
    }
  };
}

export interface SyncDeps {
  db: DataSource;
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T>;
  service: RoleMappingServiceImpl;
  events: EventBus;
  jobs: JobRegistry;
  clock: { now(): Date };
  batchSize: number;
  /** Users applied at once within a batch. */
  concurrency: number;
  /** scim-groups' directory, or null without that plugin. */
  directory(): GroupDirectory | null;
  /**
   * SSO sessions (jit-provisioning, when enabled; looked up at run time): inactive users are
   * reconciled fully, memberships AND sessions (docs/org-wide-deprovisioning.md).
   */
  sessions?: () => SsoSessionService | undefined;
}

function tally(summary: SyncSummary, result: ApplySummary | null): void {
  const changes = result?.changes.filter(isMembershipChange) ?? [];
  if (!changes.length) return;
  summary.changed += 1;
  for (const c of changes) {
    if (c.kind === 'addOrgMembership' || c.kind === 'addTeamMembership') summary.changes.added += 1;
    else if (c.kind === 'removeOrgMembership' || c.kind === 'removeTeamMembership') summary.changes.removed += 1;
    else if (c.kind === 'changeRole') summary.changes.roleChanged += 1;
    else if (c.kind === 'createTeam') summary.changes.teamsCreated += 1;
  }
}

/**
 * The sync-connection processor. Users come from `connection_users` in batches (keyset on
 * uq_connection_users_account), each applied in its own short transaction with flow `scim` and
 * `firstTime: false` (for SCIM users the mapping is authoritative); inactive users have their
 * connection memberships revoked. A refusal for one user is counted and reported, not fatal;
 * anything else (database down) fails the job so it is retried (every step is idempotent).
 */
export function createSyncConnectionProcessor(deps: SyncDeps) {
  return async function processSyncConnection(data: SyncConnectionData, job: JobContext): Promise<SyncResult> {
    const { connectionId, trigger } = data;
    const connection = await deps.db.getRepository(SsoConnectionEntity).findOne({ where: { id: connectionId }, select: { id: true, scimEnabled: true } });
    if (!connection) return { skipped: 'connection not found' };
    // "Disable SCIM: SCIM-provisioned users remain; sync stops."
    if (!connection.scimEnabled) return { skipped: 'SCIM is disabled on this connection' };

    const release = await acquireSyncLock(deps.db, connectionId);
    if (!release) {
      // The spec's BullMQ deduplication already holds a request back while a sync of the connection
      // runs; this lock also covers other routes (inline mode, a second deployment on one database).
      // A scheduled run can be dropped: the running sync does the same work. A manual or
      // default-changed run may carry newer settings than the running one read, so it retries.
      if (trigger === 'schedule') return { skipped: 'already running' };
      throw new SyncAlreadyRunningError(`a sync of connection ${connectionId} is already running; this one will be retried`);
    }
    // What the sync writes names it (docs/people-and-explain.md, "Causal links").
    const actor = { ...SYSTEM_ACTOR, jobId: job.id };
    try {
      const users = deps.db.getRepository(ConnectionUserEntity);
      type Person = { userId: string; active?: boolean; dockerRole?: string | null; dockerOrg?: string | null; dockerTeam?: string | null };
      // A scoped run (groups changed, a rule changed) re-decides only the people those groups concern:
      // their members and whoever they granted something; each from their stored attributes.
      const scope = data.groupIds ? await scopedPeople(deps, connectionId, data.groupIds) : null;
      const total = scope ? scope.length : await users.countBy({ connectionId });
      const summary: SyncSummary = { users: 0, changed: 0, failed: 0, changes: { added: 0, removed: 0, roleChanged: 0, teamsCreated: 0, sessionsEnded: 0 }, errors: [] };
      let after = '';
      for (;;) {
        const batch: Person[] = scope
          ? scope.slice(summary.users, summary.users + deps.batchSize).map((userId) => ({ userId }))
          : await users.find({
              where: { connectionId, userId: MoreThan(after) },
              order: { userId: 'ASC' },
              take: deps.batchSize,
              select: { userId: true, active: true, dockerRole: true, dockerOrg: true, dockerTeam: true },
            });
        // A few users at a time: distinct users do not contend (each locks only its own user row),
        // and the pool keeps connections free for API traffic.
        let next = 0;
        let fatal: { error: unknown } | undefined;
        const syncUser = async (u: Person) => {
          try {
            let sessionsEnded = 0; // set by the attempt that commits (a retried transaction overwrites it)
            const result = await retryingLocks(() =>
              deps.transaction(async (tx) => {
                sessionsEnded = 0;
                if (u.active === undefined) return deps.service.applyStored(tx, { connectionId, userId: u.userId, actor });
                if (u.active) {
                  return deps.service.apply(tx, {
                    connectionId,
                    userId: u.userId,
                    attributes: { dockerRole: u.dockerRole, dockerOrg: u.dockerOrg, dockerTeam: u.dockerTeam },
                    flow: 'scim',
                    firstTime: false,
                    actor,
                  });
                }
                const revoked = await deps.service.revokeConnectionMemberships(tx, { connectionId, userId: u.userId, actor });
                // Inactive people are reconciled fully: their SSO sessions too (docs/org-wide-deprovisioning.md).
                const ended = await deps.sessions?.()?.deprovision(tx, { connectionId, userId: u.userId, reason: 'inactive', actor });
                sessionsEnded = ended?.sessionsEnded ?? 0;
                return revoked;
              }),
            );
            summary.changes.sessionsEnded += sessionsEnded;
            tally(summary, result);
          } catch (err) {
            if (!isRefusal(err)) {
              fatal ??= { error: err };
              return;
            }
            summary.failed += 1;
            if (summary.errors.length < MAX_REPORTED_ERRORS) summary.errors.push({ userId: u.userId, message: err.message });
            job.logger.warn({ connectionId, userId: u.userId, err: err.message }, 'sync: mapping refused for user');
          }
        };
        await Promise.all(
          Array.from({ length: Math.min(deps.concurrency, batch.length) }, async () => {
            while (!fatal && next < batch.length) await syncUser(batch[next++]!);
          }),
        );
        if (fatal) throw fatal.error;
        summary.users += batch.length;
        if (batch.length) after = batch[batch.length - 1]!.userId;
        // The job dashboard shows this (bull-board renders a job's progress object).
        await job.updateProgress({ processed: summary.users, total: Math.max(total, summary.users) });
        if (batch.length < deps.batchSize) break;
      }
      await deps.transaction((tx) =>
        deps.events.publish(tx, actor, syncCompleted({
          connectionId,
          target: { type: 'connection', id: connectionId },
          changes: { summary: { after: { ...summary, trigger } } },
        })),
      );
      job.logger.info({ connectionId, trigger, ...summary, errors: undefined }, 'sync completed');
      return summary;
    } finally {
      await release();
    }
  };
}

/**
 * Concurrent applies for different people can still deadlock (InnoDB gap locks where both insert
 * their first rows); the transaction runner retries a few times quickly. A sync of thousands of new
 * memberships on a busy database outlasts that, so each person gets more, slower attempts here
 * before the job fails (and BullMQ retries the whole, idempotent, run).
 */
async function retryingLocks<T>(work: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= attempts || !isRetryableTransactionError(err)) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt + Math.random() * 100));
    }
  }
}

/** Everyone the groups concern: their members (scim-groups' directory) and the holders of their grants. */
async function scopedPeople(deps: SyncDeps, connectionId: string, groupIds: string[]): Promise<string[]> {
  const page = 10_000;
  const people = new Set<string>();
  const directory = deps.directory();
  await deps.transaction(async (tx) => {
    for (let after = ''; directory; ) {
      const ids = await directory.membersOf(tx, connectionId, groupIds, after, page);
      ids.forEach((id) => people.add(id));
      if (ids.length < page) break;
      after = ids[ids.length - 1]!;
    }
    for (let after = ''; ; ) {
      const ids = await grantHolders(tx, groupIds, after, page);
      ids.forEach((id) => people.add(id));
      if (ids.length < page) break;
      after = ids[ids.length - 1]!;
    }
  });
  return [...people].sort();
}

/** The sync-all processor: one sync-connection intent per SCIM-enabled connection, in one transaction. */
export function createSyncAllProcessor(deps: Pick<SyncDeps, 'db' | 'transaction' | 'jobs' | 'clock'>) {
  return async function processSyncAll(): Promise<{ enqueued: number }> {
    const connections = await deps.db.getRepository(SsoConnectionEntity).find({ where: { scimEnabled: true }, select: { id: true } });
    const now = deps.clock.now();
    await deps.transaction((tx) => deps.jobs.enqueue(tx, ...connections.map((c) => syncIntent(c.id, 'schedule', now))));
    return { enqueued: connections.length };
  };
}
