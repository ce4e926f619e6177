import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleMappingServiceRef } from '@doorman/core';
import { randomUUID } from 'node:crypto';
import { IsNull } from 'typeorm';
import { ConnectionUserEntity, OrgMembershipEntity, SsoSessionEntity } from '@doorman/model';
import type { DeactivateUserPayload } from '../src/jobs.ts';
import type { EntityManager } from 'typeorm';
import { batchedDeprovisioner } from '../src/deprovision-batch.ts';
import { newUser, PATCH_OP, startScimTestBed, type ScimTestBed } from './setup.ts';

let bed: ScimTestBed;
beforeAll(async () => {
  bed = await startScimTestBed();
});
afterAll(async () => bed?.t.close());

/** Deactivated users of tenant A, as the jobs their PATCHes enqueued describe them. */
async function deactivated(n: number, tag: string): Promise<DeactivateUserPayload[]> {
  const jobs: DeactivateUserPayload[] = [];
  for (let i = 0; i < n; i++) {
    const created = await bed.scim(bed.a, 'post', '/Users').send(newUser(`${tag}${i}@acme.test`));
    await bed.scim(bed.a, 'patch', `/Users/${created.body.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
    const row = await bed.t.gateway.db.getRepository(ConnectionUserEntity).findOneByOrFail({ id: created.body.id });
    jobs.push({ connectionId: bed.a.connectionId, connectionUserId: row.id, userId: row.userId, reason: 'inactive' });
  }
  return jobs;
}

describe('batched deactivation jobs', () => {
  const deps = () => ({ roleMapping: bed.t.gateway.get(roleMappingServiceRef), events: bed.t.gateway.events, dialect: 'mysql' as const, now: () => new Date() });
  const memberships = (userId: string) => bed.t.gateway.db.getRepository(OrgMembershipEntity).countBy({ userId });

  it('applies jobs that start together in one transaction, each with its own outcome', async () => {
    const jobs = await deactivated(5, 'batch');
    // Two open SSO sessions for the first person, one for the second, one already ended for the third.
    const db = bed.t.gateway.db;
    const later = new Date(Date.now() + 3_600_000);
    const session = (userId: string, endedAt: Date | null) => ({ id: randomUUID(), userId, connectionId: bed.a.connectionId, createdAt: new Date(), expiresAt: later, endedAt });
    await db.getRepository(SsoSessionEntity).insert([session(jobs[0]!.userId, null), session(jobs[0]!.userId, null), session(jobs[1]!.userId, null), session(jobs[2]!.userId, new Date())]);
    let transactions = 0;
    const counting = <T>(work: (tx: EntityManager) => Promise<T>) => (transactions++, bed.t.gateway.transaction(work));
    const run = batchedDeprovisioner(counting, deps());
    const outcomes = await Promise.all(jobs.map((job) => run(job)));
    expect(transactions).toBe(1);
    // Org and default-team membership each; the sessions each person had open.
    expect(outcomes).toEqual(jobs.map((_, i) => ({ removed: 2, sessionsEnded: [2, 1][i] ?? 0 })));
    expect(await db.getRepository(SsoSessionEntity).countBy({ connectionId: bed.a.connectionId, endedAt: IsNull() })).toBe(0);
    for (const job of jobs) expect(await memberships(job.userId)).toBe(0);
    // Idempotent, batched or not: a second run of the same jobs finds nothing to remove.
    expect(await Promise.all(jobs.map((job) => run(job)))).toEqual(jobs.map(() => ({ removed: 0, sessionsEnded: 0 })));
  });

  it('when the batch fails, runs each job alone: only the failing job fails', async () => {
    const jobs = await deactivated(3, 'alone');
    const poisoned = jobs[1]!;
    // A transaction runner that fails whenever it is asked to deprovision the poisoned user.
    const failing = <T>(work: (tx: EntityManager) => Promise<T>) =>
      bed.t.gateway.transaction(async (tx) => {
        const probe = new Proxy(tx, {
          get(target, key, receiver) {
            if (key !== 'query') return Reflect.get(target, key, receiver);
            return (sql: string, params?: unknown[]) => {
              if (Array.isArray(params) && params.includes(poisoned.connectionUserId)) throw new Error('poisoned job');
              return target.query(sql, params);
            };
          },
        });
        return work(probe);
      });
    const run = batchedDeprovisioner(failing, deps());
    const outcomes = await Promise.allSettled(jobs.map((job) => run(job)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await memberships(jobs[0]!.userId)).toBe(0);
    expect(await memberships(poisoned.userId)).toBe(1); // its org membership stays
    expect(await memberships(jobs[2]!.userId)).toBe(0);
  });
});
