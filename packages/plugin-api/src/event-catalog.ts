/**
 * Every domain event Doorman publishes (docs/architecture.md "Events"), by producer. Each is
 * recorded by the audit plugin under its action name (the stored `action`); the webhooks plugin
 * publishes some of them under public types (docs/webhooks.md). A plugin that reacts to another's
 * event imports the definition from here: plugins never import each other.
 */
import { defineEvent, type EventPayload, type EventTarget } from './events.ts';

/** SCIM Users' changes: about a person (`target: { type: 'user' }`) of one connection. */
export type ScimUserPayload = EventPayload & { connectionId: string; target: EventTarget };
/** An SSO connection's changes (admin): the connection, or one of its domains. */
export type ConnectionPayload = EventPayload & { connectionId: string; target: EventTarget };

const userEvent = <const A extends string>(action: A) => defineEvent<A, ScimUserPayload>(action);
const connectionEvent = <const A extends string>(action: A) => defineEvent<A, ConnectionPayload>(action);

// --- admin (organizations, teams, SSO connections) ---
/** admin: an organization was created (POST /admin/orgs). */
export const orgCreated = defineEvent('org.created');
/** admin: an organization's name or settings changed (PATCH /admin/orgs/:id). */
export const orgUpdated = defineEvent('org.updated');
/** admin, or role-mapping when a rule names a team that does not exist yet: a team was created. */
export const teamCreated = defineEvent('team.created');
/** admin: a team was renamed. */
export const teamRenamed = defineEvent('team.renamed');
/** admin: an SSO connection was created. */
export const connectionCreated = connectionEvent('connection.created');
/** admin: an SSO connection's settings changed (default org/team, SCIM or JIT toggled, …). */
export const connectionUpdated = connectionEvent('connection.updated');
/** admin: an SSO connection was deleted. */
export const connectionDeleted = connectionEvent('connection.deleted');
/** admin: a domain was added to a connection. */
export const connectionDomainAdded = connectionEvent('connection.domain_added');
/** admin: a connection's domain was verified. */
export const connectionDomainVerified = connectionEvent('connection.domain_verified');
/** admin: a domain was removed from a connection. */
export const connectionDomainRemoved = connectionEvent('connection.domain_removed');

// --- token-auth ---
/** token-auth: a SCIM bearer token was issued for a connection (also the new token of a rotation). */
export const tokenIssued = defineEvent('token.issued');
/** token-auth: a SCIM token was rotated: the old one expires after the overlap. */
export const tokenRotated = defineEvent('token.rotated');
/** token-auth: a SCIM token was revoked. */
export const tokenRevoked = defineEvent('token.revoked');
/** token-auth: an admin token was issued. */
export const adminTokenIssued = defineEvent('admin_token.issued');
/** token-auth: an admin token was revoked. */
export const adminTokenRevoked = defineEvent('admin_token.revoked');

// --- audit ---
/** audit: the retention job purged expired audit events (written on the deployment chain). */
export const auditPurged = defineEvent('audit.purged');

// --- scim-users ---
/** scim-users: a SCIM create made a new account. */
export const userCreated = userEvent('user.created');
/** scim-users: a SCIM create found the account already there (another connection made it) and linked it. */
export const userLinked = userEvent('user.linked');
/** scim-users: a SCIM replace or patch changed a person's attributes (not whether it is active). */
export const userUpdated = userEvent('user.updated');
/** scim-users: a SCIM replace or patch set `active: false`. */
export const userDeactivated = userEvent('user.deactivated');
/** scim-users: a SCIM replace or patch set an inactive person `active: true`. */
export const userReactivated = userEvent('user.reactivated');
/** scim-users: a SCIM delete removed the person from the connection. */
export const userDeleted = userEvent('user.deleted');
/** scim-users: the deactivation job revoked a person's memberships and sessions. */
export const userDeprovisioned = userEvent('user.deprovisioned');
/** scim-users: an admin recount corrected a connection's user counter. */
export const scimUsersRecounted = defineEvent('scim_users.recounted');

// --- scim-groups ---
/** scim-groups: a SCIM group was created. */
export const groupCreated = defineEvent('group.created');
/** scim-groups: a SCIM group's name or external id changed. */
export const groupUpdated = defineEvent('group.updated');
/** scim-groups: members were added to a SCIM group. */
export const groupMembersAdded = defineEvent('group.members_added');
/** scim-groups: members were removed from a SCIM group (also before its deletion). */
export const groupMembersRemoved = defineEvent('group.members_removed');
/** scim-groups: a SCIM group was deleted. */
export const groupDeleted = defineEvent('group.deleted');

// --- role-mapping ---
/** role-mapping: a person was added to an organization (JIT sign-in, SCIM or sync). */
export const memberAdded = defineEvent('member.added');
/** role-mapping: a person's organization role changed. */
export const memberRoleChanged = defineEvent('member.role_changed');
/** role-mapping: a person was removed from an organization (mapping, or deprovisioning's revocation). */
export const memberRemoved = defineEvent('member.removed');
/** role-mapping: a person was added to a team. */
export const teamMemberAdded = defineEvent('team_member.added');
/** role-mapping: a person was removed from a team. */
export const teamMemberRemoved = defineEvent('team_member.removed');
/** role-mapping: a group rule was added to a connection (admin API). */
export const groupRuleCreated = defineEvent('group_rule.created');
/** role-mapping: a group rule was deleted (admin API). */
export const groupRuleDeleted = defineEvent('group_rule.deleted');
/** role-mapping: a connection's built-in org/team group rule was switched on or off. */
export const groupRulesBuiltinChanged = defineEvent('group_rules.builtin_changed');
/** role-mapping: a connection's sync run finished (its summary in `changes`). */
export const syncCompleted = defineEvent('sync.completed');

// --- jit-provisioning (SSO sign-in) ---
/** jit-provisioning: a sign-in created the account or its first membership. */
export const jitProvisioned = defineEvent('jit.provisioned');
/** jit-provisioning: a person signed in through SSO (a session was opened). */
export const ssoSignedIn = defineEvent('sso.signed_in');
/** jit-provisioning: an SSO sign-in was refused (its own transaction; the reason in `changes`). */
export const ssoSignInDenied = defineEvent('sso.sign_in_denied');
/** jit-provisioning: a person's sessions were ended (deprovisioned by SCIM, or by an admin). */
export const ssoSessionsEnded = defineEvent('sso.sessions_ended');

// --- webhooks ---
/** webhooks: an endpoint was created. */
export const webhookEndpointCreated = defineEvent('webhook_endpoint.created');
/** webhooks: an endpoint's URL, type filter or state changed. */
export const webhookEndpointUpdated = defineEvent('webhook_endpoint.updated');
/** webhooks: an endpoint was deleted. */
export const webhookEndpointDeleted = defineEvent('webhook_endpoint.deleted');
/** webhooks: an endpoint's signing secret was rotated. */
export const webhookEndpointSecretRotated = defineEvent('webhook_endpoint.secret_rotated');
/** webhooks: an endpoint was disabled after too many dead-lettered deliveries in a row. */
export const webhookEndpointDisabled = defineEvent('webhook_endpoint.disabled');

// --- console ---
/** console: someone signed in to the admin console (an admin token, or SSO as an owner). */
export const consoleSignedIn = defineEvent('console.signed_in');
/** console: someone signed out of the admin console. */
export const consoleSignedOut = defineEvent('console.signed_out');
/** console: an SSO sign-in to the console was refused (not an owner). */
export const consoleSignInDenied = defineEvent('console.sign_in_denied');
