import { InputError } from '@doorman/plugin-api';
import { etagFor, findKey, GROUP_SCHEMA, isPlainObject, type ScimResource } from '@doorman/scim';
import type { ScimGroup } from '@doorman/model';

/**
 * The SCIM Group resource (pure): reading bodies, rendering. Only `displayName`, `externalId` and
 * `members` are modelled; other attributes are accepted and not kept. Any display name is accepted:
 * what a group grants is decided by role mapping's rules (docs/group-mapping.md).
 */

/** Member references one request may carry (bounded by SQLite's bind-variable limit). */
export const MAX_MEMBER_REFS = 30_000;

const invalid = (detail: string, field: string) => new InputError(detail, { scimType: 'invalidValue', field });

/** Any non-empty string of at most 255 characters (trimmed), else 400 invalidValue. */
export function readDisplayName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid('displayName is required and must be a non-empty string', 'displayName');
  if (value.trim().length > 255) throw invalid('displayName is longer than 255 characters', 'displayName');
  return value.trim();
}

export interface MemberRef {
  value: string;
}

/** Reads a `members` value (a list, or a single object): returns the distinct `value`s. */
export function readMemberRefs(raw: unknown, field = 'members'): string[] {
  if (raw === undefined || raw === null) return [];
  const items = Array.isArray(raw) ? raw : [raw];
  if (items.length > MAX_MEMBER_REFS) throw invalid(`at most ${MAX_MEMBER_REFS} member references per request`, field);
  const ids = new Set<string>();
  items.forEach((item, i) => {
    const key = isPlainObject(item) ? findKey(item, 'value') : undefined;
    const value = key === undefined ? undefined : (item as Record<string, unknown>)[key];
    if (typeof value !== 'string' || value.trim() === '') throw invalid(`${field}[${i}].value must be the id of a User`, field);
    ids.add(value.trim());
  });
  return [...ids];
}

export interface GroupInput {
  displayName: string;
  externalId: string | null;
  /** undefined: the body did not mention members (PUT keeps them; POST has none). */
  members: string[] | undefined;
}

/** Reads a POST/PUT body. */
export function readGroupBody(body: unknown): GroupInput {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InputError('The body must be a JSON object', { scimType: 'invalidSyntax', field: 'body' });
  const b = body as Record<string, unknown>;
  const schemasKey = findKey(b, 'schemas');
  const schemas = schemasKey === undefined ? undefined : b[schemasKey];
  if (schemas !== undefined && (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === GROUP_SCHEMA.toLowerCase()))) {
    throw invalid(`schemas must include "${GROUP_SCHEMA}"`, 'schemas');
  }
  const dnKey = findKey(b, 'displayName');
  const displayName = dnKey === undefined ? undefined : b[dnKey];
  const name = readDisplayName(displayName);
  const extKey = findKey(b, 'externalId');
  const externalId = extKey === undefined ? null : b[extKey];
  if (externalId !== null && (typeof externalId !== 'string' || externalId.length > 255)) throw invalid('externalId must be a string of at most 255 characters', 'externalId');
  const membersKey = findKey(b, 'members');
  return {
    displayName: name,
    externalId: externalId === '' ? null : (externalId as string | null),
    members: membersKey === undefined ? undefined : readMemberRefs(b[membersKey]),
  };
}

export interface MemberRow {
  id: string;
  userName: string;
  displayName: string | null;
}

/** The wire form; `members` only when given (the caller decides whether to load them). */
export function toScimGroup(row: ScimGroup, baseUrl: string, members?: MemberRow[]): ScimResource {
  return {
    schemas: [GROUP_SCHEMA],
    id: row.id,
    ...(row.externalId !== null ? { externalId: row.externalId } : {}),
    displayName: row.displayName,
    ...(members ? { members: members.map((m) => ({ value: m.id, $ref: `${baseUrl}/Users/${m.id}`, display: m.displayName ?? m.userName, type: 'User' })) } : {}),
    meta: {
      resourceType: 'Group',
      created: new Date(row.createdAt).toISOString(),
      lastModified: new Date(row.updatedAt).toISOString(),
      location: `${baseUrl}/Groups/${row.id}`,
      version: etagFor(row.version),
    },
  };
}
