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
 * Round trips: the reads are one statement (`loadState`, `lockUserMemberships` in state.ts), the
 * seat/owner recount another, and each write one raw statement (no query builder, and no re-read of
 * the defaulted timestamps that the builder's insert does).
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  ConflictError,
  isDuplicateKeyError,
  type Actor,
  type ApplyMappingRequest,
  type DomainEvent,
  type EventBus,
  type MappingSummary,
  type RoleMappingService,
} from '@doorman/core';
import { grantViaOf, type OrgRole } from '@doorman/model';
import { decideMemberships, type MappingDecision, type MappingFlow, type MappingInput, type MembershipChange } from './policy.ts';
import { loadState, lockOrgsAndCount, lockUserMemberships, locks, placeholders, type MappingState, type OrgMembershipRow } from './state.ts';

/** One change, as reported in summaries, previews and sync results (policy kinds, plus names). */
export type SummaryChange =
  | { kind: 'addOrgMembership'; orgId: string; org: string; role: OrgRole }
  | { kind: 'changeRole'; orgId: string; org: string; from: OrgRole; to: OrgRole }
  | { kind: 'removeOrgMembership'; orgId: string; org: string; role: OrgRole | null }
  | { kind: 'createTeam'; orgId: string; org: string; team: string; teamId: string | null }
  | { kind: 'addTeamMembership'; orgId: string; org: string; team: string; teamId: string | null; grantedBy: 'mapping' | 'group' }
  | { kind: 'removeTeamMembership'; orgId: string; org: string; team: string; teamId: string };

export interface ApplySummary extends MappingSummary {
  changes: SummaryChange[];
}

export interface PreviewResult extends ApplySummary {
  /** The role the user would hold in the effective organization. */
  role: OrgRole;
  /** The role the attributes ask for (may differ: JIT later sign-ins, memberships the mapping does not own). */
  mappedRole: OrgRole;
  effectiveOrg: { id: string; name: string };
  /** The mapping team (dockerTeam or the default team), or null. */
  team: string | null;
  /** The value used for a JIT preview. */
  firstTime: boolean;
}

export interface RevokeSummary extends ApplySummary {
  /** Org memberships deliberately kept, with why (the deactivation itself still succeeds). */
  skipped: Array<{ kind: 'removeOrgMembership'; orgId: string; org: string; reason: 'last owner' | 'holds other teams' }>;
}

export interface PreviewRequest {
  connectionId: string;
  /** null: a person with no account yet (no memberships). */
  userId: string | null;
  attributes: ApplyMappingRequest['attributes'];
  flow: MappingFlow;
  /** JIT only; default: the user holds no membership granted by this connection. */
  firstTime?: boolean;
}

const teamKey = (orgId: string, name: string) => `${orgId}\u0000${name.toLowerCase()}`;

function toInput(state: MappingState, request: { flow: MappingFlow; firstTime: boolean; attributes: MappingInput['attributes'] }): MappingInput {
  return {
    flow: request.flow,
    firstTime: request.firstTime,
    connection: state.connection,
    orgs: state.orgs,
    teams: state.teams,
    current: {
      orgs: state.orgMemberships.map((m) => ({ orgId: m.orgId, role: m.role, source: m.source, connectionId: m.connectionId })),
      teams: state.teamMemberships.map((t) => ({ teamId: t.teamId, orgId: t.orgId, connectionId: t.connectionId, grantedBy: t.grantedBy })),
    },
    attributes: {
      dockerRole: request.attributes.dockerRole ?? null,
      dockerOrg: request.attributes.dockerOrg ?? null,
      dockerTeam: request.attributes.dockerTeam ?? null,
      groups: request.attributes.groups ?? [],
    },
  };
}

/**
 * When a decision depends on other people's memberships (seats, last owner), locks the organization
 * rows concerned and re-reads the counts with locking reads, so two transactions cannot both take the
 * last seat or both demote one of the last two owners. Returns true when counts were refreshed.
 */
async function lockAndRecount(tx: EntityManager, state: MappingState, decision: MappingDecision): Promise<boolean> {
  if (!locks(tx).mysql) return false;
  const orgById = new Map(state.orgs.map((o) => [o.id, o]));
  const roleIn = new Map(state.orgMemberships.map((m) => [m.orgId, m.role]));
  const seatOrgs = new Set<string>();
  const ownerOrgs = new Set<string>();
  for (const c of decision.changes) {
    if (c.kind === 'addOrgMembership' && orgById.get(c.orgId)?.seatLimit != null) seatOrgs.add(c.orgId);
    if (c.kind === 'changeRole' && c.from === 'owner') ownerOrgs.add(c.orgId);
    if (c.kind === 'removeOrgMembership' && roleIn.get(c.orgId) === 'owner') ownerOrgs.add(c.orgId);
  }
  if (!seatOrgs.size && !ownerOrgs.size) return false;
  const { seats, owners } = await lockOrgsAndCount(tx, [...seatOrgs], [...ownerOrgs]);
  for (const [id, n] of seats) orgById.get(id)!.seatsUsed = n;
  for (const [id, n] of owners) orgById.get(id)!.ownerCount = n;
  return true;
}

/** Names for a decision's changes, without writing anything. */
function describeChanges(state: MappingState, changes: MembershipChange[]): SummaryChange[] {
  const orgName = new Map(state.orgs.map((o) => [o.id, o.name]));
  const teamById = new Map(state.teams.map((t) => [t.id, t]));
  const roleIn = new Map(state.orgMemberships.map((m) => [m.orgId, m.role]));
  const org = (id: string) => orgName.get(id) ?? id;
  return changes.map((c): SummaryChange => {
    switch (c.kind) {
      case 'addOrgMembership':
        return { kind: c.kind, orgId: c.orgId, org: org(c.orgId), role: c.role };
      case 'changeRole':
        return { kind: c.kind, orgId: c.orgId, org: org(c.orgId), from: c.from, to: c.to };
      case 'removeOrgMembership':
        return { kind: c.kind, orgId: c.orgId, org: org(c.orgId), role: roleIn.get(c.orgId) ?? null };
      case 'createTeam':
        return { kind: c.kind, orgId: c.orgId, org: org(c.orgId), team: c.name, teamId: null };
      case 'addTeamMembership':
        return { kind: c.kind, orgId: c.orgId, org: org(c.orgId), team: c.teamName, teamId: c.teamId, grantedBy: c.grantedBy };
      case 'removeTeamMembership':
        return { kind: c.kind, orgId: c.orgId, org: org(c.orgId), team: teamById.get(c.teamId)?.name ?? c.teamId, teamId: c.teamId };
    }
  });
}

interface ApplyContext {
  tx: EntityManager;
  events: EventBus;
  actor: Actor;
  connectionId: string;
  userId: string;
  flow: MappingFlow;
}

/** Creates a team, or finds the one a concurrent transaction created first (uq_teams_org_name). */
async function createOrFindTeam(ctx: ApplyContext, orgId: string, name: string): Promise<{ id: string; name: string; created: boolean }> {
  const id = randomUUID();
  try {
    await ctx.tx.query('INSERT INTO teams (id, org_id, name, name_lc) VALUES (?, ?, ?, ?)', [id, orgId, name, name.toLowerCase()]);
    return { id, name, created: true };
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    // A locking read sees the committed row even if this transaction's snapshot predates it.
    const [row]: Array<{ id: string; name: string }> = await ctx.tx.query(
      `SELECT id, name FROM teams WHERE org_id = ? AND name_lc = ?${locks(ctx.tx).forShare}`,
      [orgId, name.toLowerCase()],
    );
    if (!row) throw new ConflictError(`team '${name}' was changed concurrently; retry`, { cause: err });
    return { id: row.id, name: row.name, created: false };
  }
}

async function applyChanges(ctx: ApplyContext, state: MappingState, decision: MappingDecision): Promise<SummaryChange[]> {
  const { tx, events, actor, connectionId, userId, flow } = ctx;
  const described = describeChanges(state, decision.changes);
  const done: SummaryChange[] = [];
  const created = new Map<string, string>();
  const user = { type: 'user', id: userId };
  const publish = (event: DomainEvent) => events.publish(tx, actor, { connectionId, ...event });
  const orgMembershipOf = (orgId: string) => state.orgMemberships.find((m) => m.orgId === orgId);

  for (const [i, c] of decision.changes.entries()) {
    const summary = described[i]!;
    switch (c.kind) {
      case 'addOrgMembership': {
        try {
          await tx.query('INSERT INTO org_memberships (id, org_id, user_id, role, source, connection_id, grant_via) VALUES (?, ?, ?, ?, ?, ?, ?)', [
            randomUUID(),
            c.orgId,
            userId,
            c.role,
            flow,
            connectionId,
            grantViaOf(flow),
          ]);
        } catch (err) {
          // Only a writer that does not take the user lock (e.g. an admin adding the member) can get here.
          if (isDuplicateKeyError(err)) throw new ConflictError(`the user's membership in organization '${summary.org}' changed concurrently; retry`, { cause: err });
          throw err;
        }
        await publish({ action: 'member.added', orgId: c.orgId, target: user, changes: { role: { after: c.role }, source: { after: flow } } });
        done.push(summary);
        break;
      }
      case 'changeRole': {
        await tx.query('UPDATE org_memberships SET role = ?, updated_at = CURRENT_TIMESTAMP WHERE org_id = ? AND user_id = ?', [c.to, c.orgId, userId]);
        await publish({ action: 'member.role_changed', orgId: c.orgId, target: user, changes: { role: { before: c.from, after: c.to } } });
        done.push(summary);
        break;
      }
      case 'removeOrgMembership': {
        const m = orgMembershipOf(c.orgId)!;
        await tx.query('DELETE FROM org_memberships WHERE id = ?', [m.id]);
        await publish({ action: 'member.removed', orgId: c.orgId, target: user, changes: { role: { before: m.role } } });
        done.push(summary);
        break;
      }
      case 'createTeam': {
        const team = await createOrFindTeam(ctx, c.orgId, c.name);
        created.set(teamKey(c.orgId, c.name), team.id);
        if (team.created) {
          await publish({ action: 'team.created', orgId: c.orgId, target: { type: 'team', id: team.id }, changes: { name: { after: team.name } } });
          done.push({ ...(summary as Extract<SummaryChange, { kind: 'createTeam' }>), teamId: team.id });
        }
        break;
      }
      case 'addTeamMembership': {
        const teamId = c.teamId ?? created.get(teamKey(c.orgId, c.teamName));
        if (!teamId) throw new Error(`addTeamMembership without a team for '${c.teamName}'`);
        try {
          await tx.query('INSERT INTO team_memberships (id, team_id, org_id, user_id, source, connection_id, granted_by, grant_via) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
            randomUUID(),
            teamId,
            c.orgId,
            userId,
            flow,
            connectionId,
            c.grantedBy,
            grantViaOf(flow, c.grantedBy),
          ]);
        } catch (err) {
          // Already a member (a team re-read after a concurrent creation): nothing to do, nothing to record.
          if (isDuplicateKeyError(err)) break;
          throw err;
        }
        await publish({
          action: 'team_member.added',
          orgId: c.orgId,
          target: user,
          changes: { team: { after: c.teamName }, teamId: { after: teamId }, grantedBy: { after: c.grantedBy } },
        });
        done.push({ ...(summary as Extract<SummaryChange, { kind: 'addTeamMembership' }>), teamId });
        break;
      }
      case 'removeTeamMembership': {
        const removed = state.teamMemberships.filter((t) => t.teamId === c.teamId && t.connectionId === connectionId && t.grantedBy === 'mapping');
        if (!removed.length) break;
        await tx.query(`DELETE FROM team_memberships WHERE id IN (${placeholders(removed.length)})`, removed.map((t) => t.id));
        const team = (summary as Extract<SummaryChange, { kind: 'removeTeamMembership' }>).team;
        await publish({ action: 'team_member.removed', orgId: c.orgId, target: user, changes: { team: { before: team }, teamId: { before: c.teamId } } });
        done.push(summary);
        break;
      }
    }
  }
  return done;
}

/** What applying `request` would change, read-only (no locks, no writes). */
export async function previewMapping(tx: EntityManager, request: PreviewRequest): Promise<PreviewResult> {
  const state = await loadState(tx, request, false);
  const firstTime = request.firstTime ?? !state.orgMemberships.some((m) => m.connectionId === request.connectionId && m.source !== 'manual');
  const decision = decideMemberships(toInput(state, { flow: request.flow, firstTime, attributes: request.attributes }));
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

/** RoleMappingService with the precise result types this plugin returns. */
export interface RoleMappingServiceImpl extends RoleMappingService {
  apply(tx: EntityManager, request: ApplyMappingRequest): Promise<ApplySummary>;
  preview(tx: EntityManager, request: Omit<ApplyMappingRequest, 'actor'>): Promise<PreviewResult>;
  revokeConnectionMemberships(tx: EntityManager, request: { connectionId: string; userId: string; actor: Actor }): Promise<RevokeSummary>;
}

export function createRoleMappingService(events: EventBus): RoleMappingServiceImpl {
  return {
    async apply(tx, request) {
      const state = await loadState(tx, request, true);
      const input = () => toInput(state, request);
      let decision = decideMemberships(input());
      // Decide again on fresh, locked counts when the first decision relied on them.
      if (await lockAndRecount(tx, state, decision)) decision = decideMemberships(input());
      if (!decision.changes.length) return { changes: [], ignoredGroups: decision.ignoredGroups };
      const changes = await applyChanges(
        { tx, events, actor: request.actor, connectionId: request.connectionId, userId: request.userId, flow: request.flow },
        state,
        decision,
      );
      return { changes, ignoredGroups: decision.ignoredGroups };
    },

    async preview(tx, request) {
      return previewMapping(tx, { ...request, userId: request.userId });
    },

    /**
     * Deactivation: removes the user's team memberships granted by this connection and the org
     * memberships it provisioned (source scim/jit). Two org memberships are kept and reported in
     * `skipped` rather than failing (a deactivation job must not fail forever):
     * - the user is the organization's last owner ("Don't remove the only organization owner");
     * - the user still holds a team there that this connection did not grant (as the policy does).
     */
    async revokeConnectionMemberships(tx, { connectionId, userId, actor }) {
      const summary: RevokeSummary = { changes: [], ignoredGroups: [], skipped: [] };
      const memberships = await lockUserMemberships(tx, userId);
      if (!memberships) return summary;
      const { orgMemberships, teamMemberships } = memberships;
      const ownedTeams = teamMemberships.filter((t) => t.connectionId === connectionId);
      const ownedOrgs = orgMemberships.filter((m) => m.connectionId === connectionId && m.source !== 'manual');
      if (!ownedTeams.length && !ownedOrgs.length) return summary;

      const orgName = new Map<string, string>();
      for (const m of [...orgMemberships, ...teamMemberships]) if (m.orgName !== null) orgName.set(m.orgId, m.orgName);
      const org = (id: string) => orgName.get(id) ?? id;
      const user = { type: 'user', id: userId };

      const removeOrgs: OrgMembershipRow[] = [];
      const ownerOrgs = ownedOrgs.filter((m) => m.role === 'owner').map((m) => m.orgId);
      const { owners: ownerCount } = await lockOrgsAndCount(tx, [], ownerOrgs);
      for (const m of ownedOrgs) {
        if (teamMemberships.some((t) => t.orgId === m.orgId && t.connectionId !== connectionId)) {
          summary.skipped.push({ kind: 'removeOrgMembership', orgId: m.orgId, org: org(m.orgId), reason: 'holds other teams' });
        } else if (m.role === 'owner' && (ownerCount.get(m.orgId) ?? 0) <= 1) {
          summary.skipped.push({ kind: 'removeOrgMembership', orgId: m.orgId, org: org(m.orgId), reason: 'last owner' });
        } else removeOrgs.push(m);
      }

      // One DELETE per table; the events follow, one per membership, in the same order as before.
      if (ownedTeams.length) await tx.query(`DELETE FROM team_memberships WHERE id IN (${placeholders(ownedTeams.length)})`, ownedTeams.map((t) => t.id));
      for (const t of ownedTeams) {
        const name = t.teamName ?? t.teamId;
        await events.publish(tx, actor, {
          action: 'team_member.removed',
          orgId: t.orgId,
          connectionId,
          target: user,
          changes: { team: { before: name }, teamId: { before: t.teamId } },
        });
        summary.changes.push({ kind: 'removeTeamMembership', orgId: t.orgId, org: org(t.orgId), team: name, teamId: t.teamId });
      }
      if (removeOrgs.length) await tx.query(`DELETE FROM org_memberships WHERE id IN (${placeholders(removeOrgs.length)})`, removeOrgs.map((m) => m.id));
      for (const m of removeOrgs) {
        await events.publish(tx, actor, { action: 'member.removed', orgId: m.orgId, connectionId, target: user, changes: { role: { before: m.role } } });
        summary.changes.push({ kind: 'removeOrgMembership', orgId: m.orgId, org: org(m.orgId), role: m.role });
      }
      return summary;
    },
  };
}
