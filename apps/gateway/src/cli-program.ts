import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import pino from 'pino';
import { buildGateway, ConfigError, loggerOptions, type CliCommand, type Gateway } from '@doorman/core';
import { BUILTIN_PLUGINS, PLUGIN_CATALOG } from './catalog.ts';
import { loadStartupSettings } from './startup.ts';

/**
 * `doorman …` (`npm run doorman -- …`): every command is an admin API call made in-process (no
 * server needed), so the CLI and the API share one validation, one set of errors and one audit
 * trail. Having database access is what authorises the CLI: it uses a one-off admin token that
 * lives only in this process.
 */
type CliOption = NonNullable<CliCommand['options']>[number];

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
  stderr(text: string): void;
}

const positional = (command: string) => [...command.matchAll(/<([^>]+)>/g)].map((m) => m[1]!);

/**
 * The commander flag for a declared option. Every option but a boolean switch takes a value, even
 * when its declaration forgot the `<value>` placeholder (a flag without one would parse as a switch
 * and its value as a stray positional: "too many arguments").
 */
export function optionFlag(opt: CliOption): string {
  if (/[<[]/.test(opt.flag) || opt.type === 'boolean') return opt.flag;
  return `${opt.flag} <value>`;
}

export const camelFlag = (flag: string) =>
  flag
    .replace(/^--/, '')
    .split(' ')[0]!
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function parseOption(type: NonNullable<CliOption['type']>, raw: string): unknown {
  switch (type) {
    case 'number': {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new InvalidArgumentError('not a number');
      return n;
    }
    case 'boolean':
      if (!/^(true|false)$/i.test(raw)) throw new InvalidArgumentError('expected true or false');
      return /^true$/i.test(raw);
    case 'json':
      try {
        return JSON.parse(raw);
      } catch {
        throw new InvalidArgumentError('not valid JSON');
      }
    case 'file':
      // The file's text (e.g. an audit checkpoint), sent as the field's value: the API never reads the CLI's disk.
      try {
        return readFileSync(raw, 'utf8');
      } catch {
        throw new InvalidArgumentError(`cannot read file '${raw}'`);
      }
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

/** Builds the request a CLI command stands for: path params from positionals, the rest as body or query. */
export function cliRequest(spec: CliCommand, args: string[], options: Record<string, unknown>) {
  const names = positional(spec.command);
  let path = `/admin/v1${spec.path}`;
  const fields: Record<string, unknown> = { ...options };
  names.forEach((name, i) => {
    const value = args[i]!;
    if (path.includes(`:${name}`)) path = path.replace(`:${name}`, encodeURIComponent(value));
    else fields[name] = value;
  });
  const hasBody = spec.method === 'POST' || spec.method === 'PATCH' || spec.method === 'PUT';
  return { method: spec.method, path, body: hasBody ? fields : undefined, query: hasBody ? undefined : fields };
}

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
    const call = async (method: string, path: string, body?: unknown, query?: Record<string, unknown>, render?: CliCommand['render']) => {
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
      const text = await res.text();
      let out = text;
      if (res.headers.get('content-type')?.includes('json') && text) out = JSON.stringify(JSON.parse(text), null, 2);
      // A command with its own human-readable output prints it on success (`--json`: the body itself).
      if (render && res.status < 400 && res.headers.get('content-type')?.includes('json')) out = render(JSON.parse(text)).replace(/\n$/, '');
      (res.status >= 400 ? io.stderr : io.stdout)(`${out}\n`);
      exitCode = res.status >= 400 ? 1 : 0;
    };

    const program = new Command('doorman')
      .description('Doorman admin CLI (runs against DATABASE_URL directly)')
      .exitOverride()
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
    program.command('migrate').description('apply pending database migrations and exit').action(async () => {
      await open();
      io.stdout('migrations are up to date\n');
    });
    program.command('config-check').description('validate the configuration and print it (secrets hidden)').action(() => {
      const { adminBootstrapToken, ...rest } = settings.config;
      io.stdout(`${JSON.stringify({ ...rest, adminBootstrapToken: adminBootstrapToken ? '[set]' : undefined }, null, 2)}\n`);
    });
    program
      .command('api <method> <path> [json]')
      .description('call any admin API route, e.g. `api GET /orgs`')
      .action(async (method: string, path: string, json?: string) => {
        let body: unknown;
        if (json !== undefined) {
          try {
            body = JSON.parse(json);
          } catch {
            throw new InvalidArgumentError('json: not valid JSON');
          }
        }
        await call(method, path, body);
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
        for (const opt of spec.options ?? []) cmd.option(optionFlag(opt), opt.description, (raw: string) => parseOption(opt.type ?? 'string', raw));
        if (spec.render) cmd.option('--json', 'print the API body as JSON instead of the human-readable output');
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
          await call(request.method, request.path, request.body, request.query, opts.json ? undefined : spec.render);
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
