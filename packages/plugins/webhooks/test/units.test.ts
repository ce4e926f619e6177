import { describe, expect, it } from 'vitest';
import { cleanSnippet, signatureHeader } from '../src/sender.ts';
import { isPublicAddress } from '../src/target.ts';
import { isEventTypeFilter, mapDomainEvent, typeMatches } from '../src/types.ts';
import { decodeCursor, encodeCursor } from '../src/events-api.ts';

const user = { type: 'user', id: 'u1' };

describe('mapDomainEvent', () => {
  it.each([
    ['user.created', user, 'person.created', { type: 'person', id: 'u1' }],
    ['user.linked', user, 'person.created', { type: 'person', id: 'u1' }],
    ['user.updated', user, 'person.updated', { type: 'person', id: 'u1' }],
    ['user.deactivated', user, 'person.deactivated', { type: 'person', id: 'u1' }],
    ['user.reactivated', user, 'person.reactivated', { type: 'person', id: 'u1' }],
    ['user.deleted', user, 'person.deleted', { type: 'person', id: 'u1' }],
    ['member.added', user, 'membership.added', { type: 'person', id: 'u1' }],
    ['member.removed', user, 'membership.removed', { type: 'person', id: 'u1' }],
    ['member.role_changed', user, 'membership.role_changed', { type: 'person', id: 'u1' }],
    ['group.created', { type: 'group', id: 'g1' }, 'group.created', { type: 'group', id: 'g1' }],
    ['group.members_added', { type: 'group', id: 'g1' }, 'group.members_changed', { type: 'group', id: 'g1' }],
    ['group.members_removed', { type: 'group', id: 'g1' }, 'group.members_changed', { type: 'group', id: 'g1' }],
    ['group.deleted', { type: 'group', id: 'g1' }, 'group.deleted', { type: 'group', id: 'g1' }],
    ['connection.updated', { type: 'connection', id: 'c1' }, 'connection.updated', { type: 'connection', id: 'c1' }],
    ['connection.domain_added', { type: 'domain', id: 'example.com' }, 'connection.updated', { type: 'connection', id: 'c1' }],
    ['sso.signed_in', user, 'sso.signed_in', { type: 'person', id: 'u1' }],
    ['sso.sign_in_denied', { type: 'email', id: 'Ada@Example.com' }, 'sso.sign_in_refused', { type: 'email', id: 'ada@example.com' }],
  ])('%s about %j → %s about %j', (action, target, type, subject) => {
    expect(mapDomainEvent({ action, target, connectionId: 'c1' })).toMatchObject({ type, subject });
  });

  it.each(['token.issued', 'audit.purged', 'sync.completed', 'team.created', 'webhook_endpoint.disabled', 'user.deprovisioned'])('%s is not published', (action) => {
    expect(mapDomainEvent({ action, target: user, connectionId: 'c1' })).toBeNull();
  });

  it('a person event without a person target is not published', () => {
    expect(mapDomainEvent({ action: 'user.updated', target: { type: 'team', id: 't' } })).toBeNull();
  });

  it('drops secret-named keys, raw documents and strings holding a bearer secret, at any depth', () => {
    const secret = `dmn_admin_0123456789ab_${'B'.repeat(43)}`;
    const mapped = mapDomainEvent({
      action: 'user.updated',
      target: user,
      changes: {
        displayName: { before: 'A', after: 'B' },
        password: { after: 'x' },
        resource: { after: { anything: 1 } },
        nested: { after: { clientSecret: 's', sessionId: 'sid', ok: [secret, 'kept'] } },
        when: { after: new Date('2025-01-01T00:00:00Z') as unknown as string },
      },
    })!;
    expect(mapped.changes).toEqual({ displayName: { before: 'A', after: 'B' }, nested: { after: { ok: ['kept'] } }, when: { after: '2025-01-01T00:00:00.000Z' } });
  });
});

describe('type filters', () => {
  it.each([
    [null, 'person.created', true],
    [[], 'group.deleted', true],
    [['person.created'], 'person.created', true],
    [['person.created'], 'person.updated', false],
    [['person.*'], 'person.updated', true],
    [['person.*'], 'membership.added', false],
    [['group.*', 'sso.signed_in'], 'sso.signed_in', true],
  ])('%j accepts %s: %s', (filter, type, ok) => expect(typeMatches(filter, type)).toBe(ok));

  it.each([
    ['person.created', true],
    ['person.*', true],
    ['membership.*', true],
    ['nothing.*', false],
    ['person.exploded', false],
    ['*', false],
  ])('%s is a valid filter: %s', (f, ok) => expect(isEventTypeFilter(f)).toBe(ok));
});

describe('isPublicAddress', () => {
  it.each([
    ['8.8.8.8', true],
    ['1.1.1.1', true],
    ['2606:4700:4700::1111', true],
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false], // cloud metadata
    ['100.64.0.1', false], // carrier-grade NAT
    ['0.0.0.0', false],
    ['255.255.255.255', false],
    ['224.0.0.1', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fc00::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:8.8.8.8', true],
    ['not an address', false],
  ])('%s → %s', (address, ok) => expect(isPublicAddress(address)).toBe(ok));
});

describe('signing and snippets', () => {
  it('signs once per secret, space-separated', () => {
    const header = signatureHeader(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ='], 'msg_1', new Date(1_700_000_000_000), '{"a":1}');
    expect(header).toMatch(/^v1,[A-Za-z0-9+/=]+ v1,[A-Za-z0-9+/=]+$/);
  });

  it('masks secrets and echoed signatures in a response snippet', () => {
    expect(cleanSnippet(`got whsec_abcDEF123= and v1,${'A'.repeat(44)} ok`)).toBe('got [redacted] and [redacted] ok');
  });

  it('cursors round-trip and a foreign cursor is a 400 naming `after`', () => {
    expect(decodeCursor(encodeCursor(42))).toBe(42);
    expect(() => decodeCursor('bm9wZQ')).toThrow(/after/);
  });
});
