/**
 * What a filter may name, and where each attribute lives (compiled to SQL by filter.ts). The maps
 * themselves, with their table and column names, belong to the plugins that own the tables
 * (scim-users `src/filter-columns.ts`, scim-groups `src/filter-columns.ts`); this file has the types:
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

// The contract's `ScimFilterAttributes` (what scim-groups hands scim-users through
// `scimUserFiltersRef`) is this map; the contract names it without depending on this package.
declare module '@doorman/plugin-api' {
  interface RuntimeTypes {
    scimAttributeMap: AttributeMap;
  }
}

/** A case-insensitive string held lower-cased in `column` (a `_lc` twin). */
export const lowerCasedColumn = (column: string): ColumnAttribute => ({ kind: 'column', column, type: 'string', caseExact: false, lowercaseColumn: true });
/** A case-exact string column. */
export const caseExactColumn = (column: string): ColumnAttribute => ({ kind: 'column', column, type: 'string', caseExact: true });
export const typedColumn = (column: string, type: ColumnType): ColumnAttribute => ({ kind: 'column', column, type, caseExact: false });
/** An extension attribute's filter key, e.g. `urn:…:docker:…:user:dockerrole`. */
export const dockerUserKey = (name: string) => `${DOCKER_USER_SCHEMA.toLowerCase()}:${name}`;
export const enterpriseUserKey = (name: string) => `${ENTERPRISE_USER_SCHEMA.toLowerCase()}:${name}`;

const columnType = (def: AttributeDefinition): ColumnType => (def.type === 'boolean' ? 'boolean' : def.type === 'integer' ? 'integer' : 'string');

function jsonMulti(document: string, path: string[], def: AttributeDefinition): JsonMultiValuedAttribute {
  const subAttrs: Record<string, JsonSubAttribute> = {};
  for (const sub of def.subAttributes ?? []) subAttrs[sub.name.toLowerCase()] = { key: sub.name, type: columnType(sub), caseExact: sub.caseExact };
  return { kind: 'jsonMulti', document, path, subAttrs };
}

/**
 * Every stored attribute of the User schemas as a JSON descriptor, keyed as filters name them
 * (`title`, `name.middlename`, `urn:…:enterprise:2.0:user:department`, `…:manager.value`), read
 * from the `document` column the caller names. readOnly attributes are not in the document.
 */
export function jsonUserAttributes(document: string): Record<string, JsonAttribute | JsonMultiValuedAttribute> {
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
