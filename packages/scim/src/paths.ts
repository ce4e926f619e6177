/**
 * Attribute paths (RFC 7644 §3.10 and the PATCH PATH rule of §3.5.2):
 *   [schemaUrn ":"] attrName ["[" valFilter "]"] ["." subAttr]
 * Hand-written because scim-patch splits paths at the last ":" (so `emails[value eq "a:b"]` and a
 * bare extension URN break) and projection needs the same grammar.
 */
import { InputError, type ScimType } from '@doorman/plugin-api';
import type { ResourceSchema } from './schemas.ts';
import { USER_SCHEMA, GROUP_SCHEMA } from './schemas.ts';

export interface AttrPath {
  /** Canonical extension URN; undefined for the core schema (a core URN prefix is dropped). */
  urn?: string;
  /** Undefined only when the path is a bare extension URN (the whole extension object). */
  attr?: string;
  /** Text between the brackets of a value path, unparsed. */
  filter?: string;
  sub?: string;
}

const NAME = /^[A-Za-z$][\w$-]*/;
const CORE_URNS = [USER_SCHEMA, GROUP_SCHEMA];

/**
 * Parses one path. Extension URNs are matched case-insensitively against the resource's
 * extensions; an unknown `urn:` prefix is an error because we cannot know where it would live.
 */
export function parseAttrPath(
  path: string,
  schema: ResourceSchema,
  scimType: ScimType,
  field = 'path',
): AttrPath {
  const fail = (why: string): never => {
    throw new InputError(`Invalid attribute path "${path}": ${why}`, { scimType, field });
  };
  let rest = path.trim();
  if (rest === '') fail('it is empty');

  let urn: string | undefined;
  if (rest.toLowerCase().startsWith('urn:')) {
    const known = [...CORE_URNS, ...schema.extensions.map((e) => e.id)];
    const lc = rest.toLowerCase();
    const hit = known.find((u) => lc === u.toLowerCase() || lc.startsWith(`${u.toLowerCase()}:`));
    if (!hit) fail(`unknown schema for ${schema.resourceType}`);
    const isCore = CORE_URNS.includes(hit!);
    if (isCore && hit !== schema.core.id) fail(`schema ${hit} does not apply to ${schema.resourceType}`);
    if (lc.length === hit!.length) {
      if (isCore) fail('a schema URN alone is not an attribute');
      return { urn: hit };
    }
    urn = isCore ? undefined : hit;
    rest = rest.slice(hit!.length + 1);
  }

  const name = NAME.exec(rest);
  if (!name) fail('expected an attribute name');
  const result: AttrPath = { urn, attr: name![0] };
  rest = rest.slice(name![0].length);

  if (rest.startsWith('[')) {
    const close = closingBracket(rest);
    if (close < 0) fail('unterminated "["');
    const filter = rest.slice(1, close).trim();
    if (filter === '') fail('empty value filter');
    result.filter = filter;
    rest = rest.slice(close + 1);
  }
  if (rest.startsWith('.')) {
    const sub = NAME.exec(rest.slice(1));
    if (!sub || sub[0].length !== rest.length - 1) fail('expected one sub-attribute name after "."');
    result.sub = sub![0];
    rest = '';
  }
  if (rest !== '') fail(`unexpected "${rest}"`);
  return result;
}

/** Index of the "]" closing the "[" at position 0, skipping quoted strings; -1 when absent. */
function closingBracket(text: string): number {
  let inString = false;
  for (let i = 1; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === ']') return i;
  }
  return -1;
}

/** Renders a parsed path back to text (canonical form when the parts are canonical). */
export function formatAttrPath(p: AttrPath): string {
  if (p.attr === undefined) return p.urn ?? '';
  let out = p.urn ? `${p.urn}:${p.attr}` : p.attr;
  if (p.filter !== undefined) out += `[${p.filter}]`;
  if (p.sub !== undefined) out += `.${p.sub}`;
  return out;
}

/** Own-key lookup ignoring case (attribute names are case-insensitive). */
export function findKey(obj: Record<string, unknown>, name: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return name;
  const lc = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lc);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
