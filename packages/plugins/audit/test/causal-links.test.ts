import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isUuidV7 } from '@doorman/model';
import { canonicalJson, eventRow, hashEvent, type HashedFields } from '../src/chain.ts';
import { checkMac, macEvent } from '../src/mac.ts';

/** Causal links (docs/people-and-explain.md): covered by the hash and the MAC when set, invisible to older events. */
const base: HashedFields = {
  id: '00000000-0000-4000-8000-000000000000',
  occurredAt: new Date('2025-01-01T00:00:00.000Z'),
  orgId: 'o',
  connectionId: 'c',
  actorType: 'scim_token',
  actorId: 't',
  requestId: 'r1',
  action: 'member.added',
  targetType: 'user',
  targetId: 'u',
  changes: { role: { after: 'member' } },
  prevHash: null,
};
const key = Buffer.from('k'.repeat(32));

describe('causal links in the hash and the MAC', () => {
  it('an event without links hashes exactly as before the links existed (old chains verify)', () => {
    const v1 = createHash('sha256')
      .update(canonicalJson(['doorman-audit/1', base.id, '2025-01-01T00:00:00.000Z', 'o', 'c', 'scim_token', 't', 'r1', 'member.added', 'user', 'u', base.changes, null]), 'utf8')
      .digest('hex');
    expect(hashEvent(base)).toBe(v1);
    expect(hashEvent({ ...base, jobId: null, causeId: null, context: null })).toBe(v1);
  });

  const linked: HashedFields = { ...base, jobId: 'deactivate-user.x.v2', causeId: '00000000-0000-4000-8000-0000000000aa', context: { rule: 'dockerRole', inputs: { dockerRole: 'owner' } } };
  it.each<[string, Partial<HashedFields>]>([
    ['job id changed', { jobId: 'other' }],
    ['cause changed', { causeId: 'x' }],
    ['context changed', { context: { rule: 'default' } }],
    ['links emptied', { jobId: null, causeId: null, context: null }],
    ['one link removed', { jobId: null }],
  ])('%s: the hash and the MAC no longer match', (_name, edit) => {
    const mac = macEvent(key, linked);
    expect(checkMac(key, { ...linked, mac })).toBe('ok');
    expect(hashEvent({ ...linked, ...edit })).not.toBe(hashEvent(linked));
    expect(checkMac(key, { ...linked, ...edit, mac })).toBe('mismatch');
  });

  it('the row takes the job and the cause from the actor, an explicit id and cause from the event, context sanitised', () => {
    const row = eventRow(
      { type: 'system', id: null, requestId: 'r1', jobId: 'j1', cause: 'e0' },
      { action: 'user.deprovisioned', id: '00000000-0000-4000-8000-0000000000bb', target: { type: 'user', id: 'u' }, context: { reason: 'inactive', clientSecret: 's' } },
      base.occurredAt,
    );
    expect(row).toMatchObject({ id: '00000000-0000-4000-8000-0000000000bb', requestId: 'r1', jobId: 'j1', causeId: 'e0', context: { reason: 'inactive' } });
    expect(eventRow({ type: 'system', id: null, requestId: null, cause: 'e0' }, { action: 'x', cause: 'e1' }, base.occurredAt).causeId).toBe('e1');
    expect(eventRow({ type: 'system', id: null, requestId: null }, { action: 'x' }, base.occurredAt)).toMatchObject({ jobId: null, causeId: null, context: null });
    // An event published without an id gets a time-ordered one (docs/row-ids.md).
    expect(isUuidV7(eventRow({ type: 'system', id: null, requestId: null }, { action: 'x' }, base.occurredAt).id)).toBe(true);
  });
});
