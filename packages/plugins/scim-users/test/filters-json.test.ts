import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { ConnectionUserEmailEntity, ConnectionUserEntity, createDataSource, insertRows } from '@doorman/model';
import { TEST_ENGINES } from '@doorman/model/testing';
import { compileFilter, type Dialect } from '@doorman/scim';
import { USER_ATTRIBUTES } from '../src/filter-columns.ts';
import { toUserColumns } from '../src/user-resource.ts';
import { DOCKER, ENTERPRISE, USER } from './setup.ts';

/**
 * Every kind of attribute a filter can name — indexed columns, the emails table, and values inside
 * the stored JSON document (single, complex, multi-valued, extension) — compiled to SQL and run on
 * MariaDB and on SQLite over the same users, with the exact set of matches expected.
 */
const users: Array<Record<string, unknown>> = [
  {
    schemas: [USER, ENTERPRISE],
    userName: 'ada@acme.test',
    name: { givenName: 'Ada', familyName: 'Lovelace', middleName: 'Augusta' },
    title: 'Countess',
    userType: 'Employee',
    nickName: 'Ada',
    emails: [{ value: 'ada@acme.test', type: 'work', primary: true, display: 'Ada at work' }, { value: 'ada@home.test', type: 'home' }],
    phoneNumbers: [{ value: '+44 20 1', type: 'mobile', primary: true }],
    addresses: [{ country: 'GB', locality: 'London', type: 'work' }],
    [ENTERPRISE]: { department: 'Mathematics', manager: { value: 'Mgr-1' }, costCenter: 'CC1' },
  },
  {
    schemas: [USER, DOCKER],
    userName: 'jdoe',
    name: { givenName: 'John', familyName: 'Doe', middleName: 'Albert' },
    userType: 'Contractor',
    emails: [{ value: 'john@acme.test', type: 'work', display: 'xavier' }],
    phoneNumbers: [{ value: '+49 30 2', type: 'work' }, { value: '+49 170 3', type: 'mobile' }],
    addresses: [{ country: 'DE', locality: 'Berlin' }, { country: 'FR', type: 'home' }],
    roles: [{ value: 'auditor' }],
    [DOCKER]: { dockerRole: 'editor' },
  },
  {
    schemas: [USER, ENTERPRISE],
    userName: 'grace@acme.test',
    name: { givenName: 'Grace', familyName: 'Hopper' },
    title: 'Rear Admiral',
    userType: 'Employee',
    emails: [{ value: 'grace@acme.test', type: 'work', primary: true }],
    ims: [{ value: 'grace', type: 'xmpp' }],
    active: false,
    [ENTERPRISE]: { department: 'Navy', manager: { value: 'mgr-1' } },
  },
  { schemas: [USER], userName: 'E-42', emails: [{ value: 'e42@acme.test', primary: true }], addresses: [{ country: 'de', type: 'home' }] },
];

const cases: Array<[string, string[]]> = [
  ['title pr', ['ada@acme.test', 'grace@acme.test']],
  ['not (title pr)', ['E-42', 'jdoe']],
  ['title eq "countess"', ['ada@acme.test']],
  ['title co "ADMIR"', ['grace@acme.test']],
  ['userType eq "Employee"', ['ada@acme.test', 'grace@acme.test']],
  ['userType ne "Employee"', ['E-42', 'jdoe']],
  ['nickName sw "a"', ['ada@acme.test']],
  ['name.middleName sw "A"', ['ada@acme.test', 'jdoe']],
  ['name[middleName ew "bert"]', ['jdoe']],
  ['phoneNumbers[type eq "mobile"]', ['ada@acme.test', 'jdoe']],
  ['phoneNumbers[type eq "mobile" and primary eq true]', ['ada@acme.test']],
  ['phoneNumbers[type eq "work"].value sw "+49"', ['jdoe']],
  ['phoneNumbers co "170"', ['jdoe']],
  ['phoneNumbers.primary eq true', ['ada@acme.test']],
  ['addresses[country eq "DE"]', ['E-42', 'jdoe']],
  ['addresses[country eq "DE" and type eq "home"]', ['E-42']],
  ['addresses pr', ['E-42', 'ada@acme.test', 'jdoe']],
  ['addresses.locality eq "london"', ['ada@acme.test']],
  ['emails.display co "x"', ['jdoe']],
  ['emails[display co "work" and type eq "work"]', ['ada@acme.test']],
  ['emails[type eq "work"].value eq "john@acme.test"', ['jdoe']],
  ['emails[type eq "work" and value eq "john@acme.test"]', ['jdoe']],
  ['emails[type eq "home"].value ew "home.test"', ['ada@acme.test']],
  ['emails.value eq "GRACE@acme.test"', ['grace@acme.test']],
  ['ims[type eq "xmpp"]', ['grace@acme.test']],
  ['roles.value eq "auditor"', ['jdoe']],
  ['meta.resourceType eq "User"', ['E-42', 'ada@acme.test', 'grace@acme.test', 'jdoe']],
  ['meta.resourceType eq "Group"', []],
  ['department eq "mathematics"', ['ada@acme.test']],
  [`${ENTERPRISE}:department sw "N"`, ['grace@acme.test']],
  [`${ENTERPRISE}:costCenter pr`, ['ada@acme.test']],
  // manager.value is case-exact (RFC 7643 §4.3).
  [`${ENTERPRISE}:manager.value eq "mgr-1"`, ['grace@acme.test']],
  [`${ENTERPRISE}:manager.value co "Mgr"`, ['ada@acme.test']],
  ['dockerRole eq "EDITOR"', ['jdoe']],
  ['userName eq "JDOE" or title eq "Countess"', ['ada@acme.test', 'jdoe']],
  ['active eq false and title pr', ['grace@acme.test']],
  ['name.givenName eq "grace" and addresses pr', []],
];

describe.each(TEST_ENGINES)('filters over columns and the stored JSON on $name', ({ name, open }) => {
  let ds: DataSource;
  let drop: () => Promise<void>;
  const connectionId = randomUUID();
  const dialect = name as Dialect;

  beforeAll(async () => {
    const db = await open();
    drop = db.drop;
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    const now = new Date();
    for (const body of users) {
      const { columns, emails } = toUserColumns(body, true);
      const id = randomUUID();
      await insertRows(ds.manager, ConnectionUserEntity, { id, connectionId, userId: randomUUID(), ...columns, active: body.active === false ? false : true, version: 1, createdAt: now, updatedAt: now });
      await insertRows(ds.manager, ConnectionUserEmailEntity, emails.map((e) => ({ id: randomUUID(), connectionUserId: id, ...e })));
    }
    // Another connection's identical user never matches.
    const { columns } = toUserColumns(users[0], true);
    await insertRows(ds.manager, ConnectionUserEntity, { id: randomUUID(), connectionId: randomUUID(), userId: randomUUID(), ...columns, version: 1, createdAt: now, updatedAt: now });
  });
  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await drop?.();
  });

  it.each(cases)('%s', async (filter, expected) => {
    const where = compileFilter(filter, USER_ATTRIBUTES, dialect, 'f');
    const [sql, params] = ds.driver.escapeQueryWithParameters(`SELECT u.user_name AS userName FROM connection_users u WHERE u.connection_id = :connectionId AND (${where.sql})`, { connectionId, ...where.params });
    const rows: Array<{ userName: string }> = await ds.query(sql, params);
    expect(rows.map((r) => r.userName).sort()).toEqual([...expected].sort());
  });
});
