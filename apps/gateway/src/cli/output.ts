import { formatHuman, type FormatOptions } from './format.ts';

/**
 * What the CLI prints for an API answer (pure). `--json`: the body exactly as the API sent it (pretty-
 * printed JSON, or the text of a non-JSON body such as an NDJSON export). Otherwise the human form:
 * tables and key-value blocks; an error as `error: <message>` with its code and field.
 */
export interface ApiAnswer {
  status: number;
  contentType: string;
  text: string;
}

export function renderAnswer(
  answer: ApiAnswer,
  json: boolean,
  view: FormatOptions = {},
  /** A command's own human rendering (e.g. `explain`), used instead of the generic one. */
  render?: (body: unknown) => string,
): { stream: 'stdout' | 'stderr'; text: string } {
  const stream = answer.status >= 400 ? 'stderr' : 'stdout';
  const isJson = answer.contentType.includes('json') && answer.text.length > 0;
  let body: unknown;
  if (isJson) {
    try {
      body = JSON.parse(answer.text);
    } catch {
      return { stream, text: `${answer.text}\n` };
    }
  }
  if (!answer.text && !json && answer.status < 400) return { stream, text: `done (${answer.status})\n` };
  if (json || !isJson) return { stream, text: `${isJson ? JSON.stringify(body, null, 2) : answer.text}\n` };
  if (answer.status >= 400) return { stream, text: `${errorLine(answer.status, body)}\n` };
  const human = render ? render(body).replace(/\n$/, '') : formatHuman(body, view);
  return { stream, text: `${human || `done (${answer.status})`}\n` };
}

function errorLine(status: number, body: unknown): string {
  const e = (body as { error?: { code?: string; message?: string; field?: string }; detail?: string } | null) ?? {};
  if (e.error) return `error: ${e.error.message ?? 'request refused'} (${[e.error.code, e.error.field ? `field ${e.error.field}` : '', `HTTP ${status}`].filter(Boolean).join(', ')})`;
  return `error: ${e.detail ?? JSON.stringify(body)} (HTTP ${status})`;
}
