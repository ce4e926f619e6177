import { EntitySchema } from 'typeorm';
import type { OrgRole } from './entities.ts';

/**
 * Group mapping (owned by the role-mapping plugin): the rules that say what a connection's groups
 * grant, the per-connection switch of the built-in `organization:team` rule, and the provenance of
 * memberships (which group, attribute, JIT sign-in or admin granted them). See docs/group-mapping.md.
 */

export type GroupRuleMatch = 'id' | 'externalId' | 'displayName';

/** An admin-defined rule: a group (by id, externalId or name) → an organization, optionally a team and a role. */
export interface GroupMappingRule {
  id: string;
  connectionId: string;
  matchBy: GroupRuleMatch;
  /** The group's id or externalId (compared exactly), or its displayName (compared ignoring case). */
  matchValue: string;
  orgId: string;
  team: string | null;
  role: OrgRole | null;
  createdAt: Date;
}
export const GroupMappingRuleEntity = new EntitySchema<GroupMappingRule>({
  name: 'GroupMappingRule',
  tableName: 'group_mapping_rules',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    connectionId: { type: 'varchar', length: 36, name: 'connection_id' },
    matchBy: { type: 'varchar', length: 16, name: 'match_by' },
    matchValue: { type: 'varchar', length: 255, name: 'match_value' },
    orgId: { type: 'varchar', length: 36, name: 'org_id' },
    team: { type: 'varchar', length: 255, nullable: true },
    role: { type: 'varchar', length: 16, nullable: true },
    createdAt: { type: 'datetime', precision: 3, createDate: true, name: 'created_at' },
  },
});

/** Per-connection group mapping settings; a connection without a row uses the defaults. */
export interface GroupMappingSettings {
  connectionId: string;
  /** The built-in rule: a group named `organization:team` maps to that team (default on). */
  builtinOrgTeam: boolean;
  updatedAt: Date;
}
export const GroupMappingSettingsEntity = new EntitySchema<GroupMappingSettings>({
  name: 'GroupMappingSettings',
  tableName: 'group_mapping_settings',
  columns: {
    connectionId: { type: 'varchar', length: 36, primary: true, name: 'connection_id' },
    builtinOrgTeam: { type: 'boolean', name: 'builtin_org_team' },
    updatedAt: { type: 'datetime', precision: 3, name: 'updated_at' },
  },
});

/**
 * Why a membership exists, one row per reason. `teamId` is '' for the organization membership itself.
 * `kind` is general ('group' today; 'attribute', 'jit', 'admin' are reserved for the same table) and
 * `sourceRef` names the source within its kind (for 'group': the SCIM group's id).
 */
export type GrantKind = 'group' | 'attribute' | 'jit' | 'admin';
export interface MembershipGrant {
  id: string;
  userId: string;
  orgId: string;
  teamId: string;
  kind: GrantKind;
  connectionId: string | null;
  sourceRef: string;
  /** The role this source asks for in the organization (org-level grants), if any. */
  role: OrgRole | null;
  createdAt: Date;
}
export const MembershipGrantEntity = new EntitySchema<MembershipGrant>({
  name: 'MembershipGrant',
  tableName: 'membership_grants',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    userId: { type: 'varchar', length: 36, name: 'user_id' },
    orgId: { type: 'varchar', length: 36, name: 'org_id' },
    teamId: { type: 'varchar', length: 36, name: 'team_id' },
    kind: { type: 'varchar', length: 16 },
    connectionId: { type: 'varchar', length: 36, nullable: true, name: 'connection_id' },
    sourceRef: { type: 'varchar', length: 255, name: 'source_ref' },
    role: { type: 'varchar', length: 16, nullable: true },
    createdAt: { type: 'datetime', precision: 3, createDate: true, name: 'created_at' },
  },
});

export const GROUP_MAPPING_ENTITIES = [GroupMappingRuleEntity, GroupMappingSettingsEntity, MembershipGrantEntity];
