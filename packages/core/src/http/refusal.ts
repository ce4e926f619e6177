/**
 * What a refused SCIM or SSO request may leave in the connection's activity log (pure; the error
 * middleware calls it, docs/connection-activity.md): the route pattern, never the raw URL, and the
 * error's detail with every value the request carried redacted. The body itself, query values and
 * credentials are never kept.
 */

const MAX_DETAIL = 1024;
const MAX_VALUES = 10_000;
const REDACTED = '…';

/**
 * The route as a pattern. The router's matched pattern when it got that far; else (refused by
 * authentication, body reading or an unknown path) the path with every segment after the resource
 * type replaced by `:id`, so a raw id, name or anything else a client put in a path is not kept.
 */
export function routePattern(path: string, matched?: string): string {
  if (matched) return matched.slice(0, 255);
  const scim = /^\/scim\/v2(\/.*)?$/.exec(path);
  const prefix = scim ? '/scim/v2' : path.startsWith('/sso/') ? '/sso' : '';
  const rest = (scim ? (scim[1] ?? '') : path.slice(prefix.length)).split('/').filter(Boolean);
  const keep = prefix === '/sso' ? 2 : 1;
  const segments = rest.map((s, i) => (i < keep && /^[A-Za-z][A-Za-z-]{0,31}$/.test(s) ? s : ':id'));
  return `${prefix}${segments.length ? `/${segments.join('/')}` : ''}`.slice(0, 255) || '/';
}

/**
 * Every string the request carried that a detail might echo: query values (and the quoted literals
 * inside them, e.g. a filter's `"ada@example.com"`), and the string values of the JSON body except
 * SCIM's `schemas`, `op` and `path` (at most MAX_VALUES, bounded work on an error path).
 */
export function requestValues(querystring: string, body: unknown): string[] {
  const out: string[] = [];
  for (const [, value] of new URLSearchParams(querystring)) {
    out.push(value);
    // A filter's values are its quoted literals (RFC 7644 §3.4.2.2); attribute names and operators stay.
    for (const m of value.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g)) out.push(m[1] ?? m[2] ?? '');
    // … and, in a filter the parser refused, whatever follows an unpaired quote.
    for (const m of value.matchAll(/["']([^"']*)$/g)) out.push(m[1]!.trim());
  }
  const walk = (v: unknown) => {
    if (out.length > MAX_VALUES) return;
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') for (const [k, item] of Object.entries(v)) if (!PROTOCOL_KEYS.has(k)) walk(item);
  };
  walk(body);
  return out.filter((s) => s.length >= 2);
}

/** SCIM message members that name attributes and operations, not a person's data: a detail may quote them. */
const PROTOCOL_KEYS = new Set(['schemas', 'op', 'path']);

const isWordChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9]/.test(c);

/** Replaces each whole occurrence of `value` (not inside a longer word) by `…`. */
function redactValue(text: string, value: string): string {
  let out = '';
  let from = 0;
  for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) {
    if (at < from) continue;
    const bounded = !(isWordChar(value[0]) && isWordChar(text[at - 1])) && !(isWordChar(value.at(-1)) && isWordChar(text[at + value.length]));
    if (!bounded) continue;
    out += text.slice(from, at) + REDACTED;
    from = at + value.length;
  }
  return out + text.slice(from);
}

/** An identifier, attribute path or URN may stay quoted in a detail; anything else quoted is a value. */
const NAME_LIKE = /^[A-Za-z][\w.:$/[\]-]{0,127}$/;

/**
 * The detail as kept: every request value redacted, then every quoted text that is not name-like
 * (an email, a display name with spaces, a certificate, …), then cut to 1024 characters.
 */
export function redactDetail(message: string, values: readonly string[]): string {
  let text = message;
  for (const value of [...new Set(values)].sort((a, b) => b.length - a.length)) if (text.includes(value)) text = redactValue(text, value);
  text = text.replace(/'([^']*)'|"([^"]*)"/g, (whole, single: string | undefined, double: string | undefined) => {
    const inner = single ?? double ?? '';
    if (inner === REDACTED || NAME_LIKE.test(inner)) return whole;
    return single !== undefined ? `'${REDACTED}'` : `"${REDACTED}"`;
  });
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL - 1)}${REDACTED}` : text;
}
