import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { ConflictError, InputError, isDuplicateKeyError, NotFoundError, type Actor, type DomainEvent, type EventBus } from '@doorman/core';
import { ScimGroupEntity, type ScimGroup } from '@doorman/model';
import { assertIfMatch, compileFilter, compileSort, GROUP_ATTRIBUTES, type Dialect, type ListParams, type ScimResource } from '@doorman/scim';
import { parseGroupDisplayName, readGroupBody, TEAM_NAME_PATTERN, toScimGroup, type GroupName, type MemberRow } from './group-resource.ts';
import { GroupMembershipSql, memberFilterSelection, type GroupTarget, type MemberSelection } from './members.ts';
import { planGroupPatch } from './patch-plan.ts';

export interface Tenant {
  connectionId: string;
  actor: Actor;
}

/** Whether a response carries `members`: never, all of them, or only up to the configured cap. */
export type MembersMode = 'never' | 'always' | 'capped';

export interface ScimGroupStoreDeps {
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T>;
  events: EventBus;
  dialect: Dialect;
  /** `<public url>/scim/v2` */
  baseUrl: string;
  now(): Date;
  /** Largest member list a response carries unless `attributes=members` asks for all. */
  maxMembersInResponse: number;
  /** Member ids listed in a members_added/members_removed event (the count is always exact). */
  eventIdSample: number;
}

/** A membership row was inserted concurrently (role mapping, another group): run the transaction again. */
class MembershipRace extends Error {}

interface Target {
  orgId: string;
  teamId: string;
  teamName: string;
}

/** Accumulates a request's effects into a few domain events (never one per member). */
class Changes {
  added = { count: 0, ids: [] as string[] };
  removed = { count: 0, ids: [] as string[] };
  teamMembershipsAdded = 0;
  teamMembershipsRemoved = 0;
  orgMembershipsAdded = 0;
  fields: Record<string, { before?: unknown; after?: unknown }> = {};
  extra: DomainEvent[] = [];
  constructor(private readonly sample: number) {}
  merge(into: { count: number; ids: string[] }, r: { count: number; ids: string[] }) {
    into.count += r.count;
    for (const id of r.ids) if (into.ids.length < this.sample && !into.ids.includes(id)) into.ids.push(id);
  }
  get any() {
    return this.added.count > 0 || this.removed.count > 0 || Object.keys(this.fields).length > 0 || this.teamMembershipsAdded > 0 || this.teamMembershipsRemoved > 0;
  }
}

/**
 * SCIM Groups mapped to teams. Every write is one transaction holding the group change, its
 * membership effects (set-based SQL, see members.ts) and its domain events. The group row is
 * locked first, so writes to one group are serialised and versions never skip or repeat.
 */
export class ScimGroupStore {
  readonly sql: GroupMembershipSql;

  constructor(private readonly deps: ScimGroupStoreDeps) {
    this.sql = new GroupMembershipSql(deps.dialect);
  }

  private async write<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.transaction(work);
      } catch (err) {
        if (err instanceof MembershipRace && attempt < 4) continue;
        if (err instanceof MembershipRace) throw new ConflictError('memberships changed concurrently; retry', { cause: err });
        throw err;
      }
    }
  }

  private target(row: ScimGroup): GroupTarget {
    return { groupId: row.id, connectionId: row.connectionId, orgId: row.orgId, teamId: row.teamId };
  }

  private async load(tx: EntityManager, tenant: Tenant, id: string, forUpdate: boolean): Promise<ScimGroup> {
    const row = await tx.getRepository(ScimGroupEntity).findOne({
      where: { id, connectionId: tenant.connectionId },
      ...(forUpdate && this.deps.dialect === 'mysql' ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    // Another tenant's id answers exactly like an unknown one.
    if (!row) throw new NotFoundError(`Group ${id} not found`);
    return row;
  }

  /** The organization (one the connection serves) and team a display name maps to; a missing team is created. */
  private async resolveTarget(tx: EntityManager, tenant: Tenant, name: GroupName, changes: Changes): Promise<Target> {
    const [org]: Array<{ id: string; name: string }> = await tx.query(
      `SELECT o.id AS id, o.name AS name FROM connection_orgs co JOIN organizations o ON o.id = co.org_id
        WHERE co.connection_id = ? AND LOWER(o.name) = ?`,
      [tenant.connectionId, name.org.toLowerCase()],
    );
    if (!org) throw new InputError(`organization '${name.org}' is not one this connection serves`, { scimType: 'invalidValue', field: 'displayName' });
    const team = await this.findTeam(tx, org.id, name.team);
    if (team) return { orgId: org.id, teamId: team.id, teamName: team.name };
    assertNewTeamName(name.team);
    const id = randomUUID();
    try {
      await tx.query('INSERT INTO teams (id, org_id, name, name_lc) VALUES (?, ?, ?, ?)', [id, org.id, name.team, name.team.toLowerCase()]);
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      // Created concurrently (role mapping, another connection's group): use that one.
      const raced = await this.findTeam(tx, org.id, name.team, true);
      if (!raced) throw new ConflictError(`team '${name.team}' was changed concurrently; retry`, { cause: err });
      return { orgId: org.id, teamId: raced.id, teamName: raced.name };
    }
    changes.extra.push({ action: 'team.created', orgId: org.id, connectionId: tenant.connectionId, target: { type: 'team', id }, changes: { name: { after: name.team } } });
    return { orgId: org.id, teamId: id, teamName: name.team };
  }

  private async findTeam(tx: EntityManager, orgId: string, name: string, locking = false): Promise<{ id: string; name: string } | undefined> {
    const lock = locking && this.deps.dialect === 'mysql' ? ' LOCK IN SHARE MODE' : '';
    const [row] = await tx.query(`SELECT id, name FROM teams WHERE org_id = ? AND name_lc = ?${lock}`, [orgId, name.toLowerCase()]);
    return row;
  }

  /** One group per team per connection: two groups would fight over the same memberships. */
  private async assertTeamFree(tx: EntityManager, tenant: Tenant, teamId: string, exceptGroupId: string | null) {
    const rows: Array<{ id: string; displayName: string }> = await tx.query(
      'SELECT id, display_name AS displayName FROM scim_groups WHERE connection_id = ? AND team_id = ?',
      [tenant.connectionId, teamId],
    );
    const other = rows.find((r) => r.id !== exceptGroupId);
    if (other) throw new ConflictError(`group '${other.displayName}' already maps to this team`, { scimType: 'uniqueness', field: 'displayName' });
  }

  private async assertNameFree(tx: EntityManager, tenant: Tenant, displayName: string, exceptGroupId: string | null) {
    const [row] = await tx.query('SELECT id FROM scim_groups WHERE connection_id = ? AND display_name_lc = ?', [tenant.connectionId, displayName.toLowerCase()]);
    if (row && row.id !== exceptGroupId) throw new ConflictError(`a group with displayName '${displayName}' already exists`, { scimType: 'uniqueness', field: 'displayName' });
  }

  private async assertInScope(tx: EntityManager, tenant: Tenant, ids: string[]) {
    const outside = await this.sql.outOfScope(tx, tenant.connectionId, ids);
    if (outside.length) {
      const shown = outside.slice(0, 10).map((id) => `'${id}'`).join(', ');
      throw new InputError(`members must be Users of this connection; unknown: ${shown}${outside.length > 10 ? ` and ${outside.length - 10} more` : ''}`, {
        scimType: 'invalidValue',
        field: 'members',
      });
    }
  }

  private async grant(tx: EntityManager, g: GroupTarget, sel: MemberSelection, changes: Changes) {
    try {
      const r = await this.sql.grant(tx, g, sel);
      changes.orgMembershipsAdded += r.orgMemberships;
      changes.teamMembershipsAdded += r.teamMemberships;
    } catch (err) {
      if (isDuplicateKeyError(err)) throw new MembershipRace();
      throw err;
    }
  }

  private async addMembers(tx: EntityManager, tenant: Tenant, g: GroupTarget, ids: string[], changes: Changes) {
    await this.assertInScope(tx, tenant, ids);
    changes.merge(changes.added, await this.sql.add(tx, g, ids, this.deps.eventIdSample));
    // Existing members named again are granted too: repairs a membership lost elsewhere.
    await this.grant(tx, g, { ids }, changes);
  }

  private async removeMembers(tx: EntityManager, g: GroupTarget, sel: MemberSelection, changes: Changes) {
    const r = await this.sql.remove(tx, g, sel, this.deps.eventIdSample);
    changes.merge(changes.removed, r);
    changes.teamMembershipsRemoved += r.teamMemberships;
  }

  private async replaceMembers(tx: EntityManager, tenant: Tenant, g: GroupTarget, ids: string[], changes: Changes) {
    await this.assertInScope(tx, tenant, ids);
    await this.removeMembers(tx, g, { allBut: ids }, changes);
    changes.merge(changes.added, await this.sql.add(tx, g, ids, this.deps.eventIdSample));
    await this.grant(tx, g, { all: true }, changes);
  }

  /**
   * A new display name. Same organization: the team is renamed (a name another team holds → 409).
   * Another organization: the group is mapped to that organization's team (found or created) and
   * its members move: they leave the old team and join the new one.
   */
  private async rename(tx: EntityManager, tenant: Tenant, row: ScimGroup, displayName: string, changes: Changes): Promise<ScimGroup> {
    if (displayName === row.displayName) return row;
    const name = parseGroupDisplayName(displayName);
    await this.assertNameFree(tx, tenant, displayName, row.id);
    const [current]: Array<{ name: string; orgName: string }> = await tx.query(
      'SELECT t.name AS name, o.name AS orgName FROM teams t JOIN organizations o ON o.id = t.org_id WHERE t.id = ?',
      [row.teamId],
    );
    const sameOrg = current && current.orgName.toLowerCase() === name.org.toLowerCase();
    let next: ScimGroup = { ...row, displayName, displayNameLc: displayName.toLowerCase() };
    if (sameOrg) {
      if (current.name !== name.team) {
        const holder = await this.findTeam(tx, row.orgId, name.team);
        if (holder && holder.id !== row.teamId) throw new ConflictError(`team '${name.team}' already exists in organization '${current.orgName}'`, { scimType: 'uniqueness', field: 'displayName' });
        if (!holder) assertNewTeamName(name.team);
        try {
          await tx.query('UPDATE teams SET name = ?, name_lc = ? WHERE id = ?', [name.team, name.team.toLowerCase(), row.teamId]);
        } catch (err) {
          if (isDuplicateKeyError(err)) throw new ConflictError(`team '${name.team}' already exists in organization '${current.orgName}'`, { scimType: 'uniqueness', field: 'displayName', cause: err });
          throw err;
        }
        changes.extra.push({ action: 'team.renamed', orgId: row.orgId, connectionId: tenant.connectionId, target: { type: 'team', id: row.teamId }, changes: { name: { before: current.name, after: name.team } } });
      }
    } else {
      const target = await this.resolveTarget(tx, tenant, name, changes);
      await this.assertTeamFree(tx, tenant, target.teamId, row.id);
      const old = this.target(row);
      changes.teamMembershipsRemoved += await this.sql.revoke(tx, old, { all: true });
      next = { ...next, orgId: target.orgId, teamId: target.teamId };
      await this.grant(tx, this.target(next), { all: true }, changes);
      changes.fields.teamId = { before: row.teamId, after: target.teamId };
      changes.fields.orgId = { before: row.orgId, after: target.orgId };
    }
    changes.fields.displayName = { before: row.displayName, after: displayName };
    return next;
  }

  /** Saves the row (new version) and publishes the request's events. */
  private async finish(tx: EntityManager, tenant: Tenant, before: ScimGroup | null, row: ScimGroup, changes: Changes, action: 'group.created' | 'group.updated'): Promise<ScimGroup> {
    if (before && !changes.any) return before;
    const now = this.deps.now();
    const saved: ScimGroup = before ? { ...row, version: before.version + 1, updatedAt: now } : row;
    if (before) {
      await tx.getRepository(ScimGroupEntity).update(
        { id: row.id },
        { displayName: saved.displayName, displayNameLc: saved.displayNameLc, externalId: saved.externalId, orgId: saved.orgId, teamId: saved.teamId, version: saved.version, updatedAt: now },
      );
    }
    const base = { orgId: saved.orgId, connectionId: tenant.connectionId, target: { type: 'group', id: saved.id } };
    const events: DomainEvent[] = [...changes.extra];
    if (!before) {
      events.push({ ...base, action, changes: { displayName: { after: saved.displayName }, externalId: { after: saved.externalId }, teamId: { after: saved.teamId } } });
    } else if (Object.keys(changes.fields).length) {
      events.push({ ...base, action, changes: changes.fields });
    }
    if (changes.added.count) {
      events.push({ ...base, action: 'group.members_added', changes: { count: { after: changes.added.count }, members: { after: changes.added.ids }, teamId: { after: saved.teamId }, teamMembershipsAdded: { after: changes.teamMembershipsAdded }, orgMembershipsAdded: { after: changes.orgMembershipsAdded } } });
    }
    if (changes.removed.count) {
      events.push({ ...base, action: 'group.members_removed', changes: { count: { after: changes.removed.count }, members: { after: changes.removed.ids }, teamId: { after: saved.teamId }, teamMembershipsRemoved: { after: changes.teamMembershipsRemoved } } });
    }
    await this.deps.events.publish(tx, tenant.actor, ...events);
    return saved;
  }

  private changes() {
    return new Changes(this.deps.eventIdSample);
  }

  async create(tenant: Tenant, body: unknown, members: MembersMode): Promise<ScimResource> {
    const input = readGroupBody(body);
    return this.write(async (tx) => {
      const changes = this.changes();
      await this.assertNameFree(tx, tenant, input.displayName, null);
      const target = await this.resolveTarget(tx, tenant, input.name, changes);
      await this.assertTeamFree(tx, tenant, target.teamId, null);
      const now = this.deps.now();
      const row: ScimGroup = {
        id: randomUUID(),
        connectionId: tenant.connectionId,
        displayName: input.displayName,
        displayNameLc: input.displayName.toLowerCase(),
        externalId: input.externalId,
        orgId: target.orgId,
        teamId: target.teamId,
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
      try {
        await tx.getRepository(ScimGroupEntity).insert(row);
      } catch (err) {
        if (isDuplicateKeyError(err)) throw new ConflictError(`a group with displayName '${input.displayName}' already exists`, { scimType: 'uniqueness', field: 'displayName', cause: err });
        throw err;
      }
      if (input.members?.length) await this.addMembers(tx, tenant, this.target(row), input.members, changes);
      const saved = await this.finish(tx, tenant, null, row, changes, 'group.created');
      return this.render(tx, saved, members);
    });
  }

  async get(tenant: Tenant, id: string, members: MembersMode): Promise<{ resource: ScimResource; version: number }> {
    return this.deps.transaction(async (tx) => {
      const row = await this.load(tx, tenant, id, false);
      return { resource: await this.render(tx, row, members), version: row.version };
    });
  }

  private async render(tx: EntityManager, row: ScimGroup, mode: MembersMode): Promise<ScimResource> {
    let members: MemberRow[] | undefined;
    if (mode === 'always' || (mode === 'capped' && (await this.sql.count(tx, row.id)) <= this.deps.maxMembersInResponse)) {
      members = await this.sql.list(tx, row.id);
    }
    return toScimGroup(row, this.deps.baseUrl, members);
  }

  async list(tenant: Tenant, params: ListParams, members: MembersMode): Promise<{ resources: ScimResource[]; totalResults: number }> {
    const where = params.filter ? compileFilter(params.filter, GROUP_ATTRIBUTES, this.deps.dialect, 'f') : undefined;
    const sort = params.sortBy ? compileSort(params.sortBy, params.sortOrder, GROUP_ATTRIBUTES) : undefined;
    return this.deps.transaction(async (tx) => {
      const base = () => {
        const qb = tx.getRepository(ScimGroupEntity).createQueryBuilder('g').where('g.connection_id = :connectionId', { connectionId: tenant.connectionId });
        if (where) qb.andWhere(`(${where.sql})`, where.params);
        return qb;
      };
      const totalResults = await base().getCount();
      if (params.count === 0 || totalResults < params.startIndex) return { resources: [], totalResults };
      const rows = await base()
        .orderBy(sort ? sort.column : 'g.created_at', sort?.direction ?? 'ASC')
        .addOrderBy('g.id', 'ASC')
        .offset(params.startIndex - 1)
        .limit(params.count)
        .getMany();
      const resources: ScimResource[] = [];
      for (const row of rows) resources.push(await this.render(tx, row, members));
      return { resources, totalResults };
    });
  }

  /** PUT: displayName and externalId replaced; `members`, when present, is the whole new list (absent: kept). */
  async replace(tenant: Tenant, id: string, body: unknown, ifMatch: string | undefined, members: MembersMode): Promise<{ resource: ScimResource; version: number }> {
    const input = readGroupBody(body);
    const bodyId = (body as { id?: unknown }).id;
    if (bodyId !== undefined && bodyId !== id) throw new InputError('id is immutable and does not match the URL', { scimType: 'mutability', field: 'id' });
    return this.write(async (tx) => {
      const current = await this.load(tx, tenant, id, true);
      assertIfMatch(ifMatch, current.version);
      const changes = this.changes();
      let row = await this.rename(tx, tenant, current, input.displayName, changes);
      if (input.externalId !== current.externalId) {
        changes.fields.externalId = { before: current.externalId, after: input.externalId };
        row = { ...row, externalId: input.externalId };
      }
      if (input.members !== undefined) await this.replaceMembers(tx, tenant, this.target(row), input.members, changes);
      const saved = await this.finish(tx, tenant, current, row, changes, 'group.updated');
      return { resource: await this.render(tx, saved, members), version: saved.version };
    });
  }

  /** PATCH: steps in order; members are changed by set operations, never by rewriting the list. */
  async patch(tenant: Tenant, id: string, body: unknown, ifMatch: string | undefined, members: MembersMode | null): Promise<{ resource: ScimResource | null; version: number }> {
    const steps = planGroupPatch(body, id);
    return this.write(async (tx) => {
      const current = await this.load(tx, tenant, id, true);
      assertIfMatch(ifMatch, current.version);
      const changes = this.changes();
      let row = current;
      for (const step of steps) {
        const g = this.target(row);
        switch (step.kind) {
          case 'displayName':
            row = await this.rename(tx, tenant, row, step.value, changes);
            break;
          case 'externalId':
            if (step.value !== row.externalId) {
              changes.fields.externalId = { before: changes.fields.externalId?.before ?? row.externalId, after: step.value };
              row = { ...row, externalId: step.value };
            }
            break;
          case 'addMembers':
            await this.addMembers(tx, tenant, g, step.ids, changes);
            break;
          case 'removeMembers':
            await this.removeMembers(tx, g, { ids: step.ids }, changes);
            break;
          case 'removeMembersWhere':
            await this.removeMembers(tx, g, memberFilterSelection(step.filter, this.deps.dialect), changes);
            break;
          case 'replaceMembers':
            await this.replaceMembers(tx, tenant, g, step.ids, changes);
            break;
        }
      }
      const saved = await this.finish(tx, tenant, current, row, changes, 'group.updated');
      return { resource: members === null ? null : await this.render(tx, saved, members), version: saved.version };
    });
  }

  /** Unlinks the team: members leave it (group-granted memberships only); the team itself stays. */
  async delete(tenant: Tenant, id: string, ifMatch: string | undefined): Promise<void> {
    await this.write(async (tx) => {
      const row = await this.load(tx, tenant, id, true);
      assertIfMatch(ifMatch, row.version);
      const changes = this.changes();
      await this.removeMembers(tx, this.target(row), { all: true }, changes);
      await tx.getRepository(ScimGroupEntity).delete({ id: row.id });
      const base = { orgId: row.orgId, connectionId: tenant.connectionId, target: { type: 'group', id: row.id } };
      const events: DomainEvent[] = [];
      if (changes.removed.count) {
        events.push({ ...base, action: 'group.members_removed', changes: { count: { after: changes.removed.count }, members: { after: changes.removed.ids }, teamId: { after: row.teamId }, teamMembershipsRemoved: { after: changes.teamMembershipsRemoved } } });
      }
      events.push({ ...base, action: 'group.deleted', changes: { displayName: { before: row.displayName }, teamId: { before: row.teamId } } });
      await this.deps.events.publish(tx, tenant.actor, ...events);
    });
  }

  /** Reactivation (scim-users' `user.reactivated`): the groups' memberships come back in the same transaction. */
  async regrantForUser(tx: EntityManager, connectionUserId: string): Promise<number> {
    try {
      return await this.sql.grantForUser(tx, connectionUserId);
    } catch (err) {
      // The caller (scim-users) holds the user's row lock; a duplicate means role mapping granted it first.
      if (isDuplicateKeyError(err)) return 0;
      throw err;
    }
  }
}

function assertNewTeamName(team: string) {
  if (!TEAM_NAME_PATTERN.test(team)) {
    throw new InputError(`team name '${team}' is not valid for a new team: 1–100 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit`, {
      scimType: 'invalidValue',
      field: 'displayName',
    });
  }
}
