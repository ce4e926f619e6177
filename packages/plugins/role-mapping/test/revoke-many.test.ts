/** Deactivation's revoke for a batch of people (src/revoke.ts): the same outcome as one at a time. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApplyMappingRequest } from '@doorman/plugin-api';
import type { TestGateway } from '@doorman/core/testing';
import type { DataSource } from 'typeorm';
import type { RoleMappingServiceImpl } from '../src/service.ts';
import { createUser, createWorld, eventRecorder, membershipsOf, startRoleMappingGateway, TEST_ACTOR, type World } from './support.ts';

const recorder = eventRecorder();
let t: TestGateway;
let ds: DataSource;
let service: RoleMappingServiceImpl;
let w: World;

beforeAll(async () => {
  ({ t, ds, service } = await startRoleMappingGateway(recorder));
});
afterAll(async () => t?.close());
beforeEach(async () => {
  w = await createWorld(ds);
  recorder.clear();
});

const apply = (userId: string, attributes: ApplyMappingRequest['attributes']) =>
  t.gateway.transaction((tx) => service.apply(tx, { connectionId: w.c1, userId, attributes, flow: 'scim', firstTime: true, actor: TEST_ACTOR }));
const revokeMany = (userIds: string[]) =>
  t.gateway.transaction((tx) => service.revokeConnectionMembershipsOfMany(tx, userIds.map((userId) => ({ connectionId: w.c1, userId, actor: { ...TEST_ACTOR, id: userId } }))));

describe('revokeConnectionMembershipsOfMany', () => {
  it('revokes each person as a single revoke would, with each request\'s own actor on its events', async () => {
    const people = [await createUser(ds), await createUser(ds), await createUser(ds)];
    for (const p of people) await apply(p, { dockerRole: 'editor' });
    recorder.clear();
    const summaries = await revokeMany(people);
    expect(summaries.map((s) => s.changes.map((c) => c.kind))).toEqual(people.map(() => ['removeTeamMembership', 'removeOrgMembership']));
    expect(summaries.every((s) => s.skipped.length === 0)).toBe(true);
    for (const p of people) expect(await membershipsOf(ds, p)).toEqual({ orgs: [], teams: [] });
    // Per person: its team event then its org event, published under the request's actor.
    expect(recorder.events.map((e) => [e.actor.id, e.event.action, e.event.target?.id])).toEqual(
      people.flatMap((p) => [
        [p, 'team_member.removed', p],
        [p, 'member.removed', p],
      ]),
    );
  });

  it('a person named twice is revoked once; an unknown person gets an empty summary', async () => {
    const person = await createUser(ds);
    await apply(person, { dockerRole: 'member' });
    const summaries = await revokeMany([person, 'no-such-user', person]);
    expect(summaries[0]!.changes).toHaveLength(2);
    expect(summaries[1]).toEqual({ changes: [], ignoredGroups: [], skipped: [] });
    expect(summaries[2]).toEqual({ changes: [], ignoredGroups: [], skipped: [] });
    expect(await membershipsOf(ds, person)).toEqual({ orgs: [], teams: [] });
  });

  it('two owners of one organization in one batch: the first is removed, the last owner is kept', async () => {
    const [first, second] = [await createUser(ds), await createUser(ds)];
    await apply(first, { dockerRole: 'owner' });
    await apply(second, { dockerRole: 'owner' });
    const summaries = await revokeMany([second, first]);
    expect(summaries[0]!.skipped).toEqual([]);
    expect(summaries[0]!.changes.map((c) => c.kind)).toEqual(['removeTeamMembership', 'removeOrgMembership']);
    expect(summaries[1]!.skipped).toEqual([{ kind: 'removeOrgMembership', orgId: w.moby, org: expect.any(String), reason: 'last owner' }]);
    expect(summaries[1]!.changes.map((c) => c.kind)).toEqual(['removeTeamMembership']);
    expect((await membershipsOf(ds, second)).orgs).toEqual([]);
    expect((await membershipsOf(ds, first)).orgs).toMatchObject([{ role: 'owner' }]);
  });

  it('concurrent batches over overlapping people end with everyone revoked once (no deadlock, no double event)', async () => {
    const people = await Promise.all(Array.from({ length: 8 }, () => createUser(ds)));
    for (const p of people) await apply(p, { dockerRole: 'editor' });
    recorder.clear();
    const shuffled = [...people].reverse();
    const results = await Promise.all([revokeMany(people.slice(0, 6)), revokeMany(shuffled.slice(0, 6)), revokeMany(people.slice(3))]);
    const removedPerPerson = new Map<string, number>();
    results.forEach((summaries, b) => {
      const batch = [people.slice(0, 6), shuffled.slice(0, 6), people.slice(3)][b]!;
      summaries.forEach((s, i) => removedPerPerson.set(batch[i]!, (removedPerPerson.get(batch[i]!) ?? 0) + s.changes.length));
    });
    for (const p of people) {
      expect(removedPerPerson.get(p)).toBe(2);
      expect(await membershipsOf(ds, p)).toEqual({ orgs: [], teams: [] });
    }
    expect(recorder.events).toHaveLength(people.length * 2);
  });
});
