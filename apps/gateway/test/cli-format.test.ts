import { describe, expect, it } from 'vitest';
import { cellText, flatten, formatHuman, table } from '../src/cli/format.ts';
import { renderAnswer } from '../src/cli/output.ts';
import { CLI_VIEWS, viewKey } from '../src/cli/views.ts';

const LONG = `Acme ${'very-long-name-'.repeat(13)}end`.slice(0, 200);

describe('cellText', () => {
  it.each([
    [null, '—'],
    ['plain', 'plain'],
    [3, '3'],
    [true, 'true'],
    [['a', 'b'], 'a, b'],
    [[{ a: 1 }, { a: 2 }], '2 items'],
    ['line\nbreak\u001b[31m', 'line\\nbreak\\u001b[31m'],
  ])('%j → %s', (value, text) => {
    expect(cellText(value as never)).toBe(text);
  });
});

describe('flatten', () => {
  it('names nested scalars with dotted keys and keeps lists', () => {
    expect(flatten({ org: 'acme', provenance: { via: 'jit', ref: null }, teams: [] })).toEqual([
      ['org', 'acme'],
      ['provenance.via', 'jit'],
      ['provenance.ref', null],
      ['teams', []],
    ]);
  });
});

describe('formatHuman', () => {
  it.each([
    ['a created object as a key-value block', { id: 'o-1', name: 'acme', createdAt: '2026-12-04T00:00:00.000Z' }, 'id:        o-1\nname:      acme\ncreatedAt: 2026-12-04T00:00:00.000Z'],
    ['a bare list as a table, empty columns left out', [{ id: 'a', name: 'x', note: null }, { id: 'b', name: 'yy', note: null }], 'ID  NAME\na   x\nb   yy'],
    ['an empty list', [], '(none)'],
    ['a page: its list, then the cursor', { people: [{ email: 'a@x', id: '1' }], nextCursor: null }, 'EMAIL  ID\na@x    1\n\nnextCursor: —'],
    ['nothing', undefined, ''],
    ['a multi-line value (a PEM certificate) keeps its lines, indented; other control characters stay escaped', { name: 'okta', idp: { idpCert: '-----BEGIN CERTIFICATE-----\r\nMIIB\u001b[31m\r\n-----END CERTIFICATE-----\n' } }, 'name:        okta\nidp.idpCert: -----BEGIN CERTIFICATE-----\n             MIIB\\u001b[31m\n             -----END CERTIFICATE-----'],
    ['an object with lists: head, then each list titled', { id: 'p', sessions: [], jobs: [{ name: 'sync', state: 'failed' }] }, 'id:       p\nsessions: (none)\n\njobs (1)\nNAME  STATE\nsync  failed'],
  ])('%s', (_name, body, expected) => {
    expect(formatHuman(body)).toBe(expected);
  });

  it('uses the columns a view chooses, in its order', () => {
    const body = { items: [{ at: 't', outcome: 'refused', status: 400, code: 'DMN_INPUT_INVALID', extra: 'x' }], nextCursor: 'c' };
    expect(formatHuman(body, { columns: { items: ['status', 'code'] } })).toBe('STATUS  CODE\n400     DMN_INPUT_INVALID\n\nnextCursor: c');
  });

  it('keeps a table readable with a 200-character name: cells are cut with …, other columns stay aligned', () => {
    const out = table([{ name: LONG, role: 'owner' }, { name: 'short', role: 'member' }]);
    const lines = out.split('\n');
    expect(LONG).toHaveLength(200);
    expect(lines.every((l) => l.length <= 50)).toBe(true);
    expect(lines[1]).toMatch(/^Acme very-long.*…  owner$/);
    expect(lines[1]!.indexOf('owner')).toBe(lines[2]!.indexOf('member'));
  });

  it('prints a 200-character name whole in a key-value block', () => {
    expect(formatHuman({ name: LONG })).toBe(`name: ${LONG}`);
  });
});

describe('renderAnswer', () => {
  const answer = (status: number, body: unknown, contentType = 'application/json') => ({ status, contentType, text: typeof body === 'string' ? body : JSON.stringify(body) });
  it.each([
    ['--json prints the body exactly', answer(200, { a: 1 }), true, 'stdout', '{\n  "a": 1\n}\n'],
    ['human by default', answer(200, { a: 1 }), false, 'stdout', 'a: 1\n'],
    ['an admin error, human', answer(400, { error: { code: 'DMN_INPUT_INVALID', message: 'name: required', field: 'name' } }), false, 'stderr', 'error: name: required (DMN_INPUT_INVALID, field name, HTTP 400)\n'],
    ['an admin error, --json', answer(404, { error: { code: 'DMN_NOT_FOUND', message: 'no' } }), true, 'stderr', '{\n  "error": {\n    "code": "DMN_NOT_FOUND",\n    "message": "no"\n  }\n}\n'],
    ['no content', answer(204, ''), false, 'stdout', 'done (204)\n'],
    ['a non-JSON body (an export) as it came', answer(200, '{"a":1}\n{"a":2}', 'application/x-ndjson'), false, 'stdout', '{"a":1}\n{"a":2}\n'],
  ])('%s', (_name, a, json, stream, text) => {
    expect(renderAnswer(a, json)).toEqual({ stream, text });
  });
});

describe('views', () => {
  it.each([
    ['people show <person>', 'people show'],
    ['connections activity <connectionId>', 'connections activity'],
    ['orgs list', 'orgs list'],
  ])('%s → %s', (command, key) => {
    expect(viewKey(command)).toBe(key);
  });
  it('chooses columns for the wide outputs', () => {
    expect(CLI_VIEWS['connections activity']!.columns!.items).toContain('detail');
  });
});
