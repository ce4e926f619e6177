/**
 * SCIM filter (RFC 7644 §3.4.2.2) → SQL WHERE fragment with TypeORM-style named parameters.
 *
 * Parsing is scim2-parse-filter's (filter-parse.ts); the SQL translation is ours, through an
 * attribute whitelist (paths resolved in filter-resolve.ts).
 * Anything we cannot translate exactly is a 400 invalidFilter: an empty or partial condition
 * would return every user, and IdPs then create duplicates (docs/scim-client-pitfalls.md §2).
 */
import type { Filter } from 'scim2-parse-filter';
import { InputError } from '@doorman/plugin-api';
import { invalidFilter, parseScimFilter } from './filter-parse.ts';
import { parseScimBoolean } from './validate.ts';
import { own, resolve, subNames, type MultiDescriptor, type Resolved, type ScalarDescriptor, type SubDescriptor } from './filter-resolve.ts';

export * from './filter-attributes.ts';
export { parseScimFilter } from './filter-parse.ts';
import type { AttributeMap, ColumnAttribute, ColumnType, Dialect } from './filter-attributes.ts';

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

interface Scope {
  /** Attribute name as written, for messages and for stripping `emails.` inside `emails[...]`. */
  name: string;
  desc: MultiDescriptor;
  alias: string;
}

/** `'$."a"."b"'`: a JSON path of trusted keys (schema names), quoted for both dialects. */
const jsonPath = (keys: readonly string[]) => `'$${keys.map((k) => `."${k}"`).join('')}'`;
const JSON_ALIAS = 'j';

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
    let desc = r.desc;
    // A table that lacks a sub-attribute the filter names: read every one of them from the document.
    if (desc.kind === 'multi' && desc.json && subNames(inner, name).some((sub) => own<SubDescriptor>(desc.subAttrs, sub) === undefined)) desc = desc.json;
    const newScope: Scope = { name, desc, alias: this.nextAlias(desc.kind === 'multi' ? desc.alias : JSON_ALIAS) };
    return this.exists(newScope, this.compile(inner, newScope));
  }

  private comparison(op: string, attrPath: string, value: unknown, scope: Scope | undefined): string {
    if (scope) {
      let sub = attrPath.toLowerCase();
      const qualified = `${scope.name.toLowerCase()}.`;
      if (sub.startsWith(qualified)) sub = sub.slice(qualified.length);
      if (own<SubDescriptor>(scope.desc.subAttrs, sub) === undefined) throw invalidFilter(`Unknown attribute "${scope.name}.${attrPath}" in filter`);
      return this.leaf(op, this.subColumn(scope, sub), value, `${scope.name}.${attrPath}`);
    }
    const r = resolve(this.attrs, attrPath);
    if (!r || r.kind === 'prefix') throw invalidFilter(`Unknown attribute "${attrPath}" in filter`);
    if (r.kind === 'column') return this.leaf(op, this.scalar(r.desc), value, attrPath);
    const s: Scope = { name: attrPath, desc: r.desc, alias: this.nextAlias(r.desc.kind === 'multi' ? r.desc.alias : JSON_ALIAS) };
    // `addresses pr`: a multi-valued attribute without a `value` is present when it has any element.
    if (!r.subDesc && r.whole && op === 'pr') return this.exists(s, '1 = 1');
    if (!r.subDesc) throw invalidFilter(`Unknown attribute "${attrPath}" in filter`);
    return this.exists(s, this.leaf(op, this.subColumn(s, r.sub), value, attrPath));
  }

  private exists(scope: Scope, condition: string): string {
    const d = scope.desc;
    if (d.kind === 'multi') return `EXISTS (SELECT 1 FROM ${d.table} ${scope.alias} WHERE ${renameAlias(d.join, d.alias, scope.alias)} AND ${condition})`;
    // One row per element of the JSON array: SQLite's json_each, MySQL/MariaDB's JSON_TABLE with a
    // column per sub-attribute (c0, c1, … in subAttrs order).
    if (this.dialect === 'sqlite') return `EXISTS (SELECT 1 FROM json_each(${d.document}, ${jsonPath(d.path)}) ${scope.alias} WHERE ${condition})`;
    const columns = Object.values(d.subAttrs).map((sub, i) => `c${i} ${sub.type === 'boolean' ? 'VARCHAR(5)' : 'LONGTEXT'} PATH ${jsonPath([sub.key])}`);
    return `EXISTS (SELECT 1 FROM JSON_TABLE(${d.document}, ${jsonPath(d.path).replace(/'$/, "[*]'")} COLUMNS (${columns.join(', ')})) ${scope.alias} WHERE ${condition})`;
  }

  /** A sub-attribute of the element a scope ranges over, as a column expression. */
  private subColumn(scope: Scope, sub: string): ColumnAttribute {
    const d = scope.desc;
    if (d.kind === 'multi') {
      const desc = own(d.subAttrs, sub)!;
      return { ...desc, column: renameAlias(desc.column, d.alias, scope.alias) };
    }
    const desc = own(d.subAttrs, sub)!;
    if (this.dialect === 'sqlite') return this.typedJson(`json_extract(${scope.alias}.value, ${jsonPath([desc.key])})`, desc);
    return this.typedJson(`${scope.alias}.c${Object.keys(d.subAttrs).indexOf(sub)}`, desc);
  }

  /** A column attribute as is; a JSON scalar read with the dialect's functions. */
  private scalar(desc: ScalarDescriptor): ColumnAttribute {
    if (desc.kind === 'column') return desc;
    const doc = `${desc.document}, ${jsonPath(desc.path)}`;
    return this.typedJson(this.dialect === 'sqlite' ? `json_extract(${doc})` : `JSON_UNQUOTE(JSON_EXTRACT(${doc}))`, desc);
  }

  /**
   * A JSON value as a comparable column: SQLite's json_extract gives booleans as 1/0 already; MySQL
   * text is 'true'/'false'. Case-exact text compares as bytes on MySQL (its collation ignores case).
   */
  private typedJson(expr: string, desc: { type: ColumnType; caseExact: boolean }): ColumnAttribute {
    let column = expr;
    if (this.dialect === 'mysql' && desc.type === 'boolean') column = `(CASE ${expr} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)`;
    else if (this.dialect === 'mysql' && desc.type === 'string' && desc.caseExact) column = `BINARY ${expr}`;
    return { kind: 'column', column, type: desc.type, caseExact: desc.caseExact };
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

/** Entra sends booleans as "True"/"False" strings; accept those too (parseScimBoolean). Bound as 1/0 for both dialects. */
function booleanValue(value: unknown, name: string): number {
  const b = parseScimBoolean(value);
  if (b !== undefined) return b ? 1 : 0;
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
  const column = target?.kind === 'column' && target.desc.kind === 'column' ? target.desc : undefined;
  const direct = column && !(column.type === 'string' && !column.caseExact && !column.lowercaseColumn);
  return { sql, params: compiler.params, ...(direct ? { equals: { column: column.column, value: params[0] } } : {}) };
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
  if (r?.kind !== 'column' || r.desc.kind !== 'column') {
    throw new InputError(`Cannot sort by "${sortBy}": not a sortable attribute`, {
      scimType: 'invalidValue',
      field: 'sortBy',
    });
  }
  return { column: r.desc.column, direction: order === 'ascending' ? 'ASC' : 'DESC' };
}

