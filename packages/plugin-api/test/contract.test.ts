import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createServiceRef, definePlugin, DoormanError, InputError, NotFoundError, scimErrorBody } from '../src/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNTIME = ['@doorman/core', '@doorman/model', '@doorman/jobs', 'koa', '@koa/router', 'typeorm', 'ioredis', 'bullmq', 'mysql2', 'better-sqlite3', 'pino', 'prom-client'];

describe('@doorman/plugin-api', () => {
  it('depends on nothing that pulls in a runtime library', () => {
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { dependencies?: Record<string, string> };
    expect(Object.keys(pkg.dependencies ?? {})).toEqual(['zod']);
  });

  it.each(readdirSync(`${root}/src`))('%s imports only zod and its own files', (file) => {
    const text = readFileSync(`${root}/src/${file}`, 'utf8');
    const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
    for (const s of specifiers) expect(s === 'zod' || s.startsWith('./'), `${file} imports ${s}`).toBe(true);
    for (const name of RUNTIME) expect(text).not.toContain(`'${name}'`);
  });

  it('declares plugins and service refs as plain values', () => {
    const ref = createServiceRef<{ hello(): string }>('example.hello');
    expect(ref).toEqual({ id: 'example.hello' });
    const plugin = definePlugin({ id: 'example', description: 'an example', register() {} });
    expect(plugin.id).toBe('example');
  });

  it('errors carry a status, a code and the field at fault', () => {
    const err = new InputError('bad filter', { field: 'filter', scimType: 'invalidFilter' });
    expect(err).toBeInstanceOf(DoormanError);
    expect(err).toMatchObject({ status: 400, code: 'invalid_input', field: 'filter', scimType: 'invalidFilter', name: 'InputError' });
    expect(new NotFoundError('gone').status).toBe(404);
    expect(scimErrorBody(400, 'bad filter', 'invalidFilter')).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '400',
      scimType: 'invalidFilter',
      detail: 'bad filter',
    });
  });
});
