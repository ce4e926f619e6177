/**
 * The PATCH result back in wire shape, and the checks scim-patch cannot make: readOnly attributes,
 * `schemas`, required attributes and attribute types (RFC 7643 §2, §7).
 */
import { findKey, isPlainObject } from './paths.ts';
import type { AttributeDefinition, ResourceSchema } from './schemas.ts';
import type { ScimResource } from './resource.ts';
import { fail } from './patch-normalize.ts';

export type Doc = Record<string, unknown>;

/** Extension objects live under these plain keys while scim-patch works: it mis-splits URNs. */
export const EXT_ALIAS = (i: number) => `__doormanExt${i}`;

export /** Back to wire shape, then the checks scim-patch cannot make. */
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

export function sameJson(a: unknown, b: unknown): boolean {
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
