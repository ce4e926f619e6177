import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from 'mysql2/promise';
import { MIGRATIONS } from '../src/index.ts';
import { createTestMysqlDatabase, type TestDatabase } from '../src/testing.ts';

/**
 * Several processes start at once on one fresh database (an api and workers): migrations are
 * serialized by a named lock, so every process succeeds and each migration runs exactly once.
 */
const CHILD = fileURLToPath(new URL('./fixtures/migrate-child.ts', import.meta.url));
const PROCESSES = 4;

function migrateInChild(url: string) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('exit', (code) => resolve({ code, out }));
  });
}

describe('migrations across processes', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestMysqlDatabase();
  });
  afterAll(async () => db?.drop());

  it(`${PROCESSES} processes migrating one fresh database at once all succeed, and each migration runs once`, { timeout: 180_000 }, async () => {
    const results = await Promise.all(Array.from({ length: PROCESSES }, () => migrateInChild(db.url)));
    for (const r of results) expect(r.code, r.out).toBe(0);
    const reports = results.map((r) => JSON.parse(r.out.trim().split('\n').pop()!) as { ran: string[]; waited: boolean });
    const applied = reports.flatMap((r) => r.ran);
    expect(applied.sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
    const c = await createConnection(db.url);
    try {
      const [rows] = await c.query('SELECT name FROM migrations');
      expect((rows as Array<{ name: string }>).map((r) => r.name).sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
    } finally {
      await c.end();
    }
  });
});
