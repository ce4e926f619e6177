/**
 * Deactivation's revoke: removes the team memberships a connection granted and the org memberships
 * it provisioned (source scim/jit), for one person or a batch of people (a worker's batch of
 * deactivation jobs, packages/plugins/scim-users/src/deprovision-batch.ts). A batch costs what one
 * person costs: one locking read of every person's row and memberships, the owner recount when
 * someone owns an organization, and one DELETE per table — not that per person.
 *
 * Two org memberships are kept and reported in `skipped` rather than failing (a deactivation job
 * must not fail forever):
 * - the person is the organization's last owner ("Don't remove the only organization owner");
 * - the person still holds a team there that this connection did not grant (as the policy does).
 *
 * Requests are decided in order on the memberships read under lock, each seeing what the ones before
 * it removed: a person named twice is revoked by the first request, the second finds nothing; two
 * owners of one organization in one batch are counted down as they go, so the last one is kept.
 */
import type { EntityManager } from 'typeorm';
import type { EventBus } from '@doorman/core';
import { memberRemoved, teamMemberRemoved, type Actor, type PublishedEvent } from '@doorman/plugin-api';
import type { SummaryChange } from './apply-changes.ts';
import { lockOrgsAndCount, lockUsersMemberships, type HeldMemberships, type OrgMembershipRow } from './state.ts';
import { placeholders } from './union-read.ts';

export interface RevokeRequest {
  connectionId: string;
  userId: string;
  actor: Actor;
}

export interface RevokeSummary {
  changes: SummaryChange[];
  ignoredGroups: string[];
  /** Org memberships deliberately kept, with why (the deactivation itself still succeeds). */
  skipped: Array<{ kind: 'removeOrgMembership'; orgId: string; org: string; reason: 'last owner' | 'holds other teams' }>;
}

/** What this connection owns of what a person holds (pure). */
function owned(held: HeldMemberships, connectionId: string) {
  return {
    teams: held.teamMemberships.filter((t) => t.connectionId === connectionId),
    orgs: held.orgMemberships.filter((m) => m.connectionId === connectionId && m.source !== 'manual'),
    // The connection's groups grant nothing to a deactivated person (reactivation records them again).
    grants: held.grants.filter((g) => g.connectionId === connectionId),
  };
}

export async function revokeConnectionMembershipsOf(tx: EntityManager, events: EventBus, requests: RevokeRequest[]): Promise<RevokeSummary[]> {
  const summaries: RevokeSummary[] = requests.map(() => ({ changes: [], ignoredGroups: [], skipped: [] }));
  if (!requests.length) return summaries;
  const held = await lockUsersMemberships(tx, requests.map((r) => r.userId));
  // Every organization where someone of the batch owns a membership the revoke may remove: locked
  // and counted once, then counted down in memory as owners are removed.
  const ownerOrgs = new Set<string>();
  for (const r of requests) {
    const of = held.get(r.userId);
    if (of) for (const m of owned(of, r.connectionId).orgs) if (m.role === 'owner') ownerOrgs.add(m.orgId);
  }
  const { owners } = await lockOrgsAndCount(tx, [], [...ownerOrgs]);

  const deleteGrants: string[] = [];
  const deleteTeams: string[] = [];
  const deleteOrgs: string[] = [];
  const published: Array<{ actor: Actor; events: PublishedEvent[] }> = [];
  requests.forEach((request, i) => {
    const of = held.get(request.userId);
    if (!of) return;
    const { connectionId, userId } = request;
    const mine = owned(of, connectionId);
    deleteGrants.push(...mine.grants.map((g) => g.id));
    if (!mine.teams.length && !mine.orgs.length) {
      of.grants = of.grants.filter((g) => !mine.grants.includes(g));
      return;
    }
    const orgName = new Map<string, string>();
    for (const m of [...of.orgMemberships, ...of.teamMemberships]) if (m.orgName !== null) orgName.set(m.orgId, m.orgName);
    const org = (id: string) => orgName.get(id) ?? id;
    const summary = summaries[i]!;
    const removeOrgs: OrgMembershipRow[] = [];
    for (const m of mine.orgs) {
      if (of.teamMemberships.some((t) => t.orgId === m.orgId && t.connectionId !== connectionId)) {
        summary.skipped.push({ kind: 'removeOrgMembership', orgId: m.orgId, org: org(m.orgId), reason: 'holds other teams' });
      } else if (m.role === 'owner' && (owners.get(m.orgId) ?? 0) <= 1) {
        summary.skipped.push({ kind: 'removeOrgMembership', orgId: m.orgId, org: org(m.orgId), reason: 'last owner' });
      } else {
        removeOrgs.push(m);
        if (m.role === 'owner') owners.set(m.orgId, (owners.get(m.orgId) ?? 0) - 1);
      }
    }
    // The events, one per membership, teams first, as a single person's revoke always wrote them.
    const user = { type: 'user', id: userId };
    const list: PublishedEvent[] = [];
    for (const t of mine.teams) {
      const name = t.teamName ?? t.teamId;
      list.push(teamMemberRemoved({ orgId: t.orgId, connectionId, target: user, changes: { team: { before: name }, teamId: { before: t.teamId } } }));
      summary.changes.push({ kind: 'removeTeamMembership', orgId: t.orgId, org: org(t.orgId), team: name, teamId: t.teamId });
    }
    for (const m of removeOrgs) {
      list.push(memberRemoved({ orgId: m.orgId, connectionId, target: user, changes: { role: { before: m.role } } }));
      summary.changes.push({ kind: 'removeOrgMembership', orgId: m.orgId, org: org(m.orgId), role: m.role });
    }
    deleteTeams.push(...mine.teams.map((t) => t.id));
    deleteOrgs.push(...removeOrgs.map((m) => m.id));
    published.push({ actor: request.actor, events: list });
    // What this request removed is gone for the requests after it.
    of.teamMemberships = of.teamMemberships.filter((t) => !mine.teams.includes(t));
    of.orgMemberships = of.orgMemberships.filter((m) => !removeOrgs.includes(m));
    of.grants = of.grants.filter((g) => !mine.grants.includes(g));
  });

  // One DELETE per table for the whole batch.
  if (deleteGrants.length) await tx.query(`DELETE FROM membership_grants WHERE id IN (${placeholders(deleteGrants.length)})`, deleteGrants);
  if (deleteTeams.length) await tx.query(`DELETE FROM team_memberships WHERE id IN (${placeholders(deleteTeams.length)})`, deleteTeams);
  if (deleteOrgs.length) await tx.query(`DELETE FROM org_memberships WHERE id IN (${placeholders(deleteOrgs.length)})`, deleteOrgs);
  for (const { actor, events: list } of published) if (list.length) await events.publish(tx, actor, ...list);
  return summaries;
}
