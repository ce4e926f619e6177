import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConflictError, createServiceRef, defineError, definePlugin, DoormanError, errorCode, InputError, ModelError, NotFoundError, RuntimeError, scimErrorBody } from '../src/index.ts';

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
    expect(err).toMatchObject({ status: 400, code: 'DMN_INPUT_INVALID', field: 'filter', scimType: 'invalidFilter', name: 'InputError' });
    expect(new NotFoundError('gone').status).toBe(404);
    expect(scimErrorBody(400, 'bad filter', 'invalidFilter')).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '400',
      scimType: 'invalidFilter',
      detail: 'bad filter',
    });
  });

  it('defineError makes coded classes of the existing families', () => {
    const Taken = defineError('DMN_EXAMPLE_TAKEN', 409, 'already taken', { scimType: 'uniqueness' });
    const plain = new Taken();
    expect(plain).toBeInstanceOf(ConflictError);
    expect(plain).toBeInstanceOf(DoormanError);
    expect(plain).toMatchObject({ status: 409, code: 'DMN_EXAMPLE_TAKEN', message: 'already taken', scimType: 'uniqueness', name: 'DMN_EXAMPLE_TAKEN' });
    expect(Taken.code).toBe('DMN_EXAMPLE_TAKEN');
    const named = new Taken("'x' is taken", { field: 'userName', headers: { 'X-A': '1' } });
    expect(named).toMatchObject({ message: "'x' is taken", field: 'userName', scimType: 'uniqueness', headers: { 'X-A': '1' } });

    const Broken = defineError('DMN_EXAMPLE_ROW_BROKEN', ModelError);
    expect(new Broken()).toBeInstanceOf(RuntimeError);
    expect(new Broken()).toMatchObject({ status: 500, code: 'DMN_EXAMPLE_ROW_BROKEN', message: 'DMN_EXAMPLE_ROW_BROKEN' });
    expect(errorCode(new Broken())).toBe('DMN_EXAMPLE_ROW_BROKEN');
    expect(errorCode(new Error('plain'))).toBe('DMN_INTERNAL');
    expect(new InputError('x').code).toBe('DMN_INPUT_INVALID');
  });
});
