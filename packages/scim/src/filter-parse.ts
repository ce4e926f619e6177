/**
 * SCIM filter text (RFC 7644 §3.4.2.2) → a parsed filter. Parsing is scim2-parse-filter's; this
 * file works around its string handling and length limits. The SQL translation is filter.ts's.
 */
import { parse, type Filter } from 'scim2-parse-filter';
import { InputError } from '@doorman/plugin-api';
import { USER_SCHEMA, GROUP_SCHEMA } from './schemas.ts';

const MAX_FILTER_LENGTH = 10_000;
/** `attr[inner].sub op value` (string literals already masked as `"n"`). */
const VALUE_PATH_THEN_SUB = /([A-Za-z][\w:.$-]*)\[([^[\]]*)\]\.([A-Za-z$][\w$]*)\s+(pr\b|(?:eq|ne|co|sw|ew|gt|ge|lt|le)\s+(?:"\d+"|true\b|false\b|null\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?))/gi;
export const CORE_PREFIXES = [USER_SCHEMA, GROUP_SCHEMA].map((u) => `${u.toLowerCase()}:`);

export function invalidFilter(detail: string): InputError {
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
  // Entra's documented `emails[type eq "work"].value eq "x"` (a sub-attribute after the value
  // filter) means `emails[type eq "work" and value eq "x"]`: rewritten so that both conditions hold
  // for the same value. Any other `]` followed by `.` would become two independent conditions.
  masked = masked.replace(VALUE_PATH_THEN_SUB, (_m, attr: string, inner: string, sub: string, rest: string) => `${attr}[(${inner}) and ${sub} ${rest}]`);
  if (/\]\s*\./.test(masked)) {
    throw invalidFilter(
      'A sub-attribute after "]" must be compared directly (emails[type eq "work"].value eq "…"), or put inside the brackets, e.g. emails[type eq "work" and value co "@example.com"]',
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
