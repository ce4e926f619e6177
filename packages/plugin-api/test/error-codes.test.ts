import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * docs/errors.md lists every DMN_* code the server source defines, and only those. "Defined" means
 * the code appears as a string literal outside comments in packages/*\/src or apps/gateway/src
 * (defineError calls, family classes, the request body's codes, hand-written bodies); test support
 * (src/testing) and the console SPA are not server source.
 */
const repo = fileURLToPath(new URL('../../..', import.meta.url));
const CODE = /'(DMN_[A-Z0-9_]+)'/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'node_modules' && name !== 'testing') out.push(...sourceFiles(path));
    } else if (/\.tsx?$/.test(name)) out.push(path);
  }
  return out;
}

const roots = [
  ...readdirSync(join(repo, 'packages')).filter((p) => p !== 'plugins').map((p) => join(repo, 'packages', p, 'src')),
  ...readdirSync(join(repo, 'packages/plugins')).map((p) => join(repo, 'packages/plugins', p, 'src')),
  join(repo, 'apps/gateway/src'),
].filter((dir) => statSync(dir, { throwIfNoEntry: false })?.isDirectory());

/** Code lines only: JSDoc and line comments may cite codes as examples. */
const codeLines = (text: string) => text.split('\n').filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line));

const defined = new Map<string, string[]>();
const definitions = new Map<string, string[]>();
for (const file of roots.flatMap(sourceFiles)) {
  for (const line of codeLines(readFileSync(file, 'utf8'))) {
    for (const [, code] of line.matchAll(CODE)) defined.set(code!, [...(defined.get(code!) ?? []), relative(repo, file)]);
    for (const [, code] of line.matchAll(/defineError\('(DMN_[A-Z0-9_]+)'/g)) definitions.set(code!, [...(definitions.get(code!) ?? []), relative(repo, file)]);
  }
}
const docs = readFileSync(join(repo, 'docs/errors.md'), 'utf8');
const documented = [...docs.matchAll(/^\| `(DMN_[A-Z0-9_]+)` \| (\d{3}) \|/gm)].map((m) => ({ code: m[1]!, status: Number(m[2]) }));

describe('docs/errors.md', () => {
  it('finds the codes it checks', () => {
    expect(defined.size).toBeGreaterThan(40);
    expect(defined.has('DMN_PLUGIN_DEPENDENCY_MISSING')).toBe(true);
  });

  it('lists every code defined in the source', () => {
    const listed = new Set(documented.map((d) => d.code));
    const missing = [...defined.keys()].filter((code) => !listed.has(code)).map((code) => `${code} (${defined.get(code)!.join(', ')})`);
    expect(missing, 'add these to docs/errors.md').toEqual([]);
  });

  it('lists no code the source does not define, and each once', () => {
    expect(documented.filter((d) => !defined.has(d.code)).map((d) => d.code), 'remove these from docs/errors.md').toEqual([]);
    const seen = new Set<string>();
    expect(documented.filter((d) => (seen.has(d.code) ? true : (seen.add(d.code), false))).map((d) => d.code)).toEqual([]);
  });

  it('each code is made by one defineError call at most', () => {
    expect([...definitions].filter(([, files]) => files.length > 1)).toEqual([]);
  });

  it("states each defineError code's status as defined", () => {
    const statusOf = new Map(documented.map((d) => [d.code, d.status]));
    const wrong: string[] = [];
    for (const file of roots.flatMap(sourceFiles)) {
      for (const line of codeLines(readFileSync(file, 'utf8'))) {
        for (const [, code, status] of line.matchAll(/defineError\('(DMN_[A-Z0-9_]+)', (\d{3}|ModelError)\b/g)) {
          const expected = status === 'ModelError' ? 500 : Number(status);
          if (statusOf.get(code!) !== expected) wrong.push(`${code}: ${expected} in source, ${statusOf.get(code!)} in docs`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
