import { describe, expect, it } from 'vitest';
import { csrfToken, needsTouch, secondsLeft, sessionState, writeAllowed, type WriteRequest } from '../src/policy.ts';

const limits = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 };
const t0 = new Date('2026-12-04T10:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
const row = (lastSeenMin: number, expiresMin: number, ended = false) => ({ lastSeenAt: at(lastSeenMin), expiresAt: at(expiresMin), endedAt: ended ? at(0) : null });

describe('sessionState', () => {
  it.each([
    ['fresh', row(0, 720), at(1), 'active'],
    ['used 29 minutes ago', row(0, 720), at(29), 'active'],
    ['unused for the idle limit', row(0, 720), at(30), 'idle'],
    ['used recently but past the absolute limit', row(719, 720), at(720), 'expired'],
    ['signed out', row(0, 720, true), at(1), 'ended'],
  ] as const)('%s → %s', (_name, r, now, expected) => {
    expect(sessionState(r, now, limits)).toBe(expected);
  });
});

describe('needsTouch and secondsLeft', () => {
  it.each([
    [0, false],
    [1, false],
    [1.5, true],
    [10, true],
  ])('last seen %s minutes ago → touch %s (at most once per 1.5 minutes with a 30-minute idle limit)', (minutes, expected) => {
    expect(needsTouch(row(0, 720), at(minutes), limits)).toBe(expected);
  });
  it('counts down to the earlier of idle and absolute end', () => {
    expect(secondsLeft(row(0, 720), at(0), limits)).toBe(30 * 60);
    expect(secondsLeft(row(700, 720), at(710), limits)).toBe(10 * 60);
    expect(secondsLeft(row(0, 720), at(800), limits)).toBe(0);
  });
});

describe('writeAllowed', () => {
  const csrf = csrfToken('session-id');
  const base: WriteRequest = { method: 'POST', path: '/admin/v1/orgs', csrfHeader: undefined, origin: 'https://doorman.example.com', ownOrigins: ['https://doorman.example.com'] };
  it.each<[string, Partial<WriteRequest>, boolean]>([
    ['a read needs no token', { method: 'GET' }, true],
    ['HEAD is a read', { method: 'HEAD' }, true],
    ['an API write with the token', { csrfHeader: csrf }, true],
    ['an API write without the token, even same-origin', {}, false],
    ['an API write with a wrong token', { csrfHeader: csrfToken('another-session') }, false],
    ['an API write with an empty token', { csrfHeader: '' }, false],
    ['a dashboard write from this origin', { path: '/admin/queues/api/queues/x/retry' }, true],
    ['a dashboard write from another origin', { path: '/admin/queues/api/queues/x/retry', origin: 'https://evil.example' }, false],
    ['a dashboard write without Origin', { path: '/admin/queues/api/queues/x/retry', origin: undefined }, false],
    ['DELETE is a write', { method: 'DELETE' }, false],
  ])('%s → %s', (_name, change, expected) => {
    expect(writeAllowed({ ...base, ...change }, csrf)).toBe(expected);
  });
  it('derives a different token per session, never the session id itself', () => {
    expect(csrfToken('a')).not.toBe(csrfToken('b'));
    expect(csrfToken('a')).not.toContain('a'.repeat(2));
  });
});
