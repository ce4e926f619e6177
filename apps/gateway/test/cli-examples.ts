import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'shell-quote';

/**
 * Finds the CLI examples the documentation shows, so a test can run each one: lines of fenced code
 * blocks and inline code spans that invoke the CLI (`npm run doorman -- …`, `pnpm doorman …`,
 * `npx doorman …`, `pnpm exec doorman …`, `doorman …`). Inline spans that are synopses rather than
 * examples (`[optional]`, `a|b`, `…`) are skipped; fenced lines are always examples.
 */
export interface CliExample {
  file: string;
  line: number;
  /** The command as written (continuations joined). */
  text: string;
  /** What follows the invocation prefix, still unparsed (placeholders not yet substituted). */
  rest: string;
}

const PREFIX = /^(?:\$\s+)?(?:[A-Z][A-Z0-9_]*=\S*\s+)*(?:npm run doorman --|pnpm (?:exec )?doorman|npx (?:-y )?doorman|doorman)(?=\s|$)(.*)$/;
const SYNOPSIS = /…|\.\.\.|\[|\||<command>|<METHOD>/;

export function extractCliExamples(markdown: string, file: string): CliExample[] {
  const lines = markdown.split('\n');
  const found: CliExample[] = [];
  let fence: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const fenceMark = /^\s*(```+|~~~+)/.exec(raw);
    if (fenceMark) {
      if (!fence) fence = fenceMark[1];
      else if (raw.trim().startsWith(fence)) fence = undefined;
      continue;
    }
    if (fence) {
      const start = i;
      let text = raw.trim();
      while (text.endsWith('\\') && i + 1 < lines.length) text = `${text.slice(0, -1).trimEnd()} ${lines[++i]!.trim()}`;
      const m = PREFIX.exec(text);
      if (m && m[1]!.trim()) found.push({ file, line: start + 1, text, rest: m[1]!.trim() });
      continue;
    }
    for (const span of raw.matchAll(/`([^`]+)`/g)) {
      const text = span[1]!.trim();
      const m = PREFIX.exec(text);
      if (m && m[1]!.trim() && !SYNOPSIS.test(text)) found.push({ file, line: i + 1, text, rest: m[1]!.trim() });
    }
  }
  return found;
}

/** Placeholder names compare without case, spaces, dashes or underscores: `<connection id>` = `<connectionId>`. */
export const placeholderKey = (name: string) => name.toLowerCase().replace(/[\s_-]+/g, '');

/**
 * Replaces `<placeholder>`s from the table and splits the command into argv as a shell would
 * (quotes, trailing `# comment`). Throws naming the unknown placeholder.
 */
export function exampleArgv(example: CliExample, values: Record<string, string>): string[] {
  const substituted = example.rest.replace(/<([A-Za-z][\w .-]*)>/g, (whole, name: string) => {
    const value = values[placeholderKey(name)];
    if (value === undefined) {
      throw new Error(
        `${example.file}:${example.line}: unknown placeholder ${whole} in \`${example.text}\`: add '${placeholderKey(name)}' to the substitution table in apps/gateway/test/readme-cli.test.ts`,
      );
    }
    // Quoted for the shell parser below; values never contain a single quote.
    return `'${value}'`;
  });
  const argv: string[] = [];
  for (const entry of parse(substituted)) {
    if (typeof entry === 'string') argv.push(entry);
    else if ('comment' in entry) break;
    else throw new Error(`${example.file}:${example.line}: \`${example.text}\` uses shell syntax (${JSON.stringify(entry)}) a CLI example should not need`);
  }
  return argv;
}

/** The documentation whose examples are run: the root README, every package README, docs/. */
export function documentationFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.') || entry.name === 'dist' || entry.name === 'data') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md') && (entry.name === 'README.md' || relative(root, dir).split('/')[0] === 'docs')) files.push(path);
    }
  };
  walk(root);
  return files.map((f) => relative(root, f)).sort((a, b) => (a === 'README.md' ? -1 : b === 'README.md' ? 1 : a.localeCompare(b)));
}

export function examplesIn(root: string): CliExample[] {
  return documentationFiles(root).flatMap((file) => extractCliExamples(readFileSync(join(root, file), 'utf8'), file));
}
