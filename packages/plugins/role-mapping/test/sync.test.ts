import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validatePluginSettings } from '@doorman/core';
import { roleMappingServiceRef, SYSTEM_ACTOR, type JobContext, type JobDefinition } from '@doorman/plugin-api';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { OutboxMessageEntity } from '@doorman/model';
import type { DataSource } from 'typeorm';
import { roleMappingPlugin } from '../src/index.ts';
import { acquireSyncLock, SyncAlreadyRunningError, type SyncSummary } from '../src/sync.ts';
import { addConnectionUser, addMembership, createConnection, createUser, createWorld, eventRecorder, membershipsOf, TEST_ACTOR, type World } from './support.ts';

const recorder = eventRecorder();
let t: TestGateway;
let ds: DataSource;
let w: World;
let syncConnection: JobDefinition;
let syncAll: JobDefinition;

const BATCH = 3;

beforeAll(async () => {
  t = await startTestGateway({ plugins: [roleMappingPlugin, recorder.plugin], pluginSettings: { 'role-mapping': { syncBatchSize: String(BATCH) } } });
  ds = t.gateway.db;
  syncConnection = t.gateway.jobs.definitions.get('sync/sync-connection')!;
  syncAll = t.gateway.jobs.definitions.get('sync/sync-all')!;
});
afterAll(async () => t?.close());
beforeEach(async () => {
  w = await createWorld(ds);
  recorder.clear();
});

function jobContext() {
  const progress: unknown[] = [];
  const job: JobContext = { id: 'test-job', attemptsMade: 0, logger: t.gateway.logger.child({ job: 'test' }), updateProgress: async (p) => void progress.push(p) };
  return { job, progress };
}

const run = async (connectionId: string, trigger: 'schedule' | 'manual' | 'default-changed' = 'manual') => {
  const { job, progress } = jobContext();
  const result = await syncConnection.process(syncConnection.schema.parse({ connectionId, trigger }), job);
  return { result: result as SyncSummary & { skipped?: string }, progress };
};

/** SCIM users of c1, provisioned through the service as scim-users would. */
async function provision(n: number, attrs: (i: number) => { dockerRole?: string; dockerTeam?: string } = () => ({})) {
  const users: string[] = [];
  for (let i = 0; i < n; i++) {
    const userId = await createUser(ds);
    const a = attrs(i);
    await addConnectionUser(ds, { connectionId: w.c1, userId, ...a });
    await t.gateway.transaction((tx) =>
      t.gateway.get(roleMappingServiceRef).apply(tx, { connectionId: w.c1, userId, attributes: a, flow: 'scim', firstTime: true, actor: TEST_ACTOR }),
    );
    users.push(userId);
  }
  return users;
}

describe('sync-connection processor', () => {
  it('repairs drifted memberships across batches, reports progress, and publishes sync.completed with the summary', async () => {
    const users = await provision(7, (i) => (i === 2 ? { dockerRole: 'editor', dockerTeam: 'ops' } : {}));
    await addMembership(ds, { orgId: w.moby, userId: await createUser(ds), role: 'owner' }); // an admin owner: demotions below are allowed
    // Drift, made behind the mapping's back:
    await ds.query('DELETE FROM org_memberships WHERE user_id = ? AND org_id = ?', [users[0], w.moby]); // membership lost
    await ds.query('DELETE FROM team_memberships WHERE user_id = ?', [users[0]]);
    await ds.query("UPDATE org_memberships SET role = 'owner' WHERE user_id = ?", [users[1]]); // role changed by hand
    await ds.query('DELETE FROM team_memberships WHERE user_id = ?', [users[2]]); // team lost
    await ds.query('DELETE FROM teams WHERE org_id = ? AND name = ?', [w.moby, 'ops']); // team deleted
    await ds.query("UPDATE org_memberships SET role = 'owner' WHERE user_id = ?", [users[3]]);
    await ds.query('UPDATE connection_users SET active = false WHERE user_id = ?', [users[4]]); // deactivated: memberships must go
    await ds.query("UPDATE connection_users SET docker_role = 'owner' WHERE user_id = ?", [users[5]]); // attribute changed, never applied
    recorder.clear();

    const { result, progress } = await run(w.c1);
    expect(result).toEqual({
      users: 7,
      changed: 6,
      failed: 0,
      // added: users[0] org + team, users[2] team; removed: users[4] org + team; roles: users[1], users[3] back to member, users[5] to owner.
      changes: { added: 3, removed: 2, roleChanged: 3, teamsCreated: 1, sessionsEnded: 0 },
      errors: [],
    });
    expect(progress).toEqual([
      { processed: 3, total: 7 },
      { processed: 6, total: 7 },
      { processed: 7, total: 7 },
    ]);
    expect((await membershipsOf(ds, users[0]!)).orgs).toMatchObject([{ role: 'member', source: 'scim', connectionId: w.c1 }]);
    expect((await membershipsOf(ds, users[0]!)).teams.map((x) => x.team)).toEqual(['everyone']);
    expect((await membershipsOf(ds, users[1]!)).orgs[0]!.role).toBe('member');
    expect(await membershipsOf(ds, users[2]!)).toMatchObject({ orgs: [{ role: 'editor' }], teams: [{ team: 'ops', grantedBy: 'mapping' }] });
    expect(await membershipsOf(ds, users[4]!)).toEqual({ orgs: [], teams: [] });
    expect((await membershipsOf(ds, users[5]!)).orgs[0]!.role).toBe('owner');

    const completed = recorder.events.filter((e) => e.event.action === 'sync.completed');
    expect(completed).toHaveLength(1);
    // What the job writes names it (docs/people-and-explain.md, "Causal links").
    const jobActor = { ...SYSTEM_ACTOR, jobId: 'test-job' };
    expect(completed[0]).toEqual({
      actor: jobActor,
      event: { action: 'sync.completed', connectionId: w.c1, target: { type: 'connection', id: w.c1 }, changes: { summary: { after: { ...result, trigger: 'manual' } } } },
    });
    expect(recorder.events.filter((e) => e.event.action !== 'sync.completed').every((e) => JSON.stringify(e.actor) === JSON.stringify(jobActor))).toBe(true);

    // Nothing drifted since: the next run changes nothing.
    recorder.clear();
    const again = await run(w.c1);
    expect(again.result).toMatchObject({ users: 7, changed: 0, changes: { added: 0, removed: 0, roleChanged: 0, teamsCreated: 0 } });
    expect(recorder.actions()).toEqual(['sync.completed']);
  });

  it('counts and reports users the policy refuses, and carries on', async () => {
    const users = await provision(2);
    await ds.query("UPDATE connection_users SET docker_org = 'not-served' WHERE user_id = ?", [users[0]]);
    await ds.query("UPDATE connection_users SET docker_role = 'owner' WHERE user_id = ?", [users[1]]);
    const { result } = await run(w.c1);
    expect(result).toMatchObject({ users: 2, changed: 1, failed: 1, changes: { roleChanged: 1 } });
    expect(result.errors).toEqual([{ userId: users[0], message: expect.stringMatching(/dockerOrg 'not-served'/) }]);
  });

  it('skips a connection with SCIM disabled, or gone', async () => {
    const off = await createConnection(ds, { orgIds: [w.moby], defaultOrgId: w.moby, scimEnabled: false });
    expect((await run(off)).result).toEqual({ skipped: 'SCIM is disabled on this connection' });
    expect((await run('no-such-connection')).result).toEqual({ skipped: 'connection not found' });
  });

  it('never runs two syncs of one connection at once', async () => {
    await provision(1);
    const release = await acquireSyncLock(ds, w.c1);
    expect(release).not.toBeNull();
    try {
      expect(await acquireSyncLock(ds, w.c1)).toBeNull();
      expect((await run(w.c1, 'schedule')).result).toEqual({ skipped: 'already running' });
      await expect(run(w.c1, 'manual')).rejects.toBeInstanceOf(SyncAlreadyRunningError);
      await expect(run(w.c1, 'default-changed')).rejects.toBeInstanceOf(SyncAlreadyRunningError);
    } finally {
      await release!();
    }
    expect((await run(w.c1)).result).toMatchObject({ users: 1 });
  });
});

describe('sync-all processor and schedule', () => {
  it('enqueues one sync-connection job per SCIM-enabled connection', async () => {
    await createConnection(ds, { orgIds: [w.moby], defaultOrgId: w.moby, scimEnabled: false });
    const enabled: Array<{ id: string }> = await ds.query('SELECT id FROM sso_connections WHERE scim_enabled = true');
    await ds.query('DELETE FROM outbox');
    const { job } = jobContext();
    expect(await syncAll.process({}, job)).toEqual({ enqueued: enabled.length });
    const intents = await ds.getRepository(OutboxMessageEntity).find();
    expect(intents.map((i) => i.payload).sort((a, b) => String(a.connectionId).localeCompare(String(b.connectionId)))).toEqual(
      enabled.map((c) => ({ connectionId: c.id, trigger: 'schedule' })).sort((a, b) => a.connectionId.localeCompare(b.connectionId)),
    );
    expect(intents.every((i) => i.queue === 'sync' && i.jobName === 'sync-connection' && /^sync-connection\.[^.]+\.\d+$/.test(i.jobId))).toBe(true);
  });

  it('schedules sync-all daily at 03:00 by default', () => {
    expect(t.gateway.jobs.schedules).toEqual([{ id: 'role-mapping-sync-all', queue: 'sync', name: 'sync-all', pattern: '0 3 * * *', data: {} }]);
  });

  it.each([
    [{ syncCron: '' }, { syncCron: '', syncBatchSize: 500, groupInlineLimit: 100 }],
    [{ syncCron: '*/15 * * * *', syncBatchSize: '100', groupInlineLimit: '0' }, { syncCron: '*/15 * * * *', syncBatchSize: 100, groupInlineLimit: 0 }],
  ])('accepts the settings %j', (raw, parsed) => {
    const { parsed: out, problems } = validatePluginSettings([roleMappingPlugin], { 'role-mapping': raw });
    expect(problems).toEqual([]);
    expect(out.get('role-mapping')).toEqual(parsed);
  });

  it.each([
    [{ syncCron: 'daily' }, /^ROLE_MAPPING_SYNC_CRON: a cron pattern/],
    [{ syncBatchSize: '0' }, /^ROLE_MAPPING_SYNC_BATCH_SIZE: /],
    [{ syncEvery: '1h' }, /Unrecognized key/],
  ])('rejects the settings %j, naming the variable', (raw, message) => {
    const { problems } = validatePluginSettings([roleMappingPlugin], { 'role-mapping': raw });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('an empty syncCron registers no schedule', async () => {
    const g = await startTestGateway({ plugins: [roleMappingPlugin], pluginSettings: { 'role-mapping': { syncCron: '' } }, redis: false });
    try {
      expect(g.gateway.jobs.schedules).toEqual([]);
      expect([...g.gateway.jobs.definitions.keys()].sort()).toEqual(['sync/sync-all', 'sync/sync-connection']);
    } finally {
      await g.close();
    }
  });
});
