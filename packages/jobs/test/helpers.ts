import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { DataSource } from 'typeorm';
import { defineJob, JobRegistry } from '@doorman/core';
import { OrganizationEntity } from '@doorman/model';
import type { JobsLogger } from '../src/index.ts';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_QUEUE = 'test';

export interface LogRecord {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

/**
 * A logger with pino's call shapes that keeps records in memory (this package does not depend on
 * pino itself; the runtime only uses the level methods and child()).
 */
export function memoryLogger(records: LogRecord[] = [], bound: Record<string, unknown> = {}): JobsLogger & { records: LogRecord[] } {
  const at =
    (level: string) =>
    (a?: unknown, b?: unknown) => {
      const [fields, msg] = typeof a === 'string' ? [{}, a] : [(a ?? {}) as Record<string, unknown>, String(b ?? '')];
      records.push({ level, msg, fields: { ...bound, ...fields } });
    };
  const logger = {
    records,
    level: 'debug',
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: (more: Record<string, unknown>) => memoryLogger(records, { ...bound, ...more }),
  };
  return logger as unknown as JobsLogger & { records: LogRecord[] };
}

export const uniquePrefix = () => `{doorman-test-${randomUUID()}}`;

/** Polls `check` until it returns true; the generous limit only stops a broken test from hanging. */
export async function waitFor(check: () => Promise<boolean> | boolean, what: string, limitMs = 25_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`gave up waiting for: ${what}`);
    await delay(50);
  }
}

/**
 * The test job: records each run as an organization row named `<key>.<run uuid>`, so every
 * execution (including an accidental second one) is visible in the database.
 */
export function recordJobRegistry(db: DataSource, extra?: (registry: JobRegistry) => void): JobRegistry {
  const registry = new JobRegistry();
  registry.define({
    queue: TEST_QUEUE,
    name: 'record',
    schema: z.object({ key: z.string().min(1) }),
    attempts: 3,
    backoffMs: 50,
    async process(data) {
      await db.getRepository(OrganizationEntity).insert({ id: randomUUID(), name: `${data.key}.${randomUUID()}` });
    },
  });
  extra?.(registry);
  return registry;
}

export async function runsOf(db: DataSource, key: string): Promise<number> {
  const [row] = await db.query('SELECT COUNT(*) AS n FROM organizations WHERE name LIKE ?', [`${key}.%`]);
  return Number(row.n);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** A private redis-server for outage tests (the machine's shared Redis is never stopped). */
export async function startPrivateRedis(port: number): Promise<{ process: ChildProcess; stop(): Promise<void> }> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const probe = createServer();
        // The port is taken once redis-server listens.
        probe.once('error', () => resolve(true));
        probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
      }),
    `redis-server listening on ${port}`,
  );
  return {
    process: child,
    async stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * A job with a deduplication key shaped like role mapping's sync (one run per connection at a time;
 * the spec itself lives in that plugin): what the runtime's deduplication is tested with.
 */
export const dedupJob = defineJob({
  queue: 'sync',
  name: 'sync-connection',
  schema: z.object({ connectionId: z.string().min(1), trigger: z.enum(['schedule', 'default-changed', 'manual']) }),
  deduplicationKey: (data) => `sync.${data.connectionId}`,
});
