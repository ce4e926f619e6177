/**
 * Webhooks benchmark (issue #24): provisioning changes → events recorded in the change's transaction →
 * outbox → BullMQ → signed HTTP deliveries to 10 loopback endpoints.
 *
 *   npx tsx bench/webhooks-bench.ts [--changes 1000] [--endpoints 10] [--rate 100] [--seconds 10]
 *
 * 1. Ceiling: raw BullMQ no-op jobs/s on the same Redis (measureBullmqThroughput), in this run.
 * 2. Drain: `--changes` changes committed (20 at a time) before the worker process starts, each
 *    delivered to every endpoint; deliveries/s from the first delivery received to the last (one job
 *    per change sends its endpoints' deliveries, so jobs/s = deliveries/s ÷ endpoints).
 * 3. Latency: `--rate` changes/s for `--seconds` s across 100 people; commit → delivery received, p50/p99
 *    (goal: p99 < 1 s at 100 changes/s for 10 endpoints).
 *
 * A change is a transaction that updates a row and publishes a `user.updated` event, as a SCIM PATCH
 * does (the webhooks path is measured, not the SCIM handler: bench/scim-bench.ts measures that). The
 * production layout: this process is the API (producers and their outbox relay, role `api`); the
 * bundled gateway in role `worker` is a child process that sends the deliveries; the receiving HTTP
 * server is a worker thread here. Prints a table and one `BENCH_JSON {...}` line; the database and the
 * run's keys are removed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { buildGateway, parseGatewayConfig, type Gateway } from '@doorman/core';
import { startJobRuntime, type JobRuntime } from '@doorman/jobs';
import { measureBullmqThroughput } from '@doorman/jobs/bench';
import { webhooksPlugin } from '@doorman/plugin-webhooks';
import { bundleGatewayEntries } from './lib/build.ts';
import { cpuSeconds, freePort, stopAllChildren } from './lib/children.ts';
import { createBenchStores, dropBenchStores, gatewayEnv, startGateway } from './lib/gateway.ts';

const log = (m: string) => process.stderr.write(`[webhooks-bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const now = () => performance.timeOrigin + performance.now();

/** The receiver: answers 204 and reports each delivery's marker and arrival time to the main thread. */
const RECEIVER = `
const { parentPort } = require('node:worker_threads');
const http = require('node:http');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = performance.timeOrigin + performance.now();
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(204).end();
    parentPort.postMessage({ marker: body.data.changes.marker.after, at });
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
`;

async function main() {
  const changes = arg('--changes', 1000);
  const endpoints = arg('--endpoints', 10);
  const rate = arg('--rate', 100);
  const seconds = arg('--seconds', 10);
  const tag = randomBytes(4).toString('hex');
  const prefix = `{bench-webhooks-${tag}}`;
  const loadBefore = loadavg()[0]!;
  const stores = await createBenchStores(`doorman_webhooks_${tag}`);
  let gateway: Gateway | undefined;
  let runtime: JobRuntime | undefined;
  const receiver = new Worker(RECEIVER, { eval: true });
  // Listened for at once: a message with no listener yet is dropped.
  const receiverPort = new Promise<number>((resolve) => receiver.once('message', (m: { port: number }) => resolve(m.port)));
  try {
    log(`ceiling: ${changes * endpoints} BullMQ no-op jobs at concurrency 50`);
    const ceiling = await measureBullmqThroughput({ redisUrl: stores.redisUrl, prefix: '{bench-ceiling}', jobs: changes * endpoints, concurrency: 50 });

    log(`ceiling: ${Math.round(ceiling.jobsPerSecond)} jobs/s; starting the gateway`);
    const adminToken = randomBytes(24).toString('hex');
    const { config } = parseGatewayConfig({ databaseUrl: stores.databaseUrl, redisUrl: stores.redisUrl, plugins: 'webhooks', mode: 'production', databasePoolSize: 20, adminBootstrapToken: adminToken });
    gateway = await buildGateway({ config: config!, catalog: [webhooksPlugin], pluginSettings: { webhooks: { allowPrivateTargets: 'true' } }, logger: pino({ level: 'warn' }) });
    const g = gateway;
    // The production layout (compose.yaml): this process is the API (it commits the changes and
    // relays their outbox rows, role `api`); a worker process, the bundled gateway in role `worker`,
    // sends the deliveries (and relays the hand-ons it writes).
    runtime = await startJobRuntime({ registry: g.jobs, db: g.db, transaction: g.transaction, redisUrl: stores.redisUrl, role: 'api', mode: 'production', logger: g.logger, prefix });
    const port = await receiverPort;
    const arrivals = new Map<string, number[]>();
    receiver.on('message', (m: { marker: string; at: number }) => {
      const list = arrivals.get(m.marker) ?? [];
      list.push(m.at);
      arrivals.set(m.marker, list);
    });
    const admin = (await import('supertest')).default(g.app.callback());
    for (let i = 0; i < endpoints; i++) {
      const res = await admin.post('/admin/v1/webhooks').set('Authorization', `Bearer ${g.config.adminBootstrapToken}`).send({ url: `http://127.0.0.1:${port}/hook/${i}` });
      if (res.status !== 201) throw new Error(`endpoint: ${res.status} ${JSON.stringify(res.body)}`);
    }
    await g.db.query('CREATE TABLE bench_people (id VARCHAR(36) PRIMARY KEY, n INT NOT NULL)');
    const people = Array.from({ length: 100 }, () => randomUUID());
    await g.db.query(`INSERT INTO bench_people (id, n) VALUES ${people.map(() => '(?, 0)').join(', ')}`, people);
    const committedAt = new Map<string, number>();
    const change = async (person: string) => {
      const marker = randomUUID();
      await g.transaction(async (tx) => {
        await tx.query('UPDATE bench_people SET n = n + 1 WHERE id = ?', [person]);
        await g.events.publish(tx, { type: 'scim_token', id: 'bench', requestId: null }, { action: 'user.updated', target: { type: 'user', id: person }, changes: { marker: { after: marker } } });
      });
      committedAt.set(marker, now());
    };
    const allArrived = async (markers: () => Iterable<string>, limitMs: number) => {
      const until = Date.now() + limitMs;
      for (;;) {
        const pending = [...markers()].filter((m) => (arrivals.get(m)?.length ?? 0) < endpoints).length;
        if (!pending) return;
        if (Date.now() > until) throw new Error(`${pending} changes not delivered to every endpoint in time`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    // The backlog is committed (and relayed to BullMQ) before any worker runs, so the drain measures
    // the delivery pipeline alone, not the producer: from the first delivery received to the last.
    log(`drain: ${changes} changes × ${endpoints} endpoints committed, then a worker started`);
    for (let i = 0; i < changes; i += 20) await Promise.all(Array.from({ length: Math.min(20, changes - i) }, (_, k) => change(people[(i + k) % people.length]!)));
    const drainMarkers = [...committedAt.keys()];
    const { gateway: entry } = await bundleGatewayEntries();
    const worker = await startGateway(
      'worker',
      entry,
      gatewayEnv(stores.databaseUrl, stores.redisUrl, await freePort(), adminToken, 'webhooks', { DOORMAN_ROLE: 'worker', JOBS_PREFIX: prefix, WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true' }),
    );
    const workerCpu0 = cpuSeconds(worker.child.pid) ?? 0;
    await allArrived(() => drainMarkers, 600_000);
    const drainArrivals = drainMarkers.flatMap((m) => arrivals.get(m)!);
    const drainSeconds = (Math.max(...drainArrivals) - Math.min(...drainArrivals)) / 1000;
    const deliveriesPerSecond = (drainArrivals.length - 1) / drainSeconds;

    log(`latency: ${rate} changes/s for ${seconds} s`);
    committedAt.clear();
    const total = rate * seconds;
    const elu = performance.eventLoopUtilization();
    const started = now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inFlight.push(change(people[i % people.length]!));
    }
    await Promise.all(inFlight);
    const offered = total / ((now() - started) / 1000);
    const latencyMarkers = [...committedAt.keys()];
    await allArrived(() => latencyMarkers, 600_000);
    const latencies = latencyMarkers.flatMap((m) => arrivals.get(m)!.slice(0, endpoints).map((at) => at - committedAt.get(m)!)).sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;

    const result = {
      ceilingJobsPerSecond: Math.round(ceiling.jobsPerSecond),
      deliveriesPerSecond: Math.round(deliveriesPerSecond),
      deliveriesOfCeiling: deliveriesPerSecond / ceiling.jobsPerSecond,
      jobsPerSecond: Math.round(deliveriesPerSecond / endpoints),
      offeredChangesPerSecond: Math.round(offered),
      endpoints,
      p50Ms: Math.round(pct(50)),
      p99Ms: Math.round(pct(99)),
      maxMs: Math.round(latencies.at(-1)!),
      apiEventLoopBusy: Number(performance.eventLoopUtilization(elu).utilization.toFixed(2)),
      workerCpuSeconds: Number(((cpuSeconds(worker.child.pid) ?? workerCpu0) - workerCpu0).toFixed(1)),
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg()[0]!,
    };
    const rows = [
      ['raw BullMQ no-op (ceiling)', `${result.ceilingJobsPerSecond} jobs/s`, '100%'],
      [`deliveries, backlog of ${changes} changes × ${endpoints} endpoints`, `${result.deliveriesPerSecond} deliveries/s (${result.jobsPerSecond} jobs/s)`, `${(result.deliveriesOfCeiling * 100).toFixed(1)}%`],
      [`commit → delivery at ${result.offeredChangesPerSecond} changes/s, ${endpoints} endpoints`, `p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms`, result.p99Ms < 1000 ? 'ok (< 1 s)' : 'MISS (goal < 1 s)'],
    ];
    process.stdout.write(`\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n\nload average ${loadBefore.toFixed(1)} → ${result.loadAverageAfter.toFixed(1)} (other work on the machine skews every figure); API event loop busy ${Math.round(result.apiEventLoopBusy * 100)}% during the latency run, worker ${result.workerCpuSeconds} CPU s in all\n`);
    process.stdout.write(`BENCH_JSON ${JSON.stringify(result)}\n`);
  } finally {
    await stopAllChildren();
    await runtime?.close().catch(() => undefined);
    await gateway?.close().catch(() => undefined);
    await receiver.terminate();
    await dropBenchStores(stores, [`${prefix}:*`, '{bench-ceiling}:*']);
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
