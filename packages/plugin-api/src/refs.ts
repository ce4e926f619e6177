import type { Actor } from './events.ts';
import { createServiceRef } from './plugin.ts';
import type { HttpContext, RuntimeType, Transaction } from './runtime-types.ts';

/**
 * Contracts between plugins. A plugin that needs another's capability depends on its id and asks
 * for the service here; it never imports the other plugin's package.
 * The types name the runtime's objects through `RuntimeTypes` (runtime-types.ts).
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
  /**
   * True when the caller's transaction has just created the person's account: it holds no
   * membership, grant or SCIM group anywhere, so role mapping neither reads nor locks them. A
   * locking read of a key no row has yet takes a gap lock that, with time-ordered ids, every new
   * person shares (docs/row-ids.md, "Locks").
   */
  accountCreated?: boolean;
  actor: Actor;
}

export interface MappingSummary {
  /** Human-readable changes made (empty when nothing changed). */
  changes: Array<{ kind: string; orgId: string; [key: string]: unknown }>;
  ignoredGroups: string[];
}

export interface RoleMappingService {
  /** Decides and applies memberships in the caller's transaction. Throws InputError/NotAllowedError on bad values. */
  apply(tx: Transaction, request: ApplyMappingRequest): Promise<MappingSummary>;
  /**
   * `apply` for several people in one go (a group of SCIM creates): one summary per request, in
   * order, with the changes and events `apply` would make for each in turn, and the reads of one
   * person when they are of one connection. Throws on the first refusal, as such a loop would; what
   * it wrote before is undone by the caller's savepoint or transaction (docs/group-commit.md, "Creates").
   */
  applyMany(tx: Transaction, requests: ApplyMappingRequest[]): Promise<MappingSummary[]>;
  /** What `apply` would do, without writing. */
  preview(tx: Transaction, request: Omit<ApplyMappingRequest, 'actor'>): Promise<MappingSummary>;
  /** Removes every membership this connection's provisioning granted to the user (deactivation). */
  revokeConnectionMemberships(tx: Transaction, request: { connectionId: string; userId: string; actor: Actor }): Promise<MappingSummary>;
  /**
   * The same for a batch of people (a worker's batch of deactivation jobs) with the statements of one:
   * one summary per request, in order; a request sees what the ones before it removed.
   */
  revokeConnectionMembershipsOfMany(tx: Transaction, requests: Array<{ connectionId: string; userId: string; actor: Actor }>): Promise<MappingSummary[]>;
  /**
   * A connection's groups changed (members added or removed, renamed, new externalId, deleted):
   * re-decides the memberships of the people concerned, in the caller's transaction when they are
   * few, else through the sync job (docs/group-mapping.md). `userIds`: the accounts whose membership
   * changed (omitted: every member of `groupIds` and everyone those groups granted something).
   */
  groupsChanged(tx: Transaction, request: GroupsChangedRequest): Promise<GroupsChangedResult>;
}

export interface GroupsChangedRequest {
  connectionId: string;
  groupIds: string[];
  userIds?: string[];
  actor: Actor;
}

export interface GroupsChangedResult {
  /** People re-decided in the caller's transaction. */
  applied: number;
  /** Set when the work went to the sync job instead. */
  jobId: string | null;
}

/** A group as pushed by the IdP (any display name). */
export interface DirectoryGroup {
  id: string;
  externalId: string | null;
  displayName: string;
}

/**
 * The SCIM groups of a connection, as role mapping reads them (provided by scim-groups; role mapping
 * looks it up when it needs it, and without scim-groups a person simply has no SCIM groups).
 */
export interface GroupDirectory {
  /** The connection's groups that list the account `userId` (locking read on MySQL when `lock`). */
  groupsOfUser(tx: Transaction, connectionId: string, userId: string, lock: boolean): Promise<DirectoryGroup[]>;
  /** Groups by id (of this connection); unknown ids are absent. */
  groups(tx: Transaction, connectionId: string, groupIds: string[]): Promise<DirectoryGroup[]>;
  /** Every group of the connection with its member count. */
  listGroups(tx: Transaction, connectionId: string): Promise<Array<DirectoryGroup & { members: number }>>;
  /** Accounts listed by any of `groupIds`, distinct, ascending, after `after`, at most `limit`. */
  membersOf(tx: Transaction, connectionId: string, groupIds: string[], after: string, limit: number): Promise<string[]>;
}

export const groupDirectoryRef = createServiceRef<GroupDirectory>('scim-groups.directory');

/** A SCIM user of a connection, as other plugins may read it (provided by scim-users). */
export interface DirectoryUser {
  /** The SCIM id. */
  id: string;
  /** The account (users.id). */
  userId: string;
  userName: string;
  displayName: string | null;
  active: boolean;
}

export interface ScimUserDirectory {
  /** The connection's SCIM users among `ids` (SCIM ids); unknown ids are absent. */
  find(tx: Transaction, connectionId: string, ids: string[]): Promise<DirectoryUser[]>;
}

export const scimUserDirectoryRef = createServiceRef<ScimUserDirectory>('scim-users.directory');

/** A SCIM discovery document (RFC 7643 §6 ResourceType, §7 Schema), as JSON. */
export type ScimDiscoveryDocument = { id: string } & Record<string, unknown>;

/**
 * SCIM discovery (provided by scim-users, which serves /ServiceProviderConfig, /ResourceTypes and
 * /Schemas): each plugin serving a resource type registers it when it registers, so discovery
 * advertises exactly the resources this deployment serves (docs/architecture.md "Plugins").
 */
export interface ScimDiscovery {
  addResourceType(resourceType: ScimDiscoveryDocument, schemas: readonly ScimDiscoveryDocument[]): void;
}

export const scimDiscoveryRef = createServiceRef<ScimDiscovery>('scim-users.discovery');

/** An authentication scheme as /ServiceProviderConfig advertises it (RFC 7643 §5 `authenticationSchemes`). */
export interface ScimAuthenticationScheme {
  type: string;
  name: string;
  description: string;
  specUri?: string;
  documentationUri?: string;
  primary?: boolean;
}

/**
 * The SCIM authenticator (provided by token-auth, which installs it with `http.setScimAuthenticator`).
 * Every plugin serving SCIM routes requires it, so a deployment without one stops at start-up
 * (DMN_PLUGIN_DEPENDENCY_MISSING) instead of answering 401 to every request; scim-users advertises
 * its schemes in /ServiceProviderConfig.
 */
export interface ScimAuthentication {
  readonly schemes: readonly ScimAuthenticationScheme[];
}

export const scimAuthenticationRef = createServiceRef<ScimAuthentication>('token-auth.scim-authentication');

/**
 * A SCIM filter attribute map: lower-cased attribute path → where it lives in SQL. @doorman/scim's
 * `AttributeMap`, filled in by that package (`RuntimeTypes['scimAttributeMap']`, runtime-types.ts);
 * the contract does not depend on the protocol package.
 */
export type ScimFilterAttributes = RuntimeType<'scimAttributeMap', Readonly<Record<string, object>>>;

/**
 * User filter attributes whose tables another plugin owns (provided by scim-users): scim-groups adds
 * `groups` (`groups.value`, `groups.display`) over `group_members` and `scim_groups`, so scim-users
 * names none of its tables and, without scim-groups, a filter on `groups` is an unknown attribute
 * (400 invalidFilter). Called while registering; an attribute scim-users already has is refused.
 */
export interface ScimUserFilters {
  /** `build` is given the SQL expression of a User's SCIM id (the row a filter tests) to join on. */
  addAttributes(build: (userIdColumn: string) => ScimFilterAttributes): void;
}

export const scimUserFiltersRef = createServiceRef<ScimUserFilters>('scim-users.filters');

export const roleMappingServiceRef = createServiceRef<RoleMappingService>('role-mapping.service');

/**
 * SSO sessions (provided by jit-provisioning). Organization-wide deprovisioning
 * (docs/org-wide-deprovisioning.md): what a SCIM deactivation or deletion through `connectionId` does to
 * the person's sign-ins and sessions, idempotent. The role-mapping sync calls it for every inactive
 * SCIM user (sessions belong to jit-provisioning; role mapping never touches them itself).
 */
export interface SsoSessionService {
  deprovision(tx: Transaction, request: { connectionId: string; userId: string; reason: 'inactive' | 'deleted'; actor: Actor }): Promise<{ sessionsEnded: number }>;
  /**
   * An admin ends every open session of the person, whichever connection opened it (the people
   * plugin's `POST /people/:person/sessions/end`); published as `sso.sessions_ended`, reason `admin`.
   * It does not refuse the next sign-in: deactivate the person in the IdP for that.
   */
  endSessions(tx: Transaction, request: { userId: string; actor: Actor }): Promise<{ sessionsEnded: number }>;
}

export const ssoSessionServiceRef = createServiceRef<SsoSessionService>('jit-provisioning.sessions');

/** A live SSO session: who signed in, through which connection. */
export interface SsoIdentity {
  /** The `sso_sessions` row id (never the cookie value). */
  sessionId: string;
  userId: string;
  connectionId: string;
}

/**
 * Who is signed in through Doorman's own SSO (provided by jit-provisioning, which owns the session
 * cookie and its rules: ended, expired, deprovisioned). The console opens an organization owner's
 * session from it and re-checks it on every request (docs/console.md, "Organization owners").
 */
export interface SsoIdentityService {
  /** The request's SSO session, read from jit-provisioning's own cookie; undefined when none is live. */
  current(ctx: HttpContext): Promise<SsoIdentity | undefined>;
  /** The session `sessionId` if it is still live (not ended, expired or deprovisioned), else undefined. */
  live(sessionId: string): Promise<SsoIdentity | undefined>;
  /**
   * Where a browser starts signing in with `email` and comes back to `returnTo` (a path on this
   * deployment) once signed in: jit-provisioning's `/sso/login`.
   */
  loginPath(email: string, returnTo: string): string;
}

export const ssoIdentityRef = createServiceRef<SsoIdentityService>('jit-provisioning.identity');

/** Set on `ctx.state.auth` by the SCIM authenticator. */
export interface ScimAuthState {
  kind: 'scim';
  connectionId: string;
  tokenId: string;
}

/** Roles a membership can hold, lowest first. */
export type OrgRole = 'member' | 'editor' | 'owner';

/** A console session opened with an admin token: it acts with the token's powers. */
export interface AdminTokenSession {
  kind: 'admin';
  tokenId: string;
  sessionId: string;
}

/**
 * A console session of an organization owner signed in through Doorman's SSO: it may use only the
 * admin routes whose declared scope covers `orgIds` (the organizations the person owns now, re-read on
 * every request; docs/console.md, "Organization owners").
 */
export interface OwnerSession {
  kind: 'owner';
  userId: string;
  sessionId: string;
  orgIds: readonly string[];
}

/**
 * A signed-in console session in place of an admin token (the console plugin provides it). Returns
 * undefined when the request carries no valid session; throws (403) when a write lacks its CSRF proof.
 */
export interface AdminSessionAuthenticator {
  authenticate(ctx: HttpContext): Promise<AdminTokenSession | OwnerSession | undefined>;
}

export const adminSessionAuthRef = createServiceRef<AdminSessionAuthenticator>('console.admin-session');

/** The audit plugin's settings other plugins follow (the webhooks plugin keeps events as long as audit events). */
export interface AuditSettings {
  /** Days events are kept; 0 = forever. */
  retentionDays: number;
}
export const auditSettingsRef = createServiceRef<AuditSettings>('audit.settings');

/**
 * A SCIM or SSO request Doorman refused with a 4xx, as the error middleware reports it
 * (docs/connection-activity.md). Only what is safe to keep: the route pattern (never the raw URL or
 * query), the error's code and a detail with every request value redacted; never a body or credential.
 */
export interface RequestRefusal {
  /** The connection the request is known to be about (`ctx.state.connectionId`). */
  connectionId: string;
  at: Date;
  surface: 'scim' | 'sso';
  method: string;
  route: string;
  status: number;
  scimType: string | null;
  code: string;
  detail: string;
  requestId: string;
}

/**
 * Receives refusals (the people plugin provides it and owns their table). `record` must return at
 * once and never throw: it runs on the error path of the request, which must not wait for it.
 */
export interface RefusalRecorder {
  record(refusal: RequestRefusal): void;
}
export const refusalRecorderRef = createServiceRef<RefusalRecorder>('people.refusals');
