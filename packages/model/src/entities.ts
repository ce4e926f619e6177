import { EntitySchema } from 'typeorm';
import { SsoDeprovisioningEntity } from './entities-deprovisioning.ts';

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

const id = { type: 'varchar', length: 36, primary: true } as const;
const ref = (nullable = false) => ({ type: 'varchar', length: 36, nullable }) as const;
const created = { type: 'datetime', precision: 3, createDate: true, name: 'created_at' } as const;
const updated = { type: 'datetime', precision: 3, updateDate: true, name: 'updated_at' } as const;

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

export interface SamlSettings {
  entryPoint?: string;
  idpIssuer?: string;
  idpCert?: string;
  wantAuthnResponseSigned?: boolean;
  allowIdpInitiated?: boolean;
}
export interface OidcSettings {
  issuer?: string;
  clientId?: string;
  /** Secret: never logged, never returned by the admin API. */
  clientSecret?: string;
}
export interface SsoConnection {
  id: string;
  name: string;
  type: ConnectionType;
  defaultOrgId: string | null;
  defaultTeam: string | null;
  jitEnabled: boolean;
  scimEnabled: boolean;
  idpSettings: SamlSettings & OidcSettings;
  /** SCIM requests per second allowed for this tenant; null = deployment default. */
  rateLimitPerSecond: number | null;
  /**
   * What a SCIM deactivation or deletion through this connection covers (docs/org-wide-deprovisioning.md):
   * `organization` (default): the person's sessions into the organizations it serves end, whichever
   * connection opened them, and sign-in through any connection into them is refused until this one
   * reactivates the person; `connection`: only sessions and sign-ins through this connection.
   * Optional on writes (the column defaults to `organization`).
   */
  deprovisioningScope?: DeprovisioningScope;
  createdAt: Date;
  updatedAt: Date;
}
export type DeprovisioningScope = 'organization' | 'connection';
export const DEPROVISIONING_SCOPES: readonly DeprovisioningScope[] = ['organization', 'connection'];
export const SsoConnectionEntity = new EntitySchema<SsoConnection>({
  name: 'SsoConnection',
  tableName: 'sso_connections',
  columns: {
    id,
    name: { type: 'varchar', length: 255 },
    type: { type: 'varchar', length: 8 },
    defaultOrgId: { ...ref(true), name: 'default_org_id' },
    defaultTeam: { type: 'varchar', length: 255, nullable: true, name: 'default_team' },
    jitEnabled: { type: 'boolean', name: 'jit_enabled' },
    scimEnabled: { type: 'boolean', name: 'scim_enabled' },
    idpSettings: { type: 'simple-json', name: 'idp_settings' },
    rateLimitPerSecond: { type: 'int', nullable: true, name: 'rate_limit_per_second' },
    deprovisioningScope: { type: 'varchar', length: 16, default: 'organization', name: 'deprovisioning_scope' },
    createdAt: created,
    updatedAt: updated,
  },
});

export interface ConnectionOrg {
  connectionId: string;
  orgId: string;
}
export const ConnectionOrgEntity = new EntitySchema<ConnectionOrg>({
  name: 'ConnectionOrg',
  tableName: 'connection_orgs',
  columns: {
    connectionId: { ...ref(), primary: true, name: 'connection_id' },
    orgId: { ...ref(), primary: true, name: 'org_id' },
  },
});

export interface ConnectionDomain {
  id: string;
  connectionId: string;
  domain: string;
  verified: boolean;
  createdAt: Date;
}
export const ConnectionDomainEntity = new EntitySchema<ConnectionDomain>({
  name: 'ConnectionDomain',
  tableName: 'connection_domains',
  columns: {
    id,
    connectionId: { ...ref(), name: 'connection_id' },
    domain: { type: 'varchar', length: 255 },
    verified: { type: 'boolean' },
    createdAt: created,
  },
});

export interface ScimToken {
  id: string;
  connectionId: string;
  name: string | null;
  /** Public, recognisable part of the secret (shown in lists, safe to log). */
  prefix: string;
  /** SHA-256 of the whole secret, hex. */
  hash: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}
export const ScimTokenEntity = new EntitySchema<ScimToken>({
  name: 'ScimToken',
  tableName: 'scim_tokens',
  columns: {
    id,
    connectionId: { ...ref(), name: 'connection_id' },
    name: { type: 'varchar', length: 255, nullable: true },
    prefix: { type: 'varchar', length: 64 },
    hash: { type: 'varchar', length: 64 },
    createdAt: created,
    lastUsedAt: { type: 'datetime', precision: 3, nullable: true, name: 'last_used_at' },
    expiresAt: { type: 'datetime', precision: 3, nullable: true, name: 'expires_at' },
    revokedAt: { type: 'datetime', precision: 3, nullable: true, name: 'revoked_at' },
  },
});

export interface AdminToken {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}
export const AdminTokenEntity = new EntitySchema<AdminToken>({
  name: 'AdminToken',
  tableName: 'admin_tokens',
  columns: {
    id,
    name: { type: 'varchar', length: 255 },
    prefix: { type: 'varchar', length: 64 },
    hash: { type: 'varchar', length: 64 },
    createdAt: created,
    lastUsedAt: { type: 'datetime', precision: 3, nullable: true, name: 'last_used_at' },
    revokedAt: { type: 'datetime', precision: 3, nullable: true, name: 'revoked_at' },
  },
});

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

export type ActorType = 'scim_token' | 'admin_token' | 'sso_user' | 'system';
export interface AuditEvent {
  /** Monotonic sequence: the cursor for pagination. */
  seq: number;
  id: string;
  occurredAt: Date;
  orgId: string | null;
  connectionId: string | null;
  actorType: ActorType;
  actorId: string | null;
  requestId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  changes: JsonDocument | null;
  /**
   * Hash chain per organization (org null = the deployment's own chain). Written NULL by the producer
   * ("unsealed") and set by the audit sealer, which links committed events into their chain.
   */
  prevHash: string | null;
  hash: string | null;
  /** Position in its chain (1, 2, …), assigned by the sealer; NULL while unsealed. */
  chainSeq: number | null;
  /**
   * HMAC-SHA256 of the event with a key kept outside the database (AUDIT_HMAC_KEY), written by the
   * producer: an edit before sealing no longer matches it. NULL when written without a key (development)
   * or before the column existed. Optional on writes.
   */
  mac?: string | null;
  /**
   * Causal links (docs/people-and-explain.md): the job that wrote the event, the audit event it follows
   * from, and the decision's inputs. NULL on events written before they existed. Optional on writes.
   */
  jobId?: string | null;
  causeId?: string | null;
  context?: JsonDocument | null;
}
export const AuditEventEntity = new EntitySchema<AuditEvent>({
  name: 'AuditEvent',
  tableName: 'audit_events',
  columns: {
    seq: { type: 'bigint', primary: true, generated: 'increment' },
    id: { type: 'varchar', length: 36 },
    occurredAt: { type: 'datetime', precision: 3, name: 'occurred_at' },
    orgId: { ...ref(true), name: 'org_id' },
    connectionId: { ...ref(true), name: 'connection_id' },
    actorType: { type: 'varchar', length: 16, name: 'actor_type' },
    actorId: { type: 'varchar', length: 255, nullable: true, name: 'actor_id' },
    requestId: { type: 'varchar', length: 64, nullable: true, name: 'request_id' },
    action: { type: 'varchar', length: 64 },
    targetType: { type: 'varchar', length: 32, nullable: true, name: 'target_type' },
    targetId: { type: 'varchar', length: 255, nullable: true, name: 'target_id' },
    changes: { type: 'simple-json', nullable: true },
    prevHash: { type: 'varchar', length: 64, nullable: true, name: 'prev_hash' },
    hash: { type: 'varchar', length: 64, nullable: true },
    chainSeq: { type: 'bigint', nullable: true, name: 'chain_seq' },
    mac: { type: 'varchar', length: 64, nullable: true },
    jobId: { type: 'varchar', length: 255, nullable: true, name: 'job_id' },
    causeId: { type: 'varchar', length: 64, nullable: true, name: 'cause_id' },
    context: { type: 'simple-json', nullable: true },
  },
});

/** Transactional outbox: a job intent committed with the change that caused it. */
export interface OutboxMessage {
  seq: number;
  queue: string;
  jobName: string;
  /** BullMQ job id: relaying twice never enqueues twice. */
  jobId: string;
  payload: JsonDocument;
  createdAt: Date;
  /** When BullMQ (or the inline driver) took the job. */
  relayedAt: Date | null;
  /** When the job finished (completed or failed for good): until then the row is kept and re-sent if Redis lost it. */
  completedAt: Date | null;
  attempts: number;
  lastError: string | null;
}
export const OutboxMessageEntity = new EntitySchema<OutboxMessage>({
  name: 'OutboxMessage',
  tableName: 'outbox',
  columns: {
    seq: { type: 'bigint', primary: true, generated: 'increment' },
    queue: { type: 'varchar', length: 64 },
    jobName: { type: 'varchar', length: 64, name: 'job_name' },
    jobId: { type: 'varchar', length: 255, name: 'job_id' },
    payload: { type: 'simple-json' },
    createdAt: created,
    relayedAt: { type: 'datetime', precision: 3, nullable: true, name: 'relayed_at' },
    completedAt: { type: 'datetime', precision: 3, nullable: true, name: 'completed_at' },
    attempts: { type: 'int' },
    lastError: { type: 'varchar', length: 1024, nullable: true, name: 'last_error' },
  },
});

export interface SsoSession {
  id: string;
  userId: string;
  connectionId: string;
  createdAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
}
export const SsoSessionEntity = new EntitySchema<SsoSession>({
  name: 'SsoSession',
  tableName: 'sso_sessions',
  columns: {
    id,
    userId: { ...ref(), name: 'user_id' },
    connectionId: { ...ref(), name: 'connection_id' },
    createdAt: created,
    expiresAt: { type: 'datetime', precision: 3, name: 'expires_at' },
    endedAt: { type: 'datetime', precision: 3, nullable: true, name: 'ended_at' },
  },
});

/** The head of one audit hash chain (`org:<id>` or `deployment`), locked while appending to it. */
export interface AuditChainHead {
  chainKey: string;
  lastSeq: number;
  lastHash: string | null;
  /** chain_seq of the chain's last sealed event (0: none yet). */
  lastChainSeq: number;
  /** Retention removed this chain's events up to this chain_seq (0: none). */
  purgedChainSeq: number;
  updatedAt: Date;
}
export const AuditChainHeadEntity = new EntitySchema<AuditChainHead>({
  name: 'AuditChainHead',
  tableName: 'audit_chain_heads',
  columns: {
    chainKey: { type: 'varchar', length: 64, primary: true, name: 'chain_key' },
    lastSeq: { type: 'bigint', name: 'last_seq' },
    lastHash: { type: 'varchar', length: 64, nullable: true, name: 'last_hash' },
    lastChainSeq: { type: 'bigint', name: 'last_chain_seq', default: 0 },
    purgedChainSeq: { type: 'bigint', name: 'purged_chain_seq', default: 0 },
    updatedAt: { type: 'datetime', precision: 3, name: 'updated_at' },
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
