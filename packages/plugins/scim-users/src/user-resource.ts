import { InputError } from '@doorman/core/errors';
import { DOCKER_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, USER_SCHEMA, type ScimResource } from '@doorman/scim';
import type { ConnectionUser, JsonDocument } from '@doorman/model';

/**
 * The mapping between a SCIM User resource and its stored form (pure). The whole accepted
 * resource is kept as JSON, so attributes Doorman does not model (title, phoneNumbers, addresses,
 * enterprise `manager`, …) round-trip; the columns hold what filters, sorting and role mapping need.
 */

export const KNOWN_USER_SCHEMAS = new Set([USER_SCHEMA, ENTERPRISE_USER_SCHEMA, DOCKER_USER_SCHEMA].map((s) => s.toLowerCase()));
/** Server-assigned attributes: ignored when a client sends them on create, never stored. */
const READ_ONLY = ['id', 'meta', 'groups'];

/** The columns a SCIM User body determines (the rest of a row is identity, version and timestamps). */
export type UserColumns = Omit<ConnectionUser, 'id' | 'connectionId' | 'userId' | 'version' | 'createdAt' | 'updatedAt'>;

export interface EmailRow {
  value: string;
  valueLc: string;
  type: string | null;
  typeLc: string | null;
  isPrimary: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Attribute names are case-insensitive (RFC 7643 §2.1). */
const key = (obj: Record<string, unknown>, name: string) => Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
const get = (obj: Record<string, unknown>, name: string) => {
  const k = key(obj, name);
  return k === undefined ? undefined : obj[k];
};

function optionalString(value: unknown, field: string, max = 255): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new InputError(`${field} must be a string`, { scimType: 'invalidValue', field });
  const trimmed = value.trim();
  if (trimmed.length > max) throw new InputError(`${field} is longer than ${max} characters`, { scimType: 'invalidValue', field });
  return trimmed === '' ? null : trimmed;
}

/** Entra sends "True"/"False" strings for booleans; Docker's API names the flag `enabled`. */
export function readActive(resource: Record<string, unknown>): boolean | undefined {
  const raw = get(resource, 'active') ?? get(resource, 'enabled');
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string' && /^(true|false)$/i.test(raw.trim())) return raw.trim().toLowerCase() === 'true';
  throw new InputError('active must be a boolean', { scimType: 'invalidValue', field: 'active' });
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Validates an incoming User (POST or PUT body) and derives the stored columns. `currentActive`
 * is kept when the body says nothing about `active` (never deprovision by omission).
 */
export function toUserColumns(body: unknown, currentActive = true): { columns: UserColumns; emails: EmailRow[] } {
  if (!isObject(body)) throw new InputError('the request body must be a SCIM User object', { scimType: 'invalidSyntax' });
  const schemas = get(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === USER_SCHEMA.toLowerCase())) {
    throw new InputError(`schemas must include "${USER_SCHEMA}"`, { scimType: 'invalidValue', field: 'schemas' });
  }
  const unknownSchema = schemas.find((s) => typeof s !== 'string' || !KNOWN_USER_SCHEMAS.has(s.toLowerCase()));
  if (unknownSchema !== undefined) throw new InputError(`unsupported schema "${String(unknownSchema)}"`, { scimType: 'invalidValue', field: 'schemas' });

  const userName = optionalString(get(body, 'userName'), 'userName', 320);
  if (!userName) throw new InputError('userName is required', { scimType: 'invalidValue', field: 'userName' });
  if (!EMAIL.test(userName)) throw new InputError('userName must be an email address', { scimType: 'invalidValue', field: 'userName' });

  const resource: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    const lower = k.toLowerCase();
    if (READ_ONLY.includes(lower) || lower === 'enabled' || lower === 'password') continue;
    resource[k] = v;
  }
  const active = readActive(body) ?? currentActive;
  for (const k of Object.keys(resource)) if (k.toLowerCase() === 'active') delete resource[k];
  resource.active = active;

  const name = get(body, 'name');
  if (name !== undefined && name !== null && !isObject(name)) throw new InputError('name must be an object', { scimType: 'invalidValue', field: 'name' });
  const n = (name ?? {}) as Record<string, unknown>;
  const docker = (() => {
    const ext = get(body, DOCKER_USER_SCHEMA);
    if (ext === undefined || ext === null) return {};
    if (!isObject(ext)) throw new InputError(`${DOCKER_USER_SCHEMA} must be an object`, { scimType: 'invalidValue', field: DOCKER_USER_SCHEMA });
    return ext;
  })();
  const enterprise = (() => {
    const ext = get(body, ENTERPRISE_USER_SCHEMA);
    if (ext === undefined || ext === null) return {};
    if (!isObject(ext)) throw new InputError(`${ENTERPRISE_USER_SCHEMA} must be an object`, { scimType: 'invalidValue', field: ENTERPRISE_USER_SCHEMA });
    return ext;
  })();
  const lc = (s: string | null) => (s === null ? null : s.toLowerCase());

  const emails = readEmails(get(body, 'emails'));
  const displayName = optionalString(get(body, 'displayName'), 'displayName');
  const givenName = optionalString(get(n, 'givenName'), 'name.givenName');
  const familyName = optionalString(get(n, 'familyName'), 'name.familyName');
  const formattedName = optionalString(get(n, 'formatted'), 'name.formatted');
  const dockerRole = optionalString(get(docker, 'dockerRole'), 'dockerRole', 64);
  const dockerOrg = optionalString(get(docker, 'dockerOrg'), 'dockerOrg');
  const dockerTeam = optionalString(get(docker, 'dockerTeam'), 'dockerTeam');
  const employeeNumber = get(enterprise, 'employeeNumber');
  return {
    columns: {
      userName,
      userNameLc: userName.toLowerCase(),
      externalId: optionalString(get(body, 'externalId'), 'externalId'),
      displayName,
      displayNameLc: lc(displayName),
      givenName,
      givenNameLc: lc(givenName),
      familyName,
      familyNameLc: lc(familyName),
      formattedName,
      formattedNameLc: lc(formattedName),
      active,
      dockerRole,
      dockerRoleLc: lc(dockerRole),
      dockerOrg,
      dockerOrgLc: lc(dockerOrg),
      dockerTeam,
      dockerTeamLc: lc(dockerTeam),
      employeeNumberLc: lc(optionalString(typeof employeeNumber === 'number' ? String(employeeNumber) : employeeNumber, 'employeeNumber')),
      resource: resource as JsonDocument,
    },
    emails,
  };
}

function readEmails(raw: unknown): EmailRow[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new InputError('emails must be a list', { scimType: 'invalidValue', field: 'emails' });
  return raw.map((e, i) => {
    if (!isObject(e)) throw new InputError(`emails[${i}] must be an object`, { scimType: 'invalidValue', field: 'emails' });
    const value = optionalString(get(e, 'value'), `emails[${i}].value`, 320);
    if (!value) throw new InputError(`emails[${i}].value is required`, { scimType: 'invalidValue', field: 'emails' });
    const type = optionalString(get(e, 'type'), `emails[${i}].type`, 64);
    const primary = get(e, 'primary');
    const isPrimary = primary === true || (typeof primary === 'string' && primary.toLowerCase() === 'true');
    return { value, valueLc: value.toLowerCase(), type, typeLc: type?.toLowerCase() ?? null, isPrimary };
  });
}

const ENTERPRISE_LC = ENTERPRISE_USER_SCHEMA.toLowerCase();
const DOCKER_LC = DOCKER_USER_SCHEMA.toLowerCase();

/** The SCIM representation of a stored user. */
export function toScimUser(row: ConnectionUser, baseUrl: string): ScimResource {
  const stored = (row.resource ?? {}) as Record<string, unknown>;
  const schemas = [USER_SCHEMA];
  const out: ScimResource = { schemas, id: row.id };
  // One pass over the stored keys (a list page converts a hundred users): copy every attribute but
  // `schemas`, and note which extensions are present (their keys in any case).
  let enterprise = false;
  let docker = false;
  for (const k of Object.keys(stored)) {
    if (k === 'schemas') continue;
    out[k] = stored[k];
    if (k.length === ENTERPRISE_LC.length && k.toLowerCase() === ENTERPRISE_LC) enterprise = true;
    else if (k.length === DOCKER_LC.length && k.toLowerCase() === DOCKER_LC) docker = true;
  }
  if (enterprise) schemas.push(ENTERPRISE_USER_SCHEMA);
  if (docker) schemas.push(DOCKER_USER_SCHEMA);
  out.userName = row.userName;
  out.active = row.active;
  out.meta = {
    resourceType: 'User',
    created: new Date(row.createdAt).toISOString(),
    lastModified: new Date(row.updatedAt).toISOString(),
    location: `${baseUrl}/Users/${row.id}`,
    version: `W/"${row.version}"`,
  };
  return out;
}
