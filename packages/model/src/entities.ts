import { EntitySchema } from 'typeorm';
import { SsoDeprovisioningEntity } from './entities-deprovisioning.ts';
import { created, id, ref, updated } from './columns.ts';
import { AdminTokenEntity, ConnectionDomainEntity, ConnectionOrgEntity, ScimTokenEntity, SsoConnectionEntity, SsoSessionEntity } from './entities-connections.ts';
import { ConnectionUserEmailEntity, ConnectionUserEntity, GroupMemberEntity, ScimGroupEntity } from './entities-scim.ts';
import { AuditChainHeadEntity, AuditEventEntity, OutboxMessageEntity } from './entities-audit.ts';

/**
 * The shared model. EntitySchema (not decorators) so that every transpiler (tsx, vitest, esbuild)
 * loads it without decorator metadata. Columns with a `_lc` twin hold lower-cased copies: they make
 * case-insensitive SCIM comparisons index-friendly and identical on MySQL and SQLite.
 */

/** A JSON column's value: the contract's (@doorman/plugin-api), as job data is one. */
import type { JsonDocument, JsonValue } from '@doorman/plugin-api';
export type { JsonDocument, JsonValue };

export type OrgRole = 'member' | 'editor' | 'owner';
export const ORG_ROLES: readonly OrgRole[] = ['member', 'editor', 'owner'];
export type MembershipSource = 'scim' | 'jit' | 'manual';
export type ConnectionType = 'saml' | 'oidc';
/** How a membership was granted (provenance.ts). */
export type GrantVia = 'scim_attribute' | 'scim_group' | 'jit' | 'admin';


export interface Organization {
  id: string;
  name: string;
  displayName: string | null;
  seatLimit: number | null;
  createdAt: Date;
  updatedAt: Date;
}
export const OrganizationEntity = new EntitySchema<Organization>({
  name: 'Organization',
  tableName: 'organizations',
  columns: {
    id,
    name: { type: 'varchar', length: 255 },
    displayName: { type: 'varchar', length: 255, nullable: true, name: 'display_name' },
    seatLimit: { type: 'int', nullable: true, name: 'seat_limit' },
    createdAt: created,
    updatedAt: updated,
  },
});

export interface Team {
  id: string;
  orgId: string;
  name: string;
  nameLc: string;
  createdAt: Date;
}
export const TeamEntity = new EntitySchema<Team>({
  name: 'Team',
  tableName: 'teams',
  columns: {
    id,
    orgId: { ...ref(), name: 'org_id' },
    name: { type: 'varchar', length: 255 },
    nameLc: { type: 'varchar', length: 255, name: 'name_lc' },
    createdAt: created,
  },
});

/** A global account: one per email, like a Docker ID. */
export interface User {
  id: string;
  email: string;
  emailLc: string;
  username: string;
  fullName: string | null;
  createdAt: Date;
  updatedAt: Date;
}
export const UserEntity = new EntitySchema<User>({
  name: 'User',
  tableName: 'users',
  columns: {
    id,
    email: { type: 'varchar', length: 320 },
    emailLc: { type: 'varchar', length: 320, name: 'email_lc' },
    username: { type: 'varchar', length: 64 },
    fullName: { type: 'varchar', length: 255, nullable: true, name: 'full_name' },
    createdAt: created,
    updatedAt: updated,
  },
});

export interface OrgMembership {
  id: string;
  orgId: string;
  userId: string;
  role: OrgRole;
  source: MembershipSource;
  /** The SSO connection whose provisioning granted (and governs) this membership; null = admin-added. */
  connectionId: string | null;
  /** Provenance: how it was granted (null on rows written before, or by a writer that does not say). See provenance.ts. */
  grantVia?: GrantVia | null;
  /** Provenance: what granted it (a SCIM group id for scim_group). */
  grantRef?: string | null;
  createdAt: Date;
  updatedAt: Date;
}
export const OrgMembershipEntity = new EntitySchema<OrgMembership>({
  name: 'OrgMembership',
  tableName: 'org_memberships',
  columns: {
    id,
    orgId: { ...ref(), name: 'org_id' },
    userId: { ...ref(), name: 'user_id' },
    role: { type: 'varchar', length: 16 },
    source: { type: 'varchar', length: 16 },
    connectionId: { ...ref(true), name: 'connection_id' },
    createdAt: created,
    updatedAt: updated,
  },
});

export interface TeamMembership {
  id: string;
  teamId: string;
  orgId: string;
  userId: string;
  source: MembershipSource;
  connectionId: string | null;
  /** 'mapping' = granted by role mapping (dockerTeam/default), 'group' = by a SCIM group, 'admin'. */
  grantedBy: 'mapping' | 'group' | 'admin';
  grantVia?: GrantVia | null;
  grantRef?: string | null;
  createdAt: Date;
}
export const TeamMembershipEntity = new EntitySchema<TeamMembership>({
  name: 'TeamMembership',
  tableName: 'team_memberships',
  columns: {
    id,
    teamId: { ...ref(), name: 'team_id' },
    orgId: { ...ref(), name: 'org_id' },
    userId: { ...ref(), name: 'user_id' },
    source: { type: 'varchar', length: 16 },
    connectionId: { ...ref(true), name: 'connection_id' },
    grantedBy: { type: 'varchar', length: 16, name: 'granted_by' },
    grantVia: { type: 'varchar', length: 16, nullable: true, name: 'grant_via' },
    grantRef: { type: 'varchar', length: 255, nullable: true, name: 'grant_ref' },
    createdAt: created,
  },
});

export const ENTITIES = [
  OrganizationEntity,
  TeamEntity,
  UserEntity,
  OrgMembershipEntity,
  TeamMembershipEntity,
  SsoConnectionEntity,
  ConnectionOrgEntity,
  ConnectionDomainEntity,
  ScimTokenEntity,
  AdminTokenEntity,
  ConnectionUserEntity,
  ConnectionUserEmailEntity,
  ScimGroupEntity,
  GroupMemberEntity,
  AuditEventEntity,
  OutboxMessageEntity,
  SsoSessionEntity,
  AuditChainHeadEntity,
  SsoDeprovisioningEntity,
];
