/**
 * The role-mapping service: loads what `decideMemberships` needs, inside the caller's transaction,
 * and applies the decision (org memberships, team memberships, new teams), publishing one domain
 * event per change in the same transaction.
 *
 * Concurrency (MySQL/MariaDB; SQLite transactions are serialised in process):
 * - The user's `users` row is locked FOR UPDATE first. It always exists, so every mapping write for
 *   one person queues behind it; locking the membership rows alone would not do, since a user
 *   without memberships has no rows to lock (gap locks taken by a read of nothing are shared and
 *   end in deadlocks when both sides insert).
 * - Memberships are then read with locking reads, so they are the latest committed ones even when
 *   the caller's transaction already holds an older snapshot.
 * - Seat and last-owner checks depend on other users' memberships: when a decision adds a member
 *   to a seat-limited organization, or demotes/removes an owner, the organization rows are locked
 *   (in id order) and the counts re-read with locking reads, and the decision is made again.
 * - Teams are created optimistically; `uq_teams_org_name` is the final guard. A duplicate-key
 *   error means someone else created the team first: it is re-read and used.
 *
 * Round trips: the reads are one statement (`loadState`, `lockUsersMemberships` in state.ts), the
 * seat/owner recount another, and each write one raw statement (no query builder, and no re-read of
 * the defaulted timestamps that the builder's insert does).
 */
import type { EntityManager } from 'typeorm';
import { type EventBus } from '@doorman/core';
import { InputError, type Actor, type ApplyMappingRequest, type GroupDirectory, type GroupsChangedRequest, type GroupsChangedResult, type MappingSummary, type RoleMappingService } from '@doorman/plugin-api';
import type { OrgRole } from '@doorman/model';
import { applyChanges, describeChanges, RowBatch, type SummaryChange } from './apply-changes.ts';
import { decisionContexts } from './decision-context.ts';
import { resolveGroups, type GroupFact, type GroupRuleSet } from './group-rules.ts';
import { decideMemberships, type MappingDecision, type MappingFlow, type MappingInput } from './policy.ts';
import { revokeConnectionMembershipsOf, type RevokeRequest, type RevokeSummary } from './revoke.ts';
import { loadState, loadStates, lockOrgsAndCount, type MappingState } from './state.ts';
import { locks, placeholders } from './union-read.ts';

export type { SummaryChange } from './apply-changes.ts';

export interface ApplySummary extends MappingSummary {
  changes: SummaryChange[];
}

export interface PreviewResult extends ApplySummary {
  /** The role the user would hold in the effective organization. */
  role: OrgRole;
  /** The role the mapping asks for (may differ: JIT later sign-ins, memberships the mapping does not own). */
  mappedRole: OrgRole;
  effectiveOrg: { id: string; name: string };
  /** The mapping team (dockerTeam or the default team), or null. */
  team: string | null;
  /** The value used for a JIT preview. */
  firstTime: boolean;
}

export type { RevokeSummary } from './revoke.ts';

export interface PreviewRequest {
  connectionId: string;
  /** null: a person with no account yet (no memberships). */
  userId: string | null;
  attributes: ApplyMappingRequest['attributes'];
  flow: MappingFlow;
  /** JIT only; default: the user holds no membership granted by this connection. */
  firstTime?: boolean;
  /** Decide with these rules instead of the stored ones (a rule change's dry run). */
  rules?: GroupRuleSet;
}

export interface ServiceDeps {
  events: EventBus;
  /** scim-groups' directory, or null when that plugin is not enabled (a person then has no SCIM groups). */
  directory(): GroupDirectory | null;
  /** Records a sync job for the people these groups concern (in `tx`); returns its id. */
  enqueueGroupSync(tx: EntityManager, connectionId: string, groupIds: string[]): Promise<string>;
  /** Most people a group change re-decides in its own transaction; more go to the sync job. */
  inlineLimit: number;
}

/** The SCIM groups that list the person (none for a person with no account, or without scim-groups). */
export async function groupsOf(deps: Pick<ServiceDeps, 'directory'>, tx: EntityManager, connectionId: string, userId: string | null, lock: boolean): Promise<GroupFact[]> {
  const directory = deps.directory();
  if (!directory || userId === null) return [];
  return directory.groupsOfUser(tx, connectionId, userId, lock);
}

/** A request's SCIM groups (locking read); none for an account created in this transaction: no group can hold it yet. */
async function requestGroups(deps: Pick<ServiceDeps, 'directory'>, tx: EntityManager, request: ApplyMappingRequest): Promise<GroupFact[]> {
  if (request.flow !== 'scim' || request.accountCreated) return [];
  return groupsOf(deps, tx, request.connectionId, request.userId, true);
}

function toInput(state: MappingState, request: { flow: MappingFlow; firstTime: boolean; attributes: MappingInput['attributes'] }, groups: GroupFact[], rules?: GroupRuleSet): MappingInput {
  return {
    flow: request.flow,
    firstTime: request.firstTime,
    connection: state.connection,
    orgs: state.orgs,
    teams: state.teams,
    current: {
      orgs: state.orgMemberships.map((m) => ({ orgId: m.orgId, role: m.role, source: m.source, connectionId: m.connectionId })),
      teams: state.teamMemberships.map((t) => ({ teamId: t.teamId, orgId: t.orgId, connectionId: t.connectionId, grantedBy: t.grantedBy })),
      grants: state.grants.map((g) => ({ orgId: g.orgId, teamId: g.teamId, connectionId: g.connectionId, groupId: g.groupId, role: g.role })),
    },
    attributes: {
      dockerRole: request.attributes.dockerRole ?? null,
      dockerOrg: request.attributes.dockerOrg ?? null,
      dockerTeam: request.attributes.dockerTeam ?? null,
      groups: request.attributes.groups ?? [],
    },
    groups,
    rules: rules ?? state.rules,
  };
}

/**
 * When a decision depends on other people's memberships (seats, last owner), locks the organization
 * rows concerned and re-reads the counts with locking reads, so two transactions cannot both take the
 * last seat or both demote one of the last two owners. Returns true when counts were refreshed.
 */
async function lockAndRecount(tx: EntityManager, state: MappingState, decision: MappingDecision): Promise<boolean> {
  if (!locks(tx).mysql) return false;
  const { seatOrgs, ownerOrgs } = countsRelied(state, decision);
  if (!seatOrgs.size && !ownerOrgs.size) return false;
  const orgById = new Map(state.orgs.map((o) => [o.id, o]));
  const { seats, owners } = await lockOrgsAndCount(tx, [...seatOrgs], [...ownerOrgs]);
  for (const [id, n] of seats) orgById.get(id)!.seatsUsed = n;
  for (const [id, n] of owners) orgById.get(id)!.ownerCount = n;
  return true;
}

/**
 * The organizations whose counts a decision relied on: seat-limited ones it adds the person to, and
 * ones where it demotes or removes an owner (the last-owner rule).
 */
export function countsRelied(state: MappingState, decision: MappingDecision): { seatOrgs: Set<string>; ownerOrgs: Set<string> } {
  const orgById = new Map(state.orgs.map((o) => [o.id, o]));
  const roleIn = new Map(state.orgMemberships.map((m) => [m.orgId, m.role]));
  const seatOrgs = new Set<string>();
  const ownerOrgs = new Set<string>();
  for (const c of decision.changes) {
    if (c.kind === 'addOrgMembership' && orgById.get(c.orgId)?.seatLimit != null) seatOrgs.add(c.orgId);
    if (c.kind === 'changeRole' && c.from === 'owner') ownerOrgs.add(c.orgId);
    if (c.kind === 'removeOrgMembership' && roleIn.get(c.orgId) === 'owner') ownerOrgs.add(c.orgId);
  }
  return { seatOrgs, ownerOrgs };
}

/**
 * Whether a decision made on a state read together with other people's may differ from the one made
 * after theirs were applied: it relies on counts their changes move, or creates a team one of them
 * may create first. Such a group is applied one person at a time (`applyMany`).
 */
export function dependsOnOthers(state: MappingState, decision: MappingDecision): boolean {
  const { seatOrgs, ownerOrgs } = countsRelied(state, decision);
  return seatOrgs.size > 0 || ownerOrgs.size > 0 || decision.changes.some((c) => c.kind === 'createTeam');
}

/** What applying `request` would change, read-only (no locks, no writes). */
export async function previewMapping(deps: Pick<ServiceDeps, 'directory'>, tx: EntityManager, request: PreviewRequest): Promise<PreviewResult> {
  const groups = request.flow === 'scim' ? await groupsOf(deps, tx, request.connectionId, request.userId, false) : [];
  const state = await loadState(tx, { ...request, groups }, false);
  const firstTime = request.firstTime ?? !state.orgMemberships.some((m) => m.connectionId === request.connectionId && m.source !== 'manual');
  const decision = decideMemberships(toInput(state, { flow: request.flow, firstTime, attributes: request.attributes }, groups, request.rules));
  const effective = state.orgs.find((o) => o.id === decision.effectiveOrgId)!;
  return {
    changes: describeChanges(state, decision.changes),
    ignoredGroups: decision.ignoredGroups,
    role: decision.role,
    mappedRole: decision.mappedRole,
    effectiveOrg: { id: effective.id, name: effective.name },
    team: decision.team,
    firstTime: request.flow === 'jit' ? firstTime : false,
  };
}

/** A SCIM user's stored attributes and status in one connection (null: not a user of it). */
export async function storedAttributes(tx: EntityManager, connectionId: string, userId: string) {
  const [row]: Array<{ active: number | boolean; dockerRole: string | null; dockerOrg: string | null; dockerTeam: string | null }> = await tx.query(
    'SELECT active, docker_role AS dockerRole, docker_org AS dockerOrg, docker_team AS dockerTeam FROM connection_users WHERE connection_id = ? AND user_id = ?',
    [connectionId, userId],
  );
  if (!row) return null;
  return { active: Boolean(Number(row.active)), attributes: { dockerRole: row.dockerRole, dockerOrg: row.dockerOrg, dockerTeam: row.dockerTeam } };
}

/** RoleMappingService with the precise result types this plugin returns. */
export interface RoleMappingServiceImpl extends RoleMappingService {
  apply(tx: EntityManager, request: ApplyMappingRequest): Promise<ApplySummary>;
  applyMany(tx: EntityManager, requests: ApplyMappingRequest[]): Promise<ApplySummary[]>;
  preview(tx: EntityManager, request: Omit<ApplyMappingRequest, 'actor'>): Promise<PreviewResult>;
  revokeConnectionMemberships(tx: EntityManager, request: RevokeRequest): Promise<RevokeSummary>;
  revokeConnectionMembershipsOfMany(tx: EntityManager, requests: RevokeRequest[]): Promise<RevokeSummary[]>;
  /** Re-applies the mapping to a SCIM user from their stored attributes (skips inactive and unknown users). */
  applyStored(tx: EntityManager, request: { connectionId: string; userId: string; actor: Actor }): Promise<ApplySummary | null>;
}

export function createRoleMappingService(deps: ServiceDeps): RoleMappingServiceImpl {
  const { events } = deps;
  /** Writes a decision's changes and publishes their events (nothing when it changes nothing). */
  const applyDecision = async (tx: EntityManager, request: ApplyMappingRequest, state: MappingState, input: MappingInput, decision: MappingDecision, batch?: RowBatch): Promise<ApplySummary> => {
    if (!decision.changes.length) return { changes: [], ignoredGroups: decision.ignoredGroups };
    const contextOf = decisionContexts(input, decision);
    const changes = await applyChanges(
      { tx, events, actor: request.actor, connectionId: request.connectionId, userId: request.userId, flow: request.flow, context: (c) => ({ ...contextOf(c) }), batch },
      state,
      decision,
    );
    return { changes, ignoredGroups: decision.ignoredGroups };
  };
  const service: RoleMappingServiceImpl = {
    async apply(tx, request) {
      // The person's groups first, with a locking read: a group change committing meanwhile is seen,
      // and one starting later waits (docs/group-mapping.md, "Concurrency").
      const groups = await requestGroups(deps, tx, request);
      const state = await loadState(tx, { ...request, groups }, true);
      const input = () => toInput(state, request, groups);
      let decision = decideMemberships(input());
      // Decide again on fresh, locked counts when the first decision relied on them.
      if (await lockAndRecount(tx, state, decision)) decision = decideMemberships(input());
      return applyDecision(tx, request, state, input(), decision);
    },

    async applyMany(tx, requests) {
      const connectionId = requests[0]?.connectionId;
      const people = new Set(requests.map((r) => r.userId));
      const one = async () => {
        const summaries: ApplySummary[] = [];
        for (const request of requests) summaries.push(await service.apply(tx, request));
        return summaries;
      };
      if (requests.length < 2 || people.size < requests.length || requests.some((r) => r.connectionId !== connectionId)) return one();
      // Everyone's groups, then everyone's state in one statement (the users' rows locked in id order).
      const groups: GroupFact[][] = [];
      for (const request of requests) groups.push(await requestGroups(deps, tx, request));
      const states = await loadStates(tx, connectionId!, requests.map((r, i) => ({ ...r, groups: groups[i] })), true);
      const inputs = requests.map((request, i) => toInput(states[i]!, request, groups[i]!));
      const decisions = inputs.map((input) => decideMemberships(input));
      // A decision another person's changes could alter (seats, owners, a new team): one at a time,
      // each reading what the ones before it wrote. The statement above then read nothing for them.
      if (decisions.some((decision, i) => dependsOnOthers(states[i]!, decision))) return one();
      // Their new rows in one INSERT per table (apply-changes.ts, RowBatch).
      const batch = new RowBatch();
      const summaries: ApplySummary[] = [];
      for (const [i, request] of requests.entries()) summaries.push(await applyDecision(tx, request, states[i]!, inputs[i]!, decisions[i]!, batch));
      await batch.flush(tx);
      return summaries;
    },

    async preview(tx, request) {
      return previewMapping(deps, tx, { ...request, userId: request.userId });
    },

    async applyStored(tx, { connectionId, userId, actor }) {
      const stored = await storedAttributes(tx, connectionId, userId);
      // Deactivated people hold nothing from this connection (deactivation revoked it); reactivation re-applies.
      if (!stored || !stored.active) return null;
      return service.apply(tx, { connectionId, userId, attributes: stored.attributes, flow: 'scim', firstTime: false, actor });
    },

    async groupsChanged(tx, request: GroupsChangedRequest): Promise<GroupsChangedResult> {
      const { connectionId, groupIds, actor } = request;
      const limit = deps.inlineLimit;
      let users: string[];
      if (request.userIds) users = [...new Set(request.userIds)];
      else {
        const directory = deps.directory();
        const members = directory ? await directory.membersOf(tx, connectionId, groupIds, '', limit + 1) : [];
        const holders = await grantHolders(tx, groupIds, '', limit + 1);
        users = [...new Set([...members, ...holders])];
      }
      if (users.length > limit) {
        // Many people: the sync job, unless these groups grant nothing now and granted nothing before
        // (an unmapped group of 10,000 members costs no job).
        if (!(await grantsAnything(deps, tx, connectionId, groupIds))) return { applied: 0, jobId: null };
        return { applied: 0, jobId: await deps.enqueueGroupSync(tx, connectionId, groupIds) };
      }
      // In id order, so two group changes that concern the same people lock them in the same order.
      users.sort();
      let applied = 0;
      for (const userId of users) {
        try {
          if (await service.applyStored(tx, { connectionId, userId, actor })) applied += 1;
        } catch (err) {
          // A person's own bad attribute (or last-owner rule) must not refuse the IdP's group change:
          // the decision throws before writing, and the next sync reports it. Seats do refuse (403).
          if (!(err instanceof InputError)) throw err;
        }
      }
      return { applied, jobId: null };
    },

    /** Deactivation (revoke.ts). */
    async revokeConnectionMemberships(tx, request) {
      return (await revokeConnectionMembershipsOf(tx, events, [request]))[0]!;
    },

    /** A batch of deactivations: the statements of one (revoke.ts). */
    async revokeConnectionMembershipsOfMany(tx, requests) {
      return revokeConnectionMembershipsOf(tx, events, requests);
    },
  };
  return service;
}

/** Whether any of the groups maps to something under the connection's rules, or still has grants. */
async function grantsAnything(deps: Pick<ServiceDeps, 'directory'>, tx: EntityManager, connectionId: string, groupIds: string[]): Promise<boolean> {
  if ((await grantHolders(tx, groupIds, '', 1)).length) return true;
  const directory = deps.directory();
  const groups = directory ? await directory.groups(tx, connectionId, groupIds) : [];
  if (!groups.length) return false;
  const state = await loadState(tx, { connectionId, userId: null, attributes: {} }, false);
  return resolveGroups(groups, state.rules, state.orgs).targets.length > 0;
}

/** People holding something granted by any of `groupIds`, distinct, ascending, after `after`. */
export async function grantHolders(tx: EntityManager, groupIds: string[], after: string, limit: number): Promise<string[]> {
  if (!groupIds.length) return [];
  const rows: Array<{ userId: string }> = await tx.query(
    `SELECT DISTINCT user_id AS userId FROM membership_grants WHERE kind = 'group' AND source_ref IN (${placeholders(groupIds.length)}) AND user_id > ? ORDER BY user_id LIMIT ${Number(limit)}`,
    [...groupIds, after],
  );
  return rows.map((r) => r.userId);
}
