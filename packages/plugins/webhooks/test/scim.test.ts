import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimTestBed, newUser, PATCH_OP, type ScimTestBed } from '@doorman/plugin-scim-users/testing';
import { webhooksPlugin } from '../src/index.ts';
import { TEST_SETTINGS } from './settings.ts';

/** The real producers: SCIM writes through scim-users and role mapping publish what the plugin records. */
let bed: ScimTestBed;
beforeAll(async () => {
  bed = await startScimTestBed({ plugins: [webhooksPlugin], pluginSettings: { webhooks: { ...TEST_SETTINGS } } });
});
afterAll(async () => bed?.t.close());

describe('events from SCIM writes', () => {
  it('records a SCIM create, deactivation and delete as person and membership events, numbered per person, with deliveries in the same transactions', async () => {
    const { t, a, orgs, scim } = bed;
    const endpoint = await t.admin('post', '/admin/v1/webhooks').send({ url: 'http://127.0.0.1:9/hook', orgId: orgs.acme }).expect(201);
    const created = await scim(a, 'post', '/Users').send(newUser('grace@example.com')).expect(201);
    await scim(a, 'patch', `/Users/${created.body.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }).expect(200);
    await scim(a, 'delete', `/Users/${created.body.id}`).expect(204);

    const res = await t.admin('get', '/admin/v1/events?limit=100').expect(200);
    const mine = res.body.data.filter((e: { subject: { type: string } }) => e.subject.type === 'person');
    expect(mine.map((e: { type: string; sequence: number }) => [e.type, e.sequence])).toEqual([
      ['person.created', 1],
      ['membership.added', 2],
      ['person.deactivated', 3],
      ['person.deleted', 4],
    ]);
    expect(mine[0]).toMatchObject({ organizationId: orgs.acme, connectionId: a.connectionId, actor: { type: 'scim_token' }, changes: { userName: { after: 'grace@example.com' } } });
    expect(JSON.stringify(mine)).not.toMatch(/dmn_scim_/);
    // One delivery per event to the acme-scoped endpoint, pending until a worker runs (none here).
    const [{ n }] = await t.gateway.db.query('SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ?', [endpoint.body.id]);
    expect(Number(n)).toBe(mine.length);
  });
});
