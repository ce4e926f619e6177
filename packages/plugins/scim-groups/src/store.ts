import type { EntityManager } from 'typeorm';
import { isDuplicateKeyError, type EventBus } from '@doorman/core';
import { defineError, groupCreated, groupDeleted, groupMembersAdded, groupMembersRemoved, groupUpdated, InputError, NotFoundError, type Actor, type GroupsChangedResult, type PublishedEvent, type RoleMappingService, type ScimUserDirectory } from '@doorman/plugin-api';
import { ScimGroupEntity, type ScimGroup, newRowId } from '@doorman/model';
import { assertIfMatch, compileFilter, compileSort, type Dialect, type ListParams, type ScimResource } from '@doorman/scim';
import { GROUP_ATTRIBUTES } from './filter-columns.ts';
import { readGroupBody, toScimGroup, type MemberRow } from './group-resource.ts';
import { GroupMembers, memberFilterSelection, type MemberChange, type MemberSelection } from './members.ts';
import { planGroupPatch } from './patch-plan.ts';

/** 409 uniqueness: the connection already has a group with this displayName. */
export const GroupNameTaken = defineError('DMN_SCIM_GROUP_NAME_TAKEN', 409, 'a group with this displayName already exists', { scimType: 'uniqueness' });

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
  /** Decides what group membership grants (role mapping, through its service ref). */
  roleMapping: RoleMappingService;
  /** The connection's SCIM users (scim-users, through its service ref). */
  users: ScimUserDirectory;
}

/** Accumulates a request's effects into a few domain events (never one per member). */
class Changes {
  added = { count: 0, ids: [] as string[] };
  removed = { count: 0, ids: [] as string[] };
  /** Accounts whose groups changed; `regroup`: the group itself changed (name, externalId), so all of its people. */
  userIds = new Set<string>();
  regroup = false;
  fields: Record<string, { before?: unknown; after?: unknown }> = {};
  constructor(private readonly sample: number) {}
  merge(into: { count: number; ids: string[] }, r: MemberChange) {
    into.count += r.count;
    for (const id of r.ids) if (into.ids.length < this.sample && !into.ids.includes(id)) into.ids.push(id);
    for (const id of r.userIds) this.userIds.add(id);
  }
  get any() {
    return this.added.count > 0 || this.removed.count > 0 || Object.keys(this.fields).length > 0;
  }
}

/**
 * SCIM Groups as the IdP pushes them: any display name, externalId, members. Every write is one
 * transaction holding the group change, its domain events and role mapping's re-decision of the
 * people concerned (or the sync job it records for many). The group row is locked first, so writes
 * to one group are serialised and versions never skip or repeat.
 */
export class ScimGroupStore {
  readonly members: GroupMembers;

  constructor(private readonly deps: ScimGroupStoreDeps) {
    this.members = new GroupMembers(deps.dialect);
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

  private async assertNameFree(tx: EntityManager, tenant: Tenant, displayName: string, exceptGroupId: string | null) {
    const [row] = await tx.query('SELECT id FROM scim_groups WHERE connection_id = ? AND display_name_lc = ?', [tenant.connectionId, displayName.toLowerCase()]);
    if (row && row.id !== exceptGroupId) throw new GroupNameTaken(`a group with displayName '${displayName}' already exists`, { field: 'displayName' });
  }

  /** The SCIM users `ids` name (all of this connection), else 400 naming the others. */
  private async resolveMembers(tx: EntityManager, tenant: Tenant, ids: string[]): Promise<Array<{ id: string; userId: string }>> {
    if (!ids.length) return [];
    const found = new Map((await this.deps.users.find(tx, tenant.connectionId, ids)).map((u) => [u.id, u]));
    const outside = ids.filter((id) => !found.has(id));
    if (outside.length) {
      const shown = outside.slice(0, 10).map((id) => `'${id}'`).join(', ');
      throw new InputError(`members must be Users of this connection; unknown: ${shown}${outside.length > 10 ? ` and ${outside.length - 10} more` : ''}`, {
        scimType: 'invalidValue',
        field: 'members',
      });
    }
    return ids.map((id) => ({ id, userId: found.get(id)!.userId }));
  }

  private async addMembers(tx: EntityManager, tenant: Tenant, groupId: string, ids: string[], changes: Changes) {
    const members = await this.resolveMembers(tx, tenant, ids);
    changes.merge(changes.added, await this.members.add(tx, groupId, members, this.deps.eventIdSample));
  }

  private async removeMembers(tx: EntityManager, groupId: string, sel: MemberSelection, changes: Changes) {
    changes.merge(changes.removed, await this.members.remove(tx, groupId, sel, this.deps.eventIdSample));
  }

  private async replaceMembers(tx: EntityManager, tenant: Tenant, groupId: string, ids: string[], changes: Changes) {
    const members = await this.resolveMembers(tx, tenant, ids);
    await this.removeMembers(tx, groupId, { allBut: ids }, changes);
    changes.merge(changes.added, await this.members.add(tx, groupId, members, this.deps.eventIdSample));
  }

  private async rename(tx: EntityManager, tenant: Tenant, row: ScimGroup, displayName: string, changes: Changes): Promise<ScimGroup> {
    if (displayName === row.displayName) return row;
    await this.assertNameFree(tx, tenant, displayName, row.id);
    changes.fields.displayName = { before: changes.fields.displayName?.before ?? row.displayName, after: displayName };
    // A rule may match by name: the group's people are re-decided.
    changes.regroup = true;
    return { ...row, displayName, displayNameLc: displayName.toLowerCase() };
  }

  private setExternalId(row: ScimGroup, value: string | null, changes: Changes): ScimGroup {
    if (value === row.externalId) return row;
    changes.fields.externalId = { before: changes.fields.externalId?.before ?? row.externalId, after: value };
    changes.regroup = true;
    return { ...row, externalId: value };
  }

  /** Role mapping re-decides the people whose groups changed (in this transaction, or through the sync job). */
  private async regrant(tx: EntityManager, tenant: Tenant, groupId: string, changes: Changes, cause: string): Promise<GroupsChangedResult | null> {
    if (!changes.regroup && !changes.userIds.size) return null;
    return this.deps.roleMapping.groupsChanged(tx, {
      connectionId: tenant.connectionId,
      groupIds: [groupId],
      ...(changes.regroup ? {} : { userIds: [...changes.userIds] }),
      actor: { ...tenant.actor, cause },
    });
  }

  /** Saves the row (new version), lets role mapping re-decide, and publishes the request's events. */
  private async finish(tx: EntityManager, tenant: Tenant, before: ScimGroup | null, row: ScimGroup, changes: Changes): Promise<ScimGroup> {
    if (before && !changes.any) return before;
    const now = this.deps.now();
    const saved: ScimGroup = before ? { ...row, version: before.version + 1, updatedAt: now } : row;
    if (before) {
      await tx.getRepository(ScimGroupEntity).update(
        { id: row.id },
        { displayName: saved.displayName, displayNameLc: saved.displayNameLc, externalId: saved.externalId, version: saved.version, updatedAt: now },
      );
    }
    // The mapping changes follow from this request's main group event, whose id is chosen now (docs/people-and-explain.md).
    const cause = newRowId();
    const mapping = await this.regrant(tx, tenant, saved.id, changes, cause);
    const effect: Record<string, { after: unknown }> = mapping ? { peopleApplied: { after: mapping.applied }, syncJobId: { after: mapping.jobId } } : {};
    const base = { connectionId: tenant.connectionId, target: { type: 'group', id: saved.id } };
    const events: PublishedEvent[] = [];
    if (!before) {
      events.push(groupCreated({ ...base, changes: { displayName: { after: saved.displayName }, externalId: { after: saved.externalId } } }));
    } else if (Object.keys(changes.fields).length) {
      events.push(groupUpdated({ ...base, changes: { ...changes.fields, ...(changes.regroup ? effect : {}) } }));
    }
    if (changes.added.count) events.push(groupMembersAdded({ ...base, changes: { count: { after: changes.added.count }, members: { after: changes.added.ids }, ...effect } }));
    if (changes.removed.count) events.push(groupMembersRemoved({ ...base, changes: { count: { after: changes.removed.count }, members: { after: changes.removed.ids }, ...effect } }));
    const main = events.find((e) => e.action === groupMembersAdded.action) ?? events.find((e) => e.action === groupMembersRemoved.action) ?? events[0];
    if (main) main.id = cause;
    await this.deps.events.publish(tx, tenant.actor, ...events);
    return saved;
  }

  private changes() {
    return new Changes(this.deps.eventIdSample);
  }

  async create(tenant: Tenant, body: unknown, members: MembersMode): Promise<ScimResource> {
    const input = readGroupBody(body);
    return this.deps.transaction(async (tx) => {
      const changes = this.changes();
      await this.assertNameFree(tx, tenant, input.displayName, null);
      const now = this.deps.now();
      const row: ScimGroup = {
        id: newRowId(),
        connectionId: tenant.connectionId,
        displayName: input.displayName,
        displayNameLc: input.displayName.toLowerCase(),
        externalId: input.externalId,
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
      try {
        await tx.getRepository(ScimGroupEntity).insert(row);
      } catch (err) {
        if (isDuplicateKeyError(err)) throw new GroupNameTaken(`a group with displayName '${input.displayName}' already exists`, { field: 'displayName', cause: err });
        throw err;
      }
      if (input.members?.length) await this.addMembers(tx, tenant, row.id, input.members, changes);
      const saved = await this.finish(tx, tenant, null, row, changes);
      return this.render(tx, tenant, saved, members);
    });
  }

  async get(tenant: Tenant, id: string, members: MembersMode): Promise<{ resource: ScimResource; version: number }> {
    return this.deps.transaction(async (tx) => {
      const row = await this.load(tx, tenant, id, false);
      return { resource: await this.render(tx, tenant, row, members), version: row.version };
    });
  }

  private async render(tx: EntityManager, tenant: Tenant, row: ScimGroup, mode: MembersMode): Promise<ScimResource> {
    let members: MemberRow[] | undefined;
    if (mode === 'always' || (mode === 'capped' && (await this.members.count(tx, row.id)) <= this.deps.maxMembersInResponse)) {
      const ids = await this.members.list(tx, row.id);
      const users = new Map((await this.deps.users.find(tx, tenant.connectionId, ids)).map((u) => [u.id, u]));
      members = ids.map((id) => ({ id, userName: users.get(id)?.userName ?? id, displayName: users.get(id)?.displayName ?? null }));
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
      for (const row of rows) resources.push(await this.render(tx, tenant, row, members));
      return { resources, totalResults };
    });
  }

  /** PUT: displayName and externalId replaced; `members`, when present, is the whole new list (absent: kept). */
  async replace(tenant: Tenant, id: string, body: unknown, ifMatch: string | undefined, members: MembersMode): Promise<{ resource: ScimResource; version: number }> {
    const input = readGroupBody(body);
    const bodyId = (body as { id?: unknown }).id;
    if (bodyId !== undefined && bodyId !== id) throw new InputError('id is immutable and does not match the URL', { scimType: 'mutability', field: 'id' });
    return this.deps.transaction(async (tx) => {
      const current = await this.load(tx, tenant, id, true);
      assertIfMatch(ifMatch, current.version);
      const changes = this.changes();
      let row = await this.rename(tx, tenant, current, input.displayName, changes);
      row = this.setExternalId(row, input.externalId, changes);
      if (input.members !== undefined) await this.replaceMembers(tx, tenant, row.id, input.members, changes);
      const saved = await this.finish(tx, tenant, current, row, changes);
      return { resource: await this.render(tx, tenant, saved, members), version: saved.version };
    });
  }

  /** PATCH: steps in order; members are changed by set operations, never by rewriting the list. */
  async patch(tenant: Tenant, id: string, body: unknown, ifMatch: string | undefined, members: MembersMode | null): Promise<{ resource: ScimResource | null; version: number }> {
    const steps = planGroupPatch(body, id);
    return this.deps.transaction(async (tx) => {
      const current = await this.load(tx, tenant, id, true);
      assertIfMatch(ifMatch, current.version);
      const changes = this.changes();
      let row = current;
      for (const step of steps) {
        switch (step.kind) {
          case 'displayName':
            row = await this.rename(tx, tenant, row, step.value, changes);
            break;
          case 'externalId':
            row = this.setExternalId(row, step.value, changes);
            break;
          case 'addMembers':
            await this.addMembers(tx, tenant, row.id, step.ids, changes);
            break;
          case 'removeMembers':
            await this.removeMembers(tx, row.id, { ids: step.ids }, changes);
            break;
          case 'removeMembersWhere':
            await this.removeMembers(tx, row.id, memberFilterSelection(step.filter, this.deps.dialect), changes);
            break;
          case 'replaceMembers':
            await this.replaceMembers(tx, tenant, row.id, step.ids, changes);
            break;
        }
      }
      const saved = await this.finish(tx, tenant, current, row, changes);
      return { resource: members === null ? null : await this.render(tx, tenant, saved, members), version: saved.version };
    });
  }

  /** Deletes the group: its members leave it, and lose what it (and only it) granted them. */
  async delete(tenant: Tenant, id: string, ifMatch: string | undefined): Promise<void> {
    await this.deps.transaction(async (tx) => {
      const row = await this.load(tx, tenant, id, true);
      assertIfMatch(ifMatch, row.version);
      const changes = this.changes();
      await this.removeMembers(tx, row.id, { all: true }, changes);
      await tx.getRepository(ScimGroupEntity).delete({ id: row.id });
      // Everyone it granted something is re-decided: members just removed, and (when many) the sync
      // job finds the rest through the grants the group left behind.
      const cause = newRowId();
      const mapping = await this.deps.roleMapping.groupsChanged(tx, { connectionId: tenant.connectionId, groupIds: [row.id], userIds: [...changes.userIds], actor: { ...tenant.actor, cause } });
      const base = { connectionId: tenant.connectionId, target: { type: 'group', id: row.id } };
      const effect = { peopleApplied: { after: mapping.applied }, syncJobId: { after: mapping.jobId } };
      const events: PublishedEvent[] = [];
      if (changes.removed.count) events.push(groupMembersRemoved({ ...base, changes: { count: { after: changes.removed.count }, members: { after: changes.removed.ids }, ...effect } }));
      events.push(groupDeleted({ ...base, changes: { displayName: { before: row.displayName }, ...effect } }));
      events[0]!.id = cause;
      await this.deps.events.publish(tx, tenant.actor, ...events);
    });
  }
}
