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
 */
import { randomUUID } from 'node:crypto';
import { In, type EntityManager } from 'typeorm';
import {
  ConflictError,
  NotFoundError,
  isDuplicateKeyError,
  type Actor,
  type ApplyMappingRequest,
  type DomainEvent,
  type EventBus,
  type MappingSummary,
  type RoleMappingService,
} from '@doorman/core';
import {
  isMysql,
  OrganizationEntity,
  OrgMembershipEntity,
  SsoConnectionEntity,
  TeamEntity,
  TeamMembershipEntity,
  UserEntity,
  type OrgMembership,
  type OrgRole,
  type TeamMembership,
} from '@doorman/model';
import { decideMemberships, type MappingDecision, type MappingFlow, type MappingInput, type MembershipChange } from './policy.ts';

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

interface MappingState {
  connection: MappingInput['connection'];
  orgs: MappingInput['orgs'];
  teams: MappingInput['teams'];
  orgMemberships: OrgMembership[];
  teamMemberships: TeamMembership[];
}

const teamKey = (orgId: string, name: string) => `${orgId}\u0000${name.toLowerCase()}`;
const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** Lock clauses, empty on SQLite (no row locks there; its transactions are serialised). */
function locks(tx: EntityManager) {
  const mysql = isMysql(tx.connection);
  return { mysql, forUpdate: mysql ? ' FOR UPDATE' : '', forShare: mysql ? ' LOCK IN SHARE MODE' : '' };
}

async function loadConnection(tx: EntityManager, connectionId: string) {
  const connection = await tx.getRepository(SsoConnectionEntity).findOne({
    where: { id: connectionId },
    select: { id: true, defaultOrgId: true, defaultTeam: true },
  });
  if (!connection) throw new NotFoundError(`SSO connection '${connectionId}' not found`, { field: 'connectionId' });
  return connection;
}

/**
 * The organizations a connection serves, with the counts the policy may need. Counting a large
 * organization's members costs milliseconds, so each count is made only where it can matter: seats
 * where there is a seat limit, owners where this user is an owner (the last-owner rule). Elsewhere
 * the count reads 0, which the policy never consults.
 */
async function loadServedOrgs(tx: EntityManager, connectionId: string, userId: string | null): Promise<MappingInput['orgs']> {
  const rows: Array<{ id: string; name: string; seatLimit: number | string | null; seatsUsed: number | string; ownerCount: number | string }> =
    await tx.query(
      `SELECT o.id AS id, o.name AS name, o.seat_limit AS seatLimit,
              CASE WHEN o.seat_limit IS NULL THEN 0
                   ELSE (SELECT COUNT(*) FROM org_memberships m WHERE m.org_id = o.id) END AS seatsUsed,
              CASE WHEN EXISTS (SELECT 1 FROM org_memberships mine WHERE mine.org_id = o.id AND mine.user_id = ? AND mine.role = 'owner')
                   THEN (SELECT COUNT(*) FROM org_memberships m WHERE m.org_id = o.id AND m.role = 'owner') ELSE 0 END AS ownerCount
         FROM connection_orgs co JOIN organizations o ON o.id = co.org_id
        WHERE co.connection_id = ?
        ORDER BY o.id`,
      [userId ?? '', connectionId],
    );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    seatLimit: r.seatLimit === null ? null : Number(r.seatLimit),
    seatsUsed: Number(r.seatsUsed),
    ownerCount: Number(r.ownerCount),
  }));
}

/** Locks the user's row (the per-person mutex); false when there is no such user. */
async function lockUser(tx: EntityManager, userId: string): Promise<boolean> {
  const rows: unknown[] = await tx.query(`SELECT id FROM users WHERE id = ?${locks(tx).forUpdate}`, [userId]);
  return rows.length > 0;
}

async function loadMemberships(tx: EntityManager, userId: string, lock: boolean) {
  const lockOption = lock && locks(tx).mysql ? { lock: { mode: 'pessimistic_write' as const } } : {};
  const orgMemberships = await tx.getRepository(OrgMembershipEntity).find({ where: { userId }, ...lockOption });
  const teamMemberships = await tx.getRepository(TeamMembershipEntity).find({ where: { userId }, ...lockOption });
  return { orgMemberships, teamMemberships };
}

async function loadState(tx: EntityManager, connectionId: string, userId: string | null, lock: boolean): Promise<MappingState> {
  if (userId !== null && lock && !(await lockUser(tx, userId))) throw new NotFoundError(`user '${userId}' not found`, { field: 'userId' });
  const connection = await loadConnection(tx, connectionId);
  const orgs = await loadServedOrgs(tx, connectionId, userId);
  const orgIds = orgs.map((o) => o.id);
  const teams = orgIds.length
    ? (await tx.getRepository(TeamEntity).find({ where: { orgId: In(orgIds) }, select: { id: true, orgId: true, name: true } })).map((t) => ({
        id: t.id,
        orgId: t.orgId,
        name: t.name,
      }))
    : [];
  const { orgMemberships, teamMemberships } = userId === null ? { orgMemberships: [], teamMemberships: [] } : await loadMemberships(tx, userId, lock);
  // A team the user holds may be newer than this transaction's snapshot (the memberships above are
  // locking reads, the team list is not): fetch it by id with a locking read so it is compared, not ignored.
  const known = new Set(teams.map((t) => t.id));
  const served = new Set(orgIds);
  const missing = [...new Set(teamMemberships.filter((m) => served.has(m.orgId) && !known.has(m.teamId)).map((m) => m.teamId))];
  if (missing.length) {
    const rows: Array<{ id: string; orgId: string; name: string }> = await tx.query(
      `SELECT id, org_id AS orgId, name FROM teams WHERE id IN (${placeholders(missing.length)})${locks(tx).forShare}`,
      missing,
    );
    teams.push(...rows.map((r) => ({ id: r.id, orgId: r.orgId, name: r.name })));
  }
  return {
    connection: { id: connection.id, defaultOrgId: connection.defaultOrgId, defaultTeam: connection.defaultTeam },
    orgs,
    teams,
    orgMemberships,
    teamMemberships,
  };
}

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
  const { mysql, forShare } = locks(tx);
  if (!mysql) return false;
  const orgById = new Map(state.orgs.map((o) => [o.id, o]));
  const roleIn = new Map(state.orgMemberships.map((m) => [m.orgId, m.role]));
  const seatOrgs = new Set<string>();
  const ownerOrgs = new Set<string>();
  for (const c of decision.changes) {
    if (c.kind === 'addOrgMembership' && orgById.get(c.orgId)?.seatLimit != null) seatOrgs.add(c.orgId);
    if (c.kind === 'changeRole' && c.from === 'owner') ownerOrgs.add(c.orgId);
    if (c.kind === 'removeOrgMembership' && roleIn.get(c.orgId) === 'owner') ownerOrgs.add(c.orgId);
  }
  const ids = [...new Set([...seatOrgs, ...ownerOrgs])].sort();
  if (!ids.length) return false;
  await tx.query(`SELECT id FROM organizations WHERE id IN (${placeholders(ids.length)}) ORDER BY id FOR UPDATE`, ids);
  for (const id of seatOrgs) {
    const [row] = await tx.query(`SELECT COUNT(*) AS n FROM org_memberships WHERE org_id = ?${forShare}`, [id]);
    orgById.get(id)!.seatsUsed = Number(row.n);
  }
  for (const id of ownerOrgs) {
    const [row] = await tx.query(`SELECT COUNT(*) AS n FROM org_memberships WHERE org_id = ? AND role = 'owner'${forShare}`, [id]);
    orgById.get(id)!.ownerCount = Number(row.n);
  }
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
    await ctx.tx.getRepository(TeamEntity).insert({ id, orgId, name, nameLc: name.toLowerCase() });
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
          await tx.getRepository(OrgMembershipEntity).insert({ id: randomUUID(), orgId: c.orgId, userId, role: c.role, source: flow, connectionId });
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
        await tx.getRepository(OrgMembershipEntity).update({ orgId: c.orgId, userId }, { role: c.to });
        await publish({ action: 'member.role_changed', orgId: c.orgId, target: user, changes: { role: { before: c.from, after: c.to } } });
        done.push(summary);
        break;
      }
      case 'removeOrgMembership': {
        const m = orgMembershipOf(c.orgId)!;
        await tx.getRepository(OrgMembershipEntity).delete({ id: m.id });
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
          await tx.getRepository(TeamMembershipEntity).insert({ id: randomUUID(), teamId, orgId: c.orgId, userId, source: flow, connectionId, grantedBy: c.grantedBy });
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
        await tx.getRepository(TeamMembershipEntity).delete({ id: In(removed.map((t) => t.id)) });
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
  if (request.userId !== null && !(await tx.getRepository(UserEntity).existsBy({ id: request.userId }))) {
    throw new NotFoundError(`user '${request.userId}' not found`, { field: 'userId' });
  }
  const state = await loadState(tx, request.connectionId, request.userId, false);
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
      const state = await loadState(tx, request.connectionId, request.userId, true);
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
      if (!(await lockUser(tx, userId))) return summary;
      const { orgMemberships, teamMemberships } = await loadMemberships(tx, userId, true);
      const ownedTeams = teamMemberships.filter((t) => t.connectionId === connectionId);
      const ownedOrgs = orgMemberships.filter((m) => m.connectionId === connectionId && m.source !== 'manual');
      if (!ownedTeams.length && !ownedOrgs.length) return summary;

      const orgIds = [...new Set([...ownedTeams.map((t) => t.orgId), ...ownedOrgs.map((m) => m.orgId)])];
      const orgName = new Map((await tx.getRepository(OrganizationEntity).find({ where: { id: In(orgIds) }, select: { id: true, name: true } })).map((o) => [o.id, o.name]));
      const teamIds = [...new Set(ownedTeams.map((t) => t.teamId))];
      const teamName = new Map(
        teamIds.length ? (await tx.getRepository(TeamEntity).find({ where: { id: In(teamIds) }, select: { id: true, name: true } })).map((t) => [t.id, t.name]) : [],
      );
      const org = (id: string) => orgName.get(id) ?? id;
      const user = { type: 'user', id: userId };

      const removeOrgs: OrgMembership[] = [];
      const ownerOrgs = ownedOrgs.filter((m) => m.role === 'owner').map((m) => m.orgId).sort();
      const ownerCount = new Map<string, number>();
      if (ownerOrgs.length) {
        const { forUpdate, forShare } = locks(tx);
        await tx.query(`SELECT id FROM organizations WHERE id IN (${placeholders(ownerOrgs.length)}) ORDER BY id${forUpdate}`, ownerOrgs);
        for (const id of ownerOrgs) {
          const [row] = await tx.query(`SELECT COUNT(*) AS n FROM org_memberships WHERE org_id = ? AND role = 'owner'${forShare}`, [id]);
          ownerCount.set(id, Number(row.n));
        }
      }
      for (const m of ownedOrgs) {
        if (teamMemberships.some((t) => t.orgId === m.orgId && t.connectionId !== connectionId)) {
          summary.skipped.push({ kind: 'removeOrgMembership', orgId: m.orgId, org: org(m.orgId), reason: 'holds other teams' });
        } else if (m.role === 'owner' && (ownerCount.get(m.orgId) ?? 0) <= 1) {
          summary.skipped.push({ kind: 'removeOrgMembership', orgId: m.orgId, org: org(m.orgId), reason: 'last owner' });
        } else removeOrgs.push(m);
      }

      for (const t of ownedTeams) {
        await tx.getRepository(TeamMembershipEntity).delete({ id: t.id });
        const name = teamName.get(t.teamId) ?? t.teamId;
        await events.publish(tx, actor, {
          action: 'team_member.removed',
          orgId: t.orgId,
          connectionId,
          target: user,
          changes: { team: { before: name }, teamId: { before: t.teamId } },
        });
        summary.changes.push({ kind: 'removeTeamMembership', orgId: t.orgId, org: org(t.orgId), team: name, teamId: t.teamId });
      }
      for (const m of removeOrgs) {
        await tx.getRepository(OrgMembershipEntity).delete({ id: m.id });
        await events.publish(tx, actor, { action: 'member.removed', orgId: m.orgId, connectionId, target: user, changes: { role: { before: m.role } } });
        summary.changes.push({ kind: 'removeOrgMembership', orgId: m.orgId, org: org(m.orgId), role: m.role });
      }
      return summary;
    },
  };
}
