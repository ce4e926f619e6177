import { describe, expect, it } from 'vitest';
import * as catalog from '../src/event-catalog.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const definitions = Object.entries(catalog).filter(([, v]) => typeof v === 'function' && typeof (v as { action?: unknown }).action === 'string') as Array<[string, { action: string }]>;

describe('event catalog', () => {
  it('defines every event once: action names are unique and dotted', () => {
    expect(definitions.length).toBeGreaterThan(40);
    const actions = definitions.map(([, d]) => d.action);
    expect(new Set(actions).size).toBe(actions.length);
    for (const a of actions) expect(a).toMatch(/^[a-z_]+\.[a-z_]+$/);
  });

  it('documents each definition in one line saying who publishes it', () => {
    const text = readFileSync(fileURLToPath(new URL('../src/event-catalog.ts', import.meta.url)), 'utf8');
    for (const [name] of definitions) expect(text, name).toMatch(new RegExp(`/\\*\\* [a-z-]+[:,][^\\n]*\\*/\\nexport const ${name} =`));
  });
});
