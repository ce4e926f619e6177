/**
 * A resource checked against its schemas (RFC 7643 §2, §3, §7), pure. Doorman's policy
 * (docs/security.md §2):
 * - every attribute of the core schema and of the resource type's extensions must have its type
 *   (string, boolean, integer, decimal, dateTime, reference, binary, complex) and multiplicity; a
 *   wrong one is 400 `invalidValue` naming the attribute. Entra's "True"/"False" become booleans
 *   first (parseScimBoolean, the one converter). Canonical values are matched case-insensitively and
 *   stored in their canonical spelling; at most one `primary: true` per multi-valued attribute.
 * - readOnly attributes a client sends (`id`, `meta`, `groups`, `manager.displayName`) are ignored
 *   (RFC 7644 §3.3); null and [] mean unassigned (§2.5) and are dropped.
 * - attributes of no known schema: an object under an extension URN that the request declares in
 *   `schemas` is kept as sent (it is bounded by the body limits); any other URN-named key is 400
 *   `invalidSyntax`; a plain name no schema defines is ignored and never stored (RFC 7643 §3 ties
 *   every attribute to a schema the resource lists).
 * The result uses each attribute's canonical name, so stored JSON can be queried by exact path.
 */
import { InputError } from '@doorman/plugin-api';
import { findAttribute, findSubAttribute } from './schemas.ts';
import type { AttributeDefinition, ResourceSchema } from './schema-types.ts';
import { findKey, isPlainObject } from './paths.ts';

type Doc = Record<string, unknown>;

/** "True"/"false"/true → boolean; anything else → undefined. Entra sends booleans as strings. */
export function parseScimBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const t = value.trim().toLowerCase();
    if (t === 'true' || t === 'false') return t === 'true';
  }
  return undefined;
}

const invalid = (field: string, message: string) => new InputError(message, { scimType: 'invalidValue', field });
const shown = (v: unknown) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
};

// RFC 3339 date-time (xsd:dateTime as RFC 7643 §2.3.5 uses it).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/i;
const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

function scalar(def: AttributeDefinition, value: unknown, path: string): unknown {
  switch (def.type) {
    case 'boolean': {
      const b = parseScimBoolean(value);
      if (b === undefined) throw invalid(path, `"${path}" must be a boolean, got ${shown(value)}`);
      return b;
    }
    case 'integer':
      if (!Number.isInteger(value)) throw invalid(path, `"${path}" must be an integer, got ${shown(value)}`);
      return value;
    case 'decimal':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(path, `"${path}" must be a number, got ${shown(value)}`);
      return value;
    default: {
      if (typeof value !== 'string') throw invalid(path, `"${path}" must be a string, got ${shown(value)}`);
      if (def.type === 'dateTime' && !DATE_TIME.test(value)) throw invalid(path, `"${path}" must be an RFC 3339 date-time`);
      if (def.type === 'binary' && !BASE64.test(value)) throw invalid(path, `"${path}" must be base64`);
      if (def.canonicalValues) {
        const canonical = def.canonicalValues.find((c) => c.toLowerCase() === value.trim().toLowerCase());
        if (canonical === undefined) throw invalid(path, `"${path}" must be one of ${def.canonicalValues.join(', ')}, got ${shown(value)}`);
        return canonical;
      }
      return value;
    }
  }
}

/** A complex value: known, writable sub-attributes in canonical names; undefined when empty. */
function complex(def: AttributeDefinition, value: unknown, path: string): Doc | undefined {
  if (!isPlainObject(value)) throw invalid(path, `"${path}" must be an object, got ${shown(value)}`);
  const out: Doc = {};
  for (const [k, v] of Object.entries(value)) {
    const sub = findSubAttribute(def, k);
    if (!sub || sub.mutability === 'readOnly' || v === null || v === undefined) continue;
    if (sub.name in out) throw new InputError(`"${path}.${sub.name}" is given twice`, { scimType: 'invalidSyntax', field: path });
    const subPath = `${path}.${sub.name}`;
    if (sub.multiValued || sub.type === 'complex') throw invalid(subPath, `"${subPath}" is not supported`);
    out[sub.name] = scalar(sub, v, subPath);
  }
  return Object.keys(out).length ? out : undefined;
}

function single(def: AttributeDefinition, value: unknown, path: string): unknown {
  return def.type === 'complex' ? complex(def, value, path) : scalar(def, value, path);
}

/** One attribute's value, or undefined when it is unassigned. */
function attribute(def: AttributeDefinition, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (!def.multiValued) {
    if (Array.isArray(value)) throw invalid(path, `"${path}" is single-valued, got a list`);
    return single(def, value, path);
  }
  if (!Array.isArray(value)) throw invalid(path, `"${path}" is multi-valued: send a list, got ${shown(value)}`);
  const items = value.filter((v) => v !== null && v !== undefined).map((v, i) => single(def, v, `${path}[${i}]`)).filter((v) => v !== undefined);
  if (items.length === 0) return undefined;
  if (items.filter((v) => isPlainObject(v) && v.primary === true).length > 1) throw invalid(path, `"${path}" has more than one primary value`);
  return items;
}

function attributes(defs: (name: string) => AttributeDefinition | undefined, source: Doc, prefix: string, out: Doc): void {
  for (const [k, v] of Object.entries(source)) {
    const def = defs(k);
    if (!def || def.mutability === 'readOnly') continue;
    if (def.name in out) throw new InputError(`"${prefix}${def.name}" is given twice`, { scimType: 'invalidSyntax', field: def.name });
    const value = attribute(def, v, `${prefix}${def.name}`);
    if (value !== undefined) out[def.name] = value;
  }
}

export interface ValidateOptions {
  /** Core attributes to leave out of the check and the result (the caller reads them itself). */
  skip?: readonly string[];
}

/**
 * Checks `body` against `schema` and returns the resource to store: `schemas` (core first, then the
 * extensions it holds or declares), then the attributes in canonical names.
 */
export function validateResource(body: unknown, schema: ResourceSchema, opts: ValidateOptions = {}): Doc {
  if (!isPlainObject(body)) throw new InputError(`the request body must be a SCIM ${schema.resourceType} object`, { scimType: 'invalidSyntax' });
  const schemasKey = findKey(body, 'schemas');
  const declared = schemasKey === undefined ? undefined : body[schemasKey];
  if (!Array.isArray(declared) || declared.some((s) => typeof s !== 'string') || !declared.some((s) => s.toLowerCase() === schema.core.id.toLowerCase())) {
    throw invalid('schemas', `schemas must be a list of URNs including "${schema.core.id}"`);
  }
  const declaredLc = new Set((declared as string[]).map((s) => s.toLowerCase()));
  const skip = new Set([...(opts.skip ?? []), 'schemas'].map((s) => s.toLowerCase()));
  const core: Doc = {};
  const extensions: Doc = {};
  const coreSource: Doc = {};
  for (const [k, v] of Object.entries(body)) {
    const lc = k.toLowerCase();
    if (skip.has(lc)) continue;
    const ext = schema.extensions.find((e) => e.id.toLowerCase() === lc);
    if (ext) {
      if (v === null || v === undefined) continue;
      if (!isPlainObject(v)) throw invalid(ext.id, `"${ext.id}" must be an object of extension attributes`);
      if (ext.id in extensions) throw new InputError(`"${ext.id}" is given twice`, { scimType: 'invalidSyntax', field: ext.id });
      const out: Doc = {};
      attributes((name) => findAttribute(schema, ext.id, name), v, `${ext.id}:`, out);
      if (Object.keys(out).length) extensions[ext.id] = out;
    } else if (lc.startsWith('urn:')) {
      if (!declaredLc.has(lc)) throw new InputError(`"${k}" is not a schema this request declares in "schemas"`, { scimType: 'invalidSyntax', field: k });
      if (!isPlainObject(v)) throw invalid(k, `"${k}" must be an object of extension attributes`);
      if (Object.keys(v).length) extensions[k] = v;
    } else coreSource[k] = v;
  }
  attributes((name) => findAttribute(schema, undefined, name), coreSource, '', core);
  for (const def of schema.core.attributes) {
    if (def.required && !skip.has(def.name.toLowerCase()) && core[def.name] === undefined) throw invalid(def.name, `${def.name} is required`);
  }
  const known = new Set(schema.extensions.map((e) => e.id.toLowerCase()));
  const listed = [schema.core.id, ...schema.extensions.filter((e) => e.id in extensions || declaredLc.has(e.id.toLowerCase())).map((e) => e.id)];
  listed.push(...Object.keys(extensions).filter((k) => !known.has(k.toLowerCase())));
  return { schemas: listed, ...core, ...extensions };
}

/**
 * Control characters, bidirectional overrides and invisible separators: refused in userName and
 * email addresses (they make two different names look alike and break logs and CSV exports).
 */
export const UNSAFE_CHARACTERS = /[\p{Cc}\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u;

const ATOM = "[\\p{L}\\p{N}!#$%&'*+/=?^_`{|}~-]+";
const LOCAL_PART = new RegExp(`^${ATOM}(\\.${ATOM})*$`, 'u');
const LABEL = /^[\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?$/u;

/**
 * An address a mailbox can have: an unquoted RFC 5322 dot-atom local part (internationalised
 * letters allowed, RFC 6531) of at most 64 characters, `@`, and a domain of two or more labels.
 * Quoted local parts and address literals are refused: no IdP provisions them.
 */
export function isEmailAddress(value: string): boolean {
  if (value.length > 320 || UNSAFE_CHARACTERS.test(value)) return false;
  const at = value.lastIndexOf('@');
  if (at <= 0 || at > 64) return false;
  const labels = value.slice(at + 1).split('.');
  return LOCAL_PART.test(value.slice(0, at)) && labels.length >= 2 && labels.every((l) => l.length <= 63 && LABEL.test(l));
}
