/**
 * SCIM PATCH request normalization (RFC 7644 §3.5.2): validates a PatchOp body and rewrites the IdP
 * dialects into plain RFC form before patch.ts applies it (docs/scim-client-pitfalls.md §1, §7).
 */
import { InputError, type ScimType } from '@doorman/plugin-api';
import { PATCH_OP_SCHEMA, findAttribute, findSubAttribute, resourceSchemaFor, type AttributeDefinition, type ResourceSchema } from './schemas.ts';
import { parseAttrPath, formatAttrPath, findKey, isPlainObject } from './paths.ts';
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

/** Refuses the PATCH request with an RFC 7644 §3.12 scimType, naming the field at fault. */
export function fail(scimType: ScimType, detail: string, field = 'Operations'): never {
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

