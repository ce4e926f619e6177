/**
 * What a filter may name, and where each attribute lives (compiled to SQL by filter.ts):
 * - `column`: an indexed column of the row (lower-cased twins for case-insensitive strings);
 * - `multi`: a child table joined by EXISTS (emails, group members);
 * - `json` / `jsonMulti`: a value inside the stored resource document, read with the database's JSON
 *   functions (MariaDB/MySQL JSON_EXTRACT and JSON_TABLE, SQLite json_extract and json_each). Every
 *   attribute of the User schemas that has no column is filterable this way, so no filter ever loads
 *   users into memory; these scan the connection's rows (its index narrows them) instead of an index.
 * The package README lists which attributes are indexed.
 */
import { DOCKER_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, USER_RESOURCE } from './schemas.ts';
import type { AttributeDefinition } from './schema-types.ts';

export type Dialect = 'mysql' | 'sqlite';
export type ColumnType = 'string' | 'boolean' | 'datetime' | 'integer';

export interface ColumnAttribute {
  kind: 'column';
  /** Qualified column, e.g. `u.user_name_lc`. Trusted text: it comes from code, never from input. */
  column: string;
  type: ColumnType;
  /** Case-exact strings compare byte-wise (MySQL: binary collation on the column). */
  caseExact: boolean;
  /** The column holds lower-cased text: compare against the lower-cased value. */
  lowercaseColumn?: boolean;
}

/** A scalar inside the JSON document column, e.g. `title` or `manager.value` of an extension. */
export interface JsonAttribute {
  kind: 'json';
  /** The document column, e.g. `u.resource`. Trusted text. */
  document: string;
  /** Keys from the document's root (canonical attribute names, as validateResource stores them). */
  path: readonly string[];
  type: ColumnType;
  caseExact: boolean;
}

export interface JsonSubAttribute {
  /** The key inside each element. */
  key: string;
  type: ColumnType;
  caseExact: boolean;
}

/** A multi-valued complex attribute inside the JSON document, e.g. `phoneNumbers`. */
export interface JsonMultiValuedAttribute {
  kind: 'jsonMulti';
  document: string;
  path: readonly string[];
  /** Lower-cased sub-attribute name → its key and type. */
  subAttrs: Readonly<Record<string, JsonSubAttribute>>;
}

export interface MultiValuedAttribute {
  kind: 'multi';
  table: string;
  /** Alias used in `join` and in the sub-attribute columns; renamed per occurrence. */
  alias: string;
  join: string;
  /** Lower-cased sub-attribute name → column. */
  subAttrs: Readonly<Record<string, ColumnAttribute>>;
  /**
   * The same attribute in the JSON document, for sub-attributes the table does not hold
   * (`emails.display`): a filter naming one of those reads every sub-attribute from the document.
   */
  json?: JsonMultiValuedAttribute;
}

export type AttributeDescriptor = ColumnAttribute | MultiValuedAttribute | JsonAttribute | JsonMultiValuedAttribute;
/** Lower-cased attribute path (`username`, `name.givenname`, `urn:…:user:dockerrole`) → descriptor. */
export type AttributeMap = Readonly<Record<string, AttributeDescriptor>>;

const lc = (column: string): ColumnAttribute => ({ kind: 'column', column, type: 'string', caseExact: false, lowercaseColumn: true });
const exact = (column: string): ColumnAttribute => ({ kind: 'column', column, type: 'string', caseExact: true });
const typed = (column: string, type: ColumnType): ColumnAttribute => ({ kind: 'column', column, type, caseExact: false });
const docker = (name: string) => `${DOCKER_USER_SCHEMA.toLowerCase()}:${name}`;
const enterprise = (name: string) => `${ENTERPRISE_USER_SCHEMA.toLowerCase()}:${name}`;

const columnType = (def: AttributeDefinition): ColumnType => (def.type === 'boolean' ? 'boolean' : def.type === 'integer' ? 'integer' : 'string');

function jsonMulti(document: string, path: string[], def: AttributeDefinition): JsonMultiValuedAttribute {
  const subAttrs: Record<string, JsonSubAttribute> = {};
  for (const sub of def.subAttributes ?? []) subAttrs[sub.name.toLowerCase()] = { key: sub.name, type: columnType(sub), caseExact: sub.caseExact };
  return { kind: 'jsonMulti', document, path, subAttrs };
}

/**
 * Every stored attribute of the User schemas as a JSON descriptor, keyed as filters name them
 * (`title`, `name.middlename`, `urn:…:enterprise:2.0:user:department`, `…:manager.value`).
 * readOnly attributes are not in the document (`groups` has its own table).
 */
function jsonUserAttributes(document: string): Record<string, JsonAttribute | JsonMultiValuedAttribute> {
  const out: Record<string, JsonAttribute | JsonMultiValuedAttribute> = {};
  const add = (prefix: string, root: string[], defs: readonly AttributeDefinition[]) => {
    for (const def of defs) {
      if (def.mutability === 'readOnly') continue;
      const key = `${prefix}${def.name.toLowerCase()}`;
      if (def.multiValued) out[key] = jsonMulti(document, [...root, def.name], def);
      else if (def.type === 'complex') {
        for (const sub of def.subAttributes ?? []) {
          if (sub.mutability === 'readOnly') continue;
          out[`${key}.${sub.name.toLowerCase()}`] = { kind: 'json', document, path: [...root, def.name, sub.name], type: columnType(sub), caseExact: sub.caseExact };
        }
      } else out[key] = { kind: 'json', document, path: [...root, def.name], type: columnType(def), caseExact: def.caseExact };
    }
  };
  add('', [], USER_RESOURCE.core.attributes);
  for (const ext of USER_RESOURCE.extensions) add(`${ext.id.toLowerCase()}:`, [ext.id], ext.attributes);
  return out;
}

const USER_JSON = jsonUserAttributes('u.resource');

/** Filterable User attributes: `u` is `connection_users` (see @doorman/model). Columns win over JSON. */
export const USER_ATTRIBUTES: AttributeMap = Object.freeze({
  ...USER_JSON,
  id: exact('u.id'),
  username: lc('u.user_name_lc'),
  externalid: exact('u.external_id'),
  displayname: lc('u.display_name_lc'),
  'name.givenname': lc('u.given_name_lc'),
  'name.familyname': lc('u.family_name_lc'),
  'name.formatted': lc('u.formatted_name_lc'),
  active: typed('u.active', 'boolean'),
  'meta.created': typed('u.created_at', 'datetime'),
  'meta.lastmodified': typed('u.updated_at', 'datetime'),
  // Every row of this table is a User: a constant, so `meta.resourceType eq "User"` matches all.
  'meta.resourcetype': lc("'user'"),
  emails: <MultiValuedAttribute>{
    kind: 'multi',
    table: 'connection_user_emails',
    alias: 'e',
    join: 'e.connection_user_id = u.id',
    subAttrs: { value: lc('e.value_lc'), type: lc('e.type_lc'), primary: typed('e.is_primary', 'boolean') },
    json: USER_JSON.emails as JsonMultiValuedAttribute,
  },
  groups: <MultiValuedAttribute>{
    kind: 'multi',
    table: 'group_members',
    alias: 'gm',
    join: 'gm.connection_user_id = u.id',
    subAttrs: {
      value: exact('gm.group_id'),
      display: lc('(SELECT sg.display_name_lc FROM scim_groups sg WHERE sg.id = gm.group_id)'),
      type: lc("'direct'"),
    },
  },
  [docker('dockerrole')]: lc('u.docker_role_lc'),
  [docker('dockerorg')]: lc('u.docker_org_lc'),
  [docker('dockerteam')]: lc('u.docker_team_lc'),
  [enterprise('employeenumber')]: lc('u.employee_number_lc'),
});

/** Filterable Group attributes: `g` is `scim_groups`. */
export const GROUP_ATTRIBUTES: AttributeMap = Object.freeze({
  id: exact('g.id'),
  displayname: lc('g.display_name_lc'),
  externalid: exact('g.external_id'),
  'meta.created': typed('g.created_at', 'datetime'),
  'meta.lastmodified': typed('g.updated_at', 'datetime'),
  'meta.resourcetype': lc("'group'"),
  members: {
    kind: 'multi',
    table: 'group_members',
    alias: 'm',
    join: 'm.group_id = g.id',
    subAttrs: { value: exact('m.connection_user_id') },
  },
});
