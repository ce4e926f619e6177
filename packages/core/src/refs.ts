import type { Context } from 'koa';
import type { EntityManager } from 'typeorm';
import type { OrgRole } from '@doorman/model';
import type { Actor } from './events.ts';
import { createServiceRef } from './plugin.ts';

/**
 * Contracts between plugins. A plugin that needs another's capability depends on its id and asks
 * for the service here; it never imports the other plugin's package.
 */

/** What an IdP says about a person, as role mapping reads it. */
export interface IdpAttributes {
  dockerRole?: string | null;
  dockerOrg?: string | null;
  dockerTeam?: string | null;
  /** `organization:team` group names (SAML group claims). */
  groups?: string[];
}

export interface ApplyMappingRequest {
  connectionId: string;
  userId: string;
  attributes: IdpAttributes;
  flow: 'scim' | 'jit';
  /** True on the person's first provisioning through this connection. */
  firstTime: boolean;
  actor: Actor;
}

export interface MappingSummary {
  /** Human-readable changes made (empty when nothing changed). */
  changes: Array<{ kind: string; orgId: string; [key: string]: unknown }>;
  ignoredGroups: string[];
}

export interface RoleMappingService {
  /** Decides and applies memberships in the caller's transaction. Throws InputError/NotAllowedError on bad values. */
  apply(tx: EntityManager, request: ApplyMappingRequest): Promise<MappingSummary>;
  /** What `apply` would do, without writing. */
  preview(tx: EntityManager, request: Omit<ApplyMappingRequest, 'actor'>): Promise<MappingSummary>;
  /** Removes every membership this connection's provisioning granted to the user (deactivation). */
  revokeConnectionMemberships(tx: EntityManager, request: { connectionId: string; userId: string; actor: Actor }): Promise<MappingSummary>;
}

export const roleMappingServiceRef = createServiceRef<RoleMappingService>('role-mapping.service');

/** Set on `ctx.state.auth` by the SCIM authenticator. */
export interface ScimAuthState {
  kind: 'scim';
  connectionId: string;
  tokenId: string;
}

/** Roles a membership can hold, lowest first. */
export type { OrgRole };

/**
 * A signed-in console session in place of an admin token (the console plugin provides it). Returns
 * undefined when the request carries no valid session; throws (403) when a write lacks its CSRF proof.
 */
export interface AdminSessionAuthenticator {
  authenticate(ctx: Context): Promise<{ tokenId: string; sessionId: string } | undefined>;
}

export const adminSessionAuthRef = createServiceRef<AdminSessionAuthenticator>('console.admin-session');

/** The audit plugin's settings other plugins follow (the webhooks plugin keeps events as long as audit events). */
export interface AuditSettings {
  /** Days events are kept; 0 = forever. */
  retentionDays: number;
}
export const auditSettingsRef = createServiceRef<AuditSettings>('audit.settings');
