/**
 * The CLI's human-readable output (pure; tested table-driven in test/cli-format.test.ts). `--json`
 * prints the API body exactly instead. A response body becomes:
 * - a **table** for a list (an array of objects, or the one array member of a page object such as
 *   `{ people: [...], nextCursor }`), one row per item;
 * - a **key-value block** for one object, its lists as titled tables after it.
 * Nested objects are shown with dotted keys (`provenance.via`); nested lists as their length.
 * Table cells are cut to `maxCell` characters with `…`, so a 200-character name keeps a table
 * readable; key-value values are printed whole.
 */
export interface FormatOptions {
  /** Columns of the tables, by list name (`items`, `people`, …, `` for a bare list), in order. */
  columns?: Record<string, readonly string[]>;
  /** Widest table cell. */
  maxCell?: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isList = (v: unknown): v is Json[] => Array.isArray(v) && v.every((x) => isObject(x));

/** A scalar as text: null as `—`, strings unquoted, control characters shown escaped. */
export function cellText(value: Json | undefined): string {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) return value.every((v) => !isObject(v) && !Array.isArray(v)) ? value.map((v) => cellText(v)).join(', ') : `${value.length} items`;
  if (isObject(value)) return JSON.stringify(value);
  return String(value).replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** `{a:{b:1}, c:[..]}` → `[['a.b', 1], ['c', [..]]]` (one level of objects is enough for the API's shapes). */
export function flatten(object: Record<string, Json>, prefix = ''): Array<[string, Json]> {
  const out: Array<[string, Json]> = [];
  for (const [k, v] of Object.entries(object)) {
    if (isObject(v) && Object.keys(v).length && Object.values(v).every((x) => !isObject(x) && !Array.isArray(x))) out.push(...flatten(v, `${prefix}${k}.`));
    else out.push([`${prefix}${k}`, v]);
  }
  return out;
}

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function table(rows: Array<Record<string, Json>>, options: { columns?: readonly string[]; maxCell?: number } = {}): string {
  if (!rows.length) return '(none)';
  const max = options.maxCell ?? 40;
  const flat = rows.map((r) => new Map(flatten(r)));
  let columns = options.columns ? [...options.columns] : [...new Set(flat.flatMap((r) => [...r.keys()]))];
  // A column empty in every row says nothing.
  if (!options.columns) columns = columns.filter((c) => flat.some((r) => r.get(c) !== null && r.get(c) !== undefined));
  const cells = flat.map((r) => columns.map((c) => cut(cellText(r.get(c)), max)));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

/**
 * `key: value` lines, keys aligned; an empty list reads `(none)`. Non-empty lists are the caller's tables.
 * A multi-line string (a PEM certificate) keeps its lines, each indented under the value column, so it
 * can be copied; other control characters stay escaped.
 */
export function keyValues(object: Record<string, Json>): string {
  const entries = flatten(object);
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  const indent = ' '.repeat(width + 2);
  const value = (v: Json): string =>
    typeof v === 'string' && v.includes('\n')
      ? v.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n').map((line) => cellText(line)).join(`\n${indent}`)
      : Array.isArray(v) && !v.length ? '(none)' : cellText(v);
  return entries.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${value(v)}`).join('\n');
}

const PAGE_KEYS = new Set(['nextCursor', 'total', 'totalResults']);

/** The human rendering of an API body. */
export function formatHuman(body: unknown, options: FormatOptions = {}): string {
  const cols = options.columns ?? {};
  if (body === undefined || body === null || body === '') return '';
  if (typeof body !== 'object') return String(body);
  if (Array.isArray(body)) return isList(body) ? table(body as Array<Record<string, Json>>, { columns: cols[''], maxCell: options.maxCell }) : cellText(body as Json[]);
  const object = body as Record<string, Json>;
  const lists = Object.entries(object).filter(([, v]) => isList(v) && (v as Json[]).length > 0) as Array<[string, Array<Record<string, Json>>]>;
  const rest = Object.fromEntries(Object.entries(object).filter(([k]) => !lists.some(([name]) => name === k)));
  const sections: string[] = [];
  // A page (`{ people: [...], nextCursor }`): its list is the output, the rest a footer.
  const page = lists.length === 1 && Object.keys(rest).every((k) => PAGE_KEYS.has(k));
  const head = keyValues(rest);
  if (head && !page) sections.push(head);
  for (const [name, rows] of lists) sections.push(`${page ? '' : `${name} (${rows.length})\n`}${table(rows, { columns: cols[name], maxCell: options.maxCell })}`);
  if (page && head) sections.push(head);
  return sections.join('\n\n');
}
