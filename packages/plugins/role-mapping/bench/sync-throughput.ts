/**
 * Measures role-mapping throughput on the real MariaDB (fresh database, dropped after):
 * - apply for new SCIM users, sequentially and 10 at a time;
 * - the sync job over all of them after 10% drift.
 * Run from this package: `npx tsx bench/sync-throughput.ts [users]` (default 2000).
 */
import { roleMappingServiceRef, SYSTEM_ACTOR, type JobContext } from '@doorman/core';
import { startTestGateway } from '@doorman/core/testing';
import { roleMappingPlugin } from '../src/index.ts';
import type { RoleMappingServiceImpl } from '../src/service.ts';
import { createSyncConnectionProcessor } from '../src/sync.ts';
import { addConnectionUser, createUser, createWorld } from '../test/support.ts';

const N = Number(process.argv[2] ?? 2000);
const t = await startTestGateway({ plugins: [roleMappingPlugin], redis: false });
try {
  const ds = t.gateway.db;
  const service = t.gateway.get(roleMappingServiceRef);
  const w = await createWorld(ds);
  const users: string[] = [];
  for (let i = 0; i < N; i++) {
    const userId = await createUser(ds);
    await addConnectionUser(ds, { connectionId: w.c1, userId, dockerTeam: `team-${i % 20}` });
    users.push(userId);
  }
  const apply = (userId: string, i: number) =>
    t.gateway.transaction((tx) =>
      service.apply(tx, { connectionId: w.c1, userId, attributes: { dockerTeam: `team-${i % 20}` }, flow: 'scim', firstTime: true, actor: SYSTEM_ACTOR }),
    );

  const half = Math.floor(N / 2);
  let start = performance.now();
  for (let i = 0; i < half; i++) await apply(users[i]!, i);
  const seqMs = performance.now() - start;

  start = performance.now();
  let next = half;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < N) {
        const i = next++;
        await apply(users[i]!, i);
      }
    }),
  );
  const parMs = performance.now() - start;

  const rate = (n: number, ms: number) => `${((n / ms) * 1000).toFixed(0)}/s (${(ms / n).toFixed(2)} ms each)`;
  const job: JobContext = { id: 'bench', attemptsMade: 0, logger: t.gateway.logger.child({}), updateProgress: async () => {} };
  const drifted = users.filter((_, i) => i % 10 === 0);
  const syncTimes: string[] = [];
  for (const concurrency of [1, 4, 8]) {
    // 10% drift: every 10th user loses their org membership.
    for (const u of drifted) await ds.query('DELETE FROM org_memberships WHERE user_id = ?', [u]);
    const sync = createSyncConnectionProcessor({
      db: ds,
      transaction: t.gateway.transaction,
      service: service as RoleMappingServiceImpl,
      events: t.gateway.events,
      jobs: t.gateway.jobs,
      clock: { now: () => new Date() },
      batchSize: 500,
      concurrency,
    });
    start = performance.now();
    const summary = await sync({ connectionId: w.c1, trigger: 'manual' }, job);
    syncTimes.push(`sync, ${concurrency} at a time (10% drifted): ${rate(N, performance.now() - start)}  ${JSON.stringify(summary)}`);
  }

  console.log(`users: ${N}, 20 teams created on the way`);
  console.log(`apply, sequential, new users:   ${rate(half, seqMs)}`);
  console.log(`apply, 10 concurrent, new users: ${rate(N - half, parMs)}`);
  for (const line of syncTimes) console.log(line);
} finally {
  await t.close();
}
