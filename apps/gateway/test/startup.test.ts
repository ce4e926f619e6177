import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/** The real program's start-up as an operator sees it: errors, banner, log lines. */
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out, exited };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** Keys that occur more than once at the top level of a JSON object text (JSON.parse keeps the last). */
function duplicateTopLevelKeys(json: string): string[] {
  const seen = new Set<string>();
  const dupes: string[] = [];
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      const key = json.slice(i + 1, j);
      i = j;
      if (depth === 1 && /^\s*:/.test(json.slice(j + 1, j + 3))) {
        if (seen.has(key)) dupes.push(key);
        seen.add(key);
      }
    }
  }
  return dupes;
}

describe('start-up', () => {
  const dir = mkdtempSync(join(tmpdir(), 'doorman-startup-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds duplicate keys (the helper below is trustworthy)', () => {
    expect(duplicateTopLevelKeys('{"role":"all","a":{"role":1},"role":"all"}')).toEqual(['role']);
    expect(duplicateTopLevelKeys('{"msg":"a \\"role\\": b","role":"x"}')).toEqual([]);
  });

  it('names DATABASE_URL, password hidden, when the database cannot be reached, and exits 1', async () => {
    const p = start({ DATABASE_URL: 'mysql://doorman:hunter2-pw@127.0.0.1:1/doorman', PORT: '0' });
    expect(await p.exited).toBe(1);
    expect(p.out.stderr).toContain('DATABASE_URL (mysql://doorman:***@127.0.0.1:1/doorman)');
    expect(p.out.stdout + p.out.stderr).not.toContain('hunter2');
  });

  it('on the embedded default: JSON logs without duplicate keys, a banner saying the dashboard needs Redis, SIGTERM exits 0', async () => {
    const port = await freePort();
    const p = start({ DATABASE_URL: `sqlite:${join(dir, 'doorman.db')}`, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', REDIS_URL: '', DOORMAN_MODE: 'development' });
    for (let i = 0; !p.out.stdout.includes('Job dashboard:'); i++) {
      if (p.child.exitCode !== null || i > 600) throw new Error(`no banner:\n${p.out.stdout}\n${p.out.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(p.out.stdout).toContain('Job dashboard:   off: it needs Redis (set REDIS_URL)');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const logLines = p.out.stdout.split('\n').filter((l) => l.startsWith('{'));
    expect(logLines.some((l) => l.includes('"doorman started"'))).toBe(true);
    for (const line of logLines) {
      expect(() => JSON.parse(line), line).not.toThrow();
      expect(duplicateTopLevelKeys(line), line).toEqual([]);
    }
  });
});
