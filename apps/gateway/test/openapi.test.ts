import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRouteCoverage, ADMIN_API_PREFIX } from '@doorman/core';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { BUILTIN_PLUGINS, PLUGIN_CATALOG } from '../src/catalog.ts';

// Every plugin of this build enabled: the document must describe every admin route any of them mounts.
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ plugins: PLUGIN_CATALOG, builtins: BUILTIN_PLUGINS });
});
afterAll(async () => t?.close());

describe('the admin API OpenAPI document (every plugin enabled)', () => {
  it('documents every mounted admin route, and every documented route is mounted', () => {
    const coverage = adminRouteCoverage(t.gateway.http.admin, t.gateway.openApiDocument(), ADMIN_API_PREFIX);
    expect(coverage.undocumented, 'admin routes mounted without http.adminRoute (see packages/core/README.md)').toEqual([]);
    expect(coverage.unmounted).toEqual([]);
  });

  it('gives every operation a summary, tags, a unique id and a documented success response', async () => {
    const res = await t.admin('get', '/admin/v1/openapi.json');
    expect(res.status).toBe(200);
    const ids = new Set<string>();
    let operations = 0;
    for (const [path, item] of Object.entries(res.body.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(item)) {
        operations++;
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.summary, where).toMatch(/\w/);
        expect(op.tags?.length, where).toBeGreaterThan(0);
        expect(ids.has(op.operationId), `${where}: operationId ${op.operationId} repeated`).toBe(false);
        ids.add(op.operationId);
        expect(Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)), where).toBe(true);
        for (const p of path.match(/\{(\w+)\}/g) ?? []) {
          expect(op.parameters?.some((x: { in: string; name: string }) => x.in === 'path' && `{${x.name}}` === p), `${where}: ${p}`).toBe(true);
        }
      }
    }
    expect(operations).toBeGreaterThanOrEqual(29);
    // One tag per plugin that has admin routes, and core's own.
    const tags = new Set(Object.values(res.body.paths as Record<string, Record<string, { tags: string[] }>>).flatMap((i) => Object.values(i).flatMap((o) => o.tags)));
    expect([...tags].sort()).toEqual(expect.arrayContaining(['admin', 'audit', 'core', 'role-mapping', 'scim-users', 'token-auth']));
  });
});
