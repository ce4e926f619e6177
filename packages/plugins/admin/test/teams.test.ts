import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import type { DomainEvent } from '@doorman/core';
import { adminPlugin } from '../src/index.ts';

let t: TestGateway;
const published: DomainEvent[] = [];

beforeAll(async () => {
  t = await startTestGateway({ plugins: [], builtins: [adminPlugin] });
  t.gateway.events.subscribe(async (_tx, _actor, e) => {
    published.push(e);
  });
  await t.admin('post', '/admin/v1/orgs').send({ name: 'acme' }).expect(201);
  await t.admin('post', '/admin/v1/orgs').send({ name: 'other' }).expect(201);
  await t.admin('post', '/admin/v1/orgs/acme/teams').send({ name: 'Platform' }).expect(201);
  await t.admin('post', '/admin/v1/orgs/acme/teams').send({ name: 'Data' }).expect(201);
});
afterAll(async () => t?.close());

const names = async (org: string) => (await t.admin('get', `/admin/v1/orgs/${org}/teams`)).body.teams.map((x: { name: string }) => x.name);

describe('PATCH /orgs/:org/teams/:team (rename)', () => {
  it('renames a team found by name or id and publishes team.renamed with before and after', async () => {
    const res = await t.admin('patch', '/admin/v1/orgs/acme/teams/platform').send({ name: 'Platform Eng' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Platform Eng', nameLc: 'platform eng' });
    expect(published.at(-1)).toMatchObject({ action: 'team.renamed', changes: { name: { before: 'Platform', after: 'Platform Eng' } } });
    const byId = await t.admin('patch', `/admin/v1/orgs/acme/teams/${res.body.id}`).send({ name: 'Platform' });
    expect(byId.body.name).toBe('Platform');
    expect(await names('acme')).toEqual(['Data', 'Platform']);
  });

  it('refuses a taken name (409), a bad name (400, naming the field), an unknown team or another org’s team (404), and changes nothing', async () => {
    const taken = await t.admin('patch', '/admin/v1/orgs/acme/teams/platform').send({ name: 'data' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.field).toBe('name');
    const bad = await t.admin('patch', '/admin/v1/orgs/acme/teams/platform').send({ name: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('name');
    expect((await t.admin('patch', '/admin/v1/orgs/acme/teams/nope').send({ name: 'x' })).status).toBe(404);
    expect((await t.admin('patch', '/admin/v1/orgs/other/teams/platform').send({ name: 'x' })).status).toBe(404);
    expect(await names('acme')).toEqual(['Data', 'Platform']);
  });
});
