import { randomBytes } from 'node:crypto';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import pino from 'pino';
import { buildGateway, ConfigError, loggerOptions, type CliCommand, type Gateway } from '@doorman/core';
import { BUILTIN_PLUGINS, PLUGIN_CATALOG } from './catalog.ts';
import { loadStartupSettings } from './startup.ts';
import { camelFlag, cliRequest, optionFlag, parseOption, positional } from './cli/request.ts';
import { renderAnswer } from './cli/output.ts';
import { CLI_VIEWS, viewKey } from './cli/views.ts';
import type { FormatOptions } from './cli/format.ts';

/**
 * `doorman …` (`npm run doorman -- …`): every command is an admin API call made in-process (no
 * server needed), so the CLI and the API share one validation, one set of errors and one audit
 * trail. Having database access is what authorises the CLI: it uses a one-off admin token that
 * lives only in this process. Output is human-readable (cli/format.ts); `--json` on every command
 * prints the API's body exactly, for scripts.
 */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
  stderr(text: string): void;
}

export { camelFlag, cliRequest, optionFlag } from './cli/request.ts';

/** Runs one CLI invocation (`argv` without `node` and the script) and returns its exit status. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  let gateway: Gateway | undefined;
  try {
    const settings = loadStartupSettings(io.env);
    const adminToken = randomBytes(32).toString('hex');
    const open = async () =>
      (gateway ??= await buildGateway({
        config: { ...settings.config, adminBootstrapToken: adminToken, role: 'api' },
        pluginSettings: settings.pluginSettings,
        catalog: PLUGIN_CATALOG,
        builtins: BUILTIN_PLUGINS,
        logger: pino(loggerOptions({ level: io.env.LOG_LEVEL ?? 'warn' }), { write: (line: string) => io.stderr(line) }),
      }));

    let base: string | undefined;
    const call = async (method: string, path: string, body: unknown, query: Record<string, unknown> | undefined, out: { json: boolean; view?: FormatOptions; render?: CliCommand['render'] }) => {
      const g = await open();
      if (!base) {
        // A loopback listener on a random port, for this process only.
        const server = g.app.listen(0, '127.0.0.1');
        await new Promise((resolve) => server.once('listening', resolve));
        base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
        g.addShutdownHook(() => new Promise<void>((resolve) => server.close(() => resolve())));
      }
      const url = new URL(path.startsWith('/admin/') ? path : `/admin/v1${path.startsWith('/') ? '' : '/'}${path}`, base);
      for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, Array.isArray(v) ? v.join(',') : String(v));
      const res = await fetch(url, {
        method: method.toUpperCase(),
        headers: { Authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const rendered = renderAnswer({ status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() }, out.json, out.view, out.render);
      (rendered.stream === 'stderr' ? io.stderr : io.stdout)(rendered.text);
      exitCode = res.status >= 400 ? 1 : 0;
    };

    const program = new Command('doorman')
      .description('Doorman admin CLI (runs against DATABASE_URL directly)')
      .exitOverride()
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
    const JSON_FLAG = ['--json', 'print the API response body exactly (JSON), for scripts'] as const;
    const local = (value: unknown, json: boolean) => io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : `${renderAnswer({ status: 200, contentType: 'application/json', text: JSON.stringify(value) }, false).text}`);
    program
      .command('migrate')
      .description('apply pending database migrations and exit')
      .option(...JSON_FLAG)
      .action(async (opts: { json?: boolean }) => {
        await open();
        if (opts.json) local({ migrations: 'up to date' }, true);
        else io.stdout('migrations are up to date\n');
      });
    program
      .command('config-check')
      .description('validate the configuration and print it (secrets hidden)')
      .option(...JSON_FLAG)
      .action((opts: { json?: boolean }) => {
        const { adminBootstrapToken, ...rest } = settings.config;
        local({ ...rest, adminBootstrapToken: adminBootstrapToken ? '[set]' : undefined }, Boolean(opts.json));
      });
    program
      .command('api <method> <path> [json]')
      .description('call any admin API route, e.g. `api GET /orgs`')
      .option(...JSON_FLAG)
      .action(async (method: string, path: string, json: string | undefined, opts: { json?: boolean }) => {
        let body: unknown;
        if (json !== undefined) {
          try {
            body = JSON.parse(json);
          } catch {
            throw new InvalidArgumentError('json: not valid JSON');
          }
        }
        await call(method, path, body, undefined, { json: Boolean(opts.json) });
      });

    const groups = new Map<string, Command>();
    for (const plugin of [...BUILTIN_PLUGINS, ...PLUGIN_CATALOG]) {
      for (const spec of plugin.cli ?? []) {
        const [group, ...rest] = spec.command.split(' ');
        let parent = groups.get(group!);
        if (!parent) {
          parent = program.command(group!).description(`${group} commands`);
          groups.set(group!, parent);
        }
        const sub = rest.join(' ');
        // A command without a sub-command word (`sync <connectionId>`) is the group command itself.
        const cmd = /^[a-z]/i.test(sub) ? parent.command(sub) : sub ? parent.arguments(sub) : parent;
        cmd.description(`${spec.description} (${spec.method} /admin/v1${spec.path}; plugin ${plugin.id})`);
        for (const opt of spec.options ?? []) cmd.option(optionFlag(opt), opt.description, (raw: string) => parseOption(opt.type ?? 'string', raw, io.env.INIT_CWD ?? process.cwd()));
        cmd.option(...JSON_FLAG);
        cmd.action(async (...received: unknown[]) => {
          const names = positional(sub);
          const args = received.slice(0, names.length) as string[];
          const opts = cmd.opts();
          const fieldOpts: Record<string, unknown> = {};
          for (const opt of spec.options ?? []) {
            const value = opts[camelFlag(opt.flag)];
            if (value !== undefined) fieldOpts[opt.field] = value;
          }
          const request = cliRequest({ ...spec, command: sub }, args, fieldOpts);
          await call(request.method, request.path, request.body, request.query, { json: Boolean(opts.json), view: CLI_VIEWS[viewKey(spec.command)], render: spec.render });
        });
      }
    }
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed the help or the usage error.
      exitCode = err.exitCode;
    } else {
      io.stderr(`doorman: ${(err as Error).message}\n`);
      exitCode = err instanceof ConfigError ? 2 : 1;
    }
  } finally {
    await gateway?.close();
  }
  return exitCode;
}
