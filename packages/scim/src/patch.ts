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
import { findAttribute, findSubAttribute, resourceSchemaFor, type AttributeDefinition, type ResourceSchema } from './schemas.ts';
import { parseAttrPath, findKey, isPlainObject, type AttrPath } from './paths.ts';
import { parseScimFilter } from './filter.ts';
import type { ScimResource } from './resource.ts';
import { fail, normalizePatchRequest, type PatchOperation, type PatchOptions } from './patch-normalize.ts';
import { parseScimBoolean } from './validate.ts';
import { EXT_ALIAS, fromWorking, type Doc } from './patch-result.ts';

export { normalizePatchRequest, type PatchOpName, type PatchOperation, type PatchOptions, type PatchRequest } from './patch-normalize.ts';

/** Attributes whose elements are identified by `value`: adding a known member is a no-op. */
const IDENTIFIED_BY_VALUE = new Set(['members']);
/** Marks the elements a value filter selected, so scim-patch only sees a filter it handles. */
const MARK = '__doormanMatch';

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
  const asBool = (v: unknown) => parseScimBoolean(v) ?? v;
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
