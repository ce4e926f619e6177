import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { EventBus, JobRegistry } from '@doorman/core';
import { isRetryableTransactionError } from '@doorman/core';
import type { JobIntent, TransactionRunner } from '@doorman/plugin-api';
import { defineError, SYSTEM_ACTOR, webhookEndpointDisabled } from '@doorman/plugin-api';
import { Coalescer } from './coalescer.ts';
import type { WebhooksConfig } from './config.ts';
import { EVENT_SELECT, toPublicEvent } from './events-api.ts';
import { deliverIntent } from './jobs.ts';
import { send, signatureHeader, type SendResult } from './sender.ts';
import { affected, isMysqlTx, joinInOrder, marks, readTimeOrNull, sqlTime, useIndex } from './sql.ts';

interface Row {
  delivery_id: string;
  /** The event's id (the columns of EVENT_SELECT follow). */
  id: string;
  endpoint_id: string;
  subject_key: string;
  subject_seq: number | string;
  kind: 'event' | 'redelivery';
  attempts: number;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: unknown;
  enabled: number | boolean;
  consecutive_dead: number;
  /** From the load's plain read: an earlier delivery of the lane looked unfinished (1) or not (0). */
  earlier_open: number | string;
  [key: string]: unknown;
}

/** One job's finished attempts, handed to the batched finish. */
interface Part {
  rows: Row[];
  results: SendResult[];
  /** A one-delivery job: its failure is retried by BullMQ with backoff, not by a job of its own. */
  single: boolean;
  retryInMs: number;
}

/** Ids per load query: well under the drivers' placeholder limits. */
const LOAD_CHUNK = 1000;

export interface DeliverDeps {
  db: DataSource;
  transaction: TransactionRunner;
  jobs: JobRegistry;
  events: EventBus;
  clock: { now(): Date };
  config: WebhooksConfig;
}

/** Thrown so BullMQ retries a single delivery with its exponential backoff. */
export const DeliveryFailed = defineError('DMN_WEBHOOK_DELIVERY_FAILED', 500);

/**
 * Sends deliveries and records their outcome (docs/webhooks.md, "Delivery"). The database row is
 * the authority on a delivery's state; the BullMQ job only carries the attempt and its retries.
 * Per subject and endpoint, a delivery waits while an earlier one is unfinished (`waiting`); the
 * transaction that finishes the earlier one hands the next one on through the outbox.
 */
export class Deliverer {
  /**
   * Concurrent jobs share their database round trips (docs/webhooks.md, "Throughput"): the loads of
   * jobs arriving while one load runs go together in the next, and so do their finishing
   * transactions. HTTP attempts stay per job, so a slow endpoint holds up only its own job.
   */
  private readonly loader = new Coalescer<string[], Row[]>((jobs) => this.loadMany(jobs), 2, 100);
  private readonly finisher = new Coalescer<Part, number | { error: unknown }>((parts) => this.finishMany(parts), 1, 100);

  constructor(private readonly deps: DeliverDeps) {}

  /** One job run. `attemptsMade` is BullMQ's count for this job (its next backoff follows from it). */
  async process(ids: string[], attemptsMade: number): Promise<{ sent: number; waiting: number; failed: number }> {
    const rows = await this.loader.submit(ids);
    const live = rows.filter((r) => Number(r.enabled) === 1);
    const blocked = await this.holdBlocked(live);
    const ready = live.filter((r) => !blocked.has(r.delivery_id));
    const results = await Promise.all(ready.map((r) => this.attempt(r)));
    const single = ids.length === 1;
    const retryInMs = single ? this.deps.config.backoffMs * 2 ** attemptsMade : 0;
    const outcome = ready.length ? await this.finisher.submit({ rows: ready, results, single, retryInMs }) : 0;
    if (typeof outcome !== 'number') throw outcome.error;
    if (single && outcome > 0) throw new DeliveryFailed(`delivery ${ids[0]} failed (${results[0]?.error ?? `HTTP ${results[0]?.statusCode}`}); retrying`);
    return { sent: results.filter((r) => r.ok).length, waiting: blocked.size, failed: outcome };
  }

  /** The loads of several jobs in one read (chunked); each job gets its own pending rows back. */
  private async loadMany(jobs: string[][]): Promise<Row[][]> {
    const ids = [...new Set(jobs.flat())];
    const byId = new Map<string, Row>();
    for (let i = 0; i < ids.length; i += LOAD_CHUNK) for (const r of await this.load(ids.slice(i, i + LOAD_CHUNK))) byId.set(r.delivery_id, r);
    return jobs.map((job) => job.flatMap((id) => byId.get(id) ?? []));
  }

  /**
   * Several jobs' outcomes in one transaction. Should it fail, each job's part is tried on its own,
   * one after the other, so one job's trouble never fails the others (each gets its own answer).
   */
  private async finishMany(parts: Part[]): Promise<Array<number | { error: unknown }>> {
    try {
      return await this.deps.transaction((tx) => this.finish(tx, parts));
    } catch (err) {
      if (parts.length === 1) return [{ error: err }];
      const out: Array<number | { error: unknown }> = [];
      for (const p of parts) out.push(await this.deps.transaction((tx) => this.finish(tx, [p])).then((n) => n[0]!, (error: unknown) => ({ error })));
      return out;
    }
  }

  private async load(ids: string[]): Promise<Row[]> {
    // earlier_open is the lane check's plain read, folded into the load (one round trip fewer).
    const { db } = this.deps;
    return db.query(
      `SELECT ${joinInOrder(db)}d.id AS delivery_id, d.endpoint_id, d.subject_key, d.subject_seq, d.kind, d.attempts,
              ep.url, ep.secret, ep.previous_secret, ep.previous_secret_expires_at, ep.enabled, ep.consecutive_dead, ${EVENT_SELECT},
              CASE WHEN d.kind = 'event' AND EXISTS (
                SELECT 1 FROM webhook_deliveries p${useIndex(db, 'ix_webhook_deliveries_lane')} WHERE p.subject_key = d.subject_key AND p.status IN ('pending', 'waiting')
                   AND p.subject_seq < d.subject_seq AND p.kind = 'event' AND p.endpoint_id = d.endpoint_id) THEN 1 ELSE 0 END AS earlier_open
         FROM webhook_deliveries d${useIndex(db, 'uq_webhook_deliveries_id')}
         JOIN webhook_endpoints ep ON ep.id = d.endpoint_id
         JOIN webhook_events e ON e.id = d.event_id
        WHERE d.id IN (${marks(ids.length)}) AND d.status = 'pending'`,
      ids,
    );
  }

  /**
   * Marks `waiting` the deliveries behind an unfinished earlier one of their lane. On MySQL the
   * check is a locking read: it waits for a transaction finishing that earlier delivery, so either
   * this check sees it finished, or that transaction sees this one waiting and hands it on.
   */
  private async holdBlocked(rows: Row[]): Promise<Set<string>> {
    // Fast path: the load's plain read. Finished is final, so a delivery whose earlier ones all
    // looked finished is free to go; only one that saw an unfinished one needs the locking check.
    const suspect = rows.filter((r) => r.kind === 'event' && Number(r.earlier_open) === 1);
    if (!suspect.length) return new Set();
    const work = async (tx: EntityManager) => {
      const blocked = await this.earlierUnfinished(tx, suspect, isMysqlTx(tx));
      if (blocked.size) {
        await tx.query(`UPDATE webhook_deliveries${useIndex(tx, 'uq_webhook_deliveries_id')} SET status = 'waiting', updated_at = ? WHERE id IN (${marks(blocked.size)}) AND status = 'pending'`, [sqlTime(this.deps.clock.now()), ...blocked]);
      }
      return blocked;
    };
    if (!isMysqlTx(this.deps.db)) return this.deps.transaction(work);
    // Its shared locks can meet a batched finish's row locks crosswise; InnoDB then rolls this one
    // back (it changed least), and it is simply run again, as the gateway's runner does.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.db.transaction('READ COMMITTED', work);
      } catch (err) {
        if (attempt >= 5 || !isRetryableTransactionError(err)) throw err;
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
      }
    }
  }

  /** Deliveries (of `rows`) with an unfinished earlier delivery in their lane. */
  private async earlierUnfinished(tx: EntityManager, ordered: Row[], locking: boolean): Promise<Set<string>> {
    const blocked = new Set<string>();
    const lanes = new Map<string, Row[]>();
    for (const r of ordered) lanes.set(`${r.subject_key}\n${r.subject_seq}`, [...(lanes.get(`${r.subject_key}\n${r.subject_seq}`) ?? []), r]);
    for (const group of lanes.values()) {
      const endpoints = group.map((r) => r.endpoint_id);
      const earlier: Array<{ endpoint_id: string }> = await tx.query(
        `SELECT endpoint_id FROM webhook_deliveries${useIndex(tx, 'ix_webhook_deliveries_lane')}
          WHERE subject_key = ? AND status IN ('pending', 'waiting') AND subject_seq < ? AND kind = 'event' AND endpoint_id IN (${marks(endpoints.length)})${locking ? ' LOCK IN SHARE MODE' : ''}`,
        [group[0]!.subject_key, Number(group[0]!.subject_seq), ...endpoints],
      );
      const held = new Set(earlier.map((e) => e.endpoint_id));
      for (const r of group) if (held.has(r.endpoint_id)) blocked.add(r.delivery_id);
    }
    return blocked;
  }

  private attempt(r: Row): Promise<SendResult> {
    const event = toPublicEvent(r as never);
    const body = JSON.stringify({ type: event.type, timestamp: event.createdAt, data: event });
    const now = this.deps.clock.now();
    const previousUntil = readTimeOrNull(r.previous_secret_expires_at);
    const secrets = [r.secret, ...(r.previous_secret && previousUntil && previousUntil > now ? [r.previous_secret] : [])];
    const headers = {
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signatureHeader(secrets, event.id, now, body),
    };
    const { allowPrivateTargets, timeoutMs, responseSnippetBytes } = this.deps.config;
    return send(r.url, headers, body, { allowPrivate: allowPrivateTargets, timeoutMs, snippetBytes: responseSnippetBytes });
  }

  /**
   * Records each attempt and its delivery's new state, hands lanes on, counts dead letters, for the
   * parts of one or more jobs. Returns, per part, its failures still to retry.
   */
  private async finish(tx: EntityManager, parts: Part[]): Promise<number[]> {
    const { config } = this.deps;
    const now = this.deps.clock.now();
    const intents: JobIntent[] = [];
    const deadByEndpoint = new Map<string, number>();
    const failed = parts.map(() => 0);
    const attemptRows: unknown[] = [];
    const outcomes = parts.flatMap((p, part) =>
      p.rows.map((r, i) => {
        const res = p.results[i]!;
        const attempt = r.attempts + 1;
        attemptRows.push(r.delivery_id, r.endpoint_id, attempt, sqlTime(new Date(now.getTime() - res.latencyMs)), res.statusCode, res.latencyMs, res.error?.slice(0, 255) ?? null, res.snippet?.slice(0, 1024) ?? null);
        const dead = !res.ok && attempt >= config.maxAttempts;
        return { r, res, attempt, dead, part, single: p.single, retryInMs: p.retryInMs, status: res.ok ? 'delivered' : dead ? 'dead' : 'pending' };
      }),
    );
    if (!outcomes.length) return failed;
    // The usual case in one statement: every delivered row of this run (each had 0 attempts, or each
    // the same count); anything else row by row.
    const delivered = outcomes.filter((o) => o.status === 'delivered');
    const sameShape = delivered.length > 1 && delivered.every((o) => o.attempt === delivered[0]!.attempt && o.res.statusCode === delivered[0]!.res.statusCode);
    const changedIds = new Set<string>();
    if (sameShape) {
      const d0 = delivered[0]!;
      const n = affected(
        await tx.query(
          `UPDATE webhook_deliveries${useIndex(tx, 'uq_webhook_deliveries_id')} SET status = 'delivered', attempts = ?, last_status_code = ?, updated_at = ?, finished_at = ? WHERE id IN (${marks(delivered.length)}) AND status = 'pending'`,
          [d0.attempt, d0.res.statusCode, sqlTime(now), sqlTime(now), ...delivered.map((o) => o.r.delivery_id)],
        ),
      );
      if (n === delivered.length) for (const o of delivered) changedIds.add(o.r.delivery_id);
    }
    // A delivery in two jobs of one batch (a sweep's kick beside its hand-on) changes once: the first wins.
    const taken = new Set<string>();
    const mine = outcomes.map((o) => {
      if (taken.has(o.r.delivery_id)) return false;
      taken.add(o.r.delivery_id);
      return true;
    });
    for (const [i, o] of outcomes.entries()) {
      if (changedIds.has(o.r.delivery_id) || !mine[i]) continue;
      const next = sqlTime(new Date(now.getTime() + (o.status === 'pending' ? o.retryInMs : 0)));
      const n = affected(
        await tx.query(
          `UPDATE webhook_deliveries${useIndex(tx, 'uq_webhook_deliveries_id')} SET status = ?, attempts = ?, last_status_code = ?, next_attempt_at = ?, updated_at = ?, finished_at = ? WHERE id = ? AND status = 'pending'`,
          [o.status, o.attempt, o.res.statusCode, next, sqlTime(now), o.status === 'pending' ? null : sqlTime(now), o.r.delivery_id],
        ),
      );
      if (n) changedIds.add(o.r.delivery_id);
    }
    const finishedInLanes: Row[] = [];
    for (const [i, o] of outcomes.entries()) {
      if (!changedIds.has(o.r.delivery_id) || !mine[i]) continue; // finished meanwhile by another run
      if (o.status === 'pending') {
        failed[o.part]!++;
        if (!o.single) intents.push(deliverIntent(o.r.delivery_id, 'retry', [o.r.delivery_id]));
        continue;
      }
      if (o.r.kind === 'event') finishedInLanes.push(o.r);
      if (o.dead) deadByEndpoint.set(o.r.endpoint_id, (deadByEndpoint.get(o.r.endpoint_id) ?? 0) + 1);
      else if (o.r.consecutive_dead > 0) await tx.query('UPDATE webhook_endpoints SET consecutive_dead = 0 WHERE id = ?', [o.r.endpoint_id]);
    }
    // The next deliveries of one event travel together, as the event's own job would send them.
    const byEvent = new Map<string, Array<{ id: string; after: string }>>();
    for (const next of await this.handOn(tx, finishedInLanes)) byEvent.set(next.eventId, [...(byEvent.get(next.eventId) ?? []), next]);
    for (const group of byEvent.values()) intents.push(deliverIntent(group[0]!.id, `after.${group[0]!.after}`, group.map((g) => g.id)));
    await tx.query(
      `INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempt, started_at, status_code, latency_ms, error, response_snippet) VALUES ${outcomes.map(() => `(${marks(8)})`).join(', ')}`,
      attemptRows,
    );
    for (const [endpointId, n] of deadByEndpoint) await this.countDead(tx, endpointId, n);
    if (intents.length) await this.deps.jobs.enqueue(tx, ...intents);
    return failed;
  }

  /**
   * For each finished delivery, its lane's first waiting delivery becomes pending again, to be sent
   * next. One read for all of them, whatever their subjects.
   */
  private async handOn(tx: EntityManager, finished: Row[]): Promise<Array<{ id: string; eventId: string; after: string }>> {
    const out: Array<{ id: string; eventId: string; after: string }> = [];
    if (!finished.length) return out;
    const subjects = [...new Set(finished.map((r) => r.subject_key))];
    const endpoints = [...new Set(finished.map((r) => r.endpoint_id))];
    const waiting: Array<{ id: string; subject_key: string; endpoint_id: string; event_id: string }> = await tx.query(
      `SELECT id, subject_key, endpoint_id, event_id FROM webhook_deliveries${useIndex(tx, 'ix_webhook_deliveries_lane')}
        WHERE subject_key IN (${marks(subjects.length)}) AND status = 'waiting' AND kind = 'event' AND endpoint_id IN (${marks(endpoints.length)}) ORDER BY subject_seq`,
      [...subjects, ...endpoints],
    );
    for (const r of finished) {
      const first = waiting.find((w) => w.subject_key === r.subject_key && w.endpoint_id === r.endpoint_id);
      if (!first) continue;
      const changed = affected(await tx.query(`UPDATE webhook_deliveries${useIndex(tx, 'uq_webhook_deliveries_id')} SET status = 'pending', updated_at = ? WHERE id = ? AND status = 'waiting'`, [sqlTime(this.deps.clock.now()), first.id]));
      if (changed) out.push({ id: first.id, eventId: first.event_id, after: r.delivery_id });
    }
    return out;
  }

  /** Counts dead letters; at the threshold the endpoint is disabled, with an audit event saying why. */
  private async countDead(tx: EntityManager, endpointId: string, n: number): Promise<void> {
    await tx.query('UPDATE webhook_endpoints SET consecutive_dead = consecutive_dead + ? WHERE id = ?', [n, endpointId]);
    const [ep]: Array<{ consecutive_dead: number; enabled: number | boolean; org_id: string | null }> = await tx.query('SELECT consecutive_dead, enabled, org_id FROM webhook_endpoints WHERE id = ?', [endpointId]);
    const threshold = this.deps.config.disableAfterDeadLetters;
    if (!ep || threshold === 0 || Number(ep.enabled) !== 1 || ep.consecutive_dead < threshold) return;
    const reason = `${ep.consecutive_dead} deliveries in a row dead-lettered after ${this.deps.config.maxAttempts} attempts`;
    await tx.query('UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?', [reason, sqlTime(this.deps.clock.now()), endpointId]);
    await this.deps.events.publish(tx, SYSTEM_ACTOR, webhookEndpointDisabled({
      orgId: ep.org_id,
      target: { type: 'webhook_endpoint', id: endpointId },
      changes: { enabled: { before: true, after: false }, reason: { after: reason } },
    }));
  }

  /**
   * Sends again what lost its job: pending deliveries overdue by more than the grace, and waiting
   * ones with nothing unfinished before them (e.g. Redis lost the jobs in a restart). `endpointId`
   * limits it to one endpoint with no grace (re-enabling an endpoint). Returns how many were re-sent.
   */
  async sweep(endpointId?: string): Promise<number> {
    const now = this.deps.clock.now();
    const cutoff = sqlTime(endpointId ? new Date(now.getTime() + 1) : new Date(now.getTime() - this.deps.config.sweepGraceMs));
    const scope = endpointId ? 'AND d.endpoint_id = ?' : '';
    const rows: Array<{ id: string; kicked_at: unknown }> = await this.deps.db.query(
      `SELECT d.id, d.kicked_at FROM webhook_deliveries d JOIN webhook_endpoints ep ON ep.id = d.endpoint_id
        WHERE ep.enabled = 1 ${scope} AND (d.kicked_at IS NULL OR d.kicked_at < ?) AND (
          (d.status = 'pending' AND d.next_attempt_at < ?)
          OR (d.status = 'waiting' AND d.updated_at < ? AND NOT EXISTS (
            SELECT 1 FROM webhook_deliveries p${useIndex(this.deps.db, 'ix_webhook_deliveries_lane')} WHERE p.subject_key = d.subject_key AND p.status IN ('pending', 'waiting')
               AND p.subject_seq < d.subject_seq AND p.endpoint_id = d.endpoint_id AND p.kind = 'event')))
        ORDER BY d.seq LIMIT 500`,
      [...(endpointId ? [endpointId] : []), cutoff, cutoff, cutoff],
    );
    let kicked = 0;
    for (const row of rows) {
      await this.deps.transaction(async (tx) => {
        // One winner per row when several workers sweep at once.
        const won = affected(
          await tx.query(
            `UPDATE webhook_deliveries${useIndex(tx, 'uq_webhook_deliveries_id')} SET kicked_at = ?, status = CASE WHEN status = 'waiting' THEN 'pending' ELSE status END WHERE id = ? AND (kicked_at IS NULL OR kicked_at < ?) AND status IN ('pending', 'waiting')`,
            [sqlTime(now), row.id, cutoff],
          ),
        );
        if (won) {
          kicked++;
          await this.deps.jobs.enqueue(tx, deliverIntent(row.id, `kick.${randomUUID().slice(0, 8)}`, [row.id]));
        }
      });
    }
    return kicked;
  }
}
