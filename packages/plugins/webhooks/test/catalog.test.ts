import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as contract from '@doorman/plugin-api';
import { mapDomainEvent, WEBHOOK_ACTIONS } from '../src/types.ts';

// Every action the contract's catalog defines (packages/plugin-api/src/event-catalog.ts).
const CATALOG = new Set(
  (Object.values(contract) as unknown[])
    .filter((v): v is { action: string } => typeof v === 'function' && typeof (v as { action?: unknown }).action === 'string')
    .map((d) => d.action),
);

/** The domain actions of docs/webhooks.md's table: `user.updated` / `deactivated` share the first one's prefix. */
function documentedActions(): string[] {
  const doc = readFileSync(fileURLToPath(new URL('../../../../docs/webhooks.md', import.meta.url)), 'utf8');
  const table = doc.slice(doc.indexOf('| domain action |'));
  const rows = table.split('\n').slice(2).filter((l) => l.startsWith('|'));
  expect(rows.length).toBeGreaterThan(5);
  const out: string[] = [];
  for (const row of rows) {
    let prefix = '';
    for (const [, name] of row.split('|')[1]!.matchAll(/`([^`]+)`/g)) {
      if (name!.includes('.')) prefix = name!.slice(0, name!.indexOf('.') + 1);
      out.push(name!.includes('.') ? name! : prefix + name);
    }
  }
  return out;
}

describe('webhooks and the event catalog', () => {
  it('publishes only catalogued events, each mapped to a public type', () => {
    expect(CATALOG.size).toBeGreaterThan(40);
    for (const action of WEBHOOK_ACTIONS) {
      expect(CATALOG.has(action), action).toBe(true);
      expect(mapDomainEvent({ action, connectionId: 'c1', target: { type: 'user', id: 'u1' } }), action).not.toBeNull();
    }
  });

  it('documents exactly the events it publishes (docs/webhooks.md), all of them in the catalog', () => {
    const documented = documentedActions();
    const expanded = documented.flatMap((a) => (a.endsWith('*') ? WEBHOOK_ACTIONS.filter((w) => w.startsWith(a.slice(0, -1))) : [a]));
    for (const a of documented.filter((d) => d.endsWith('*'))) expect(expanded.some((e) => e.startsWith(a.slice(0, -1))), a).toBe(true);
    for (const a of expanded) expect(CATALOG.has(a), `${a} (docs/webhooks.md) is not in the catalog`).toBe(true);
    expect([...new Set(expanded)].sort()).toEqual([...WEBHOOK_ACTIONS].sort());
  });
});
