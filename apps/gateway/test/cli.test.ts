import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestMysqlDatabase, type TestDatabase } from '@doorman/model/testing';
import { BUILTIN_PLUGINS, PLUGIN_CATALOG } from '../src/catalog.ts';
import { optionFlag, runCli } from '../src/cli-program.ts';
import { exampleArgv, extractCliExamples } from './cli-examples.ts';

describe('documented CLI examples are found', () => {
  const md = [
    'Intro `npm run doorman -- orgs create acme` and a synopsis `pnpm doorman audit list [--org <org>]`.',
    '```sh',
    '$ npm run doorman -- connections create "Okta" --type saml \\',
    "  --idp '{\"a\":1}'   # a comment",
    'curl -H "Authorization: Bearer <token>" http://localhost:8080/scim/v2/Users',
    'LOG_LEVEL=debug pnpm doorman migrate',
    'npx doorman sync <connection id>',
    '```',
    'The `doorman` command, `npm run doorman -- <command>`, `pnpm doorman …`.',
  ].join('\n');
  const found = extractCliExamples(md, 'X.md');

  it.each([
    [1, 'orgs create acme'],
    [3, `connections create "Okta" --type saml --idp '{"a":1}'   # a comment`],
    [6, 'migrate'],
    [7, 'sync <connection id>'],
  ])('line %i: %s', (line, rest) => {
    expect(found.find((e) => e.line === line)?.rest).toBe(rest);
  });

  it('skips synopses, bare mentions and other programs', () => {
    expect(found).toHaveLength(4);
  });

  it('parses like a shell and fills placeholders, naming an unknown one with its file and line', () => {
    expect(exampleArgv(found[1]!, {})).toEqual(['connections', 'create', 'Okta', '--type', 'saml', '--idp', '{"a":1}']);
    expect(exampleArgv(found[3]!, { connectionid: 'c-1' })).toEqual(['sync', 'c-1']);
    expect(() => exampleArgv(found[3]!, {})).toThrow(/X\.md:7: unknown placeholder <connection id>.*'connectionid'/);
  });
});

describe('CLI options', () => {
  it('every declared option but a boolean switch takes a value', () => {
    for (const plugin of [...BUILTIN_PLUGINS, ...PLUGIN_CATALOG]) {
      for (const spec of plugin.cli ?? []) {
        for (const opt of spec.options ?? []) {
          if (opt.type === 'boolean' && !opt.flag.includes('<')) continue;
          expect(optionFlag(opt), `${plugin.id}: ${spec.command} ${opt.flag}`).toMatch(/^--[a-z-]+ <[^>]+>$/);
        }
      }
    }
    expect(optionFlag({ flag: '--org', field: 'orgId', description: '' })).toBe('--org <value>');
  });
});

describe('the doorman bin', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestMysqlDatabase();
  });
  afterAll(async () => db?.drop());

  it('runs a command from the installed bin entry and exits 0', async () => {
    const bin = fileURLToPath(new URL('../bin/doorman.mjs', import.meta.url));
    const child = spawn(process.execPath, [bin, 'orgs', 'create', 'acme', '--json'], { env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code, out).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ name: 'acme' });
  });

  it('prints human-readable output by default and the exact API body with --json', async () => {
    const run = async (...argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(argv, { env: { DATABASE_URL: db.url, LOG_LEVEL: 'warn' }, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
      return { code, stdout, stderr };
    };
    const name = `Okta ${'n'.repeat(195)}`;
    expect(name).toHaveLength(200);
    const created = await run('connections', 'create', name, '--type', 'oidc', '--org-ids', 'acme');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(new RegExp(`^name: +${name}$`, 'm'));
    await run('connections', 'create', 'Entra', '--type', 'oidc', '--org-ids', 'acme');
    const human = await run('connections', 'list');
    expect(human.stdout.split('\n')[0]).toMatch(/^ID +NAME/);
    expect(Math.max(...human.stdout.split('\n').map((l) => l.length))).toBeLessThan(400);
    const json = await run('connections', 'list', '--json');
    expect(JSON.parse(json.stdout)).toEqual(expect.objectContaining({}));
    expect(json.stdout).toContain(`"name": "${name}"`);
    const refused = await run('connections', 'show', 'no-such-connection');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: .*\(DMN_[A-Z_]*NOT_FOUND.*HTTP 404\)$/m);
  });
});
