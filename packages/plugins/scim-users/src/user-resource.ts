import { InputError } from '@doorman/plugin-api';
import {
  DOCKER_USER_SCHEMA,
  ENTERPRISE_USER_SCHEMA,
  findKey,
  isEmailAddress,
  isPlainObject,
  parseScimBoolean,
  resourceSchemaFor,
  UNSAFE_CHARACTERS,
  USER_SCHEMA,
  validateResource,
  type ScimResource,
} from '@doorman/scim';
import type { ConnectionUser, JsonDocument } from '@doorman/model';

/**
 * The mapping between a SCIM User resource and its stored form (pure). The whole accepted
 * resource is kept as JSON, so attributes Doorman does not model (title, phoneNumbers, addresses,
 * enterprise `manager`, …) round-trip; the columns hold what filters, sorting and role mapping need.
 */

/** The columns a SCIM User body determines (the rest of a row is identity, version and timestamps). */
export type UserColumns = Omit<ConnectionUser, 'id' | 'connectionId' | 'userId' | 'version' | 'createdAt' | 'updatedAt'>;

export interface EmailRow {
  value: string;
  valueLc: string;
  type: string | null;
  typeLc: string | null;
  isPrimary: boolean;
}

const USER = resourceSchemaFor('User');
const bad = (field: string, message: string) => new InputError(message, { scimType: 'invalidValue', field });

function column(value: unknown, field: string, max = 255): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  if (trimmed.length > max) throw bad(field, `${field} is longer than ${max} characters`);
  return trimmed === '' ? null : trimmed;
}

/**
 * `active` as a client sent it (Docker's API calls it `enabled`), through the one boolean converter.
 * undefined when absent.
 */
export function readActive(resource: Record<string, unknown>): boolean | undefined {
  const key = findKey(resource, 'active') ?? findKey(resource, 'enabled');
  const raw = key === undefined ? undefined : resource[key];
  if (raw === undefined || raw === null) return undefined;
  const value = parseScimBoolean(raw);
  if (value === undefined) throw bad('active', 'active must be a boolean');
  return value;
}

/**
 * Validates an incoming User (POST or PUT body, or the result of a PATCH) against the User schemas
 * (validateResource in @doorman/scim) and derives the stored columns and the person's email.
 * `currentActive` is kept when the body says nothing about `active` (never deprovision by omission).
 */
export function toUserColumns(body: unknown, currentActive = true): { columns: UserColumns; emails: EmailRow[]; email: string } {
  const active = (isPlainObject(body) ? readActive(body) : undefined) ?? currentActive;
  const resource = validateResource(body, USER, { skip: ['active', 'enabled', 'password'] });
  const userName = checkUserName(resource.userName as string);
  resource.userName = userName;
  resource.active = active;

  const n = (resource.name ?? {}) as Record<string, unknown>;
  const docker = (resource[DOCKER_USER_SCHEMA] ?? {}) as Record<string, unknown>;
  const enterprise = (resource[ENTERPRISE_USER_SCHEMA] ?? {}) as Record<string, unknown>;
  const lc = (s: string | null) => (s === null ? null : s.toLowerCase());
  const emails = readEmails(resource.emails);
  const email = personEmail(userName, emails);
  const displayName = column(resource.displayName, 'displayName');
  const givenName = column(n.givenName, 'name.givenName');
  const familyName = column(n.familyName, 'name.familyName');
  const formattedName = column(n.formatted, 'name.formatted');
  const dockerRole = column(docker.dockerRole, 'dockerRole', 64);
  const dockerOrg = column(docker.dockerOrg, 'dockerOrg');
  const dockerTeam = column(docker.dockerTeam, 'dockerTeam');
  return {
    columns: {
      userName,
      userNameLc: userName.toLowerCase(),
      externalId: column(resource.externalId, 'externalId'),
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
      employeeNumberLc: lc(column(enterprise.employeeNumber, 'employeeNumber')),
      resource: resource as JsonDocument,
    },
    emails,
    email,
  };
}

function checkUserName(raw: string): string {
  const userName = raw.trim();
  if (!userName) throw bad('userName', 'userName is required');
  if (userName.length > 320) throw bad('userName', 'userName is longer than 320 characters');
  if (UNSAFE_CHARACTERS.test(userName)) throw bad('userName', 'userName contains control or invisible formatting characters');
  return userName;
}

/**
 * The person's email (SSO matching and the account need one): userName when it is an address, else
 * the primary entry of `emails`, else its `work` entry (RFC 7643 §4.1.1: userName is whatever the
 * IdP uses; docs/scim-client-pitfalls.md).
 */
function personEmail(userName: string, emails: EmailRow[]): string {
  if (isEmailAddress(userName)) return userName;
  const chosen = emails.find((e) => e.isPrimary) ?? emails.find((e) => e.typeLc === 'work');
  if (!chosen) throw bad('emails', 'userName is not an email address and emails has no primary or work address: Doorman needs an email for every person');
  return chosen.value;
}

function readEmails(raw: unknown): EmailRow[] {
  return ((raw ?? []) as Array<Record<string, unknown>>).map((e, i) => {
    const value = column(e.value, `emails[${i}].value`, 320);
    if (!value) throw bad('emails', `emails[${i}].value is required`);
    if (!isEmailAddress(value)) throw bad('emails', `emails[${i}].value is not an email address`);
    const type = column(e.type, `emails[${i}].type`, 64);
    return { value, valueLc: value.toLowerCase(), type, typeLc: type?.toLowerCase() ?? null, isPrimary: e.primary === true };
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
  // `schemas`, and list the extensions present (their keys in any case; an extension of no known
  // schema is kept only under a URN the client declared, see validateResource).
  let enterprise = false;
  let docker = false;
  for (const k of Object.keys(stored)) {
    if (k === 'schemas') continue;
    out[k] = stored[k];
    if (k.length === ENTERPRISE_LC.length && k.toLowerCase() === ENTERPRISE_LC) enterprise = true;
    else if (k.length === DOCKER_LC.length && k.toLowerCase() === DOCKER_LC) docker = true;
    else if (k.charCodeAt(0) === 0x75 /* u */ && k.startsWith('urn:')) schemas.push(k);
  }
  if (enterprise) schemas.splice(1, 0, ENTERPRISE_USER_SCHEMA);
  if (docker) schemas.splice(enterprise ? 2 : 1, 0, DOCKER_USER_SCHEMA);
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
