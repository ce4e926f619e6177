/**
 * The fault benchmark's measuring parts: a burst of SCIM deactivations sent as an IdP would (retrying
 * 503/429 after Retry-After, and connection errors), a poller that notes when each person's
 * memberships are gone and sessions ended, and the checks for lost, duplicated and misapplied work.
 */
import { randomUUID } from 'node:crypto';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { PATCH_OP } from './seed.ts';

export interface BurstTarget {
  /** SCIM id (connection_users.id). */
  id: string;
  /** The global account (users.id). */
  userId: string;
}

export interface BurstOutcome {
  /** performance.now() of each target's final 200 answer. */
  answeredAt: Map<string, number>;
  statuses: Record<string, number>;
  /** Targets never answered 200 (gave up after `giveUpMs`). */
  unanswered: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * PATCHes `active: false` to every target, `concurrency` at a time. Like an IdP's SCIM client, a 503
 * or 429 is retried after its Retry-After (at most 2 s here) and a connection error after 500 ms, the
 * same request again; `onAnswered(n)` lets the caller inject a fault part-way.
 */
export async function deactivationBurst(o: {
  baseUrl: string;
  token: string;
  targets: BurstTarget[];
  concurrency: number;
  giveUpMs: number;
  onAnswered?: (answered: number) => void;
}): Promise<BurstOutcome> {
  const answeredAt = new Map<string, number>();
  const statuses: Record<string, number> = {};
  const unanswered: string[] = [];
  let next = 0;
  const body = JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
  const one = async (target: BurstTarget) => {
    const until = Date.now() + o.giveUpMs;
    while (Date.now() < until) {
      let status = 0;
      let retryAfter = 0.5;
      try {
        const res = await fetch(`${o.baseUrl}/scim/v2/Users/${target.id}`, {
          method: 'PATCH',
          headers: { Authorization: `Bearer ${o.token}`, 'Content-Type': 'application/scim+json' },
          body,
          signal: AbortSignal.timeout(30_000),
        });
        await res.arrayBuffer();
        status = res.status;
        retryAfter = Number(res.headers.get('retry-after') ?? 1) || 1;
      } catch {
        status = 0; // connection refused / reset / timeout
      }
      const key = status === 0 ? 'network error' : String(status);
      statuses[key] = (statuses[key] ?? 0) + 1;
      if (status === 200) {
        answeredAt.set(target.id, performance.now());
        o.onAnswered?.(answeredAt.size);
        return;
      }
      if (status !== 0 && status !== 503 && status !== 429 && status !== 500 && status !== 502) break;
      await sleep(Math.min(2, retryAfter) * 1000);
    }
    unanswered.push(target.id);
  };
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (next < o.targets.length) await one(o.targets[next++]!);
    }),
  );
  return { answeredAt, statuses, unanswered };
}

/**
 * Polls every 50 ms for targets whose memberships through the connection are gone and whose SSO
 * sessions have ended, noting performance.now() when each is first seen so. Database errors (while
 * it is down) are skipped.
 */
export function startDoneWatcher(pool: Pool, connectionId: string, targets: BurstTarget[]) {
  const doneAt = new Map<string, number>();
  const pending = new Set(targets.map((t) => t.userId));
  const idOf = new Map(targets.map((t) => [t.userId, t.id]));
  let stopped = false;
  const loop = (async () => {
    while (!stopped && pending.size) {
      try {
        const ids = [...pending];
        for (let i = 0; i < ids.length; i += 1000) {
          const chunk = ids.slice(i, i + 1000);
          const [rows] = await pool.query<RowDataPacket[]>(
            `SELECT u.id AS userId FROM users u WHERE u.id IN (?)
               AND NOT EXISTS (SELECT 1 FROM org_memberships m WHERE m.user_id = u.id AND m.connection_id = ?)
               AND NOT EXISTS (SELECT 1 FROM sso_sessions s WHERE s.user_id = u.id AND s.ended_at IS NULL)`,
            [chunk, connectionId],
          );
          const at = performance.now();
          for (const r of rows) {
            if (pending.delete(r.userId)) doneAt.set(idOf.get(r.userId)!, at);
          }
        }
      } catch {
        // the database is down: try again
      }
      await sleep(50);
    }
  })();
  return {
    doneAt,
    pending,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** One open SSO session per person, as a sign-in leaves. */
export async function openSessions(pool: Pool, connectionId: string, userIds: string[]): Promise<void> {
  const expires = new Date(Date.now() + 3_600_000);
  for (let i = 0; i < userIds.length; i += 1000) {
    const rows = userIds.slice(i, i + 1000).map((u) => [randomUUID(), u, connectionId, expires]);
    await pool.query('INSERT INTO sso_sessions (id, user_id, connection_id, expires_at) VALUES ?', [rows]);
  }
}

/**
 * People deprovisioned twice: more than one deactivation intent (job ids `deactivate-user.<id>.v<version>`)
 * or more than one `user.deprovisioned` audit event.
 */
export async function duplicatedDeprovisions(pool: Pool, targets: BurstTarget[]): Promise<number> {
  const dup = new Set<string>();
  const ids = new Set(targets.map((t) => t.id));
  for (let i = 0; i < targets.length; i += 1000) {
    const chunk = targets.slice(i, i + 1000);
    const [events] = await pool.query<RowDataPacket[]>(
      "SELECT target_id AS id FROM audit_events WHERE action = 'user.deprovisioned' AND target_id IN (?) GROUP BY target_id HAVING COUNT(*) > 1",
      [chunk.map((t) => t.userId)],
    );
    for (const e of events) dup.add(e.id);
  }
  const [intents] = await pool.query<RowDataPacket[]>("SELECT job_id FROM outbox WHERE job_name = 'deactivate-user'");
  const perUser = new Map<string, number>();
  for (const r of intents) {
    const id = String(r.job_id).split('.')[1]!;
    if (ids.has(id)) perUser.set(id, (perUser.get(id) ?? 0) + 1);
  }
  for (const [id, n] of perUser) if (n > 1) dup.add(id);
  return dup.size;
}

/** Bystanders (never deactivated) that lost a membership or a session: work applied to the wrong person. */
export async function misapplied(pool: Pool, connectionId: string, bystanderUserIds: string[]): Promise<number> {
  if (!bystanderUserIds.length) return 0;
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM users u WHERE u.id IN (?)
       AND (NOT EXISTS (SELECT 1 FROM org_memberships m WHERE m.user_id = u.id AND m.connection_id = ?)
         OR NOT EXISTS (SELECT 1 FROM sso_sessions s WHERE s.user_id = u.id AND s.ended_at IS NULL))`,
    [bystanderUserIds, connectionId],
  );
  return Number(rows[0]!.n);
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
