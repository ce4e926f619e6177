import { EntitySchema } from 'typeorm';
import { created, id, ref, updated } from './columns.ts';
import type { JsonDocument } from './entities.ts';

/** SCIM resources inside one connection's scope: users, their emails, groups and group members. */

/** A user as a SCIM resource inside one connection's scope (the SCIM `id` is this row's id). */
export interface ConnectionUser {
  id: string;
  connectionId: string;
  userId: string;
  userName: string;
  userNameLc: string;
  externalId: string | null;
  displayName: string | null;
  displayNameLc: string | null;
  givenName: string | null;
  givenNameLc: string | null;
  familyName: string | null;
  familyNameLc: string | null;
  formattedName: string | null;
  formattedNameLc: string | null;
  active: boolean;
  dockerRole: string | null;
  dockerRoleLc: string | null;
  dockerOrg: string | null;
  dockerOrgLc: string | null;
  dockerTeam: string | null;
  dockerTeamLc: string | null;
  employeeNumberLc: string | null;
  /** The whole SCIM resource as last accepted (unmodelled attributes included), minus id/meta. */
  resource: JsonDocument;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}
const str = (name: string, length = 255) => ({ type: 'varchar', length, nullable: true, name }) as const;
export const ConnectionUserEntity = new EntitySchema<ConnectionUser>({
  name: 'ConnectionUser',
  tableName: 'connection_users',
  columns: {
    id,
    connectionId: { ...ref(), name: 'connection_id' },
    userId: { ...ref(), name: 'user_id' },
    userName: { type: 'varchar', length: 320, name: 'user_name' },
    userNameLc: { type: 'varchar', length: 320, name: 'user_name_lc' },
    externalId: str('external_id'),
    displayName: str('display_name'),
    displayNameLc: str('display_name_lc'),
    givenName: str('given_name'),
    givenNameLc: str('given_name_lc'),
    familyName: str('family_name'),
    familyNameLc: str('family_name_lc'),
    formattedName: str('formatted_name'),
    formattedNameLc: str('formatted_name_lc'),
    active: { type: 'boolean' },
    dockerRole: str('docker_role', 64),
    dockerRoleLc: str('docker_role_lc', 64),
    dockerOrg: str('docker_org'),
    dockerOrgLc: str('docker_org_lc'),
    dockerTeam: str('docker_team'),
    dockerTeamLc: str('docker_team_lc'),
    employeeNumberLc: str('employee_number_lc'),
    resource: { type: 'simple-json' },
    version: { type: 'int' },
    createdAt: created,
    updatedAt: updated,
  },
});

export interface ConnectionUserEmail {
  id: string;
  connectionUserId: string;
  value: string;
  valueLc: string;
  type: string | null;
  typeLc: string | null;
  isPrimary: boolean;
}
export const ConnectionUserEmailEntity = new EntitySchema<ConnectionUserEmail>({
  name: 'ConnectionUserEmail',
  tableName: 'connection_user_emails',
  columns: {
    id,
    connectionUserId: { ...ref(), name: 'connection_user_id' },
    value: { type: 'varchar', length: 320 },
    valueLc: { type: 'varchar', length: 320, name: 'value_lc' },
    type: str('type', 64),
    typeLc: str('type_lc', 64),
    isPrimary: { type: 'boolean', name: 'is_primary' },
  },
});

/** A SCIM group as the IdP pushed it (any display name); what it grants is decided by role mapping's rules. */
export interface ScimGroup {
  id: string;
  connectionId: string;
  displayName: string;
  displayNameLc: string;
  externalId: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}
export const ScimGroupEntity = new EntitySchema<ScimGroup>({
  name: 'ScimGroup',
  tableName: 'scim_groups',
  columns: {
    id,
    connectionId: { ...ref(), name: 'connection_id' },
    displayName: { type: 'varchar', length: 255, name: 'display_name' },
    displayNameLc: { type: 'varchar', length: 255, name: 'display_name_lc' },
    externalId: str('external_id'),
    version: { type: 'int' },
    createdAt: created,
    updatedAt: updated,
  },
});

export interface GroupMember {
  groupId: string;
  connectionUserId: string;
  /** The member's account (users.id), kept so that a person's groups are found without other plugins' tables. */
  userId: string | null;
}
export const GroupMemberEntity = new EntitySchema<GroupMember>({
  name: 'GroupMember',
  tableName: 'group_members',
  columns: {
    groupId: { ...ref(), primary: true, name: 'group_id' },
    connectionUserId: { ...ref(), primary: true, name: 'connection_user_id' },
    userId: { ...ref(true), name: 'user_id' },
  },
});
