import { assertIfMatch, ifMatchSatisfied } from '@doorman/scim';
import { RuntimeError, type DomainEvent } from '@doorman/plugin-api';
import type { UserColumns } from './user-resource.ts';
import type { Tenant } from './store.ts';

/*
 * The write path's pure rules (no I/O): what a change audits, what role mapping reads, what a
 * deactivation job names as its cause, and how a stale If-Match ranks against other refusals.
 */

/** Fields whose change is worth an audit line (the stored JSON is compared as a whole too). */
const AUDITED: Array<keyof UserColumns> = ['userName', 'externalId', 'displayName', 'givenName', 'familyName', 'active', 'dockerRole', 'dockerOrg', 'dockerTeam'];

export function diff(before: Partial<UserColumns> | null, after: Partial<UserColumns>) {
  const changes: Record<string, { before?: unknown; after?: unknown }> = {};
  for (const k of AUDITED) {
    const b = before?.[k] ?? null;
    const a = after[k] ?? null;
    if (b !== a) changes[k] = before ? { before: b, after: a } : { after: a };
  }
  return changes;
}

export const mappingAttributes = (c: Pick<UserColumns, 'dockerRole' | 'dockerOrg' | 'dockerTeam'>) => ({ dockerRole: c.dockerRole, dockerOrg: c.dockerOrg, dockerTeam: c.dockerTeam });

/** The request and the event a deactivation job follows from (its audit events name them). */
export const causeOf = (tenant: Tenant, event: DomainEvent) => ({ ...(tenant.actor.requestId ? { requestId: tenant.actor.requestId.slice(0, 64) } : {}), causeEventId: event.id! });

/** A stale If-Match refuses a write only if the write would change something: returns the refusal, or undefined when it matches. */
export function staleCheck(ifMatch: string | undefined, version: number): (() => never) | undefined {
  if (ifMatchSatisfied(ifMatch, version)) return undefined;
  return () => {
    assertIfMatch(ifMatch, version);
    throw new RuntimeError('unreachable: If-Match was stale');
  };
}

/** Under a stale If-Match, 412 wins over an error in the request itself (as when it was checked first). */
export function orStale<T>(refuseStale: (() => never) | undefined, compute: () => T): T {
  try {
    return compute();
  } catch (err) {
    refuseStale?.();
    throw err;
  }
}
