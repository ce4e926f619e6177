/**
 * Resolves a filter's attribute paths against a plugin's attribute whitelist (filter-attributes.ts):
 * core-schema prefixes dropped, unqualified extension names found (or refused as ambiguous),
 * sub-attributes of multi-valued attributes located. Pure.
 */
import type { Filter } from 'scim2-parse-filter';
import type { AttributeMap, ColumnAttribute, JsonAttribute, JsonMultiValuedAttribute, JsonSubAttribute, MultiValuedAttribute } from './filter-attributes.ts';
import { CORE_PREFIXES, invalidFilter } from './filter-parse.ts';

export type MultiDescriptor = MultiValuedAttribute | JsonMultiValuedAttribute;
export type ScalarDescriptor = ColumnAttribute | JsonAttribute;
export type SubDescriptor = ColumnAttribute | JsonSubAttribute;

export type Resolved =
  | { kind: 'column'; desc: ScalarDescriptor }
  | { kind: 'multi'; desc: MultiDescriptor; whole: boolean; sub: string; subDesc: SubDescriptor | undefined }
  | { kind: 'prefix'; prefix: string };

export const own = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined => (Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined);

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
export function resolve(attrs: AttributeMap, path: string): Resolved | undefined {
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
  const hit = own(attrs, p);
  if (hit?.kind === 'column' || hit?.kind === 'json') return { kind: 'column', desc: hit };
  // A multi-valued attribute on its own means its `value` (RFC 7644 §3.4.2.2, `emails co …`).
  if (hit?.kind === 'multi' || hit?.kind === 'jsonMulti') return { kind: 'multi', desc: hit, whole: true, sub: 'value', subDesc: own<SubDescriptor>(hit.subAttrs, 'value') };
  const dot = p.lastIndexOf('.');
  if (dot > p.lastIndexOf(':') && dot > 0) {
    const parent = own(attrs, p.slice(0, dot));
    if (parent?.kind === 'multi' || parent?.kind === 'jsonMulti') {
      const sub = p.slice(dot + 1);
      const desc = parent.kind === 'multi' && own(parent.subAttrs, sub) === undefined && parent.json ? parent.json : parent;
      return { kind: 'multi', desc, whole: false, sub, subDesc: own<SubDescriptor>(desc.subAttrs, sub) };
    }
  }
  return undefined;
}

/** The sub-attribute names a value filter uses (`type`, `value`, …), lower-cased, without `attr.`. */
export function subNames(f: Filter, attrName: string): string[] {
  switch (f.op) {
    case 'and':
    case 'or':
      return f.filters.flatMap((c) => subNames(c, attrName));
    case 'not':
      return subNames(f.filter, attrName);
    case '[]':
      return [];
    default: {
      const p = f.attrPath.toLowerCase();
      const qualified = `${attrName.toLowerCase()}.`;
      return [p.startsWith(qualified) ? p.slice(qualified.length) : p];
    }
  }
}
