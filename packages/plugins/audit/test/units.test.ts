import { describe, expect, it } from 'vitest';
import { canonicalJson, chainKeyOf, eventRow, hashEvent, type HashedFields } from '../src/chain.ts';
import { cleanField, sanitizeChanges } from '../src/redact.ts';
import { csvCell, decodeCursor, encodeCursor } from '../src/query.ts';

const SECRET = `dmn_scim_0123456789ab_${'x'.repeat(43)}`;

describe('sanitizeChanges', () => {
  it.each([
    ['null stays null', null, null],
    ['plain values pass', { role: { before: 'member', after: 'owner' } }, { role: { before: 'member', after: 'owner' } }],
    ['secret-named keys are dropped', { password: { after: 'p' }, apiToken: { after: 't' }, clientSecret: { after: 's' }, Cookie: { after: 'c' }, samlAssertion: { after: 'a' } }, {}],
    ['nested secret keys are dropped', { idp: { after: { issuer: 'i', clientSecret: 's' } } }, { idp: { after: { issuer: 'i' } } }],
    ['secret strings are dropped', { note: { before: SECRET, after: `x ${SECRET} y` } }, { note: {} }],
    ['secret array items are dropped', { list: { after: ['a', SECRET] } }, { list: { after: ['a'] } }],
    ['JSON-normalised (dates, undefined, NaN, bigint)', { at: { after: new Date('2025-01-02T03:04:05.678Z'), gone: undefined, n: Number.NaN, big: 10n } }, { at: { after: '2025-01-02T03:04:05.678Z', n: null, big: '10' } }],
  ])('%s', (_name, input, expected) => {
    expect(sanitizeChanges(input as Record<string, unknown> | null)).toEqual(expected);
  });
});

describe('cleanField', () => {
  it.each([
    [null, 10, null],
    ['abc', 10, 'abc'],
    ['abcdef', 3, 'abc'],
    [`t ${SECRET}`, 64, 't [redacted]'],
  ])('%s (max %i) → %s', (input, max, expected) => {
    expect(cleanField(input, max)).toBe(expected);
  });
});

describe('canonical serialization and hash', () => {
  it.each([
    [{ b: 1, a: [{ d: 2, c: 3 }] }, '{"a":[{"c":3,"d":2}],"b":1}'],
    [{ a: undefined, b: null }, '{"b":null}'],
    ['x"y', '"x\\"y"'],
    [null, 'null'],
  ])('canonicalJson(%j) = %s', (input, expected) => {
    expect(canonicalJson(input)).toBe(expected);
  });

  it('canonicalJson writes the bytes of its first (map/filter/join) form, which stored hashes and MACs depend on', () => {
    const reference = (value: unknown): string => {
      if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
      if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
      const keys = Object.keys(value as object)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${reference((value as Record<string, unknown>)[k])}`).join(',')}}`;
    };
    const sparse = [1, , 3];
    const odd = [sparse, [undefined, null, () => 1], { a: undefined, b: () => 1, c: [undefined] }, new Date(0), '', 0, -0, 1e21, 'ü\u2028"\\', { '': 1, 'a"b': { z: 1, a: [{}] } }];
    for (const value of odd) expect(canonicalJson(value), String(value)).toBe(reference(value));
    // Random JSON-shaped values, as events' changes and contexts are.
    let seed = 26;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const gen = (depth: number): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.3) return [null, true, false, 1.5, -7, 'x', 'Ö"\n', undefined][Math.floor(rand() * 8)];
      if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => gen(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rand() * 5) }, () => [['b', 'a', 'B', 'é', '10', '9', 'k"'][Math.floor(rand() * 7)]!, gen(depth + 1)]));
    };
    for (let i = 0; i < 500; i++) {
      const value = gen(0);
      expect(canonicalJson(value)).toBe(reference(value));
    }
  });

  const base: HashedFields = {
    id: '00000000-0000-4000-8000-000000000000',
    occurredAt: new Date('2025-01-01T00:00:00.000Z'),
    orgId: 'o',
    connectionId: null,
    actorType: 'system',
    actorId: null,
    requestId: null,
    action: 'user.created',
    targetType: 'user',
    targetId: 'u',
    changes: { b: { after: 1 }, a: { after: 2 } },
    prevHash: null,
  };

  it('ignores key order, and changes with every hashed field', () => {
    const h = hashEvent(base);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hashEvent({ ...base, changes: { a: { after: 2 }, b: { after: 1 } } })).toBe(h);
    const variants: Array<Partial<HashedFields>> = [
      { id: '00000000-0000-4000-8000-000000000001' },
      { occurredAt: new Date('2025-01-01T00:00:00.001Z') },
      { orgId: 'p' },
      { connectionId: 'c' },
      { actorType: 'admin_token' },
      { actorId: 'a' },
      { requestId: 'r' },
      { action: 'user.deleted' },
      { targetType: 'team' },
      { targetId: 'v' },
      { changes: null },
      { prevHash: 'f'.repeat(64) },
    ];
    const hashes = variants.map((v) => hashEvent({ ...base, ...v }));
    expect(new Set([h, ...hashes]).size).toBe(variants.length + 1);
  });

  it('chain keys separate organizations from the deployment', () => {
    expect([chainKeyOf('o1'), chainKeyOf(null), chainKeyOf(undefined)]).toEqual(['org:o1', 'deployment', 'deployment']);
  });

  it('builds a row from an event and its actor', () => {
    const row = eventRow({ type: 'scim_token', id: 't1', requestId: 'r1' }, { action: 'user.created', orgId: 'o', target: { type: 'user', id: 'u' } }, base.occurredAt);
    expect(row).toMatchObject({ orgId: 'o', connectionId: null, actorType: 'scim_token', actorId: 't1', requestId: 'r1', action: 'user.created', targetType: 'user', targetId: 'u', changes: null });
  });
});

describe('csvCell', () => {
  it.each([
    [null, ''],
    [12, '12'],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\r\n', '"cr\r\n"'],
    ['=SUM(A1)', "'=SUM(A1)"],
    ['+1', "'+1"],
    ['-1,2', `"'-1,2"`],
    ['@x', "'@x"],
  ])('%j → %j', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });
});

describe('cursor', () => {
  it('round-trips and rejects anything else', () => {
    expect(decodeCursor(encodeCursor(123456))).toBe(123456);
    for (const bad of ['', '!!', Buffer.from('s:-1').toString('base64url'), Buffer.from('x:1').toString('base64url')]) expect(() => decodeCursor(bad)).toThrow(/cursor/);
  });
});
