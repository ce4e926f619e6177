/** End to end through the real jobs runtime: admin request → outbox → BullMQ (real Redis) → processor. */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { roleMappingServiceRef } from '@doorman/plugin-api';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { startTestJobRuntime } from '@doorman/jobs/testing';
import { roleMappingPlugin } from '../src/index.ts';
import { addConnectionUser, createUser, createWorld, eventRecorder, membershipsOf, TEST_ACTOR } from './support.ts';

const recorder = eventRecorder();
let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway({
    plugins: [roleMappingPlugin, recorder.plugin],
    pluginSettings: { 'role-mapping': { syncCron: '' } },
    afterBuild: (g) => startTestJobRuntime(g, { prefixTag: 'role-mapping-test' }),
  });
});
afterAll(async () => t?.close());

async function waitFor(check: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await delay(100);
  }
  throw new Error(`gave up waiting for ${what}`);
}

it('POST /sync runs the sync through BullMQ and repairs drift', async () => {
  const ds = t.gateway.db;
  const w = await createWorld(ds);
  const userId = await createUser(ds);
  await addConnectionUser(ds, { connectionId: w.c1, userId, dockerRole: 'editor' });
  await t.gateway.transaction((tx) =>
    t.gateway.get(roleMappingServiceRef).apply(tx, { connectionId: w.c1, userId, attributes: { dockerRole: 'editor' }, flow: 'scim', firstTime: true, actor: TEST_ACTOR }),
  );
  await ds.query("UPDATE org_memberships SET role = 'member' WHERE user_id = ?", [userId]);
  recorder.clear();

  const res = await t.admin('post', `/admin/v1/connections/${w.c1}/sync`);
  expect(res.status).toBe(202);
  await waitFor(async () => recorder.actions().includes('sync.completed'), 'sync.completed');
  expect((await membershipsOf(ds, userId)).orgs[0]!.role).toBe('editor');
  const completed = recorder.events.find((e) => e.event.action === 'sync.completed')!;
  expect(completed.event.changes).toMatchObject({ summary: { after: { users: 1, changed: 1, changes: { roleChanged: 1 }, trigger: 'manual' } } });
});
