import { describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { ActivityRecorder, admit } from '../src/index.ts';
import type { RequestRefusal } from '@doorman/core';

describe('admit: at most N refusals per connection per second', () => {
  it.each([
    // [times (ms) of refusals, cap, kept flags, skipped at the end]
    [[0, 10, 20, 30], 2, [true, true, false, false], 2],
    [[0, 999, 1000, 1001], 1, [true, false, true, false], 2],
    [[0, 5000], 1, [true, true], 0],
    [[0, 1, 2], 0, [false, false, false], 3],
  ])('%j with cap %i', (times, cap, kept, skipped) => {
    const state = { second: 0, kept: 0, skipped: 0 };
    expect(times.map((t) => admit(state, t, cap))).toEqual(kept);
    expect(state.skipped).toBe(skipped);
  });
});

describe('ActivityRecorder', () => {
  const refusal = (connectionId: string, atMs: number): RequestRefusal => ({
    connectionId,
    at: new Date(atMs),
    surface: 'scim',
    method: 'GET',
    route: '/scim/v2/Users',
    status: 400,
    scimType: 'invalidFilter',
    code: 'DMN_INPUT_INVALID',
    detail: 'd',
    requestId: 'r',
  });
  const fakeDb = () => {
    const inserts: unknown[][] = [];
    const db = { query: async (_sql: string, params: unknown[]) => void inserts.push(params) } as unknown as DataSource;
    return { db, inserts };
  };
  const logger = { warn() {} } as never;

  it('keeps the cap per connection, counts what it skipped into the next kept row, and writes one INSERT per flush', async () => {
    const { db, inserts } = fakeDb();
    const r = new ActivityRecorder(db, logger, { perSecond: 2, maxBuffered: 100, flushMs: 60_000 });
    const base = 1_000_000;
    for (let i = 0; i < 50; i++) r.record(refusal('a', base + i)); // a burst within one second
    r.record(refusal('b', base + 1));
    r.record(refusal('a', base + 1000)); // the next second
    await r.flush();
    expect(inserts).toHaveLength(1);
    const rows = chunk(inserts[0]!, 11);
    expect(rows.map((row) => [row[0], row[10]])).toEqual([
      ['a', 0],
      ['a', 0],
      ['b', 0],
      ['a', 48],
    ]);
  });

  it('bounds the rows waiting in memory', async () => {
    const { db, inserts } = fakeDb();
    const r = new ActivityRecorder(db, logger, { perSecond: 1000, maxBuffered: 3, flushMs: 60_000 });
    for (let i = 0; i < 10; i++) r.record(refusal(`c${i}`, 5_000));
    await r.flush();
    expect(chunk(inserts[0]!, 11)).toHaveLength(3);
  });

  it('drops a batch the database refuses, without throwing', async () => {
    const db = { query: async () => Promise.reject(new Error('gone')) } as unknown as DataSource;
    const r = new ActivityRecorder(db, logger, { perSecond: 10, maxBuffered: 10, flushMs: 60_000 });
    r.record(refusal('a', 0));
    await expect(r.flush()).resolves.toBeUndefined();
  });
});

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
