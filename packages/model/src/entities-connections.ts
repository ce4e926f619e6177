import { EntitySchema } from 'typeorm';
import { created, id, ref, updated } from './columns.ts';
import type { ConnectionType } from './entities.ts';

/** SSO connections, their organizations and domains, the tokens that authenticate to Doorman, and SSO sessions. */

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
