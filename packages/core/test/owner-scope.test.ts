/**
 * Organization owners on the admin API (docs/console.md, "Organization owners"): every route declares
 * its scope, and core refuses an owner outside it. The owner's session comes from a stand-in for the
 * console plugin (`adminSessionAuthRef`), so this tests core's rules alone.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConnectionOrgEntity, OrganizationEntity, SsoConnectionEntity } from '@doorman/model';
import { adminSessionAuthRef, coreServices, definePlugin, ownerOrgIds, scopeAllows } from '../src/index.ts';
import { startTestGateway, type TestGateway } from '../src/testing/index.ts';

const ok = { 200: { description: 'ok', schema: z.object({ ran: z.boolean(), orgs: z.array(z.string()).optional() }) } };

const plugin = definePlugin({
  id: 'scoped',
  description: 'routes of every scope, and an owner session from a header',
  provides: [adminSessionAuthRef],
  deps: { http: coreServices.http, provider: coreServices.provider },
  register({ http, provider }) {
    // `X-Test-Owner: <org id>,<org id>` stands for an owner's console session; nothing else authenticates.
    provider.provide(adminSessionAuthRef, {
      async authenticate(ctx) {
        const header = (ctx as unknown as { get(name: string): string }).get('x-test-owner');
        if (!header) return undefined;
        return { kind: 'owner', userId: 'u-owner', sessionId: 's1', orgIds: header.split(',').filter(Boolean) };
      },
    });
    http.adminRoute({ method: 'get', path: '/deploy', scope: 'deployment', summary: 'deployment-wide', responses: ok, handler: () => ({ ran: true }) });
    http.adminRoute({ method: 'patch', path: '/orgs-x/:org', scope: { org: 'org' }, summary: 'one org', body: z.object({ n: z.number() }).strict(), responses: ok, handler: () => ({ ran: true }) });
    http.adminRoute({ method: 'get', path: '/conns/:connectionId', scope: { connection: 'connectionId' }, summary: 'a connection', responses: ok, handler: () => ({ ran: true }) });
    http.adminRoute({ method: 'get', path: '/custom/:thing', scope: { orgs: (_ctx, { params }) => params.thing.split('+') }, summary: 'custom', responses: ok, handler: () => ({ ran: true }) });
    http.adminRoute({ method: 'get', path: '/list', scope: 'filtered', summary: 'a list', responses: ok, handler: (ctx) => ({ ran: true, orgs: [...(ownerOrgIds(ctx) ?? ['all'])] }) });
    // Mounted without adminRoute: declares no scope (the coverage test also fails on it).
    http.admin.get('/raw', (ctx) => {
      ctx.body = { ran: true };
    });
    http.mountAdminApp('/admin/dashboard', async (ctx) => {
      ctx.body = 'dashboard';
    });
  },
});

let t: TestGateway;
let orgA: string;
let orgB: string;
let connA: string;
let connAB: string;
let connNone: string;
beforeAll(async () => {
  t = await startTestGateway({ plugins: [plugin], redis: false });
  const ds = t.gateway.db;
  [orgA, orgB] = [randomUUID(), randomUUID()];
  await ds.getRepository(OrganizationEntity).insert([
    { id: orgA, name: 'org-a', displayName: null, seatLimit: null },
    { id: orgB, name: 'org-b', displayName: null, seatLimit: null },
  ]);
  const conn = async (defaultOrgId: string | null, served: string[]) => {
    const id = randomUUID();
    await ds.getRepository(SsoConnectionEntity).insert({ id, name: `c-${id.slice(0, 6)}`, type: 'oidc', defaultOrgId, defaultTeam: null, jitEnabled: true, scimEnabled: false, idpSettings: {}, rateLimitPerSecond: null });
    if (served.length) await ds.getRepository(ConnectionOrgEntity).insert(served.map((orgId) => ({ connectionId: id, orgId })));
    return id;
  };
  connA = await conn(orgA, [orgA]);
  connAB = await conn(orgA, [orgB]);
  connNone = await conn(null, []);
});
afterAll(async () => t?.close());

const asOwner = (method: 'get' | 'patch', path: string, ...orgs: string[]) => t.http[method](path).set('X-Test-Owner', orgs.join(','));

describe('admin route scopes for organization owners', () => {
  it('an owner is refused (403) on deployment routes, on routes without a declared scope and on admin apps', async () => {
    const deploy = await asOwner('get', '/admin/v1/deploy', orgA);
    expect(deploy.status).toBe(403);
    expect(deploy.body.error.message).toMatch(/deployment-wide/);
    expect((await asOwner('get', '/admin/v1/raw', orgA)).status).toBe(403);
    expect((await asOwner('get', '/admin/v1/openapi.json', orgA)).status).toBe(403);
    expect((await asOwner('get', '/admin/dashboard', orgA)).status).toBe(403);
    // The admin token still passes everything.
    expect((await t.admin('get', '/admin/v1/deploy')).status).toBe(200);
    expect((await t.admin('get', '/admin/v1/raw')).status).toBe(200);
    expect((await t.admin('get', '/admin/dashboard')).status).toBe(200);
  });

  it('an organization route runs for its owner (by id or name), and answers 404 to another organization\'s owner before reading the body', async () => {
    expect((await asOwner('patch', `/admin/v1/orgs-x/${orgA}`, orgA).send({ n: 1 })).body).toEqual({ ran: true });
    expect((await asOwner('patch', '/admin/v1/orgs-x/org-a', orgA).send({ n: 1 })).status).toBe(200);
    const other = await asOwner('patch', `/admin/v1/orgs-x/${orgA}`, orgB).send({ bad: true });
    expect(other.status).toBe(404);
    expect((await asOwner('patch', '/admin/v1/orgs-x/no-such-org', orgB).send({ n: 1 })).status).toBe(404);
    // For its owner the body is validated as usual.
    expect((await asOwner('patch', `/admin/v1/orgs-x/${orgA}`, orgA).send({ bad: true })).status).toBe(400);
  });

  it('a connection route needs every organization the connection serves', async () => {
    expect((await asOwner('get', `/admin/v1/conns/${connA}`, orgA)).status).toBe(200);
    expect((await asOwner('get', `/admin/v1/conns/${connAB}`, orgA)).status).toBe(404);
    expect((await asOwner('get', `/admin/v1/conns/${connAB}`, orgA, orgB)).status).toBe(200);
    expect((await asOwner('get', `/admin/v1/conns/${connNone}`, orgA, orgB)).status).toBe(404);
    expect((await asOwner('get', `/admin/v1/conns/${randomUUID()}`, orgA)).status).toBe(404);
  });

  it('a route computing its organizations, and a filtered list that sees the owner\'s organizations', async () => {
    expect((await asOwner('get', `/admin/v1/custom/${orgA}`, orgA)).status).toBe(200);
    expect((await asOwner('get', `/admin/v1/custom/${orgA}+${orgB}`, orgA)).status).toBe(404);
    expect((await asOwner('get', '/admin/v1/list', orgB)).body.orgs).toEqual([orgB]);
    expect((await t.admin('get', '/admin/v1/list')).body.orgs).toEqual(['all']);
  });

  it('a route declared without a scope is refused at registration', async () => {
    const { AdminRouteRegistry } = await import('../src/admin-routes.ts');
    const Router = (await import('@koa/router')).default;
    const registry = new AdminRouteRegistry(new Router(), { validateResponses: false, db: t.gateway.db });
    expect(() => registry.add('x', { method: 'get', path: '/x', summary: 'x', responses: ok, handler: () => ({}) } as never)).toThrow(/declares no scope/);
  });

  it.each([
    { owned: ['a'], touched: ['a'], allowed: true },
    { owned: ['a', 'b'], touched: ['a', 'b'], allowed: true },
    { owned: ['a'], touched: ['a', 'b'], allowed: false },
    { owned: ['a'], touched: [], allowed: false },
    { owned: [], touched: ['a'], allowed: false },
  ])('scopeAllows($owned, $touched) = $allowed', ({ owned, touched, allowed }) => {
    expect(scopeAllows(owned, touched)).toBe(allowed);
  });
});
