import { describe, expect, it } from 'vitest';
import { hashEvent, type HashedFields } from '../src/chain.ts';
import { checkMac, macEvent, storedEventDigests } from '../src/mac.ts';

const KEY = Buffer.from('seal-digests-test-key-0123456789abcdef', 'utf8');
const OTHER_KEY = Buffer.from('another-key-for-the-mismatch-case-0123456', 'utf8');

/** What the sealer reads: JSON columns come back JSON-parsed (a round trip of what the writer stored). */
const readBack = <T>(v: T): T => (v === null || v === undefined ? v : JSON.parse(JSON.stringify(v)));

const base: Omit<HashedFields, 'prevHash'> = {
  id: '00000000-0000-4000-8000-000000000000',
  occurredAt: new Date('2025-01-01T00:00:00.000Z'),
  orgId: 'o',
  connectionId: 'c',
  actorType: 'system',
  actorId: null,
  requestId: 'req-1',
  action: 'user.deprovisioned',
  targetType: 'user',
  targetId: 'u',
  changes: { memberships: { after: 2 }, sessions: { after: 0 }, reason: { after: 'inactive' } },
  jobId: null,
  causeId: null,
  context: null,
};

// Unlinked and linked events (version 1 and 2 of both serializations), odd JSON values, no changes.
const events: Array<[string, Omit<HashedFields, 'prevHash'>]> = [
  ['a plain event', base],
  ['an event with causal links and context', { ...base, jobId: 'deactivate-user.cu1.v2', causeId: 'e1', context: { via: { after: 'scim' }, n: [1, 2.5, -0, 1e21] } }],
  ['odd values in changes', { ...base, changes: { 'ü"\\\n': { before: ['a', null, { z: 1, a: [] }], after: { '': true, __proto__x: false } }, big: { after: 12345678901234567890 } } }],
  ['no changes', { ...base, changes: null }],
];

describe('storedEventDigests (the sealer: one serialization of a stored event for its MAC check and its hash)', () => {
  it.each(events)('%s: the same MAC check and hash as checkMac and hashEvent', (_name, written) => {
    const stored = { ...written, changes: readBack(written.changes), context: readBack(written.context), mac: macEvent(KEY, written) };
    const digests = storedEventDigests(stored);
    expect(digests.checkMac(KEY)).toBe('ok');
    expect(digests.checkMac(KEY)).toBe(checkMac(KEY, stored));
    for (const prevHash of [null, 'a'.repeat(64)]) expect(digests.hash(prevHash)).toBe(hashEvent({ ...stored, prevHash }));
  });

  it('reports a missing MAC, and a MAC made with another key or over other values, as checkMac does', () => {
    const stored = { ...base, mac: macEvent(KEY, base) };
    expect(storedEventDigests({ ...stored, mac: null }).checkMac(KEY)).toBe('missing');
    expect(storedEventDigests(stored).checkMac(OTHER_KEY)).toBe('mismatch');
    const edited = { ...stored, targetId: 'someone-else' };
    expect(storedEventDigests(edited).checkMac(KEY)).toBe('mismatch');
    expect(checkMac(KEY, edited)).toBe('mismatch');
  });
});
