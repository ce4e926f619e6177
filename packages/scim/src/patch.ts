/**
 * SCIM PATCH (RFC 7644 §3.5.2): normalize the IdP dialects, then apply with scim-patch.
 *
 * scim-patch does the mutations. Around it we hand-write what it gets wrong (docs/scim-client-pitfalls.md §1, §7):
 * Entra's dialect (capitalised ops, "True"/"False", path-less dotted and URN keys), paths that
 * contain ":" (it splits at the last ":"), value filters (matched case-insensitively per schema,
 * with decoded strings), removing members by `value`, readOnly attributes and `schemas`.
 */
import {
  scimPatch,
  ScimError,
  NoTarget,
  NoPathInScimPatchOp,
  InvalidScimPatchRequest,
  InvalidScimPatchOp,
  InvalidScimRemoveValue,
  type ScimPatchOperation,
  type ScimResource as LibResource,
} from 'scim-patch';
import type { Filter } from 'scim2-parse-filter';
import { InputError, type ScimType } from '@doorman/plugin-api';
import {
  PATCH_OP_SCHEMA,
  findAttribute,
  findSubAttribute,
  resourceSchemaFor,
  type AttributeDefinition,
  type ResourceSchema,
} from './schemas.ts';
import { parseAttrPath, formatAttrPath, findKey, isPlainObject, type AttrPath } from './paths.ts';
import { parseScimFilter } from './filter.ts';
import type { ScimResource } from './resource.ts';
import { parseScimBoolean } from './validate.ts';

export type PatchOpName = 'add' | 'remove' | 'replace';

export interface PatchOperation {
  op: PatchOpName;
  /** Always set after normalization (path-less operations are split per attribute). */
  path?: string;
  value?: unknown;
}

export interface PatchRequest {
  schemas: string[];
  Operations: PatchOperation[];
}

export interface PatchOptions {
  schema: 'User' | 'Group';
}

const OPS: readonly PatchOpName[] = ['add', 'remove', 'replace'];
/** Attributes whose elements are identified by `value`: adding a known member is a no-op. */
const IDENTIFIED_BY_VALUE = new Set(['members']);
/** Accepted on the wire but never kept: we do not manage passwords (changePassword: false). */
const DISCARDED = new Set(['password']);
/**
 * Attributes Doorman keeps assigned whatever a PATCH says: removing `active` would leave the
 * person's state undefined (Doorman never deprovisions by omission, docs/docker-behaviour.md §1.6),
 * so it is refused with the reason instead of answering 200 with the value unchanged.
 */
const NOT_REMOVABLE: Record<PatchOptions['schema'], Record<string, string>> = {
  User: { active: 'send replace with false to deactivate the user' },
  Group: {},
};
/** Marks the elements a value filter selected, so scim-patch only sees a filter it handles. */
const MARK = '__doormanMatch';
const EXT_ALIAS = (i: number) => `__doormanExt${i}`;

function fail(scimType: ScimType, detail: string, field = 'Operations'): never {
  throw new InputError(detail, { scimType, field });
}

/**
 * Validates a PatchOp body and rewrites it into plain RFC 7644 form: lower-case ops, one
 * operation per attribute with an explicit canonical path, real booleans, and Docker's
 * `enabled` read as `active`.
 */
export function normalizePatchRequest(body: unknown, opts: PatchOptions = { schema: 'User' }): PatchRequest {
  const schema = resourceSchemaFor(opts.schema);
  if (!isPlainObject(body)) fail('invalidSyntax', 'The PATCH body must be a JSON object', 'body');
  const schemasKey = findKey(body, 'schemas');
  const schemas = schemasKey === undefined ? undefined : body[schemasKey];
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_OP_SCHEMA.toLowerCase())) {
    fail('invalidSyntax', `"schemas" must contain ${PATCH_OP_SCHEMA}`, 'schemas');
  }
  const opsKey = findKey(body, 'Operations');
  const rawOps = opsKey === undefined ? undefined : body[opsKey];
  if (!Array.isArray(rawOps) || rawOps.length === 0) fail('invalidSyntax', '"Operations" must be a non-empty array');

  const out: PatchOperation[] = [];
  rawOps.forEach((raw, i) => {
    if (!isPlainObject(raw)) fail('invalidSyntax', `Operations[${i}] must be an object`);
    const opKey = findKey(raw, 'op');
    const opName = typeof raw[opKey ?? 'op'] === 'string' ? (raw[opKey ?? 'op'] as string).toLowerCase() : undefined;
    if (!opName || !OPS.includes(opName as PatchOpName)) {
      fail('invalidSyntax', `Operations[${i}].op must be one of add, remove, replace`);
    }
    const op = opName as PatchOpName;
    const pathKey = findKey(raw, 'path');
    const path = pathKey === undefined ? undefined : raw[pathKey];
    const valueKey = findKey(raw, 'value');
    const hasValue = valueKey !== undefined;
    const value = hasValue ? raw[valueKey] : undefined;
    if (path !== undefined && path !== null && typeof path !== 'string') fail('invalidPath', `Operations[${i}].path must be a string`);
    const hasPath = typeof path === 'string' && path.trim() !== '';

    if (op === 'remove' && !hasPath) fail('noTarget', `Operations[${i}]: remove needs a "path" (RFC 7644 §3.5.2.2)`);
    if (op !== 'remove' && !hasValue) fail('invalidValue', `Operations[${i}]: ${op} needs a "value"`);

    for (const expanded of expand(op, hasPath ? (path as string) : undefined, value, hasValue, schema, i)) {
      const normalized = canonicalize(expanded, schema);
      if (normalized) out.push(normalized);
    }
  });
  return { schemas: [PATCH_OP_SCHEMA], Operations: out };
}

/** Path-less add/replace (and a bare extension URN path) become one operation per attribute. */
function expand(
  op: PatchOpName,
  path: string | undefined,
  value: unknown,
  hasValue: boolean,
  schema: ResourceSchema,
  i: number,
): PatchOperation[] {
  const bareUrn = path === undefined ? undefined : extensionUrn(path, schema);
  if (path !== undefined && (bareUrn === undefined || op === 'remove')) {
    return [hasValue ? { op, path, value } : { op, path }];
  }
  if (!isPlainObject(value)) {
    fail('invalidValue', `Operations[${i}]: without a path, the value must be an object of attributes`);
  }
  if (bareUrn !== undefined) return Object.entries(value).map(([k, v]) => ({ op, path: `${bareUrn}:${k}`, value: v }));
  const ops: PatchOperation[] = [];
  for (const [key, v] of Object.entries(value)) {
    const urn = extensionUrn(key, schema);
    if (urn === undefined) {
      // Keys are paths: "name.givenName", "urn:…:User:department", `emails[type eq "work"].value`.
      ops.push({ op, path: key, value: v });
    } else if (isPlainObject(v)) {
      for (const [k2, v2] of Object.entries(v)) ops.push({ op, path: `${urn}:${k2}`, value: v2 });
    } else {
      fail('invalidValue', `Operations[${i}]: "${key}" must hold an object of extension attributes`);
    }
  }
  return ops;
}

function extensionUrn(text: string, schema: ResourceSchema): string | undefined {
  const lc = text.trim().toLowerCase();
  return schema.extensions.find((e) => e.id.toLowerCase() === lc)?.id;
}

/** Canonical path and value for one operation; undefined when the operation is discarded. */
function canonicalize(op: PatchOperation, schema: ResourceSchema): PatchOperation | undefined {
  const p = parseAttrPath(op.path!, schema, 'invalidPath');
  if (p.attr === undefined) return { ...op, path: formatAttrPath(p) };
  if (p.urn === undefined && schema.resourceType === 'User' && p.attr.toLowerCase() === 'enabled') {
    p.attr = 'active'; // Docker's API names the flag `enabled` (docs/docker-behaviour.md §1.6)
  }
  const def = findAttribute(schema, p.urn, p.attr);
  if (def) p.attr = def.name;
  if (p.urn === undefined && DISCARDED.has(p.attr.toLowerCase())) return undefined;
  const keep = p.urn === undefined && op.op === 'remove' && p.sub === undefined && p.filter === undefined ? NOT_REMOVABLE[schema.resourceType][p.attr] : undefined;
  if (keep) fail('mutability', `"${p.attr}" cannot be removed: ${keep}`, 'path');
  const subDef = p.sub === undefined ? undefined : findSubAttribute(def, p.sub);
  if (subDef) p.sub = subDef.name;
  // Only sub-attributes are checked here; top-level readOnly ones are compared after applying,
  // so Okta's habit of echoing the unchanged `id` is accepted.
  if (subDef && (subDef.mutability === 'readOnly' || (subDef.mutability === 'immutable' && op.op !== 'add'))) {
    fail('mutability', `"${formatAttrPath(p)}" is ${subDef.mutability}`, 'path');
  }

  const path = formatAttrPath(p);
  if (!('value' in op)) return { op: op.op, path };
  let value = op.value;
  if (p.sub !== undefined) value = coerce(value, subDef, path);
  else if (p.filter !== undefined) value = coerceElement(value, def, path);
  else value = coerce(value, def, path);
  // A lone object for a multi-valued attribute is read as a one-element list.
  if (def?.multiValued && p.sub === undefined && p.filter === undefined && isPlainObject(value)) value = [value];
  // Entra sends the enterprise manager as a bare id string.
  if (def?.name === 'manager' && p.sub === undefined && p.filter === undefined && typeof value === 'string') {
    value = { value };
  }
  return { op: op.op, path, value };
}

/** Coerces a value for an attribute definition: boolean strings, sub-attribute name case. */
function coerce(value: unknown, def: AttributeDefinition | undefined, path: string): unknown {
  if (!def || value === null || value === undefined) return value;
  if (def.multiValued && Array.isArray(value)) return value.map((v) => coerceElement(v, def, path));
  return coerceElement(value, def, path);
}

function coerceElement(value: unknown, def: AttributeDefinition | undefined, path: string): unknown {
  if (!def || value === null || value === undefined) return value;
  if (def.type === 'boolean') return toBoolean(value, path);
  if (def.type !== 'complex' || !isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const sub = findSubAttribute(def, k);
    out[sub?.name ?? k] = coerce(v, sub, `${path}.${sub?.name ?? k}`);
  }
  return out;
}

/** Entra (without aadOptscim062020) sends "True"/"False". Anything else non-boolean is refused. */
function toBoolean(value: unknown, path: string): boolean {
  return parseScimBoolean(value) ?? fail('invalidValue', `"${path}" must be a boolean, got ${JSON.stringify(value)}`);
}

/**
 * Applies a PATCH body to a resource and returns the new resource; the input is not modified.
 * The resource must be JSON-shaped (meta timestamps as strings are fine; `meta` is copied back
 * untouched anyway).
 */
export function applyPatch(resource: ScimResource, body: unknown, opts: PatchOptions): ScimResource {
  const schema = resourceSchemaFor(opts.schema);
  const { Operations } = normalizePatchRequest(body, opts);
  let work = toWorking(resource, schema);
  for (const op of Operations) work = applyOperation(work, op, schema);
  return fromWorking(work, resource, schema);
}

type Doc = Record<string, unknown>;

/** Copy of the resource with extension objects under plain keys: scim-patch mis-splits URNs. */
function toWorking(resource: ScimResource, schema: ResourceSchema): Doc {
  const work = JSON.parse(JSON.stringify(resource)) as Doc;
  schema.extensions.forEach((ext, i) => {
    const key = findKey(work, ext.id);
    if (key === undefined) return;
    work[EXT_ALIAS(i)] = work[key];
    delete work[key];
  });
  return work;
}

function aliasOf(urn: string, schema: ResourceSchema): string {
  return EXT_ALIAS(schema.extensions.findIndex((e) => e.id === urn));
}

function applyOperation(work: Doc, op: PatchOperation, schema: ResourceSchema): Doc {
  const p = parseAttrPath(op.path!, schema, 'invalidPath');
  const alias = p.urn === undefined ? undefined : aliasOf(p.urn, schema);
  if (p.attr === undefined) {
    // Only `remove` reaches here with a bare extension URN (add/replace were expanded).
    delete work[alias!];
    return work;
  }
  const holder = alias === undefined ? work : isPlainObject(work[alias]) ? (work[alias] as Doc) : undefined;
  const key = (holder && findKey(holder, p.attr)) ?? p.attr;
  const libPath = `${alias === undefined ? '' : `${alias}.`}${key}`;
  const def = findAttribute(schema, p.urn, p.attr);

  if (p.filter !== undefined) return applyFiltered(work, op, p, { holder, key, libPath, def });

  const current = holder?.[key];
  if (op.op === 'remove' && op.value !== undefined && p.sub === undefined) {
    return removeByValue(work, op, { current, holder, key, libPath, def });
  }
  if (op.op === 'add' && p.sub === undefined && IDENTIFIED_BY_VALUE.has(key)) {
    const fresh = newByValue(Array.isArray(current) ? current : [], op.value, def);
    if (fresh.length === 0) return work;
    return runLib(work, { op: 'add', path: libPath, value: fresh }, op.path!);
  }
  const lib: PatchOperation = { op: op.op, path: p.sub === undefined ? libPath : `${libPath}.${p.sub}` };
  if ('value' in op) lib.value = op.value;
  return runLib(work, lib, op.path!);
}

interface Target {
  holder: Doc | undefined;
  key: string;
  libPath: string;
  def: AttributeDefinition | undefined;
}

/** `attr[filter]` and `attr[filter].sub`: we select, scim-patch applies to the marked elements. */
function applyFiltered(work: Doc, op: PatchOperation, p: AttrPath, t: Target): Doc {
  let ast: Filter;
  try {
    ast = parseScimFilter(p.filter!);
  } catch (err) {
    return fail('invalidPath', `Invalid value filter in "${op.path}": ${(err as Error).message}`);
  }
  const list = t.holder?.[t.key];
  const selected = Array.isArray(list) ? list.filter((el) => isPlainObject(el) && matches(ast, el, t.def, p.attr!)) : [];

  if (selected.length === 0) {
    // RFC 7644 §3.5.2.2 only makes a missing *path* a noTarget for remove: no match is a no-op.
    if (op.op === 'remove') return work;
    // `emails[type eq "work"].value` with no work email: create it (what Entra expects, and
    // what scim-patch does); anything else has nothing to act on (RFC 7644 §3.5.2.3).
    const seed = p.sub === undefined ? undefined : simpleEquality(ast, t.def);
    if (!seed) fail('noTarget', `No value of "${p.attr}" matches [${p.filter}]`, 'path');
    const holder = t.holder ?? (work[t.libPath.split('.')[0]] = {} as Doc);
    const existing = Array.isArray(holder[t.key]) ? (holder[t.key] as unknown[]) : [];
    holder[t.key] = [...existing, { ...seed, [p.sub!]: op.value }];
    return work;
  }

  let value = op.value;
  if (p.sub === undefined && op.op !== 'remove') {
    if (Array.isArray(value) && value.length === 1) value = value[0];
    if (!isPlainObject(value)) fail('invalidValue', `"${op.path}" selects whole values: the value must be an object`);
  }
  for (const el of selected) (el as Doc)[MARK] = true;
  const lib: PatchOperation = { op: op.op, path: `${t.libPath}[${MARK} eq true]${p.sub === undefined ? '' : `.${p.sub}`}` };
  if (op.op !== 'remove') lib.value = value;
  const result = runLib(work, lib, op.path!);
  const after = (t.holder === work ? result : (result[t.libPath.split('.')[0]] as Doc | undefined))?.[t.key];
  if (Array.isArray(after)) for (const el of after) if (isPlainObject(el)) delete el[MARK];
  return result;
}

/** `{attr eq "v"}` on a sub-attribute → the element seed `{ attr: "v" }`; else undefined. */
function simpleEquality(ast: Filter, def: AttributeDefinition | undefined): Doc | undefined {
  if (ast.op !== 'eq' || ast.compValue === null || /[.:]/.test(ast.attrPath)) return undefined;
  const sub = findSubAttribute(def, ast.attrPath);
  return { [sub?.name ?? ast.attrPath]: ast.compValue };
}

/**
 * `remove` with a value. Entra removes members as `{path: "members", value: [{value: id}]}`
 * (often with `"$ref": null`), which scim-patch compares by deep equality and so never matches.
 * We match elements by their `value`; a single-valued attribute is removed when it matches.
 */
function removeByValue(work: Doc, op: PatchOperation, t: Target & { current: unknown }): Doc {
  const items = Array.isArray(op.value) ? op.value : [op.value];
  if (t.current === undefined || t.current === null) return work;
  const wanted = items.map((item) => (isPlainObject(item) ? item[findKey(item, 'value') ?? 'value'] : item));
  if (!Array.isArray(t.current)) {
    const currentValue = isPlainObject(t.current) ? t.current[findKey(t.current, 'value') ?? 'value'] : t.current;
    if (wanted.some((w) => w !== undefined && sameValue(currentValue, w, t.def))) delete t.holder![t.key];
    return work;
  }
  if (!items.every((item) => isPlainObject(item) && findKey(item, 'value') !== undefined)) {
    return runLib(work, { op: 'remove', path: t.libPath, value: op.value }, op.path!); // deep-equality removal
  }
  const selected = t.current.filter((el) => isPlainObject(el) && wanted.some((w) => sameValue(el[findKey(el, 'value') ?? 'value'], w, t.def)));
  if (selected.length === 0) return work;
  for (const el of selected) (el as Doc)[MARK] = true;
  return runLib(work, { op: 'remove', path: `${t.libPath}[${MARK} eq true]` }, op.path!);
}

/** Items of an `add` whose `value` is not already present (nor repeated in the same add). */
function newByValue(current: unknown[], value: unknown, def: AttributeDefinition | undefined): unknown[] {
  const seen = current.filter(isPlainObject).map((el) => el.value);
  const fresh: unknown[] = [];
  for (const item of Array.isArray(value) ? value : [value]) {
    const v = isPlainObject(item) ? item.value : undefined;
    if (v !== undefined && seen.some((s) => sameValue(s, v, def))) continue;
    if (v !== undefined) seen.push(v);
    fresh.push(item);
  }
  return fresh;
}

function sameValue(a: unknown, b: unknown, def: AttributeDefinition | undefined): boolean {
  const caseExact = findSubAttribute(def, 'value')?.caseExact ?? def?.caseExact ?? false;
  if (typeof a === 'string' && typeof b === 'string' && !caseExact) return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

/** Evaluates a value filter against one element of a multi-valued attribute. */
function matches(f: Filter, el: Doc, def: AttributeDefinition | undefined, attrName: string): boolean {
  switch (f.op) {
    case 'and':
      return f.filters.every((c) => matches(c, el, def, attrName));
    case 'or':
      return f.filters.some((c) => matches(c, el, def, attrName));
    case 'not':
      return !matches(f.filter, el, def, attrName);
    case '[]':
      return fail('invalidPath', `Nested value filters are not supported in "${attrName}[…]"`, 'path');
    default: {
      let name = f.attrPath;
      if (name.toLowerCase().startsWith(`${attrName.toLowerCase()}.`)) name = name.slice(attrName.length + 1);
      const key = findKey(el, name);
      const actual = key === undefined ? undefined : el[key];
      if (f.op === 'pr') return actual !== undefined && actual !== null && actual !== '' && !(Array.isArray(actual) && actual.length === 0);
      return compare(f.op, actual, f.compValue, findSubAttribute(def, name));
    }
  }
}

function compare(op: string, actual: unknown, expected: unknown, def: AttributeDefinition | undefined): boolean {
  if (actual === undefined || actual === null) return op === 'eq' ? expected === null : op === 'ne' ? expected !== null : false;
  if (expected === null) return op === 'ne';
  let a: unknown = actual;
  let e: unknown = expected;
  const asBool = (v: unknown) => (typeof v === 'string' && /^(true|false)$/i.test(v) ? v.toLowerCase() === 'true' : v);
  if (typeof a === 'boolean' || typeof e === 'boolean') {
    a = asBool(a);
    e = asBool(e);
  } else if (typeof a === 'string' && typeof e === 'string' && !(def?.caseExact ?? false)) {
    a = a.toLowerCase();
    e = e.toLowerCase();
  }
  switch (op) {
    case 'eq':
      return a === e;
    case 'ne':
      return a !== e;
    case 'co':
      return typeof a === 'string' && typeof e === 'string' && a.includes(e);
    case 'sw':
      return typeof a === 'string' && typeof e === 'string' && a.startsWith(e);
    case 'ew':
      return typeof a === 'string' && typeof e === 'string' && a.endsWith(e);
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      if (typeof a !== typeof e || (typeof a !== 'string' && typeof a !== 'number')) return false;
      const [x, y] = [a as string | number, e as string | number];
      return op === 'gt' ? x > y : op === 'ge' ? x >= y : op === 'lt' ? x < y : x <= y;
    }
    default:
      return false;
  }
}

function runLib(work: Doc, op: PatchOperation, userPath: string): Doc {
  try {
    return scimPatch(work as unknown as LibResource, [op as ScimPatchOperation], {
      mutateDocument: false,
      treatMissingAsAdd: true,
    }) as unknown as Doc;
  } catch (err) {
    throw libError(err, userPath);
  }
}

/** scim-patch's errors → InputError with the RFC 7644 §3.12 scimType. */
function libError(err: unknown, path: string): InputError {
  if (err instanceof InputError) return err;
  const detail = `Cannot apply "${path}": ${err instanceof Error ? err.message.replace(/__doormanExt\d+\.?/g, '') : String(err)}`;
  const make = (scimType: ScimType) => new InputError(detail, { scimType, field: 'path', cause: err });
  if (err instanceof NoTarget || err instanceof NoPathInScimPatchOp) return make('noTarget');
  if (err instanceof InvalidScimRemoveValue) return make('invalidValue');
  if (err instanceof InvalidScimPatchRequest) return make('invalidSyntax');
  if (err instanceof InvalidScimPatchOp) {
    if (err.message.includes('Invalid patch query')) return make('invalidValue');
    return make(err.scimCode === 'noTarget' ? 'noTarget' : 'invalidPath');
  }
  if (err instanceof ScimError) return make(err.scimCode === 'noTarget' ? 'noTarget' : 'invalidSyntax');
  // e.g. a path that walks into a string ("userName.x"): the library throws a TypeError.
  return make('invalidPath');
}

/** Back to wire shape, then the checks scim-patch cannot make. */
function fromWorking(work: Doc, original: ScimResource, schema: ResourceSchema): ScimResource {
  const result: Doc = {};
  for (const [k, v] of Object.entries(work)) if (!k.startsWith('__doormanExt')) result[k] = v;
  const hadBefore = schema.extensions.map((ext) => hasData(original[findKey(original, ext.id) ?? ext.id]));
  schema.extensions.forEach((ext, i) => {
    const data = work[EXT_ALIAS(i)];
    if (isPlainObject(data)) prune(data);
    if (hasData(data)) result[ext.id] = data;
  });
  const meta = result.meta;
  delete result.meta;
  prune(result);
  if (meta !== undefined) result.meta = meta;

  checkReadOnly(original, result, schema);
  result.schemas = schemasAfter(result, hadBefore, schema);
  checkRequired(original, result, schema);
  checkTypes(result, schema);
  if (original.meta !== undefined) result.meta = structuredClone(original.meta);
  return result as ScimResource;
}

function hasData(v: unknown): boolean {
  return isPlainObject(v) && Object.values(v).some((x) => !isEmpty(x));
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);
}

/** RFC 7643 §2.5: null and [] mean unassigned; drop them so consumers see one shape. */
function prune(obj: Doc): void {
  for (const [k, v] of Object.entries(obj)) {
    if (isPlainObject(v)) prune(v);
    if (Array.isArray(v)) for (const item of v) if (isPlainObject(item)) prune(item);
    if (isEmpty(v)) delete obj[k];
  }
}

function checkReadOnly(original: ScimResource, result: Doc, schema: ResourceSchema): void {
  const names = new Set<string>(['id', 'meta']);
  for (const a of schema.core.attributes) if (a.mutability === 'readOnly') names.add(a.name);
  for (const name of names) {
    const before = original[findKey(original, name) ?? name];
    const after = result[findKey(result, name) ?? name];
    if (!sameJson(before, after)) fail('mutability', `"${name}" is read-only`, name);
  }
  for (const ext of schema.extensions) {
    for (const a of ext.attributes) {
      if (a.mutability !== 'readOnly') continue;
      const before = (original[ext.id] as Doc | undefined)?.[a.name];
      const after = (result[ext.id] as Doc | undefined)?.[a.name];
      if (!sameJson(before, after)) fail('mutability', `"${ext.id}:${a.name}" is read-only`, a.name);
    }
  }
}

/**
 * `schemas` may only gain or lose extension URNs of this resource type; it lists an extension
 * while the resource holds its data, and drops it when this PATCH removed that data.
 */
function schemasAfter(result: Doc, hadBefore: boolean[], schema: ResourceSchema): string[] {
  const listed = result.schemas;
  const known = [schema.core.id, ...schema.extensions.map((e) => e.id)];
  const lc = Array.isArray(listed) ? listed.map((s) => (typeof s === 'string' ? s.toLowerCase() : s)) : [];
  if (!Array.isArray(listed) || !lc.includes(schema.core.id.toLowerCase())) {
    fail('mutability', `"schemas" must keep ${schema.core.id}`, 'schemas');
  }
  // Extensions of no known schema stay listed while the resource holds them (validateResource).
  const opaque = Object.keys(result).filter((k) => k.toLowerCase().startsWith('urn:') && !known.some((id) => id.toLowerCase() === k.toLowerCase()));
  const unknown = lc.find((s) => typeof s !== 'string' || ![...known, ...opaque].some((k) => k.toLowerCase() === s));
  if (unknown !== undefined) fail('mutability', `"schemas" cannot contain ${JSON.stringify(unknown)}`, 'schemas');
  return [
    schema.core.id,
    ...schema.extensions
      .filter((ext, i) => hasData(result[ext.id]) || (!hadBefore[i] && lc.includes(ext.id.toLowerCase())))
      .map((ext) => ext.id),
    ...opaque,
  ];
}

function checkRequired(original: ScimResource, result: Doc, schema: ResourceSchema): void {
  for (const a of schema.core.attributes) {
    if (!a.required || original[a.name] === undefined) continue;
    const v = result[a.name];
    if (typeof v !== 'string' || v.trim() === '') fail('invalidValue', `"${a.name}" is required and must be a non-empty string`, a.name);
  }
}

/** Known attributes must keep their schema type (e.g. no `"name": "x"`, no `"active": "yes"`). */
function checkTypes(result: Doc, schema: ResourceSchema): void {
  const check = (defs: readonly AttributeDefinition[], obj: Doc, prefix: string) => {
    for (const def of defs) {
      const key = findKey(obj, def.name);
      if (key === undefined || def.name === 'meta') continue;
      const v = obj[key];
      if (def.multiValued) {
        if (!Array.isArray(v)) fail('invalidValue', `"${prefix}${def.name}" must be an array`, def.name);
        v.forEach((item) => checkOne(def, item, `${prefix}${def.name}`));
      } else checkOne(def, v, `${prefix}${def.name}`);
    }
  };
  const checkOne = (def: AttributeDefinition, v: unknown, name: string) => {
    const ok =
      def.type === 'complex'
        ? isPlainObject(v)
        : def.type === 'boolean'
          ? typeof v === 'boolean'
          : def.type === 'integer'
            ? Number.isInteger(v)
            : def.type === 'decimal'
              ? typeof v === 'number'
              : typeof v === 'string';
    if (!ok) fail('invalidValue', `"${name}" must be ${def.type === 'complex' ? 'an object' : `a ${def.type}`}, got ${JSON.stringify(v)}`, def.name);
    if (def.type === 'complex' && def.subAttributes) check(def.subAttributes, v as Doc, `${name}.`);
  };
  check(schema.core.attributes, result, '');
  for (const ext of schema.extensions) {
    if (isPlainObject(result[ext.id])) check(ext.attributes, result[ext.id] as Doc, `${ext.id}:`);
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  const norm = (v: unknown) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  return deepEqual(norm(a), norm(b));
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
