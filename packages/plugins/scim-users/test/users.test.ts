import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionUserEmailEntity, ConnectionUserEntity, isUuidV7, OrgMembershipEntity, OutboxMessageEntity, TeamMembershipEntity, UserEntity } from '@doorman/model';
import { DOCKER, ENTERPRISE, newUser, PATCH_OP, scimError, startScimTestBed, USER, type ScimTestBed } from './setup.ts';

let bed: ScimTestBed;
beforeAll(async () => {
  // Anchors every 3 rows: unfiltered pages past the third row go through them.
  bed = await startScimTestBed({ pluginSettings: { 'scim-users': { listAnchorEvery: 3 } } });
});
afterAll(async () => bed?.t.close());


describe('discovery', () => {
  it('advertises only what is real', async () => {
    const spc = await bed.scim(bed.a, 'get', '/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expect(spc.body).toMatchObject({ patch: { supported: true }, bulk: { supported: false }, filter: { supported: true, maxResults: 200 }, sort: { supported: true }, etag: { supported: true }, changePassword: { supported: false } });
    // The schemes are the SCIM authenticator's (token-auth, through scimAuthenticationRef).
    expect(spc.body.authenticationSchemes).toEqual([
      { type: 'oauthbearertoken', name: 'OAuth Bearer Token', description: 'Authentication with the SCIM API token as an OAuth 2.0 bearer token', specUri: 'https://www.rfc-editor.org/info/rfc6750', primary: true },
    ]);
    const types = await bed.scim(bed.a, 'get', '/ResourceTypes');
    expect(types.body.Resources.map((r: { id: string }) => r.id)).toEqual(['User']);
    expect((await bed.scim(bed.a, 'get', '/ResourceTypes/User')).body.schemaExtensions).toHaveLength(2);
    const schemas = await bed.scim(bed.a, 'get', '/Schemas');
    expect(schemas.body.Resources.map((s: { id: string }) => s.id)).toEqual([USER, ENTERPRISE, DOCKER]);
    expect((await bed.scim(bed.a, 'get', `/Schemas/${USER}`)).body.attributes.find((a: { name: string }) => a.name === 'userName')).toMatchObject({ required: true, uniqueness: 'server', caseExact: false });
    scimError(await bed.scim(bed.a, 'get', '/Schemas/urn:nope'), 404);
  });
});

describe('Okta provisioning sequence (Okta SCIM 2.0 developer guide)', () => {
  let id: string;
  it('checks the user does not exist, creates it, reads it back', async () => {
    const lookup = await bed.scim(bed.a, 'get', '/Users?filter=userName%20eq%20%22ada%40acme.test%22&startIndex=1&count=100');
    expect(lookup.status).toBe(200);
    expect(lookup.body).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });

    const created = await bed.scim(bed.a, 'post', '/Users').send(newUser('ada@acme.test', { displayName: 'Ada Lovelace', locale: 'en-US', externalId: '00u1abcd', groups: [] }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    id = created.body.id;
    expect(created.headers.location).toMatch(new RegExp(`^http://localhost:\\d+/scim/v2/Users/${id}$`));
    expect(created.headers.etag).toBe('W/"1"');
    expect(created.body).toMatchObject({ schemas: [USER], userName: 'ada@acme.test', active: true, locale: 'en-US', meta: { resourceType: 'User', version: 'W/"1"' } });

    const got = await bed.scim(bed.a, 'get', `/Users/${id}`);
    expect(got.body).toEqual(created.body);
    const found = await bed.scim(bed.a, 'get', '/Users?filter=userName%20eq%20%22ADA%40acme.TEST%22');
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0].id).toBe(id);
  });

  it('puts the default org and team membership in place (role mapping)', async () => {
    const cu = await bed.t.gateway.db.getRepository(ConnectionUserEntity).findOneByOrFail({ id });
    const m = await bed.t.gateway.db.getRepository(OrgMembershipEntity).findBy({ userId: cu.userId });
    expect(m).toMatchObject([{ orgId: bed.orgs.acme, role: 'member', source: 'scim', connectionId: bed.a.connectionId }]);
    expect(await bed.t.gateway.db.getRepository(TeamMembershipEntity).countBy({ userId: cu.userId })).toBe(1);
    // Every row the create wrote is keyed by a time-ordered id (docs/row-ids.md).
    const emails = await bed.t.gateway.db.getRepository(ConnectionUserEmailEntity).findBy({ connectionUserId: cu.id });
    expect(emails).toHaveLength(1);
    expect([cu.id, cu.userId, ...m.map((r) => r.id), ...emails.map((e) => e.id)].filter((x) => !isUuidV7(x))).toEqual([]);
  });

  it('pushes a profile update with PUT and keeps unmodelled attributes', async () => {
    const put = await bed.scim(bed.a, 'put', `/Users/${id}`).send(newUser('ada@acme.test', { id, name: { givenName: 'Augusta', familyName: 'King' }, title: 'Countess', [DOCKER]: { dockerRole: 'editor' } }));
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ name: { givenName: 'Augusta', familyName: 'King' }, title: 'Countess', schemas: [USER, DOCKER], meta: { version: 'W/"2"' } });
    const cu = await bed.t.gateway.db.getRepository(ConnectionUserEntity).findOneByOrFail({ id });
    expect((await bed.t.gateway.db.getRepository(OrgMembershipEntity).findOneByOrFail({ userId: cu.userId })).role).toBe('editor');
  });

  it('deactivates with Okta\'s path-less replace, keeping the user listed, and hands deprovisioning to a job', async () => {
    const res = await bed.scim(bed.a, 'patch', `/Users/${id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.active).toBe(false);
    expect((await bed.scim(bed.a, 'get', '/Users?filter=active%20eq%20false')).body.totalResults).toBe(1);
    const outbox = await bed.t.gateway.db.getRepository(OutboxMessageEntity).findBy({ jobName: 'deactivate-user' });
    expect(outbox).toHaveLength(1);
    // Run the job's unit of work (the runtime that relays it is tested in @doorman/jobs).
    const job = bed.t.gateway.jobs.definitions.get('provisioning/deactivate-user')!;
    const ctx = { id: 'x', attemptsMade: 0, logger: bed.t.gateway.logger, updateProgress: async () => {} };
    const first = (await job.process(outbox[0]!.payload, ctx)) as { removed: number };
    expect(first.removed).toBeGreaterThan(0);
    const cu = await bed.t.gateway.db.getRepository(ConnectionUserEntity).findOneByOrFail({ id });
    expect(await bed.t.gateway.db.getRepository(OrgMembershipEntity).countBy({ userId: cu.userId })).toBe(0);
    expect(await bed.t.gateway.db.getRepository(UserEntity).countBy({ id: cu.userId })).toBe(1);
    expect(((await job.process(outbox[0]!.payload, ctx)) as { removed: number }).removed).toBe(0);
  });

  it('reactivates with active=true and restores memberships through role mapping', async () => {
    const res = await bed.scim(bed.a, 'patch', `/Users/${id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: true }] });
    expect(res.body.active).toBe(true);
    const cu = await bed.t.gateway.db.getRepository(ConnectionUserEntity).findOneByOrFail({ id });
    expect((await bed.t.gateway.db.getRepository(OrgMembershipEntity).findOneByOrFail({ userId: cu.userId })).role).toBe('editor');
  });
});

describe('Microsoft Entra ID provisioning sequence (Entra SCIM docs)', () => {
  let id: string;
  it('creates with externalId and the enterprise extension, then finds by externalId case-exactly', async () => {
    const body = {
      schemas: [USER, ENTERPRISE],
      externalId: 'E58e2bb8-Abc',
      userName: 'Test_User_ab6490ee@contoso.test',
      active: true,
      emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b@contoso.test' }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
      [ENTERPRISE]: { employeeNumber: '701984', department: 'Tour Operations', manager: { value: '123456' } },
    };
    const created = await bed.scim(bed.a, 'post', '/Users').send(body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    id = created.body.id;
    expect(created.body[ENTERPRISE]).toEqual(body[ENTERPRISE]);
    expect((await bed.scim(bed.a, 'get', '/Users?filter=externalId%20eq%20%22E58e2bb8-Abc%22')).body.totalResults).toBe(1);
    expect((await bed.scim(bed.a, 'get', '/Users?filter=externalId%20eq%20%22e58e2bb8-abc%22')).body.totalResults).toBe(0);
  });

  it("applies Entra's PATCH dialect: capitalised ops, string booleans, URN paths, path-less dotted keys", async () => {
    const res = await bed.scim(bed.a, 'patch', `/Users/${id}`).send({
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: `${ENTERPRISE}:manager`, value: '654321' },
        { op: 'Add', path: 'emails[type eq "work"].value', value: 'updated@contoso.test' },
        { op: 'Replace', value: { 'name.givenName': 'Grace', displayName: 'Grace H' } },
        { op: 'Replace', path: `${DOCKER}:dockerRole`, value: 'owner' },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body[ENTERPRISE].manager.value).toBe('654321');
    expect(res.body.emails[0].value).toBe('updated@contoso.test');
    expect(res.body.name.givenName).toBe('Grace');
    expect(res.body[DOCKER].dockerRole).toBe('owner');
    const off = await bed.scim(bed.a, 'patch', `/Users/${id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect(off.body.active).toBe(false);
  });

  it('deletes: 204, then 404 and out of the list', async () => {
    expect((await bed.scim(bed.a, 'delete', `/Users/${id}`)).status).toBe(204);
    scimError(await bed.scim(bed.a, 'get', `/Users/${id}`), 404);
    expect((await bed.scim(bed.a, 'get', '/Users?filter=userName%20eq%20%22Test_User_ab6490ee%40contoso.test%22')).body.totalResults).toBe(0);
    expect(await bed.t.gateway.db.getRepository(OutboxMessageEntity).countBy({ jobName: 'deactivate-user' })).toBeGreaterThanOrEqual(2);
  });
});

describe('queries', () => {
  beforeAll(async () => {
    for (let i = 0; i < 12; i++) {
      const res = await bed.scim(bed.a, 'post', '/Users').send(
        newUser(`q${String(i).padStart(2, '0')}@${i % 2 ? 'odd' : 'even'}.test`, { displayName: `Q ${i}`, emails: [{ value: `q${i}@${i % 2 ? 'odd' : 'even'}.test`, type: i % 3 ? 'work' : 'home' }] }),
      );
      expect(res.status).toBe(201);
    }
  });
  const list = async (query: string) => bed.scim(bed.a, 'get', `/Users?${query}`);

  it.each([
    ['filter=userName sw "q0"', 10],
    ['filter=userName ew "@odd.test"', 6],
    ['filter=emails[type eq "work" and value co "@odd"]', 4],
    ['filter=not (emails.type eq "home") and userName sw "q"', 8],
    ['filter=(userName eq "q00@even.test" or userName eq "q01@odd.test") and active eq true', 2],
    ['filter=displayName pr and userName co "even"', 6],
    ['filter=USERNAME Eq "Q03@ODD.TEST"', 1],
    ['filter=meta.created gt "2000-01-01T00:00:00Z" and userName sw "q"', 12],
  ])('%s → %i users', async (query, expected) => {
    const res = await list(encodeURI(query));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.totalResults).toBe(expected);
  });

  it('pages with startIndex and count, itemsPerPage = returned, count=0 = totals only, sorts', async () => {
    const page = await list(encodeURI('filter=userName sw "q"&startIndex=11&count=5&sortBy=userName&sortOrder=descending'));
    expect(page.body).toMatchObject({ totalResults: 12, startIndex: 11, itemsPerPage: 2 });
    expect(page.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['q01@odd.test', 'q00@even.test']);
    const none = await list(encodeURI('filter=userName sw "q"&count=0'));
    expect(none.body).toMatchObject({ totalResults: 12, itemsPerPage: 0, Resources: [] });
    // Totals stay right whether the page is partial, exactly full, empty or past the end.
    for (const [query, total, items] of [
      ['filter=userName sw "q"&count=12', 12, 12],
      ['filter=userName sw "q"&count=13', 12, 12],
      ['filter=userName sw "q"&startIndex=12&count=12', 12, 1],
      ['filter=userName sw "q"&startIndex=100&count=5', 12, 0],
      ['filter=userName eq "nobody@nowhere.test"', 0, 0],
    ] as const) {
      const res = await list(encodeURI(query));
      expect({ query, total: res.body.totalResults, items: res.body.itemsPerPage }).toEqual({ query, total, items });
    }
    const zero = await list(encodeURI('filter=userName sw "q"&startIndex=0&count=1&sortBy=userName'));
    expect(zero.body.startIndex).toBe(1);
    expect(zero.body.Resources[0].userName).toBe('q00@even.test');
  });

  it('pages the unfiltered list (through anchors) exactly, with totals kept by the counter as users come and go', async () => {
    const all = async () => (await list('count=200')).body;
    const rowsInScope = () => bed.t.gateway.db.getRepository(ConnectionUserEntity).countBy({ connectionId: bed.a.connectionId });
    for (const step of ['as seeded', 'after a delete and a create'] as const) {
      if (step !== 'as seeded') {
        const first = (await all()).Resources[0].id;
        expect((await bed.scim(bed.a, 'delete', `/Users/${first}`)).status).toBe(204);
        expect((await bed.scim(bed.a, 'post', '/Users').send(newUser('late.joiner@even.test'))).status).toBe(201);
      }
      const full = await all();
      expect(full.totalResults).toBe(await rowsInScope());
      const ids: string[] = full.Resources.map((r: { id: string }) => r.id);
      expect(ids.length).toBe(full.totalResults);
      for (let startIndex = 1; startIndex <= ids.length + 1; startIndex++) {
        const page = (await list(`startIndex=${startIndex}&count=4`)).body;
        expect({ step, startIndex, total: page.totalResults, ids: page.Resources.map((r: { id: string }) => r.id) }).toEqual({
          step,
          startIndex,
          total: ids.length,
          ids: ids.slice(startIndex - 1, startIndex + 3),
        });
      }
      expect((await list('count=0')).body).toMatchObject({ totalResults: ids.length, Resources: [] });
    }
  });

  it('projects attributes and excludedAttributes on list, get and writes; searches with POST /.search', async () => {
    const res = await list(encodeURI('filter=userName eq "q02@even.test"&attributes=userName,name.givenName'));
    expect(Object.keys(res.body.Resources[0]).sort()).toEqual(['id', 'name', 'schemas', 'userName']);
    expect(res.body.Resources[0].name).toEqual({ givenName: 'Ada' });
    const ex = await list(encodeURI('filter=userName eq "q02@even.test"&excludedAttributes=emails,name'));
    expect(ex.body.Resources[0].emails).toBeUndefined();
    expect(ex.body.Resources[0].userName).toBe('q02@even.test');
    const search = await bed.scim(bed.a, 'post', '/Users/.search').send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName sw "q1"', attributes: ['userName'], count: 10 });
    expect(search.status, JSON.stringify(search.body)).toBe(200);
    expect(search.body.totalResults).toBe(2);
  });

  it.each([
    ['filter=favouriteColour eq "x"', 'invalidFilter'],
    ['filter=userName eq', 'invalidFilter'],
    ['filter=userName eq "a" and', 'invalidFilter'],
    ['filter=active gt true', 'invalidFilter'],
    ['count=abc', 'invalidValue'],
    ['sortBy=emails', 'invalidValue'],
  ])('%s → 400 %s, never "everything"', async (query, scimType) => {
    scimError(await list(encodeURI(query)), 400, scimType);
  });
});

describe('errors', () => {
  it.each([
    ['malformed JSON', '{"schemas": [', 400, 'invalidSyntax'],
    ['missing userName', JSON.stringify({ schemas: [USER] }), 400, 'invalidValue'],
    ['wrong schemas', JSON.stringify({ schemas: ['urn:x'], userName: 'x@y.test' }), 400, 'invalidValue'],
    ['no schemas', JSON.stringify({ userName: 'x@y.test' }), 400, 'invalidValue'],
    ['userName not an email', JSON.stringify({ schemas: [USER], userName: 'bob' }), 400, 'invalidValue'],
    ['active not boolean', JSON.stringify({ schemas: [USER], userName: 'x@y.test', active: 'maybe' }), 400, 'invalidValue'],
  ])('POST with %s is refused and writes nothing', async (_name, body, status, scimType) => {
    const before = await bed.t.gateway.db.getRepository(ConnectionUserEntity).count();
    scimError(await bed.scim(bed.a, 'post', '/Users').send(body), status, scimType);
    expect(await bed.t.gateway.db.getRepository(ConnectionUserEntity).count()).toBe(before);
  });

  it('refuses a filter on groups without scim-groups (its tables, its attribute) as an unknown attribute: 400 invalidFilter', async () => {
    for (const filter of ['groups.value eq "g-1"', 'groups[display eq "Admins"]', 'groups pr']) {
      const res = await bed.scim(bed.a, 'get', `/Users?filter=${encodeURIComponent(filter)}`);
      scimError(res, 400, 'invalidFilter');
      expect(res.body.detail).toMatch(/Unknown attribute "groups/);
    }
  });

  it('refuses a duplicate userName with 409 uniqueness, changing an id with 400 mutability, unknown ids with 404', async () => {
    const created = await bed.scim(bed.a, 'post', '/Users').send(newUser('dup@acme.test'));
    const dup = await bed.scim(bed.a, 'post', '/Users').send(newUser('DUP@acme.test'));
    scimError(dup, 409, 'uniqueness');
    // The RFC 7644 body has no room for Doorman's code: it travels in a header (docs/errors.md).
    expect(dup.headers['doorman-error-code']).toBe('DMN_SCIM_USERNAME_TAKEN');
    scimError(await bed.scim(bed.a, 'put', `/Users/${created.body.id}`).send(newUser('dup@acme.test', { id: 'other' })), 400, 'mutability');
    scimError(await bed.scim(bed.a, 'patch', `/Users/${created.body.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'id', value: 'x' }] }), 400, 'mutability');
    scimError(await bed.scim(bed.a, 'patch', `/Users/${created.body.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'emails[type eq "nope"]', value: { value: 'n@acme.test', type: 'nope' } }] }), 400, 'noTarget');
    scimError(await bed.scim(bed.a, 'get', '/Users/00000000-0000-4000-8000-000000000000'), 404);
    scimError(await bed.scim(bed.a, 'put', '/Users/nope').send(newUser('x@y.test')), 404);
    scimError(await bed.scim(bed.a, 'post', `/Users/${created.body.id}`).send(newUser('x@y.test')), 405);
  });

  it('honours If-Match (412) and If-None-Match (304)', async () => {
    const created = await bed.scim(bed.a, 'post', '/Users').send(newUser('etag@acme.test'));
    const id = created.body.id;
    expect((await bed.scim(bed.a, 'get', `/Users/${id}`).set('If-None-Match', 'W/"1"')).status).toBe(304);
    scimError(await bed.scim(bed.a, 'patch', `/Users/${id}`).set('If-Match', 'W/"7"').send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] }), 412);
    const ok = await bed.scim(bed.a, 'patch', `/Users/${id}`).set('If-Match', 'W/"1"').send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] });
    expect(ok.headers.etag).toBe('W/"2"');
    scimError(await bed.scim(bed.a, 'delete', `/Users/${id}`).set('If-Match', 'W/"1"'), 412);
  });

  it('refuses an unknown dockerRole and a dockerOrg the connection does not serve, writing nothing', async () => {
    const before = await bed.t.gateway.db.getRepository(UserEntity).count();
    scimError(await bed.scim(bed.a, 'post', '/Users').send(newUser('role@acme.test', { [DOCKER]: { dockerRole: 'admin' } })), 400, 'invalidValue');
    scimError(await bed.scim(bed.a, 'post', '/Users').send(newUser('org@acme.test', { [DOCKER]: { dockerOrg: 'initech' } })), 400, 'invalidValue');
    expect(await bed.t.gateway.db.getRepository(UserEntity).count()).toBe(before);
  });
});

describe('tenancy', () => {
  it("gives another tenant's token 404 on every method for this tenant's user, and never lists it", async () => {
    const created = await bed.scim(bed.a, 'post', '/Users').send(newUser('tenant@acme.test'));
    const id = created.body.id;
    scimError(await bed.scim(bed.b, 'get', `/Users/${id}`), 404);
    scimError(await bed.scim(bed.b, 'put', `/Users/${id}`).send(newUser('tenant@acme.test')), 404);
    scimError(await bed.scim(bed.b, 'patch', `/Users/${id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }), 404);
    scimError(await bed.scim(bed.b, 'delete', `/Users/${id}`), 404);
    expect((await bed.scim(bed.b, 'get', '/Users?filter=userName%20eq%20%22tenant%40acme.test%22')).body.totalResults).toBe(0);
    expect((await bed.scim(bed.a, 'get', `/Users/${id}`)).body.active).toBe(true);
  });

  it("links an existing account (same email) into another connection's scope instead of duplicating it", async () => {
    const inB = await bed.scim(bed.b, 'post', '/Users').send(newUser('tenant@acme.test'));
    expect(inB.status).toBe(201);
    expect(inB.body.id).not.toBe((await bed.scim(bed.a, 'get', '/Users?filter=userName%20eq%20%22tenant%40acme.test%22')).body.Resources[0].id);
    expect(await bed.t.gateway.db.getRepository(UserEntity).countBy({ emailLc: 'tenant@acme.test' })).toBe(1);
  });
});

describe('concurrency', () => {
  it('20 simultaneous POSTs of one userName: exactly one 201, the rest 409', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => bed.scim(bed.a, 'post', '/Users').send(newUser('race@acme.test'))));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    expect(await bed.t.gateway.db.getRepository(UserEntity).countBy({ emailLc: 'race@acme.test' })).toBe(1);
  });

  it('keeps the user counter exact under concurrent creates and deletes (unfiltered totalResults)', async () => {
    const created = await Promise.all(Array.from({ length: 12 }, (_, i) => bed.scim(bed.b, 'post', '/Users').send(newUser(`burst${i}@initech.test`))));
    expect(created.map((r) => r.status)).toEqual(Array(12).fill(201));
    // Half of them deleted concurrently, each twice: one 204, one 404.
    const deletes = await Promise.all(created.slice(0, 6).flatMap((r) => [0, 1].map(() => bed.scim(bed.b, 'delete', `/Users/${r.body.id}`))));
    expect(deletes.map((r) => r.status).sort()).toEqual([...Array(6).fill(204), ...Array(6).fill(404)]);
    const rows = await bed.t.gateway.db.getRepository(ConnectionUserEntity).countBy({ connectionId: bed.b.connectionId });
    expect((await bed.scim(bed.b, 'get', '/Users?count=0')).body.totalResults).toBe(rows);
  });

  it('concurrent PATCHes of one user never lose an update', async () => {
    const created = await bed.scim(bed.a, 'post', '/Users').send(newUser('patchy@acme.test', { phoneNumbers: [] }));
    const id = created.body.id;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => bed.scim(bed.a, 'patch', `/Users/${id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'phoneNumbers', value: [{ value: `+1555000${i}`, type: 'work' }] }] })),
    );
    const final = await bed.scim(bed.a, 'get', `/Users/${id}`);
    expect(final.body.phoneNumbers.map((p: { value: string }) => p.value).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `+1555000${i}`));
    expect(final.body.meta.version).toBe('W/"11"');
  });
});

describe('operations', () => {
  it('repairs a drifted user counter with the admin recount (and refuses unknown connections and missing credentials)', async () => {
    const total = async () => (await bed.scim(bed.b, 'get', '/Users?count=0')).body.totalResults;
    const rows = await bed.t.gateway.db.getRepository(ConnectionUserEntity).countBy({ connectionId: bed.b.connectionId });
    // Rows changed behind Doorman's back: the counter no longer matches the table.
    await bed.t.gateway.db.query("INSERT INTO connection_user_counts (connection_id, shard, users, changes) VALUES (?, 99, 5, 0)", [bed.b.connectionId]);
    expect(await total()).toBe(rows + 5);
    const res = await bed.t.admin('post', `/admin/v1/connections/${bed.b.connectionId}/scim-users/recount`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ connectionId: bed.b.connectionId, usersBefore: rows + 5, users: rows, repaired: true });
    expect(await total()).toBe(rows);
    expect((await bed.t.admin('post', `/admin/v1/connections/${bed.b.connectionId}/scim-users/recount`)).body.repaired).toBe(false);
    expect((await bed.t.admin('post', '/admin/v1/connections/00000000-0000-0000-0000-000000000000/scim-users/recount')).status).toBe(404);
    expect((await bed.t.http.post(`/admin/v1/connections/${bed.b.connectionId}/scim-users/recount`)).status).toBe(401);
  });
});
