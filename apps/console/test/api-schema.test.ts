import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The typed client is only as good as its types: src/api/schema.ts must be what the gateway's
// OpenAPI document gives today, so an admin route changed without regenerating fails here.
describe('the generated admin API types', () => {
  it('src/api/schema.ts is up to date with the OpenAPI document (npm run generate-api)', () => {
    const script = fileURLToPath(new URL('../scripts/generate-api.mjs', import.meta.url));
    const run = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(run.stderr + run.stdout).toContain('src/api/schema.ts is up to date');
    expect(run.status).toBe(0);
  });
});
