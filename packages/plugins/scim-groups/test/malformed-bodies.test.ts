import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_MARKER, malformedBodies, sendRaw, TEST_ADMIN_TOKEN } from '@doorman/core/testing';
import { GROUP, startGroupTestBed, type GroupTestBed } from './setup.ts';

/**
 * Every malformed-body class (packages/core/src/testing/bodies.ts) against every write route of
 * SCIM Users, SCIM Groups and the admin API, with and without credentials: the status and error
 * format are right, no table changes, and no log line carries the body.
 */
let bed: GroupTestBed;
let routes: Array<{ method: 'post' | 'put' | 'patch'; path: string; scim: boolean }>;

// Tables a request may touch merely by authenticating (a token's last use); everything else must stay byte-identical.
const AUTH_TABLES = new Set(['scim_tokens', 'admin_tokens']);
async function snapshot() {
  const tables = (await bed.t.gateway.db.query('SHOW TABLES')).map((r: Record<string, string>) => Object.values(r)[0]!).filter((n: string) => !AUTH_TABLES.has(n));
  const rows = await bed.t.gateway.db.query(`CHECKSUM TABLE ${tables.map((n: string) => `\`${n}\``).join(', ')}`);
  return Object.fromEntries(rows.map((r: { Table: string; Checksum: string }) => [r.Table.split('.').pop(), String(r.Checksum)]));
}

beforeAll(async () => {
  bed = await startGroupTestBed();
  const { t, a, orgs, scim } = bed;
  const user = await bed.user(a, 'ada@example.com');
  const group = await scim(a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'acme:Engineering', members: [{ value: user.id }] });
  expect(group.status).toBe(201);
  const tokens = await t.admin('get', `/admin/v1/connections/${a.connectionId}/scim-tokens`);
  const admin = await t.admin('post', '/admin/v1/admin-tokens').send({ name: 'ops' });
  const params: Record<string, string> = {
    org: orgs.acme!,
    connectionId: a.connectionId,
    domain: 'example.com',
    tokenId: tokens.body.items?.[0]?.id ?? tokens.body[0]?.id ?? 'x',
    id: '',
  };
  const fill = (path: string, id: string) => path.replace(/:(\w+)/g, (_, name: string) => (name === 'id' ? id : (params[name] ?? 'x')));
  routes = [];
  for (const router of [t.gateway.http.admin, t.gateway.http.scim]) {
    for (const layer of (router as unknown as { stack: Array<{ methods: string[]; path: string }> }).stack) {
      for (const method of layer.methods.filter((m) => ['POST', 'PUT', 'PATCH'].includes(m))) {
        const scimRoute = layer.path.startsWith('/scim/');
        const id = layer.path.includes('/Users/') ? user.id : layer.path.includes('/Groups/') ? group.body.id : (admin.body.id ?? 'x');
        routes.push({ method: method.toLowerCase() as 'post', path: fill(layer.path, id), scim: scimRoute });
      }
    }
  }
});
afterAll(async () => bed?.t.close());

describe('malformed request bodies on every write route', () => {
  it('covers the write routes of SCIM Users, SCIM Groups and the admin API', () => {
    const paths = routes.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, ':id')}`);
    expect(paths).toEqual(expect.arrayContaining(['post /scim/v2/Users', 'put /scim/v2/Users/:id', 'patch /scim/v2/Users/:id', 'post /scim/v2/Groups', 'put /scim/v2/Groups/:id', 'patch /scim/v2/Groups/:id', 'post /admin/v1/orgs', 'post /admin/v1/connections']));
    expect(routes.length).toBeGreaterThanOrEqual(20);
  });

  it.each(malformedBodies())('$name: refused everywhere, nothing changes, nothing logged', async ({ body, headers, status, code }) => {
    const before = await snapshot();
    const from = bed.t.logs.length;
    const wrong: string[] = [];
    for (const route of routes) {
      const base = () => bed.t.http[route.method](route.path).set('Content-Type', route.scim ? 'application/scim+json' : 'application/json');
      const credential = route.scim ? `Bearer ${bed.a.token}` : `Bearer ${TEST_ADMIN_TOKEN}`;
      const anonymous = await sendRaw(base(), body, headers);
      // 429 once the address has failed authentication too often (token-auth's brute-force limit).
      if (![401, 429].includes(anonymous.status)) wrong.push(`${route.method} ${route.path} without credentials: ${anonymous.status}`);
      const res = await sendRaw(base().set('Authorization', credential), body, headers);
      const where = `${route.method} ${route.path}`;
      if (res.status !== status) wrong.push(`${where}: status ${res.status} ${JSON.stringify(res.body)}`);
      else if (route.scim) {
        const ok = res.headers['content-type']?.startsWith('application/scim+json') && res.body.schemas?.[0] === 'urn:ietf:params:scim:api:messages:2.0:Error' && res.body.status === String(status) && (status !== 400 || res.body.scimType === 'invalidSyntax');
        if (!ok) wrong.push(`${where}: SCIM error body ${JSON.stringify(res.body)}`);
      } else if (res.body.error?.code !== code || typeof res.body.error?.message !== 'string') wrong.push(`${where}: admin error body ${JSON.stringify(res.body)}`);
    }
    expect(wrong).toEqual([]);
    expect(await snapshot()).toEqual(before);
    const logged = bed.t.logs.slice(from).join('');
    expect(logged).not.toContain(BODY_MARKER);
    // One refusal line per authenticated request, with the reason and size only.
    const refusals = logged.split('\n').filter((l) => l.includes('"request body refused"'));
    expect(refusals).toHaveLength(routes.length);
    expect(JSON.parse(refusals[0]!)).toMatchObject({ reason: code, status });
  });
});
