/**
 * Bench: user creates per second at 32 concurrent HTTP connections, all in ONE organization (the
 * worst case for a per-organization chain), with and without the audit plugin (its sealer timer on,
 * at the default interval). Each create = insert user + membership + publish user.created and
 * member.added, in one transaction. After each round it prints how many events the sealer had not yet
 * sealed (its lag); at the end it seals the rest and verifies the chain.
 *   cd packages/plugins/audit && npx tsx test/bench-creates.ts [requestsPerRound=2000] [rounds=3]
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '@doorman/core/testing';
import { auditPlugin } from '../src/index.ts';
import { verifyChain } from '../src/chain.ts';
import { producerPlugin, sealerOf } from './helpers.ts';

const CONCURRENCY = 32;
const perRound = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 3);
const orgId = randomUUID();

async function run(g: TestGateway, port: number, n: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        next++;
        const res = await fetch(`http://127.0.0.1:${port}/admin/v1/producer/users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ orgId, email: `${randomUUID()}@bench.example` }),
        });
        if (res.status !== 200) throw new Error(`create failed: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

const quiet = { gateway: { logLevel: 'warn' }, redis: false } as const;
const without = await startTestGateway({ plugins: [producerPlugin], ...quiet });
const withAudit = await startTestGateway({ plugins: [auditPlugin, producerPlugin], ...quiet });
const ports = await Promise.all([without, withAudit].map(async (g) => ((await g.gateway.listen()).address() as AddressInfo).port));
try {
  await run(without, ports[0], 300);
  await run(withAudit, ports[1], 300);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    a.push(await run(without, ports[0], perRound));
    b.push(await run(withAudit, ports[1], perRound));
    const [{ n: unsealed }] = await withAudit.gateway.db.query('SELECT COUNT(*) AS n FROM audit_events WHERE chain_seq IS NULL');
    // Seal the round's tail outside the timing, so the next "without" round does not pay for it.
    await sealerOf(withAudit).sealAll();
    console.log(`round ${r + 1}: without audit ${a[r].toFixed(0)}/s, with audit ${b[r].toFixed(0)}/s (${((100 * b[r]) / a[r]).toFixed(1)}%); unsealed at the end of the round: ${unsealed}`);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const ratio = median(b) / median(a);
  console.log(`median: without ${median(a).toFixed(0)}/s, with audit ${median(b).toFixed(0)}/s → ${(100 * ratio).toFixed(1)}% (target ≥ 85%)`);
  // Each round pairs the two runs back to back, so the median of per-round ratios is less sensitive to load drifting on a shared box.
  console.log(`median of per-round ratios: ${(100 * median(b.map((x, i) => x / a[i]))).toFixed(1)}%`);
  await sealerOf(withAudit).sealAll();
  const verified = await verifyChain(withAudit.gateway.db, orgId);
  console.log(`chain after the bench: ${JSON.stringify({ ok: verified.ok, checked: verified.checked, unsealed: verified.unsealed })}`);
} finally {
  await without.close();
  await withAudit.close();
}
