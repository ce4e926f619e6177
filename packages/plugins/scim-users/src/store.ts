import type { EntityManager } from 'typeorm';
import { groupCommitter, isDuplicateKeyError, type EventBus, type JobRegistry } from '@doorman/core';
import { defineError, InputError, NotFoundError, userCreated, userDeactivated, userDeleted, userLinked, userReactivated, userUpdated, type Actor, type ApplyMappingRequest, type EventChanges, type EventDefinition, type PublishedEvent, type RoleMappingService, type ScimUserPayload } from '@doorman/plugin-api';
import {
  AccountEmailTaken,
  candidateUsername,
  ConnectionUserEmailEntity,
  ConnectionUserEntity,
  insertAccount,
  insertRows,
  recordConnectionUsersChange,
  rowCodec,
  type RowCodec,
  UserEntity,
  type ConnectionUser,
  type User,
  newRowId,
} from '@doorman/model';
import { applyPatch, assertIfMatch, type ListParams, type ScimResource } from '@doorman/scim';
import { deactivateUserJob } from './jobs.ts';
import { toScimUser, toUserColumns, type EmailRow, type UserColumns } from './user-resource.ts';
import { UserReads, type UserReadsDeps } from './user-reads.ts';
import { causeOf, diff, mappingAttributes, orStale, staleCheck } from './write-rules.ts';
import { runWriteGroup, updateChangedRows, type WriteGroupHost, type WriteRequest, type WriteStep } from './write-group.ts';
import { runCreateGroup, type CreateGroupHost, type CreateRequest } from './create-group.ts';

/** 409 uniqueness: the connection already has a user with this userName (compared case-insensitively). */
export const UserNameTaken = defineError('DMN_SCIM_USERNAME_TAKEN', 409, 'a user with this userName already exists', { scimType: 'uniqueness' });

export interface ScimUserStoreDeps extends UserReadsDeps {
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T>;
  events: EventBus;
  jobs: JobRegistry;
  roleMapping: RoleMappingService;
  now(): Date;
  /** false: every PUT/PATCH (and create) in a transaction of its own (default: group commit, docs/group-commit.md). */
  groupCommit?: boolean;
  /** false: every create in a transaction of its own (default: creates arriving together share one, create-group.ts). */
  createGroupCommit?: boolean;
  /** Told the size of each group of PUTs/PATCHes that shared a transaction. */
  onWriteGroup?: (size: number) => void;
  /** Told the size of each group of creates that shared a transaction. */
  onCreateGroup?: (size: number) => void;
}

/** Creates per group, and groups committing at once (docs/group-commit.md, "Creates"). */
const CREATE_GROUP_MAX = 32;
const CREATE_GROUPS_IN_FLIGHT = 4;

const fullNameOf = (c: UserColumns) => [c.givenName, c.familyName].filter(Boolean).join(' ') || c.formattedName || null;

export interface Tenant {
  connectionId: string;
  actor: Actor;
}


/**
 * The SCIM Users service. Reads are UserReads' (user-reads.ts); every write is one transaction holding the change, its role-mapping
 * effects, its domain events (audit) and its job intents (outbox).
 */
export class ScimUserStore {
  private readonly reads: UserReads;
  private readonly rows: RowCodec<ConnectionUser>;
  private readonly accounts: RowCodec<User>;
  /** PUTs and PATCHes that arrive together share one transaction (write-group.ts, docs/group-commit.md). */
  private readonly writes: (request: WriteRequest) => Promise<ScimResource>;
  /** POST /Users requests that arrive together share one transaction too (create-group.ts). */
  private readonly creates: (request: CreateRequest) => Promise<ScimResource>;

  constructor(private readonly deps: ScimUserStoreDeps) {
    this.reads = new UserReads(deps);
    this.rows = rowCodec(deps.db, ConnectionUserEntity);
    this.accounts = rowCodec(deps.db, UserEntity);
    const host: WriteGroupHost = {
      events: deps.events,
      jobs: deps.jobs,
      lockRows: (tx, ids) => this.lockRows(tx, ids),
      updateRows: (tx, rows) => updateChangedRows(tx, this.rows, rows),
      decide: (current, request) => this.decide(current, request),
      writeComplex: (tx, current, request) => this.writeComplex(tx, current, request),
    };
    this.writes = deps.groupCommit === false
      ? (request) => deps.transaction((tx) => this.writeAlone(tx, request))
      : groupCommitter<WriteRequest, ScimResource>({
          transaction: deps.transaction,
          runGroup: (tx, requests) => runWriteGroup(host, tx, requests),
          runAlone: (request) => deps.transaction((tx) => this.writeAlone(tx, request)),
          onGroup: deps.onWriteGroup,
        });
    const createHost: CreateGroupHost = {
      readAccounts: (tx, emailsLc) => this.readAccounts(tx, emailsLc),
      createMember: (tx, request, account) => this.createMember(tx, request, account),
      createMembers: (tx, requests, accounts) => this.createMembers(tx, requests, accounts),
      countUsers: (tx, connectionId, delta) => recordConnectionUsersChange(tx, connectionId, delta),
    };
    this.creates = deps.groupCommit === false || deps.createGroupCommit === false
      ? (request) => this.createAlone(request)
      : groupCommitter<CreateRequest, ScimResource>({
          transaction: deps.transaction,
          runGroup: (tx, requests) => runCreateGroup(createHost, tx, requests),
          runAlone: (request) => this.createAlone(request),
          onGroup: deps.onCreateGroup,
          // A group inserts its members' rows together (one INSERT per table) and maps their roles
          // together (one read, one INSERT per membership table). Groups as for writes, smaller: up
          // to 32, 4 in flight (docs/group-commit.md, "Creates").
          maxGroup: CREATE_GROUP_MAX,
          maxInFlight: CREATE_GROUPS_IN_FLIGHT,
        });
  }

  private event(tenant: Tenant, row: Pick<ConnectionUser, 'id' | 'userId'>, definition: EventDefinition<string, ScimUserPayload>, changes?: EventChanges | null): PublishedEvent {
    // The id is chosen here so that what follows from the event (mapping changes, jobs) can name it as their cause.
    return definition({ id: newRowId(), connectionId: tenant.connectionId, target: { type: 'user', id: row.userId }, changes: { ...(changes ?? {}), scimId: { after: row.id } } });
  }

  /** A new user's event: created, or linked to the account its email already had. */
  private createdEvent(tenant: Tenant, row: ConnectionUser, linked: boolean): PublishedEvent {
    return this.event(tenant, row, linked ? userLinked : userCreated, diff(null, row));
  }

  async create(tenant: Tenant, body: unknown): Promise<ScimResource> {
    const { columns, emails, email } = toUserColumns(body);
    const request = { tenant, columns, emails, email };
    // A group of one that lost the race for the account is not re-run by the group committer: here,
    // alone, the next attempt links the account that now exists.
    return this.creates(request).catch((err) => {
      if (err instanceof AccountEmailTaken) return this.createAlone(request);
      throw err;
    });
  }

  /** One create in a transaction of its own (group commit off, or a group's fallback). */
  private async createAlone(request: CreateRequest): Promise<ScimResource> {
    // A concurrent create of the same account through another connection can race us to the
    // users row: retry once, and the second attempt links the account that now exists.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.transaction(async (tx) => {
          const [account] = (await this.readAccounts(tx, [request.email.toLowerCase()])).values();
          const { resource } = await this.createMember(tx, request, account ?? null);
          await recordConnectionUsersChange(tx, request.tenant.connectionId, +1);
          return resource;
        });
      } catch (err) {
        if (err instanceof AccountEmailTaken && attempt < 3) continue;
        throw err;
      }
    }
  }

  /** The user, its emails, role mapping and its events; the caller updates the counter. */
  private async createMember(tx: EntityManager, request: CreateRequest, existing: User | null): Promise<{ resource: ScimResource; account: User }> {
    const { tenant, columns, emails, email } = request;
    // No existence check first: the unique index on (connection, userName) answers a duplicate with
    // the INSERT below, and the transaction (or the member's savepoint) rolls back whatever came before it.
    const account = existing ?? (await insertAccount(tx, { email, fullName: fullNameOf(columns), now: this.deps.now() }));
    const row = this.newRow(tenant, columns, account);
    await this.insertUserRows(tx, [row]);
    await this.writeEmails(tx, row.id, emails, true);
    return { resource: await this.mapAndPublish(tx, tenant, row, existing !== null), account };
  }

  /**
   * A create group's members at once (create-group.ts): the new accounts, the users and their emails
   * in one INSERT per table, then each member's role mapping and events in arrival order — what
   * `createMember` does for each, in as few statements. A member whose email an earlier member's
   * account has is linked to it. Throws on any member's failure (the group goes member by member then).
   */
  private async createMembers(tx: EntityManager, requests: CreateRequest[], known: ReadonlyMap<string, User>): Promise<Array<{ resource: ScimResource; account: User }>> {
    const now = this.deps.now();
    const accounts = new Map(known);
    const newAccounts: User[] = [];
    const members = requests.map((request) => {
      const emailLc = request.email.toLowerCase();
      let account = accounts.get(emailLc);
      const linked = account !== undefined;
      if (!account) {
        // insertAccount's row; a taken username or email fails the INSERT, and the member-by-member path retries or links.
        account = { id: newRowId(), email: request.email, emailLc, username: candidateUsername(request.email), fullName: fullNameOf(request.columns), createdAt: now, updatedAt: now };
        accounts.set(emailLc, account);
        newAccounts.push(account);
      }
      return { request, account, linked, row: this.newRow(request.tenant, request.columns, account) };
    });
    await insertRows(tx, UserEntity, newAccounts);
    await this.insertUserRows(tx, members.map((m) => m.row));
    await insertRows(tx, ConnectionUserEmailEntity, members.flatMap(({ row, request }) => request.emails.map((e) => ({ id: newRowId(), connectionUserId: row.id, ...e }))));
    // Everyone's role mapping in one call (one read of their states when they share a connection),
    // then each member's events in arrival order, as `mapAndPublish` does for one.
    const events = members.map(({ request, row, linked }) => this.createdEvent(request.tenant, row, linked));
    const mapped = members.flatMap(({ request, row, linked }, i) => (row.active ? [this.mappingRequest(request.tenant, row, events[i]!, linked)] : []));
    await this.deps.roleMapping.applyMany(tx, mapped);
    for (const [i, { request }] of members.entries()) await this.deps.events.publish(tx, request.tenant.actor, events[i]!);
    return members.map(({ row, account }) => ({ resource: toScimUser(row, this.deps.baseUrl), account }));
  }

  /** The role mapping of a new user (flow SCIM, first time), its events following from `cause` (docs/people-and-explain.md, "Causal links"). */
  private mappingRequest(tenant: Tenant, row: ConnectionUser, cause: PublishedEvent, linked: boolean): ApplyMappingRequest {
    // A new account holds nothing: role mapping skips reading (and locking) it (docs/row-ids.md, "Locks").
    return { connectionId: tenant.connectionId, userId: row.userId, attributes: mappingAttributes(row), flow: 'scim', firstTime: true, accountCreated: !linked, actor: { ...tenant.actor, cause: cause.id } };
  }

  private newRow(tenant: Tenant, columns: UserColumns, account: User): ConnectionUser {
    const now = this.deps.now();
    return { id: newRowId(), connectionId: tenant.connectionId, userId: account.id, ...columns, version: 1, createdAt: now, updatedAt: now };
  }

  private async insertUserRows(tx: EntityManager, rows: ConnectionUser[]): Promise<void> {
    try {
      await insertRows(tx, ConnectionUserEntity, rows);
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      const names = rows.length === 1 ? `'${rows[0]!.userName}'` : 'one of these userNames';
      throw new UserNameTaken(`a user with ${rows.length === 1 ? 'userName ' : ''}${names} already exists`, { field: 'userName' });
    }
  }

  /** A new user's role mapping and events (created, or linked to the account its email already had). */
  private async mapAndPublish(tx: EntityManager, tenant: Tenant, row: ConnectionUser, linked: boolean): Promise<ScimResource> {
    // Docker: "If the user already exists by email, they are assigned to the organization" — linked, not duplicated.
    const events = [this.createdEvent(tenant, row, linked)];
    if (row.active) await this.deps.roleMapping.apply(tx, this.mappingRequest(tenant, row, events[0]!, linked));
    await this.deps.events.publish(tx, tenant.actor, ...events);
    return toScimUser(row, this.deps.baseUrl);
  }

  /** The global accounts of these lower-cased emails, keyed by them. */
  private async readAccounts(tx: EntityManager, emailsLc: string[]): Promise<Map<string, User>> {
    const raws: Array<Record<string, unknown>> = await tx.query(`SELECT ${this.accounts.select()} FROM users WHERE email_lc IN (${emailsLc.map(() => '?').join(', ')})`, emailsLc);
    return new Map(raws.map((raw) => this.accounts.hydrate(raw)).map((account) => [account.emailLc, account]));
  }

  private async writeEmails(tx: EntityManager, connectionUserId: string, emails: EmailRow[], isNewUser = false) {
    if (!isNewUser) await tx.getRepository(ConnectionUserEmailEntity).delete({ connectionUserId });
    await insertRows(tx, ConnectionUserEmailEntity, emails.map((e) => ({ id: newRowId(), connectionUserId, ...e })));
  }

  get(tenant: Tenant, id: string): Promise<{ resource: ScimResource; version: number }> {
    return this.reads.get(tenant, id);
  }

  list(tenant: Tenant, params: ListParams): Promise<{ resources: ScimResource[]; totalResults: number }> {
    return this.reads.list(tenant, params);
  }

  private async load(tx: EntityManager, tenant: Tenant, id: string, forUpdate: boolean): Promise<ConnectionUser> {
    const lock = forUpdate && this.deps.dialect === 'mysql' ? ' FOR UPDATE' : '';
    const [raw] = await tx.query(`SELECT ${this.rows.select()} FROM connection_users WHERE id = ? AND connection_id = ?${lock}`, [id, tenant.connectionId]);
    // Another tenant's id answers exactly like an unknown one.
    if (!raw) throw new NotFoundError(`User ${id} not found`);
    return this.rows.hydrate(raw);
  }

  async replace(tenant: Tenant, id: string, body: unknown, ifMatch?: string): Promise<ScimResource> {
    return this.writes({ kind: 'put', tenant, id, body, ifMatch });
  }

  async patch(tenant: Tenant, id: string, body: unknown, ifMatch?: string): Promise<ScimResource> {
    return this.writes({ kind: 'patch', tenant, id, body, ifMatch });
  }

  /** One PUT/PATCH in a transaction of its own (a group's fallback; the same decisions as in a group). */
  private async writeAlone(tx: EntityManager, request: WriteRequest): Promise<ScimResource> {
    const current = await this.load(tx, request.tenant, request.id, true);
    const step = this.decide(current, request);
    if (step.kind === 'unchanged') return step.resource;
    if (step.kind === 'complex') return (await this.writeComplex(tx, current, request)).resource;
    await tx.query(step.update.sql, step.update.params);
    await this.deps.events.publish(tx, request.tenant.actor, ...step.events);
    await this.deps.jobs.enqueue(tx, ...step.intents);
    return step.resource;
  }

  /** The rows a group writes, locked in primary-key order (ids match exactly, as for gets). */
  private async lockRows(tx: EntityManager, ids: string[]): Promise<Map<string, ConnectionUser>> {
    const lock = this.deps.dialect === 'mysql' ? ' FOR UPDATE' : '';
    const raws: Record<string, unknown>[] = await tx.query(`SELECT ${this.rows.select()} FROM connection_users WHERE id IN (${ids.map(() => '?').join(', ')}) ORDER BY id${lock}`, ids);
    const rows = new Map<string, ConnectionUser>();
    for (const raw of raws) if (ids.includes(String(raw.id))) rows.set(String(raw.id), this.rows.hydrate(raw));
    return rows;
  }

  /** The new columns a PUT or PATCH asks for, checked (the member's own 4xx: 400, 412). */
  private requested(current: ConnectionUser, request: WriteRequest) {
    const refuseStale = staleCheck(request.ifMatch, current.version);
    const { body, id } = request;
    if (request.kind === 'put') {
      const bodyId = typeof body === 'object' && body && 'id' in body ? (body as { id: unknown }).id : undefined;
      return {
        refuseStale,
        ...orStale(refuseStale, () => {
          if (bodyId !== undefined && bodyId !== id) throw new InputError('id is immutable and does not match the URL', { scimType: 'mutability', field: 'id' });
          return toUserColumns(body, current.active);
        }),
      };
    }
    const before = toScimUser(current, this.deps.baseUrl);
    return { refuseStale, ...orStale(refuseStale, () => toUserColumns(applyPatch(before, body, { schema: 'User' }), current.active)) };
  }

  /**
   * Decides a write from the locked row, in memory: unchanged, simple (one UPDATE, its events and
   * job intents: a profile change or a deactivation), or complex (emails, userName or mapping
   * attributes change, or a reactivation: today's write path, in a savepoint when grouped).
   */
  private decide(current: ConnectionUser, request: WriteRequest): WriteStep {
    const { columns, refuseStale } = this.requested(current, request);
    const changes = diff(current, columns);
    const resourceChanged = JSON.stringify(current.resource) !== JSON.stringify(columns.resource);
    // Already in the requested state: 200 even under a stale If-Match, so a retry of a write whose
    // commit acknowledgement was lost succeeds (RFC 7232 §3.1; README "Failure behaviour").
    if (!Object.keys(changes).length && !resourceChanged) return { kind: 'unchanged', resource: toScimUser(current, this.deps.baseUrl) };
    refuseStale?.();
    const emailsChanged = JSON.stringify((current.resource as { emails?: unknown }).emails ?? null) !== JSON.stringify((columns.resource as { emails?: unknown }).emails ?? null);
    const mappingChanged = current.dockerRole !== columns.dockerRole || current.dockerOrg !== columns.dockerOrg || current.dockerTeam !== columns.dockerTeam;
    if (emailsChanged || columns.userNameLc !== current.userNameLc || (columns.active && (mappingChanged || !current.active))) return { kind: 'complex' };
    const { next, changed, update } = this.nextRow(current, columns, resourceChanged);
    const tenant = request.tenant;
    if (current.active && !next.active) {
      // Deprovisioning runs as a job: committed with this change through the outbox, never lost.
      const event = this.event(tenant, next, userDeactivated, changes);
      const intent = deactivateUserJob.intent(`deactivate-user.${current.id}.v${next.version}`, {
        connectionId: tenant.connectionId,
        connectionUserId: current.id,
        userId: current.userId,
        reason: 'inactive',
        ...causeOf(tenant, event),
      });
      return { kind: 'simple', next, changed, update, events: [event], intents: [intent], resource: toScimUser(next, this.deps.baseUrl) };
    }
    return { kind: 'simple', next, changed, update, events: [this.event(tenant, next, userUpdated, changes)], intents: [], resource: toScimUser(next, this.deps.baseUrl) };
  }

  /** The next version of the row and the UPDATE that writes only the columns that changed (the resource JSON nearly always does). */
  private nextRow(current: ConnectionUser, columns: UserColumns, resourceChanged: boolean) {
    const next: ConnectionUser = { ...current, ...columns, version: current.version + 1, updatedAt: this.deps.now() };
    const changed: Partial<ConnectionUser> = { version: next.version, updatedAt: next.updatedAt };
    for (const k of Object.keys(columns) as Array<keyof UserColumns>) {
      if (k === 'resource' ? resourceChanged : columns[k] !== current[k]) (changed as Record<string, unknown>)[k] = columns[k];
    }
    const set = this.rows.assignments(changed);
    return { next, changed, update: { sql: `UPDATE connection_users SET ${set.sql} WHERE id = ?`, params: [...set.params, current.id] } };
  }

  /** A write that touches more than the row: emails, userName (uniqueness), role mapping, reactivation. */
  private async writeComplex(tx: EntityManager, current: ConnectionUser, request: WriteRequest): Promise<{ resource: ScimResource; next: ConnectionUser }> {
    const { tenant } = request;
    const { columns, emails } = this.requested(current, request);
    const changes = diff(current, columns);
    const resourceChanged = JSON.stringify(current.resource) !== JSON.stringify(columns.resource);
    if (columns.userNameLc !== current.userNameLc && (await tx.getRepository(ConnectionUserEntity).exists({ where: { connectionId: tenant.connectionId, userNameLc: columns.userNameLc } }))) {
      throw new UserNameTaken(`a user with userName '${columns.userName}' already exists`, { field: 'userName' });
    }
    const { next, update } = this.nextRow(current, columns, resourceChanged);
    try {
      await tx.query(update.sql, update.params);
    } catch (err) {
      if (isDuplicateKeyError(err)) throw new UserNameTaken(`a user with userName '${columns.userName}' already exists`, { field: 'userName' });
      throw err;
    }
    // Only what changed is rewritten: most profile pushes touch neither emails nor mapping attributes.
    const storedEmails = (current.resource as { emails?: unknown }).emails;
    if (JSON.stringify(storedEmails ?? null) !== JSON.stringify((columns.resource as { emails?: unknown }).emails ?? null)) await this.writeEmails(tx, current.id, emails);
    const mappingChanged = current.dockerRole !== columns.dockerRole || current.dockerOrg !== columns.dockerOrg || current.dockerTeam !== columns.dockerTeam;
    const events: PublishedEvent[] = [];
    if (current.active && !next.active) {
      const event = this.event(tenant, next, userDeactivated, changes);
      await this.deps.jobs.enqueue(
        tx,
        deactivateUserJob.intent(`deactivate-user.${current.id}.v${next.version}`, {
          connectionId: tenant.connectionId,
          connectionUserId: current.id,
          userId: current.userId,
          reason: 'inactive',
          ...causeOf(tenant, event),
        }),
      );
      events.push(event);
    } else if (next.active) {
      const event = this.event(tenant, next, current.active ? userUpdated : userReactivated, changes);
      // Reactivation and mapping-attribute changes re-apply role mapping in this transaction (the
      // mapping is idempotent; drift with unchanged attributes is the sync job's to repair).
      if (mappingChanged || !current.active) {
        await this.deps.roleMapping.apply(tx, { connectionId: tenant.connectionId, userId: current.userId, attributes: mappingAttributes(columns), flow: 'scim', firstTime: !current.active, actor: { ...tenant.actor, cause: event.id } });
      }
      events.push(event);
    } else {
      events.push(this.event(tenant, next, userUpdated, changes));
    }
    await this.deps.events.publish(tx, tenant.actor, ...events);
    return { resource: toScimUser(next, this.deps.baseUrl), next };
  }

  async delete(tenant: Tenant, id: string, ifMatch?: string): Promise<void> {
    await this.deps.transaction(async (tx) => {
      const current = await this.load(tx, tenant, id, true);
      assertIfMatch(ifMatch, current.version);
      await tx.getRepository(ConnectionUserEmailEntity).delete({ connectionUserId: current.id });
      await tx.getRepository(ConnectionUserEntity).delete({ id: current.id });
      const event = this.event(tenant, current, userDeleted, { userName: { before: current.userName } });
      await this.deps.jobs.enqueue(
        tx,
        deactivateUserJob.intent(`deactivate-user.${current.id}.deleted`, {
          connectionId: tenant.connectionId,
          connectionUserId: current.id,
          userId: current.userId,
          reason: 'deleted',
          ...causeOf(tenant, event),
        }),
      );
      await this.deps.events.publish(tx, tenant.actor, event);
      await recordConnectionUsersChange(tx, tenant.connectionId, -1);
    });
  }
}
