import { SECRET_PATTERN } from '@doorman/core';
import {
  connectionCreated,
  connectionDeleted,
  connectionDomainAdded,
  connectionDomainRemoved,
  connectionDomainVerified,
  connectionUpdated,
  groupCreated,
  groupDeleted,
  groupMembersAdded,
  groupMembersRemoved,
  groupUpdated,
  memberAdded,
  memberRemoved,
  memberRoleChanged,
  ssoSignedIn,
  ssoSignInDenied,
  userCreated,
  userDeactivated,
  userDeleted,
  userLinked,
  userReactivated,
  userUpdated,
  type DomainEvent,
} from '@doorman/plugin-api';

/**
 * Which domain events become webhook events, under which public type, and about which subject
 * (docs/webhooks.md). Pure: table-driven tests in test/types.test.ts.
 */
export const EVENT_TYPES = [
  'person.created',
  'person.updated',
  'person.deactivated',
  'person.reactivated',
  'person.deleted',
  'membership.added',
  'membership.removed',
  'membership.role_changed',
  'group.created',
  'group.updated',
  'group.deleted',
  'group.members_changed',
  'connection.created',
  'connection.updated',
  'connection.deleted',
  'sso.signed_in',
  'sso.sign_in_refused',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Domain event (its definition in the contract's catalog) → public type. Events not listed (tokens,
 * audit, sync runs, teams) are not published.
 */
const ACTIONS: Record<string, EventType> = {
  [userCreated.action]: 'person.created',
  // A SCIM create that found the account already there (another connection made it): new to this connection.
  [userLinked.action]: 'person.created',
  [userUpdated.action]: 'person.updated',
  [userDeactivated.action]: 'person.deactivated',
  [userReactivated.action]: 'person.reactivated',
  [userDeleted.action]: 'person.deleted',
  [memberAdded.action]: 'membership.added',
  [memberRemoved.action]: 'membership.removed',
  [memberRoleChanged.action]: 'membership.role_changed',
  [groupCreated.action]: 'group.created',
  [groupUpdated.action]: 'group.updated',
  [groupDeleted.action]: 'group.deleted',
  [groupMembersAdded.action]: 'group.members_changed',
  [groupMembersRemoved.action]: 'group.members_changed',
  [connectionCreated.action]: 'connection.created',
  [connectionUpdated.action]: 'connection.updated',
  [connectionDeleted.action]: 'connection.deleted',
  [connectionDomainAdded.action]: 'connection.updated',
  [connectionDomainVerified.action]: 'connection.updated',
  [connectionDomainRemoved.action]: 'connection.updated',
  [ssoSignedIn.action]: 'sso.signed_in',
  [ssoSignInDenied.action]: 'sso.sign_in_refused',
};

/** The domain actions published as webhook events (docs/webhooks.md). */
export const WEBHOOK_ACTIONS: readonly string[] = Object.keys(ACTIONS);

/** What a webhook event is about; its sequence numbers count per subject. */
export interface Subject {
  type: 'person' | 'group' | 'connection' | 'email';
  id: string;
}

export interface MappedEvent {
  type: EventType;
  subject: Subject;
  /** The published change: `{ field: { before?, after? } }`, without secrets. */
  changes: Record<string, unknown>;
}

/** Keys never published, whatever a producer hands over (credentials, session ids, raw SCIM documents). */
const HIDDEN_KEY = /secret|token|password|cookie|assertion|session|credential|^resource$|^idp$/i;

function publishable(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return SECRET_PATTERN.test(value) ? undefined : value;
  if (value instanceof Date) return value.toISOString();
  if (depth > 8 || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) return value.map((v) => publishable(v, depth + 1)).filter((v) => v !== undefined);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (HIDDEN_KEY.test(key)) continue;
    const kept = publishable(v, depth + 1);
    if (kept !== undefined) out[key] = kept;
  }
  return out;
}

function subjectOf(type: EventType, event: DomainEvent): Subject | null {
  const target = event.target;
  if (type.startsWith('person.') || type.startsWith('membership.')) return target?.type === 'user' ? { type: 'person', id: target.id } : null;
  if (type.startsWith('group.')) return target ? { type: 'group', id: target.id } : null;
  if (type.startsWith('connection.')) return event.connectionId ? { type: 'connection', id: event.connectionId } : null;
  // Sign-ins are about a person; a refusal may only know the email that was offered.
  if (target?.type === 'user') return { type: 'person', id: target.id };
  if (target?.type === 'email') return { type: 'email', id: target.id.toLowerCase() };
  return event.connectionId ? { type: 'connection', id: event.connectionId } : null;
}

/** The webhook event a domain event stands for, or null when it is not published. */
export function mapDomainEvent(event: DomainEvent): MappedEvent | null {
  const type = ACTIONS[event.action];
  if (!type) return null;
  const subject = subjectOf(type, event);
  if (!subject) return null;
  const changes = (publishable(event.changes ?? {}) ?? {}) as Record<string, unknown>;
  return { type, subject, changes };
}

export const subjectKey = (s: Subject) => `${s.type}:${s.id}`.slice(0, 128);

/** Whether an endpoint's type filter accepts a type (null or empty = every type; `person.*` = a family). */
export function typeMatches(filter: readonly string[] | null, type: string): boolean {
  if (!filter || filter.length === 0) return true;
  return filter.some((f) => f === type || (f.endsWith('.*') && type.startsWith(f.slice(0, -1))));
}

export const isEventTypeFilter = (f: string) => (EVENT_TYPES as readonly string[]).includes(f) || EVENT_TYPES.some((t) => f.endsWith('.*') && t.startsWith(f.slice(0, -1)));
