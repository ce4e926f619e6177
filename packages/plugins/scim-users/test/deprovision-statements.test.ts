/**
 * How many SQL statements one deactivation job run costs, counted by MariaDB itself (the session's
 * `Questions` status), so a change that adds round trips fails here. The bound is the count measured
 * when it was set; lower is fine, higher needs a reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleMappingServiceRef } from '@doorman/core';
import { ConnectionUserEntity, OrgMembershipEntity, OutboxMessageEntity, TeamMembershipEntity } from '@doorman/model';
import type { DeactivateUserPayload } from '../src/jobs.ts';
import type { EntityManager } from 'typeorm';
import { deprovisionUser } from '../src/deprovision.ts';
import { DOCKER, newUser, PATCH_OP, startScimTestBed, type ScimTestBed } from './setup.ts';

let bed: ScimTestBed;
beforeAll(async () => {
  bed = await startScimTestBed();
});
afterAll(async () => bed?.t.close());

async function questions(tx: EntityManager): Promise<number> {
  const [row]: Array<{ Value: string }> = await tx.query("SHOW SESSION STATUS LIKE 'Questions'");
  return Number(row!.Value);
}

/** Statements `work` sent on its transaction's connection, as MariaDB counts them (the second SHOW counts itself). */
async function counted<T>(work: (tx: EntityManager) => Promise<T>): Promise<{ result: T; statements: number }> {
  return bed.t.gateway.transaction(async (tx) => {
    const before = await questions(tx);
    const result = await work(tx);
    return { result, statements: (await questions(tx)) - before - 1 };
  });
}

describe('statements per deactivation job run (MariaDB Questions)', () => {
  it('deprovisions a user holding an org and a team membership', async () => {
    const created = await bed.scim(bed.a, 'post', '/Users').send(newUser('grace@acme.test', { schemas: newUser('').schemas.concat(DOCKER), [DOCKER]: { dockerRole: 'editor' } }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const deactivated = await bed.scim(bed.a, 'patch', `/Users/${created.body.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
    expect(deactivated.status).toBe(200);
    const db = bed.t.gateway.db;
    const { userId } = await db.getRepository(ConnectionUserEntity).findOneByOrFail({ id: created.body.id });
    const [message] = await db.getRepository(OutboxMessageEntity).findBy({ jobName: 'deactivate-user' });
    const deps = { roleMapping: bed.t.gateway.get(roleMappingServiceRef), events: bed.t.gateway.events, dialect: 'mysql' as const, now: () => new Date() };

    const run = await counted((tx) => deprovisionUser(tx, deps, message!.payload as DeactivateUserPayload));
    expect(run.result).toEqual({ removed: 2, sessionsEnded: 0 });
    expect(await db.getRepository(OrgMembershipEntity).countBy({ userId })).toBe(0);
    expect(await db.getRepository(TeamMembershipEntity).countBy({ userId })).toBe(0);
    // Was 9: the row lock, revoke's user lock, two membership reads, two name reads, a DELETE per
    // membership, the session update. Now: the row lock, one read, a DELETE per table, the session update.
    expect(run.statements).toBeLessThanOrEqual(5);
  });
});
