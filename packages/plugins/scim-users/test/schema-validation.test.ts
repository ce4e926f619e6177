import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER, ENTERPRISE, newUser, PATCH_OP, scimError, startScimTestBed, USER, type ScimTestBed } from './setup.ts';

/** RFC 7643 schema validation, generic (non-email) userNames, /Schemas, PATCH remove rules, projection checks. */
let bed: ScimTestBed;
beforeAll(async () => {
  bed = await startScimTestBed();
});
afterAll(async () => bed?.t.close());

const count = async () => Number((await bed.t.gateway.db.query('SELECT COUNT(*) AS n FROM connection_users'))[0].n);
const create = (body: unknown) => bed.scim(bed.a, 'post', '/Users').send(body as object);

describe('attributes are validated against their schema', () => {
  it.each([
    ['title as a nested list', { title: [[]] }, 'title'],
    ['nickName as a number', { nickName: 42 }, 'nickName'],
    ['phoneNumbers as a string', { phoneNumbers: '+49 30 1234' }, 'phoneNumbers'],
    ['emails[].primary as a word', { emails: [{ value: 'w1@acme.test', primary: 'maybe' }] }, 'emails[0].primary'],
    ['two primary emails', { emails: [{ value: 'w2@acme.test', primary: true }, { value: 'w3@acme.test', primary: 'True' }] }, 'emails'],
    ['a phone type outside the canonical values', { phoneNumbers: [{ value: '1', type: 'satellite' }] }, 'phoneNumbers[0].type'],
    ['an enterprise department as an object', { [ENTERPRISE]: { department: { a: 1 } } }, `${ENTERPRISE}:department`],
    ['an email address that cannot be one', { emails: [{ value: 'a b@acme.test', primary: true }] }, 'emails'],
  ])('POST with %s → 400 invalidValue naming it, nothing stored', async (_name, extra, field) => {
    const before = await count();
    const res = await create(newUser(`bad-${Math.random().toString(36).slice(2)}@acme.test`, extra));
    scimError(res, 400, 'invalidValue');
    expect(res.body.detail).toContain(field.split('[')[0]);
    expect(await count()).toBe(before);
  });

  it('normalises Entra\'s "True"/"False" and canonical values, ignores unknown plain attributes, keeps a declared extension', async () => {
    const res = await create({
      schemas: [USER, 'urn:example:params:scim:schemas:extension:acme:1.0:User'],
      userName: 'entra@acme.test',
      emails: [{ value: 'entra@acme.test', type: 'Work', primary: 'True' }],
      phoneNumbers: [{ value: '+49 30 1', type: 'Mobile', primary: 'False' }],
      favouriteColour: 'blue',
      'urn:example:params:scim:schemas:extension:acme:1.0:User': { badge: 7 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.emails).toEqual([{ value: 'entra@acme.test', type: 'work', primary: true }]);
    expect(res.body.phoneNumbers).toEqual([{ value: '+49 30 1', type: 'mobile', primary: false }]);
    expect(res.body.favouriteColour).toBeUndefined();
    expect(res.body.schemas).toEqual([USER, 'urn:example:params:scim:schemas:extension:acme:1.0:User']);
    expect(res.body['urn:example:params:scim:schemas:extension:acme:1.0:User']).toEqual({ badge: 7 });
    const [row] = await bed.t.gateway.db.query('SELECT resource FROM connection_users WHERE id = ?', [res.body.id]);
    expect(JSON.stringify(row.resource)).not.toContain('favouriteColour');
    // PATCH keeps the extension and its schema listed.
    const patched = await bed.scim(bed.a, 'patch', `/Users/${res.body.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'CTO' }] });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.schemas).toEqual([USER, 'urn:example:params:scim:schemas:extension:acme:1.0:User']);
  });

  it('refuses an extension of no known schema that the request did not declare', async () => {
    scimError(await create({ ...newUser('undeclared@acme.test'), 'urn:example:x:1.0:User': { a: 1 } }), 400, 'invalidSyntax');
  });

  it('validates the resource a PATCH produces, and changes nothing when it is invalid', async () => {
    const created = await create(newUser('patchme@acme.test', { title: 'Engineer' }));
    const path = `/Users/${created.body.id}`;
    const cases: Array<[unknown, string]> = [
      [{ op: 'replace', path: 'title', value: [[]] }, 'invalidValue'],
      [{ op: 'add', path: 'nickName', value: 5 }, 'invalidValue'],
      [{ op: 'add', path: 'emails', value: [{ value: 'second@acme.test', primary: true }] }, 'invalidValue'],
      [{ op: 'replace', value: { phoneNumbers: 'x' } }, 'invalidValue'],
      [{ op: 'remove', path: 'active' }, 'mutability'],
      [{ op: 'remove' }, 'noTarget'],
      [{ op: 'replace', path: 'userName', value: 'tab\tname' }, 'invalidValue'],
    ];
    for (const [op, scimType] of cases) scimError(await bed.scim(bed.a, 'patch', path).send({ schemas: [PATCH_OP], Operations: [op] }), 400, scimType);
    const after = await bed.scim(bed.a, 'get', path);
    expect(after.body.title).toBe('Engineer');
    expect(after.body.meta.version).toBe(created.body.meta.version);
  });

  it.each([
    ['a control character', 'ada\u0000@acme.test'],
    ['a newline', 'ada\n@acme.test'],
    ['a right-to-left override', 'ada\u202e@acme.test'],
    ['a zero-width space', 'j\u200bdoe'],
  ])('refuses a userName with %s', async (_name, userName) => {
    scimError(await create({ schemas: [USER], userName, emails: [{ value: 'ok@acme.test', primary: true }] }), 400, 'invalidValue');
  });
});

describe('generic SCIM clients: userName need not be an email', () => {
  it('takes the email from the primary entry of emails', async () => {
    const res = await create({ schemas: [USER], userName: 'jdoe', emails: [{ value: 'other@acme.test', type: 'home' }, { value: 'John.Doe@acme.test', type: 'work', primary: true }] });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.userName).toBe('jdoe');
    const [account] = await bed.t.gateway.db.query('SELECT u.email FROM users u JOIN connection_users c ON c.user_id = u.id WHERE c.id = ?', [res.body.id]);
    expect(account.email).toBe('John.Doe@acme.test');
    const found = await bed.scim(bed.a, 'get', '/Users?filter=userName eq "JDOE"');
    expect(found.body.Resources.map((r: { id: string }) => r.id)).toEqual([res.body.id]);
  });

  it('else from the work entry; an employee id works as userName', async () => {
    const res = await create({ schemas: [USER], userName: 'E-100234', emails: [{ value: 'w@acme.test', type: 'work' }] });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const [account] = await bed.t.gateway.db.query('SELECT u.email FROM users u JOIN connection_users c ON c.user_id = u.id WHERE c.id = ?', [res.body.id]);
    expect(account.email).toBe('w@acme.test');
  });

  it('refuses a person with no email anywhere, saying so', async () => {
    const res = await create({ schemas: [USER], userName: 'nomail', emails: [{ value: 'h@acme.test', type: 'home' }] });
    scimError(res, 400, 'invalidValue');
    expect(res.body.detail).toMatch(/email/);
    scimError(await create({ schemas: [USER], userName: 'nomail2' }), 400, 'invalidValue');
  });

  it('refuses removing the only email of a non-email userName by PATCH', async () => {
    const res = await create({ schemas: [USER], userName: 'keepmail', emails: [{ value: 'keep@acme.test', primary: true }] });
    scimError(await bed.scim(bed.a, 'patch', `/Users/${res.body.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'emails' }] }), 400, 'invalidValue');
  });
});

describe('/Schemas advertises what Doorman stores and returns', () => {
  it('lists the full core User schema, the Enterprise and Docker extensions with their characteristics', async () => {
    const res = await bed.scim(bed.a, 'get', `/Schemas/${USER}`);
    expect(res.status).toBe(200);
    const names = res.body.attributes.map((a: { name: string }) => a.name);
    expect(names).toEqual(expect.arrayContaining(['userName', 'name', 'displayName', 'nickName', 'profileUrl', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone', 'active', 'emails', 'phoneNumbers', 'ims', 'photos', 'addresses', 'groups', 'entitlements', 'roles', 'x509Certificates']));
    const phone = res.body.attributes.find((a: { name: string }) => a.name === 'phoneNumbers');
    expect(phone).toMatchObject({ type: 'complex', multiValued: true, mutability: 'readWrite', returned: 'default', uniqueness: 'none', caseExact: false });
    expect(phone.subAttributes.map((a: { name: string }) => a.name)).toEqual(['value', 'display', 'type', 'primary']);
    const name = res.body.attributes.find((a: { name: string }) => a.name === 'name');
    expect(name.subAttributes.map((a: { name: string }) => a.name)).toContain('middleName');
    expect((await bed.scim(bed.a, 'get', `/Schemas/${ENTERPRISE}`)).body.attributes.map((a: { name: string }) => a.name)).toEqual(['employeeNumber', 'costCenter', 'organization', 'division', 'department', 'manager']);
    expect((await bed.scim(bed.a, 'get', `/Schemas/${DOCKER}`)).body.attributes.map((a: { name: string }) => a.name)).toEqual(['dockerRole', 'dockerOrg', 'dockerTeam']);
  });

  it('every attribute a response carries is advertised', async () => {
    const res = await create(newUser('full@acme.test', { nickName: 'Ada', title: 'Countess', userType: 'Employee', addresses: [{ country: 'GB', type: 'home' }], [ENTERPRISE]: { department: 'Maths' } }));
    const schema = (await bed.scim(bed.a, 'get', `/Schemas/${USER}`)).body;
    const advertised = new Set(['schemas', 'id', 'externalId', 'meta', ...schema.attributes.map((a: { name: string }) => a.name), ENTERPRISE, DOCKER]);
    expect(Object.keys(res.body).filter((k) => !advertised.has(k))).toEqual([]);
  });
});

describe('attributes / excludedAttributes are checked before the query runs', () => {
  it.each(['attributes', 'excludedAttributes'])('a bad %s is 400 on an empty list page, a get and a write', async (param) => {
    const bad = encodeURIComponent('emails[type eq "work"]');
    scimError(await bed.scim(bed.a, 'get', `/Users?filter=userName eq "nobody-at-all"&${param}=${bad}`), 400, 'invalidValue');
    scimError(await bed.scim(bed.a, 'get', `/Users?${param}=${bad}`), 400, 'invalidValue');
    const before = await count();
    scimError(await bed.scim(bed.a, 'post', `/Users?${param}=${bad}`).send(newUser('projection@acme.test')), 400, 'invalidValue');
    expect(await count()).toBe(before);
    scimError(await bed.scim(bed.a, 'post', '/Users/.search').send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName eq "nobody"', [param]: ['name..x'] }), 400, 'invalidValue');
  });

  it('POST /.search at the service root answers 501', async () => {
    scimError(await bed.scim(bed.a, 'post', '/.search').send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] }), 501);
  });
});

describe('every schema attribute is filterable over HTTP', () => {
  it.each([
    ['title pr', ['filt-a@acme.test']],
    ['phoneNumbers[type eq "mobile"]', ['filt-b@acme.test']],
    ['emails[type eq "work"].value eq "filt-b@acme.test"', ['filt-b@acme.test']],
    ['name.middleName sw "Q" and meta.resourceType eq "User"', ['filt-a@acme.test']],
  ])('%s', async (filter, expected) => {
    if (!(await bed.scim(bed.b, 'get', '/Users?filter=userName sw "filt-"')).body.totalResults) {
      const make = (body: object) => bed.scim(bed.b, 'post', '/Users').send(body);
      expect((await make(newUser('filt-a@acme.test', { title: 'Dr', name: { middleName: 'Quinn' } }))).status).toBe(201);
      expect((await make(newUser('filt-b@acme.test', { phoneNumbers: [{ value: '1', type: 'mobile' }] }))).status).toBe(201);
    }
    const res = await bed.scim(bed.b, 'get', `/Users?filter=${encodeURIComponent(filter)}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.Resources.map((r: { userName: string }) => r.userName).sort()).toEqual(expected);
    expect(res.body.totalResults).toBe(expected.length);
  });
});
