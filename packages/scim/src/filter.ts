/**
 * SCIM filter (RFC 7644 §3.4.2.2) → SQL WHERE fragment with TypeORM-style named parameters.
 *
 * Parsing is scim2-parse-filter's; the SQL translation is ours, through an attribute whitelist.
 * Anything we cannot translate exactly is a 400 invalidFilter: an empty or partial condition
 * would return every user, and IdPs then create duplicates (anchors §1.8 #2).
 */
import { parse, type Filter } from 'scim2-parse-filter';
import { InputError } from '@doorman/core/errors';
import { DOCKER_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, USER_SCHEMA, GROUP_SCHEMA } from './schemas.ts';

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

export interface MultiValuedAttribute {
  kind: 'multi';
  table: string;
  /** Alias used in `join` and in the sub-attribute columns; renamed per occurrence. */
  alias: string;
  join: string;
  /** Lower-cased sub-attribute name → column. */
  subAttrs: Readonly<Record<string, ColumnAttribute>>;
}

export type AttributeDescriptor = ColumnAttribute | MultiValuedAttribute;
/** Lower-cased attribute path (`username`, `name.givenname`, `urn:…:user:dockerrole`) → descriptor. */
export type AttributeMap = Readonly<Record<string, AttributeDescriptor>>;

export interface CompiledFilter {
  sql: string;
  params: Record<string, unknown>;
  /**
   * Set when the whole filter is one `eq` on a single-valued column attribute compared directly:
   * the column and the value bound to it, so a caller can serve the common lookup (`userName eq "…"`) another way.
   */
  equals?: { column: string; value: unknown };
}

export interface CompiledSort {
  column: string;
  direction: 'ASC' | 'DESC';
}

const MAX_FILTER_LENGTH = 10_000;
const CORE_PREFIXES = [USER_SCHEMA, GROUP_SCHEMA].map((u) => `${u.toLowerCase()}:`);

function invalidFilter(detail: string): InputError {
  return new InputError(detail, { scimType: 'invalidFilter', field: 'filter' });
}

/**
 * Parses a filter with scim2-parse-filter, working around its string handling: it doubles every
 * backslash not followed by `"`, so `"a\\b"` came out as `a\\b` and `"a\\"` failed. We cut the
 * JSON string literals out first, decode them with JSON.parse, and hand the parser placeholders.
 */
export function parseScimFilter(text: string): Filter {
  if (typeof text !== 'string' || text.trim() === '') throw invalidFilter('The filter is empty');
  if (text.length > MAX_FILTER_LENGTH) {
    throw invalidFilter(`The filter is longer than ${MAX_FILTER_LENGTH} characters`);
  }
  const strings: string[] = [];
  let masked = '';
  for (let i = 0; i < text.length; ) {
    if (text[i] !== '"') {
      masked += text[i++];
      continue;
    }
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    if (j >= text.length) throw invalidFilter(`Unterminated string in filter: ${text.slice(i)}`);
    const literal = text.slice(i, j + 1);
    try {
      strings.push(JSON.parse(literal) as string);
    } catch {
      throw invalidFilter(`Invalid string ${literal} in filter (strings are JSON strings)`);
    }
    masked += `"${strings.length - 1}"`;
    i = j + 1;
  }
  // `attr[...].sub op value` is PATCH-path syntax; the parser turns it into two independent
  // conditions (which may match different values), so refuse it rather than over-match.
  if (/\]\s*\./.test(masked)) {
    throw invalidFilter(
      'A sub-attribute after "]" is not valid in a filter; put it inside the brackets, e.g. emails[type eq "work" and value co "@example.com"]',
    );
  }
  let ast: Filter;
  try {
    ast = parse(masked);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const unmasked = msg.replace(/"(\d+)"/g, (m, n: string) => JSON.stringify(strings[Number(n)] ?? m));
    throw invalidFilter(`Invalid filter: ${unmasked}`);
  }
  return restoreStrings(ast, strings);
}

function restoreStrings(f: Filter, strings: string[]): Filter {
  switch (f.op) {
    case 'and':
    case 'or':
      return { ...f, filters: f.filters.map((c) => restoreStrings(c, strings)) };
    case 'not':
      return { ...f, filter: restoreStrings(f.filter, strings) };
    case '[]':
      return { ...f, valFilter: restoreStrings(f.valFilter, strings) };
    case 'pr':
      return f;
    default:
      return typeof f.compValue === 'string' ? { ...f, compValue: strings[Number(f.compValue)] } : f;
  }
}

type Resolved =
  | { kind: 'column'; desc: ColumnAttribute }
  | { kind: 'multi'; desc: MultiValuedAttribute; whole: boolean; sub: string; subDesc: ColumnAttribute | undefined }
  | { kind: 'prefix'; prefix: string };

// Per-map index of unqualified extension names (`dockerrole` → full key), built once.
const unqualifiedIndex = new WeakMap<AttributeMap, Map<string, string[]>>();

function unqualified(attrs: AttributeMap): Map<string, string[]> {
  let index = unqualifiedIndex.get(attrs);
  if (!index) {
    index = new Map();
    for (const key of Object.keys(attrs)) {
      const colon = key.lastIndexOf(':');
      if (colon < 0) continue;
      const short = key.slice(colon + 1);
      index.set(short, [...(index.get(short) ?? []), key]);
    }
    unqualifiedIndex.set(attrs, index);
  }
  return index;
}

/** Resolves an attribute path against the whitelist; undefined when it is not there. */
function resolve(attrs: AttributeMap, path: string): Resolved | undefined {
  let p = path.toLowerCase();
  const core = CORE_PREFIXES.find((c) => p.startsWith(c));
  if (core) p = p.slice(core.length);

  const direct = lookup(attrs, p);
  if (direct) return direct;

  if (!p.includes(':')) {
    const candidates = unqualified(attrs).get(p) ?? [];
    if (candidates.length > 1) {
      throw invalidFilter(`Attribute "${path}" is ambiguous; qualify it with its schema URN`);
    }
    if (candidates.length === 1) return lookup(attrs, candidates[0]);
  }
  // `name[givenName eq "x"]`: a value path on a single-valued complex attribute.
  if (Object.keys(attrs).some((k) => k.startsWith(`${p}.`))) return { kind: 'prefix', prefix: p };
  return undefined;
}

function lookup(attrs: AttributeMap, p: string): Resolved | undefined {
  const hit = Object.prototype.hasOwnProperty.call(attrs, p) ? attrs[p] : undefined;
  if (hit?.kind === 'column') return { kind: 'column', desc: hit };
  // A multi-valued attribute on its own means its `value` (RFC 7644 §3.4.2.2, `emails co …`).
  if (hit?.kind === 'multi') return { kind: 'multi', desc: hit, whole: true, sub: 'value', subDesc: hit.subAttrs.value };
  const dot = p.lastIndexOf('.');
  if (dot > p.lastIndexOf(':') && dot > 0) {
    const parent = Object.prototype.hasOwnProperty.call(attrs, p.slice(0, dot)) ? attrs[p.slice(0, dot)] : undefined;
    if (parent?.kind === 'multi') {
      const sub = p.slice(dot + 1);
      const subDesc = Object.prototype.hasOwnProperty.call(parent.subAttrs, sub) ? parent.subAttrs[sub] : undefined;
      return { kind: 'multi', desc: parent, whole: false, sub, subDesc };
    }
  }
  return undefined;
}

interface Scope {
  /** Attribute name as written, for messages and for stripping `emails.` inside `emails[...]`. */
  name: string;
  desc: MultiValuedAttribute;
  alias: string;
}

class Compiler {
  readonly params: Record<string, unknown> = {};
  private paramCount = 0;
  private aliasCount = 0;

  constructor(
    private readonly attrs: AttributeMap,
    private readonly dialect: Dialect,
    private readonly prefix: string,
  ) {}

  compile(f: Filter, scope?: Scope, pathPrefix = ''): string {
    switch (f.op) {
      case 'and':
      case 'or': {
        if (!Array.isArray(f.filters) || f.filters.length < 2) throw invalidFilter(`Malformed "${f.op}" expression`);
        const joiner = f.op === 'and' ? ' AND ' : ' OR ';
        return `(${f.filters.map((c) => this.compile(c, scope, pathPrefix)).join(joiner)})`;
      }
      case 'not':
        // SQL NOT keeps NULL as NULL, so `not (title eq "x")` would drop rows whose title is
        // NULL. Collapsing the unknown to false first gives SCIM's two-valued semantics.
        return `(NOT COALESCE(${this.compile(f.filter, scope, pathPrefix)}, 0))`;
      case '[]':
        return this.valuePath(f.attrPath, f.valFilter, scope, pathPrefix);
      case 'pr':
      case 'eq':
      case 'ne':
      case 'co':
      case 'sw':
      case 'ew':
      case 'gt':
      case 'ge':
      case 'lt':
      case 'le':
        return this.comparison(
          f.op,
          pathPrefix + f.attrPath,
          f.op === 'pr' ? undefined : f.compValue,
          scope,
        );
      default:
        throw invalidFilter(`Unsupported filter operator "${(f as { op: string }).op}"`);
    }
  }

  private valuePath(attrPath: string, inner: Filter, scope: Scope | undefined, pathPrefix: string): string {
    if (scope) throw invalidFilter(`Value filters cannot be nested ("${scope.name}[…${attrPath}[…]]")`);
    const name = pathPrefix + attrPath;
    const r = resolve(this.attrs, name);
    if (r?.kind === 'prefix') return this.compile(inner, undefined, `${r.prefix}.`);
    if (r?.kind !== 'multi' || !r.whole) {
      throw invalidFilter(
        r ? `Attribute "${name}" is not multi-valued; "[...]" is not allowed on it` : `Unknown attribute "${name}" in filter`,
      );
    }
    const newScope: Scope = { name, desc: r.desc, alias: this.nextAlias(r.desc.alias) };
    return this.exists(newScope, this.compile(inner, newScope));
  }

  private comparison(op: string, attrPath: string, value: unknown, scope: Scope | undefined): string {
    if (scope) {
      let sub = attrPath.toLowerCase();
      const qualified = `${scope.name.toLowerCase()}.`;
      if (sub.startsWith(qualified)) sub = sub.slice(qualified.length);
      const desc = Object.prototype.hasOwnProperty.call(scope.desc.subAttrs, sub) ? scope.desc.subAttrs[sub] : undefined;
      if (!desc) throw invalidFilter(`Unknown attribute "${scope.name}.${attrPath}" in filter`);
      return this.leaf(op, this.aliased(desc, scope), value, `${scope.name}.${attrPath}`);
    }
    const r = resolve(this.attrs, attrPath);
    if (!r || r.kind === 'prefix') throw invalidFilter(`Unknown attribute "${attrPath}" in filter`);
    if (r.kind === 'column') return this.leaf(op, r.desc, value, attrPath);
    if (!r.subDesc) throw invalidFilter(`Unknown attribute "${attrPath}" in filter`);
    const s: Scope = { name: attrPath, desc: r.desc, alias: this.nextAlias(r.desc.alias) };
    return this.exists(s, this.leaf(op, this.aliased(r.subDesc, s), value, attrPath));
  }

  private exists(scope: Scope, condition: string): string {
    const d = scope.desc;
    return `EXISTS (SELECT 1 FROM ${d.table} ${scope.alias} WHERE ${renameAlias(d.join, d.alias, scope.alias)} AND ${condition})`;
  }

  private aliased(desc: ColumnAttribute, scope: Scope): ColumnAttribute {
    return { ...desc, column: renameAlias(desc.column, scope.desc.alias, scope.alias) };
  }

  private nextAlias(base: string): string {
    return `${base}${this.aliasCount++}`;
  }

  private param(value: unknown): string {
    const name = `${this.prefix}${this.paramCount++}`;
    this.params[name] = value;
    return `:${name}`;
  }

  private leaf(op: string, desc: ColumnAttribute, value: unknown, name: string): string {
    const col = desc.type === 'string' && !desc.caseExact && !desc.lowercaseColumn ? `LOWER(${desc.column})` : desc.column;
    if (op === 'pr') return desc.type === 'string' ? `(${col} IS NOT NULL AND ${col} <> '')` : `${col} IS NOT NULL`;
    if (value === null) {
      if (op === 'eq') return `${col} IS NULL`;
      if (op === 'ne') return `${col} IS NOT NULL`;
      throw invalidFilter(`Operator "${op}" cannot compare "${name}" with null`);
    }
    if (desc.type === 'string') return this.stringLeaf(op, desc, col, value, name);
    const typeName = desc.type === 'datetime' ? 'dateTime' : desc.type;
    if (!(desc.type === 'boolean' ? ['eq', 'ne'] : ORDERED_OPS).includes(op)) {
      throw invalidFilter(`Operator "${op}" is not supported on ${typeName} attribute "${name}"`);
    }
    let bound: unknown;
    if (desc.type === 'boolean') bound = booleanValue(value, name);
    else if (desc.type === 'datetime') bound = dateValue(value, name);
    else if (typeof value === 'number' && Number.isInteger(value)) bound = value;
    else throw invalidFilter(`Attribute "${name}" is an integer; got ${JSON.stringify(value)}`);
    const p = this.param(bound);
    return op === 'ne' ? `(${col} <> ${p} OR ${col} IS NULL)` : `${col} ${SQL_OPS[op]} ${p}`;
  }

  private stringLeaf(op: string, desc: ColumnAttribute, col: string, value: unknown, name: string): string {
    if (typeof value !== 'string') {
      throw invalidFilter(`Attribute "${name}" is a string; compare it with a quoted value, got ${JSON.stringify(value)}`);
    }
    const v = desc.caseExact ? value : value.toLowerCase();
    if (op in SQL_OPS) {
      const p = this.param(v);
      return op === 'ne' ? `(${col} <> ${p} OR ${col} IS NULL)` : `${col} ${SQL_OPS[op]} ${p}`;
    }
    // co / sw / ew. SQLite's LIKE ignores ASCII case, so case-exact columns avoid it there.
    if (this.dialect === 'sqlite' && desc.caseExact) {
      const p = this.param(v);
      if (op === 'co') return `instr(${col}, ${p}) > 0`;
      if (op === 'sw') return `substr(${col}, 1, length(${p})) = ${p}`;
      return `substr(${col}, -length(${p})) = ${p}`;
    }
    const escaped = v.replace(/[\\%_]/g, '\\$&');
    const pattern = op === 'co' ? `%${escaped}%` : op === 'sw' ? `${escaped}%` : `%${escaped}`;
    // MySQL string literals treat "\" as an escape, so one backslash is written '\\'; SQLite's are literal.
    const escapeClause = this.dialect === 'mysql' ? `ESCAPE '\\\\'` : `ESCAPE '\\'`;
    return `${col} LIKE ${this.param(pattern)} ${escapeClause}`;
  }
}

const SQL_OPS: Record<string, string> = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' };
const ORDERED_OPS: readonly string[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];

/** Entra sends booleans as "True"/"False" strings; accept those too. Bound as 1/0 for both dialects. */
function booleanValue(value: unknown, name: string): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true' ? 1 : 0;
  throw invalidFilter(`Attribute "${name}" is a boolean; compare it with true or false, got ${JSON.stringify(value)}`);
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|z|[+-]\d{2}:\d{2})?)?$/;

/** RFC 3339 date-time (a time without offset is read as UTC, not server-local time). */
function dateValue(value: unknown, name: string): Date {
  const m = typeof value === 'string' ? DATE_TIME.exec(value) : null;
  if (m) {
    const text = value as string;
    const d = new Date(text.length > 10 && !m[1] ? `${text}Z` : text);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw invalidFilter(`Attribute "${name}" is a dateTime; expected an RFC 3339 timestamp, got ${JSON.stringify(value)}`);
}

function renameAlias(sql: string, from: string, to: string): string {
  const escaped = from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return sql.replace(new RegExp(`(?<![\\w.])${escaped}\\.`, 'g'), `${to}.`);
}

/**
 * Compiles a SCIM filter to `{ sql, params }` for `qb.andWhere(sql, params)`.
 * `paramPrefix` names the parameters (`:p0`, `:p1`, …) so two compiled filters can share a query.
 */
export function compileFilter(
  filter: string,
  attrs: AttributeMap,
  dialect: Dialect,
  paramPrefix = 'p',
): CompiledFilter {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(paramPrefix)) throw new TypeError(`Invalid paramPrefix "${paramPrefix}"`);
  const ast = parseScimFilter(filter);
  const compiler = new Compiler(attrs, dialect, paramPrefix);
  let sql: string;
  try {
    sql = compiler.compile(ast);
  } catch (err) {
    if (err instanceof InputError) throw err;
    // A shape the translator does not expect (e.g. a parser quirk): refuse, never match-all.
    throw invalidFilter(`Unsupported filter: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Only where the bound value is compared with the column itself (not through LOWER()).
  const params = Object.values(compiler.params);
  const target = ast.op === 'eq' && params.length === 1 ? resolve(attrs, ast.attrPath) : undefined;
  const direct = target?.kind === 'column' && !(target.desc.type === 'string' && !target.desc.caseExact && !target.desc.lowercaseColumn);
  return { sql, params: compiler.params, ...(direct ? { equals: { column: target.desc.column, value: params[0] } } : {}) };
}

/** RFC 7644 §3.4.2.3. Only single-valued column attributes sort; the default order is ascending. */
export function compileSort(
  sortBy: string | undefined,
  sortOrder: string | undefined,
  attrs: AttributeMap,
): CompiledSort | undefined {
  if (sortBy === undefined || sortBy.trim() === '') return undefined;
  const order = (sortOrder ?? 'ascending').toLowerCase();
  if (order !== 'ascending' && order !== 'descending') {
    throw new InputError(`sortOrder must be "ascending" or "descending", got "${sortOrder}"`, {
      scimType: 'invalidValue',
      field: 'sortOrder',
    });
  }
  let r: Resolved | undefined;
  try {
    r = resolve(attrs, sortBy.trim());
  } catch {
    r = undefined;
  }
  if (r?.kind !== 'column') {
    throw new InputError(`Cannot sort by "${sortBy}": not a sortable attribute`, {
      scimType: 'invalidValue',
      field: 'sortBy',
    });
  }
  return { column: r.desc.column, direction: order === 'ascending' ? 'ASC' : 'DESC' };
}

const lc = (column: string): ColumnAttribute => ({ kind: 'column', column, type: 'string', caseExact: false, lowercaseColumn: true });
const exact = (column: string): ColumnAttribute => ({ kind: 'column', column, type: 'string', caseExact: true });
const typed = (column: string, type: ColumnType): ColumnAttribute => ({ kind: 'column', column, type, caseExact: false });
const docker = (name: string) => `${DOCKER_USER_SCHEMA.toLowerCase()}:${name}`;
const enterprise = (name: string) => `${ENTERPRISE_USER_SCHEMA.toLowerCase()}:${name}`;

/** Filterable User attributes: `u` is `connection_users` (see @doorman/model). */
export const USER_ATTRIBUTES: AttributeMap = Object.freeze({
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
  emails: {
    kind: 'multi',
    table: 'connection_user_emails',
    alias: 'e',
    join: 'e.connection_user_id = u.id',
    subAttrs: { value: lc('e.value_lc'), type: lc('e.type_lc'), primary: typed('e.is_primary', 'boolean') },
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
  members: {
    kind: 'multi',
    table: 'group_members',
    alias: 'm',
    join: 'm.group_id = g.id',
    subAttrs: { value: exact('m.connection_user_id') },
  },
});
