import type { EntityManager } from 'typeorm';
import { isDuplicateKeyError, isMemberError, type MemberOutcome } from '@doorman/core';
import type { User } from '@doorman/model';
import type { ScimResource } from '@doorman/scim';
import type { Tenant } from './store.ts';
import type { EmailRow, UserColumns } from './user-resource.ts';
import { inSavepoint } from './write-group.ts';

/** A POST /Users, its body already parsed and checked (a bad body is answered before it queues). */
export interface CreateRequest {
  tenant: Tenant;
  columns: UserColumns;
  emails: EmailRow[];
  /** The primary email: the global account it links to or creates. */
  email: string;
}

export interface CreateGroupHost {
  /** The global accounts of these lower-cased emails, keyed by them (one statement). */
  readAccounts(tx: EntityManager, emailsLc: string[]): Promise<Map<string, User>>;
  /**
   * One create (the single-request path without the counter): the user, its emails, role mapping,
   * its events. `account`: the account its email already has, or null to create one.
   */
  createMember(tx: EntityManager, request: CreateRequest, account: User | null): Promise<{ resource: ScimResource; account: User }>;
  /**
   * Every member at once, in arrival order: one multi-row INSERT per table (accounts, users, emails),
   * then each member's role mapping and events. Throws if any member fails (the caller rolls back to
   * a savepoint and goes member by member). `accounts`: as for createMember, by lower-cased email; not changed.
   */
  createMembers(tx: EntityManager, requests: CreateRequest[], accounts: ReadonlyMap<string, User>): Promise<Array<{ resource: ScimResource; account: User }>>;
  /** Adds `delta` users to the connection's counter (one statement). */
  countUsers(tx: EntityManager, connectionId: string, delta: number): Promise<void>;
}

/**
 * Runs a group of SCIM creates in one transaction (docs/group-commit.md, "Creates"): one read of the
 * accounts every member's email may link to; then every member at once in one savepoint — one
 * multi-row INSERT each for the new accounts, the users and their emails, then each member's role
 * mapping and events in arrival order; then one counter update per connection, and the audit rows in
 * one INSERT at the shared COMMIT. If any member fails there (409 uniqueness, a 400 or 403 from role
 * mapping, a taken account email or username), the savepoint is rolled back and the members go one by
 * one, each in a savepoint of its own, so that only the failing member fails: ROLLBACK TO SAVEPOINT
 * undoes exactly its statements and drops its events, and the others go on. A group of one is a
 * create alone (no savepoint).
 *
 * Uniqueness stays the unique index's: a second member with a userName an earlier member of the
 * group took hits that member's row in the same transaction and is answered 409 `uniqueness`, as it
 * would be after the first committed. Two members with one email share one account: the second is
 * linked to the account the first created.
 */
export async function runCreateGroup(host: CreateGroupHost, tx: EntityManager, requests: CreateRequest[]): Promise<Array<MemberOutcome<ScimResource>>> {
  const accounts = await host.readAccounts(tx, [...new Set(requests.map((r) => r.email.toLowerCase()))]);
  if (requests.length === 1) {
    // Alone in its transaction: no savepoint needed (its failure rolls the transaction back, and the
    // group committer answers a group of one with its error) — the statements of a create alone.
    const [request] = requests as [CreateRequest];
    const { resource } = await host.createMember(tx, request, accounts.get(request.email.toLowerCase()) ?? null);
    await host.countUsers(tx, request.tenant.connectionId, 1);
    return [{ ok: true, value: resource }];
  }
  const added = new Map<string, number>();
  const outcomes: Array<MemberOutcome<ScimResource>> = [];
  // First every member at once, in one savepoint: one INSERT per table instead of one per member,
  // and two savepoint statements for the group instead of two per member. Any member's failure (a
  // taken userName, a refusal by role mapping, an account email or username that is taken) rolls
  // the whole attempt back — its rows and its events — and the members go one by one below, each in
  // a savepoint of its own, so only the failing member fails (docs/group-commit.md, "Creates").
  const all = await inSavepoint(tx, () => host.createMembers(tx, requests, accounts), (err) => isMemberError(err) || isDuplicateKeyError(err));
  if (all.ok) {
    requests.forEach((request, i) => {
      added.set(request.tenant.connectionId, (added.get(request.tenant.connectionId) ?? 0) + 1);
      outcomes.push({ ok: true, value: all.value[i]!.resource });
    });
  }
  for (const request of all.ok ? [] : requests) {
    const emailLc = request.email.toLowerCase();
    const outcome = await inSavepoint(tx, () => host.createMember(tx, request, accounts.get(emailLc) ?? null));
    if (!outcome.ok) {
      outcomes.push(outcome);
      continue;
    }
    accounts.set(emailLc, outcome.value.account);
    const connectionId = request.tenant.connectionId;
    added.set(connectionId, (added.get(connectionId) ?? 0) + 1);
    outcomes.push({ ok: true, value: outcome.value.resource });
  }
  // In connection order, so that two groups update the counters' rows in one order.
  for (const [connectionId, delta] of [...added].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) await host.countUsers(tx, connectionId, delta);
  return outcomes;
}
