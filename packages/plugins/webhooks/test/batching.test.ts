import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { TestGateway } from '@doorman/core/testing';
import { webhooksConfigSchema } from '../src/config.ts';
import { Deliverer } from '../src/deliver.ts';
import { createEndpoint, personChange, Receiver, startHarness, TEST_SETTINGS, waitFor } from './helpers.ts';

// No job runtime: the test runs the delivery jobs itself, concurrently, to see them share a transaction.
let t: TestGateway;
beforeAll(async () => (t = await startHarness({}, { jobs: false })));
afterAll(async () => t?.close());

describe('batched delivery jobs', () => {
  it('finishes concurrent jobs in one transaction, each message signed on its own, order per person kept', async () => {
    const receiver = await new Receiver().start();
    try {
      const endpoints = [await createEndpoint(t, { url: `${receiver.url}/0` }), await createEndpoint(t, { url: `${receiver.url}/1` })];
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      for (const person of [a, a, b, c]) await personChange(t.gateway, person);
      const rows: Array<{ id: string; event_id: string }> = await t.gateway.db.query('SELECT id, event_id FROM webhook_deliveries ORDER BY seq');
      const byEvent = new Map<string, string[]>();
      for (const r of rows) byEvent.set(r.event_id, [...(byEvent.get(r.event_id) ?? []), r.id]);
      const jobs = [...byEvent.values()];
      expect(jobs.map((j) => j.length)).toEqual([2, 2, 2, 2]);

      // The first finishing transaction is held until the other jobs queue behind it.
      let finishes = 0;
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const transaction = async <T>(work: (tx: EntityManager) => Promise<T>): Promise<T> => {
        if (++finishes === 1) await gate;
        return t.gateway.transaction(work);
      };
      const { db, jobs: registry, events } = t.gateway;
      const config = webhooksConfigSchema.parse(TEST_SETTINGS);
      const deliverer = new Deliverer({ db, transaction, jobs: registry, events, clock: { now: () => new Date() }, config });
      const results = Promise.all(jobs.map((ids) => deliverer.process(ids, 0)));
      const queued = (deliverer as unknown as { finisher: { queue: unknown[] } }).finisher.queue;
      await waitFor(() => queued.length === 2, 'the jobs of b and c queued behind the first finish');
      open();
      // a's second change waited for its first (held, not sent); the three others were sent.
      expect(await results).toEqual([
        { sent: 2, waiting: 0, failed: 0 },
        { sent: 0, waiting: 2, failed: 0 },
        { sent: 2, waiting: 0, failed: 0 },
        { sent: 2, waiting: 0, failed: 0 },
      ]);
      expect(finishes).toBe(2); // three jobs, two transactions: b's and c's went together

      // Every message verifies with its own endpoint's secret and carries its own event id.
      expect(receiver.received).toHaveLength(6);
      const verifiedBy = receiver.received.map((r) => {
        expect(r.headers['webhook-id']).toBe(r.payload.data.id);
        return endpoints.findIndex((ep) => {
          try {
            return Boolean(Receiver.verify(ep.secret, r));
          } catch {
            return false;
          }
        });
      });
      expect(verifiedBy.sort()).toEqual([0, 0, 0, 1, 1, 1]);
      const states = async () => Object.fromEntries(((await db.query('SELECT id, status, attempts FROM webhook_deliveries')) as Array<{ id: string; status: string; attempts: number }>).map((r) => [r.id, `${r.status}/${r.attempts}`]));
      const [a1, a2, b1, c1] = jobs as [string[], string[], string[], string[]];
      const s = await states();
      for (const id of [...a1, ...b1, ...c1]) expect(s[id]).toBe('delivered/1');
      // The batched finish handed a's lanes on: its second change is pending again, with one job intent in the outbox.
      for (const id of a2) expect(s[id]).toBe('pending/0');
      const intents: Array<{ payload: string | { deliveryIds: string[] } }> = await db.query("SELECT payload FROM outbox WHERE job_name = 'deliver'");
      const handedOn = intents.map((i) => (typeof i.payload === 'string' ? JSON.parse(i.payload) : i.payload).deliveryIds as string[]);
      expect(handedOn.map((ids) => [...ids].sort())).toContainEqual([...a2].sort());

      // Running that job sends a's second change after its first, on both endpoints.
      expect(await deliverer.process(a2, 0)).toEqual({ sent: 2, waiting: 0, failed: 0 });
      const seqOfA = receiver.received.filter((r) => r.payload.data.subject.id === a).map((r) => r.payload.data.sequence);
      expect(seqOfA).toEqual([1, 1, 2, 2]);
    } finally {
      await receiver.close();
    }
  });
});
