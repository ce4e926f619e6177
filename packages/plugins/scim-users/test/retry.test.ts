import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxMessageEntity } from '@doorman/model';
import { newUser, PATCH_OP, startScimTestBed, type ScimTestBed } from './setup.ts';

let bed: ScimTestBed;
beforeAll(async () => {
  bed = await startScimTestBed();
});
afterAll(async () => bed?.t.close());

/**
 * A write whose commit acknowledgement was lost (the database died after COMMIT, the client saw 503 or
 * a reset) is retried with the same request and the same If-Match: it must succeed without applying
 * twice (RFC 7232 §3.1; README "Failure behaviour").
 */
describe('retrying a write that already committed', () => {
  const deactivate = { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] };

  it('answers a retried PATCH with its stale If-Match 200 and the current version, with one deactivation job', async () => {
    const { body: user } = await bed.scim(bed.a, 'post', '/Users').send(newUser('retry-patch@acme.test'));
    const first = await bed.scim(bed.a, 'patch', `/Users/${user.id}`).set('If-Match', 'W/"1"').send(deactivate);
    expect(first.status).toBe(200);
    expect(first.headers.etag).toBe('W/"2"');
    const retry = await bed.scim(bed.a, 'patch', `/Users/${user.id}`).set('If-Match', 'W/"1"').send(deactivate);
    expect(retry.status).toBe(200);
    expect(retry.headers.etag).toBe('W/"2"');
    expect(retry.body.active).toBe(false);
    const jobs = await bed.t.gateway.db.getRepository(OutboxMessageEntity).findBy({ jobName: 'deactivate-user' });
    expect(jobs.filter((j) => (j.payload as { connectionUserId?: string }).connectionUserId === user.id)).toHaveLength(1);
  });

  it('still refuses (412) a stale If-Match whose change is not already in place, and a stale PUT that would change something', async () => {
    const { body: user } = await bed.scim(bed.a, 'post', '/Users').send(newUser('retry-stale@acme.test'));
    await bed.scim(bed.a, 'patch', `/Users/${user.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'One' }] });
    const other = await bed.scim(bed.a, 'patch', `/Users/${user.id}`).set('If-Match', 'W/"1"').send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Two' }] });
    expect(other.status).toBe(412);
    const put = await bed.scim(bed.a, 'put', `/Users/${user.id}`).set('If-Match', 'W/"1"').send(newUser('retry-stale@acme.test', { displayName: 'Three' }));
    expect(put.status).toBe(412);
    // A stale If-Match wins over an error in the request, as before.
    const bad = await bed.scim(bed.a, 'patch', `/Users/${user.id}`).set('If-Match', 'W/"1"').send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'id', value: 'x' }] });
    expect(bad.status).toBe(412);
    expect((await bed.scim(bed.a, 'get', `/Users/${user.id}`)).body.displayName).toBe('One');
  });

  it('answers a retried PUT with its stale If-Match 200 when the stored user already is what it sends', async () => {
    const body = newUser('retry-put@acme.test', { displayName: 'Put' });
    const { body: user } = await bed.scim(bed.a, 'post', '/Users').send(newUser('retry-put@acme.test'));
    expect((await bed.scim(bed.a, 'put', `/Users/${user.id}`).set('If-Match', 'W/"1"').send(body)).status).toBe(200);
    const retry = await bed.scim(bed.a, 'put', `/Users/${user.id}`).set('If-Match', 'W/"1"').send(body);
    expect(retry.status).toBe(200);
    expect(retry.headers.etag).toBe('W/"2"');
  });
});
