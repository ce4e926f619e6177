import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { TEST_REDIS_URL, type TestGateway } from '@doorman/core/testing';
import { startJobRuntime, type JobRuntime } from '@doorman/jobs';
import { deleteKeysUnder } from '@doorman/jobs/testing';
import { startTestGateway } from '@doorman/core/testing';
import { startPrivateRedis } from '@doorman/core/testing/servers';
import { webhooksPlugin } from '../src/index.ts';
import { createEndpoint, personChange, Receiver, TEST_SETTINGS, waitFor } from './helpers.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
const WORKER = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));

/** Every committed event of these people reached the receiver, verified, and each person's first receipts are in sequence order. */
async function expectAllDeliveredInOrder(t: TestGateway, receiver: Receiver, secret: string, people: string[]) {
  const rows: Array<{ id: string }> = await t.gateway.db.query(`SELECT id FROM webhook_events WHERE subject_id IN (${people.map(() => '?').join(', ')})`, people);
  await waitFor(() => new Set(receiver.received.map((r) => r.payload.data.id)).size === rows.length, `all ${rows.length} events received`, 60_000);
  expect(new Set(receiver.received.map((r) => r.payload.data.id))).toEqual(new Set(rows.map((r) => r.id)));
  for (const r of receiver.received) expect(Receiver.verify(secret, r)).toBeTruthy();
  for (const person of people) {
    const seqs = receiver.firstReceipts().filter((r) => r.payload.data.subject.id === person).map((r) => r.payload.data.sequence);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  }
}

describe('no delivery lost', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await new Receiver().start();
  });
  afterAll(async () => receiver?.close());

  it('across a Redis restart that loses every queued job mid-burst', async () => {
    receiver.received.length = 0;
    const redis = await startPrivateRedis();
    const redisUrl = redis.url;
    let runtime: JobRuntime | undefined;
    const t = await startTestGateway({
      plugins: [webhooksPlugin],
      gateway: { redisUrl },
      // The sweeper re-sends what Redis lost (its jobs are gone; the delivery rows are not).
      pluginSettings: { webhooks: { ...TEST_SETTINGS, sweepIntervalMs: '200', sweepGraceMs: '1500' } },
      afterBuild: async (g) => {
        runtime = await startJobRuntime({ registry: g.jobs, db: g.db, redisUrl, role: 'all', mode: 'production', logger: g.logger, prefix: `{webhooks-redis-${randomUUID()}}`, relay: { pollMs: 50, maxBackoffMs: 200 } });
        return runtime;
      },
    });
    try {
      const endpoint = await createEndpoint(t, { url: receiver.url });
      // Slow answers keep deliveries queued in Redis when it goes away.
      receiver.respond = async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return 204;
      };
      const people = Array.from({ length: 6 }, () => randomUUID());
      const burst = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => personChange(t.gateway, people[i % people.length]!)));
      await burst(30);
      await waitFor(() => receiver.received.length >= 3, 'some delivered before the restart');
      // Each person's deliveries go one after another, so most of the burst is still queued now.
      expect(receiver.received.length).toBeLessThan(20);
      await redis.kill(); // SIGKILL, no persistence: every job in Redis is gone
      await burst(30); // accepted while Redis is down: the outbox holds them
      await redis.start(); // same port, empty
      await burst(30);
      await expectAllDeliveredInOrder(t, receiver, endpoint.secret, people);
    } finally {
      await t.close();
      await redis.stop();
    }
  }, 120_000);

  it('when the worker process is killed with SIGKILL mid-burst', async () => {
    receiver.received.length = 0;
    const prefix = `{webhooks-kill-${randomUUID()}}`;
    let relay: JobRuntime | undefined;
    let survivor: JobRuntime | undefined;
    const t = await startTestGateway({ plugins: [webhooksPlugin], pluginSettings: { webhooks: { ...TEST_SETTINGS, sweepIntervalMs: '200', sweepGraceMs: '3000' } } });
    const dbUrl = t.gateway.config.databaseUrl;
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, TEST_REDIS_URL, prefix, dbUrl], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    try {
      await waitFor(() => out.includes('ready') || child.exitCode !== null, 'child worker ready', 60_000);
      expect(child.exitCode, err).toBeNull();
      // This process only relays, so at first every delivery goes to the child.
      relay = await startJobRuntime({ registry: t.gateway.jobs, db: t.gateway.db, redisUrl: TEST_REDIS_URL, role: 'api', mode: 'production', logger: t.gateway.logger, prefix, relay: { pollMs: 50 } });
      const endpoint = await createEndpoint(t, { url: receiver.url });
      receiver.respond = async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return 204;
      };
      const people = Array.from({ length: 10 }, () => randomUUID());
      const producing = (async () => {
        for (let i = 0; i < 100; i++) await personChange(t.gateway, people[i % people.length]!);
      })();
      await waitFor(() => receiver.received.length >= 15, 'the child delivering');
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const receivedAtKill = receiver.received.length;
      await producing;
      survivor = await startJobRuntime({
        registry: t.gateway.jobs,
        db: t.gateway.db,
        redisUrl: TEST_REDIS_URL,
        role: 'worker',
        mode: 'production',
        logger: t.gateway.logger,
        prefix,
        worker: { lockDuration: 1000, stalledInterval: 300 },
      });
      await expectAllDeliveredInOrder(t, receiver, endpoint.secret, people);
      expect(receivedAtKill).toBeLessThan(100);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await survivor?.close();
      await relay?.close();
      await t.close();
      await deleteKeysUnder(prefix);
    }
  }, 120_000);
});
