import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { CliCommand } from '@doorman/core';

/** How a declared CLI command becomes an admin API request (pure apart from `file` options). */
export type CliOption = NonNullable<CliCommand['options']>[number];

export const positional = (command: string) => [...command.matchAll(/<([^>]+)>/g)].map((m) => m[1]!);

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

/**
 * `baseDir` is where the user typed the command: `npm run doorman` runs in the repository root, so a
 * relative `--file` is resolved against npm's INIT_CWD (the shell's directory), not the process's.
 */
export function parseOption(type: NonNullable<CliOption['type']>, raw: string, baseDir = process.cwd()): unknown {
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
        return readFileSync(resolve(baseDir, raw), 'utf8');
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
