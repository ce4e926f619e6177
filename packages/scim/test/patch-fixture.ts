import type { ScimResource } from '../src/resource.ts';
import { DOCKER_USER_SCHEMA as DOCKER, ENTERPRISE_USER_SCHEMA as ENTERPRISE, GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA } from '../src/schemas.ts';

export const patchOp = (...Operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations });

export const WORK = { value: 'bjensen@example.com', type: 'work', primary: true };
export const HOME = { value: 'babs@home.example', type: 'home', primary: false };

export const USER: ScimResource = {
  schemas: [USER_SCHEMA],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: 'bjensen',
  userName: 'bjensen@example.com',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  displayName: 'Babs',
  active: true,
  emails: [WORK, HOME],
  meta: {
    resourceType: 'User',
    created: '2024-01-01T00:00:00.000Z',
    lastModified: '2024-01-02T00:00:00.000Z',
    location: 'https://gw.example/scim/v2/Users/2819c223-7f76-453a-919d-413861904646',
  },
};

export const WITH_EXT: ScimResource = {
  ...USER,
  schemas: [USER_SCHEMA, ENTERPRISE, DOCKER],
  [ENTERPRISE]: { employeeNumber: '701984', manager: { value: 'mgr-1' } },
  [DOCKER]: { dockerRole: 'member', dockerOrg: 'moby' },
};

export const GROUP: ScimResource = {
  schemas: [GROUP_SCHEMA],
  id: 'e9e30dba-f08f-4109-8486-d5c6a331660a',
  displayName: 'moby:developers',
  members: [
    { value: 'u-1', display: 'alice@example.com' },
    { value: 'u-2', display: 'bob@example.com' },
  ],
  meta: { resourceType: 'Group', created: '2024-01-01T00:00:00.000Z', lastModified: '2024-01-01T00:00:00.000Z' },
};

export const without = (r: ScimResource, ...keys: string[]) =>
  Object.fromEntries(Object.entries(r).filter(([k]) => !keys.includes(k))) as ScimResource;

export interface Case {
  name: string;
  schema?: 'User' | 'Group';
  resource?: ScimResource;
  body: unknown;
  expected: ScimResource;
}
