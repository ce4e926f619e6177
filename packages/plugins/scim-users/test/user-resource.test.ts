import { describe, expect, it } from 'vitest';
import { DOCKER_USER_SCHEMA as DOCKER, ENTERPRISE_USER_SCHEMA as ENTERPRISE, USER_SCHEMA as USER } from '@doorman/scim';
import type { ConnectionUser } from '@doorman/model';
import { toScimUser } from '../src/user-resource.ts';

// The stored form → SCIM (pure): what every get, list page and write response is built from.
const row = (resource: Record<string, unknown>) =>
  ({
    id: 'cu-1',
    userName: 'b@example.com',
    active: false,
    version: 3,
    createdAt: new Date('2026-01-02T03:04:05.000Z'),
    updatedAt: new Date('2026-02-03T04:05:06.000Z'),
    resource,
  }) as unknown as ConnectionUser;

describe('toScimUser', () => {
  it.each([
    { name: 'core only', stored: { userName: 'x' }, schemas: [USER] },
    { name: 'stored schemas are replaced', stored: { schemas: ['urn:bogus'], displayName: 'B' }, schemas: [USER] },
    { name: 'extensions in a fixed order, whatever the stored order', stored: { [DOCKER]: { dockerRole: 'member' }, [ENTERPRISE]: { department: 'R&D' } }, schemas: [USER, ENTERPRISE, DOCKER] },
    { name: 'extension keys in any case', stored: { [ENTERPRISE.toUpperCase()]: { department: 'R&D' } }, schemas: [USER, ENTERPRISE] },
    { name: 'a key as long as an extension URN is not one', stored: { ['x'.repeat(ENTERPRISE.length)]: 1 }, schemas: [USER] },
  ])('$name', ({ stored, schemas }) => {
    const user = toScimUser(row(stored), 'https://gw/scim/v2');
    expect(user.schemas).toEqual(schemas);
    expect(user).not.toHaveProperty('schemas', ['urn:bogus']);
    for (const [k, v] of Object.entries(stored)) if (k !== 'schemas' && k !== 'userName') expect(user[k]).toEqual(v);
  });

  it('the row decides id, userName, active and meta; unmodelled attributes round-trip', () => {
    const stored = { id: 'cu-1', userName: 'OLD@example.com', active: true, title: 'Engineer', phoneNumbers: [{ value: '+1 555', type: 'work' }] };
    expect(toScimUser(row(stored), 'https://gw/scim/v2')).toEqual({
      schemas: [USER],
      id: 'cu-1',
      userName: 'b@example.com',
      active: false,
      title: 'Engineer',
      phoneNumbers: [{ value: '+1 555', type: 'work' }],
      meta: {
        resourceType: 'User',
        created: '2026-01-02T03:04:05.000Z',
        lastModified: '2026-02-03T04:05:06.000Z',
        location: 'https://gw/scim/v2/Users/cu-1',
        version: 'W/"3"',
      },
    });
  });

  it('does not modify the stored resource', () => {
    const stored = { schemas: [USER], displayName: 'B', [ENTERPRISE]: { department: 'R&D' } };
    const copy = structuredClone(stored);
    toScimUser(row(stored), 'https://gw/scim/v2');
    expect(stored).toEqual(copy);
  });
});
