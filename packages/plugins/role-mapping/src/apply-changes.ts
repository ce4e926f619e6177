/**
 * Applying a policy decision (role-mapping service): one raw statement per write, one domain event
 * per membership change, in the caller's transaction. Grants (provenance rows, docs/group-mapping.md)
 * are bookkeeping: written with the memberships, no events of their own.
 */
import type { EntityManager } from 'typeorm';
import { isDuplicateKeyError, type EventBus } from '@doorman/core';
import { defineError, memberAdded, memberRemoved, memberRoleChanged, teamCreated, teamMemberAdded, teamMemberRemoved, type Actor, type PublishedEvent } from '@doorman/plugin-api';
import { grantViaOf, type OrgRole, newRowId } from '@doorman/model';
import type { MappingDecision, MappingFlow, MembershipChange } from './policy.ts';
import type { MappingState } from './state.ts';
import { locks, placeholders } from './union-read.ts';

/** A planned change names a team neither found nor created earlier in the plan: a bug in the planner. */
const ChangeWithoutTeam = defineError('DMN_ROLE_MAPPING_PLAN_INVALID', 500);

/** 409: another transaction changed the same team or membership meanwhile; retrying succeeds. */
const ChangedConcurrently = defineError('DMN_CHANGED_CONCURRENTLY', 409);

/** One change, as reported in summaries, previews and sync results (policy kinds, plus names). */
export type SummaryChange =
  | { kind: 'addOrgMembership'; orgId: string; org: string; role: OrgRole }
  | { kind: 'changeRole'; orgId: string; org: string; from: OrgRole; to: OrgRole }
  | { kind: 'removeOrgMembership'; orgId: string; org: string; role: OrgRole | null }
  | { kind: 'createTeam'; orgId: string; org: string; team: string; teamId: string | null }
  | { kind: 'addTeamMembership'; orgId: string; org: string; team: string; teamId: string | null; grantedBy: 'mapping' | 'group' }
  | { kind: 'removeTeamMembership'; orgId: string; org: string; team: string; teamId: string }
  | { kind: 'addGrant'; orgId: string; org: string; team: string | null; teamId: string | null; groupId: string; role: OrgRole | null }
  | { kind: 'removeGrant'; orgId: string; org: string; team: string | null; teamId: string | null; groupId: string };

/** Membership changes only (grants are provenance bookkeeping, not a change a person sees). */
export const isMembershipChange = (c: { kind: string }) => c.kind !== 'addGrant' && c.kind !== 'removeGrant';

const teamKey = (orgId: string, name: string) => `${orgId}\u0000${name.toLowerCase()}`;

/** Names for a decision's changes, without writing anything. */
export function describeChanges(state: MappingState, changes: MembershipChange[]): SummaryChange[] {
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
      case 'addGrant':
        return { kind: c.kind, orgId: c.orgId, org: org(c.orgId), team: c.teamName, teamId: c.teamId, groupId: c.groupId, role: c.role };
      case 'removeGrant':
        return { kind: c.kind, orgId: c.orgId, org: org(c.orgId), team: c.teamId === null ? null : (teamById.get(c.teamId)?.name ?? c.teamId), teamId: c.teamId, groupId: c.groupId };
    }
  });
}

export interface ApplyContext {
  tx: EntityManager;
  events: EventBus;
  actor: Actor;
  connectionId: string;
  userId: string;
  flow: MappingFlow;
  /** The decision's inputs for each change, recorded on its event (decision-context.ts). */
  context?: (change: MembershipChange) => Record<string, unknown>;
  /** Several people's decisions at once (`applyMany`): new rows wait here, one INSERT per table. */
  batch?: RowBatch;
}

const INSERTS = {
  org_memberships: 'INSERT INTO org_memberships (id, org_id, user_id, role, source, connection_id, grant_via, grant_ref) VALUES',
  team_memberships: 'INSERT INTO team_memberships (id, team_id, org_id, user_id, source, connection_id, granted_by, grant_via, grant_ref) VALUES',
  membership_grants: 'INSERT INTO membership_grants (id, user_id, org_id, team_id, kind, connection_id, source_ref, role) VALUES',
} as const;
type Table = keyof typeof INSERTS;

/**
 * The new membership and grant rows of several people's decisions, written by `flush` as one
 * multi-row INSERT per table instead of one INSERT per row. Their users' rows are locked by the
 * state read, so a duplicate can only come from a writer that does not take that lock (an admin):
 * the whole batch then fails with 409 and the caller re-runs the people one at a time, each then
 * answered as `apply` answers it (docs/group-commit.md, "Creates").
 */
export class RowBatch {
  private readonly rows = new Map<Table, unknown[][]>();

  add(table: Table, values: unknown[]): void {
    const rows = this.rows.get(table) ?? [];
    rows.push(values);
    this.rows.set(table, rows);
  }

  async flush(tx: EntityManager): Promise<void> {
    for (const [table, rows] of this.rows) {
      try {
        await tx.query(`${INSERTS[table]} ${rows.map((r) => `(${placeholders(r.length)})`).join(', ')}`, rows.flat());
      } catch (err) {
        if (isDuplicateKeyError(err)) throw new ChangedConcurrently(`a membership of one of these users changed concurrently; retry`, { cause: err });
        throw err;
      }
    }
    this.rows.clear();
  }
}

/** Inserts one row now, or adds it to the batch; 'duplicate' when the row exists already (unique keys). */
async function insertRow(ctx: ApplyContext, table: Table, values: unknown[]): Promise<'inserted' | 'duplicate'> {
  if (ctx.batch) {
    ctx.batch.add(table, values);
    return 'inserted';
  }
  try {
    await ctx.tx.query(`${INSERTS[table]} (${placeholders(values.length)})`, values);
    return 'inserted';
  } catch (err) {
    if (isDuplicateKeyError(err)) return 'duplicate';
    throw err;
  }
}

/** Creates a team, or finds the one a concurrent transaction created first (uq_teams_org_name). */
async function createOrFindTeam(ctx: ApplyContext, orgId: string, name: string): Promise<{ id: string; name: string; created: boolean }> {
  const id = newRowId();
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
    if (!row) throw new ChangedConcurrently(`team '${name}' was changed concurrently; retry`, { cause: err });
    return { id: row.id, name: row.name, created: false };
  }
}

export async function applyChanges(ctx: ApplyContext, state: MappingState, decision: MappingDecision): Promise<SummaryChange[]> {
  const { tx, events, actor, connectionId, userId, flow } = ctx;
  const described = describeChanges(state, decision.changes);
  const done: SummaryChange[] = [];
  const created = new Map<string, string>();
  const user = { type: 'user', id: userId };
  let current: MembershipChange | undefined;
  const publish = (event: PublishedEvent) => events.publish(tx, actor, { connectionId, ...event, ...(ctx.context && current ? { context: ctx.context(current) } : {}) });
  const orgMembershipOf = (orgId: string) => state.orgMemberships.find((m) => m.orgId === orgId);

  for (const [i, c] of decision.changes.entries()) {
    const summary = described[i]!;
    current = c;
    switch (c.kind) {
      case 'addOrgMembership': {
        // Provenance (docs/people-and-explain.md): how and by what the row was first granted.
        const org = await insertRow(ctx, 'org_memberships', [newRowId(), c.orgId, userId, c.role, flow, connectionId, c.groupId && flow === 'scim' ? 'scim_group' : grantViaOf(flow), c.groupId ?? null]);
        // Only a writer that does not take the user lock (e.g. an admin adding the member) can get here.
        if (org === 'duplicate') throw new ChangedConcurrently(`the user's membership in organization '${summary.org}' changed concurrently; retry`);
        await publish(memberAdded({ orgId: c.orgId, target: user, changes: { role: { after: c.role }, source: { after: flow } } }));
        done.push(summary);
        break;
      }
      case 'changeRole': {
        await tx.query('UPDATE org_memberships SET role = ?, updated_at = CURRENT_TIMESTAMP WHERE org_id = ? AND user_id = ?', [c.to, c.orgId, userId]);
        await publish(memberRoleChanged({ orgId: c.orgId, target: user, changes: { role: { before: c.from, after: c.to } } }));
        done.push(summary);
        break;
      }
      case 'removeOrgMembership': {
        const m = orgMembershipOf(c.orgId)!;
        await tx.query('DELETE FROM org_memberships WHERE id = ?', [m.id]);
        await publish(memberRemoved({ orgId: c.orgId, target: user, changes: { role: { before: m.role } } }));
        done.push(summary);
        break;
      }
      case 'createTeam': {
        const team = await createOrFindTeam(ctx, c.orgId, c.name);
        created.set(teamKey(c.orgId, c.name), team.id);
        if (team.created) {
          await publish(teamCreated({ orgId: c.orgId, target: { type: 'team', id: team.id }, changes: { name: { after: team.name } } }));
          done.push({ ...(summary as Extract<SummaryChange, { kind: 'createTeam' }>), teamId: team.id });
        }
        break;
      }
      case 'addTeamMembership': {
        const teamId = c.teamId ?? created.get(teamKey(c.orgId, c.teamName));
        if (!teamId) throw new ChangeWithoutTeam(`addTeamMembership without a team for '${c.teamName}'`);
        const added = await insertRow(ctx, 'team_memberships', [newRowId(), teamId, c.orgId, userId, flow, connectionId, c.grantedBy, grantViaOf(flow, c.grantedBy), c.groupId ?? null]);
        // Already a member (a team re-read after a concurrent creation): nothing to do, nothing to record.
        if (added === 'duplicate') break;
        await publish(teamMemberAdded({
          orgId: c.orgId,
          target: user,
          changes: { team: { after: c.teamName }, teamId: { after: teamId }, grantedBy: { after: c.grantedBy } },
        }));
        done.push({ ...(summary as Extract<SummaryChange, { kind: 'addTeamMembership' }>), teamId });
        break;
      }
      case 'addGrant': {
        const teamId = c.teamName === null ? '' : (c.teamId ?? created.get(teamKey(c.orgId, c.teamName)) ?? null);
        if (teamId === null) throw new ChangeWithoutTeam(`addGrant without a team for '${c.teamName}'`);
        // A duplicate: recorded already (a team re-read after a concurrent creation); the provenance holds.
        await insertRow(ctx, 'membership_grants', [newRowId(), userId, c.orgId, teamId, 'group', connectionId, c.groupId, c.role]);
        done.push({ ...(summary as Extract<SummaryChange, { kind: 'addGrant' }>), teamId: teamId || null });
        break;
      }
      case 'removeGrant': {
        await tx.query("DELETE FROM membership_grants WHERE user_id = ? AND org_id = ? AND team_id = ? AND kind = 'group' AND source_ref = ?", [userId, c.orgId, c.teamId ?? '', c.groupId]);
        done.push(summary);
        break;
      }
      case 'removeTeamMembership': {
        // The policy decided no source grants it any more (its own mapping row, or a group row whose groups are gone).
        const removed = state.teamMemberships.filter((t) => t.teamId === c.teamId && t.grantedBy !== 'admin');
        if (!removed.length) break;
        await tx.query(`DELETE FROM team_memberships WHERE id IN (${placeholders(removed.length)})`, removed.map((t) => t.id));
        const team = (summary as Extract<SummaryChange, { kind: 'removeTeamMembership' }>).team;
        await publish(teamMemberRemoved({ orgId: c.orgId, target: user, changes: { team: { before: team }, teamId: { before: c.teamId } } }));
        done.push(summary);
        break;
      }
    }
  }
  return done;
}

