import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseGatewayConfig, readRawConfig } from '../src/config.ts';
import { validatePluginSettings } from '../src/gateway.ts';
import { definePlugin } from '@doorman/plugin-api';

describe('gateway configuration', () => {
  it('applies defaults: embedded SQLite, all roles, development', () => {
    const { config, problems } = parseGatewayConfig(readRawConfig({}, []).gateway);
    expect(problems).toEqual([]);
    expect(config).toMatchObject({ mode: 'development', role: 'all', port: 8080, databaseUrl: 'sqlite:./data/doorman.db', publicUrl: 'http://localhost:8080' });
    expect(config!.plugins).toEqual(['token-auth', 'role-mapping', 'scim-users', 'scim-groups', 'audit']);
  });

  it('reports every wrong setting at once, by environment variable name', () => {
    const raw = readRawConfig({ PORT: 'eighty', DATABASE_URL: 'postgres://x', DOORMAN_ROLE: 'boss', ADMIN_BOOTSTRAP_TOKEN: 'short' }, []).gateway;
    const { problems } = parseGatewayConfig(raw);
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['ADMIN_BOOTSTRAP_TOKEN', 'DATABASE_URL', 'DOORMAN_ROLE', 'PORT']);
  });

  it('requires Redis in production mode', () => {
    const { problems } = parseGatewayConfig(readRawConfig({ DOORMAN_MODE: 'production' }, []).gateway);
    expect(problems).toEqual(['REDIS_URL: required in production mode (jobs need Redis)']);
  });

  it('rejects unknown settings in the config file', () => {
    const { problems } = parseGatewayConfig({ prot: 1 });
    expect(problems[0]).toMatch(/prot/);
  });

  it('validates plugin slices from <ID>_* variables and names them', () => {
    const plugin = definePlugin({
      id: 'token-auth',
      description: 'x',
      configSchema: z.object({ rateLimitPerSecond: z.coerce.number().int().positive().default(50) }).strict(),
      register() {},
    });
    const ok = validatePluginSettings([plugin], readRawConfig({ TOKEN_AUTH_RATE_LIMIT_PER_SECOND: '20' }, ['token-auth']).plugins);
    expect(ok.problems).toEqual([]);
    expect(ok.parsed.get('token-auth')).toEqual({ rateLimitPerSecond: 20 });
    const bad = validatePluginSettings([plugin], readRawConfig({ TOKEN_AUTH_RATE_LIMIT_PER_SECOND: '-3' }, ['token-auth']).plugins);
    expect(bad.problems).toHaveLength(1);
    expect(bad.problems[0]).toMatch(/^TOKEN_AUTH_RATE_LIMIT_PER_SECOND: /);
  });
});
