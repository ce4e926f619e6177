import type { EntityManager } from 'typeorm';
import type { MemberOutcome } from '@doorman/core';
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
  /** Adds `delta` users to the connection's counter (one statement). */
  countUsers(tx: EntityManager, connectionId: string, delta: number): Promise<void>;
}

/**
 * Runs a group of SCIM creates in one transaction (docs/group-commit.md, "Creates"): one read of the
 * accounts every member's email may link to, then each member in a savepoint of its own — its user
 * row, emails, role mapping and events; on its own error (409 uniqueness, a 400 or 403 from role
 * mapping) ROLLBACK TO SAVEPOINT undoes exactly its statements and drops its events, and the others go
 * on — then one counter update per connection, and the audit rows in one INSERT at the shared COMMIT.
 *
 * Uniqueness stays the unique index's: a second member with a userName an earlier member of the
 * group took hits that member's row in the same transaction and is answered 409 `uniqueness`, as it
 * would be after the first committed. Two members with one email share one account: the second finds
 * the account the first created (kept only once the first member's savepoint was released).
 */
export async function runCreateGroup(host: CreateGroupHost, tx: EntityManager, requests: CreateRequest[]): Promise<Array<MemberOutcome<ScimResource>>> {
  const accounts = await host.readAccounts(tx, [...new Set(requests.map((r) => r.email.toLowerCase()))]);
  const added = new Map<string, number>();
  const outcomes: Array<MemberOutcome<ScimResource>> = [];
  for (const request of requests) {
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
