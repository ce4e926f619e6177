/** The transaction cookie, table-driven and without I/O (src/transaction.ts, docs/sso-login-csrf.md). */
import { describe, expect, it } from 'vitest';
import {
  checkTransactionCookie,
  clearedTransactionCookie,
  TRANSACTION_TTL_MS,
  transactionCookie,
  transactionCookieName,
  transactionKey,
  type TransactionCheck,
  type TransactionKind,
} from '../src/transaction.ts';

const key = transactionKey('a-session-secret-of-at-least-32-characters');
const NOW = 1_800_000_000_000;
const valueOf = (setCookie: string) => setCookie.split(';')[0]!.split('=')[1]!;
const issue = (kind: TransactionKind, id: string, connection: string, secure = false, now = NOW) =>
  valueOf(transactionCookie({ baseName: 'doorman_sso', secure, key }, kind, id, connection, now));

describe('transaction cookie attributes', () => {
  it.each([
    ['oidc', false, /; Path=\/sso\/oidc\/callback; Max-Age=600; HttpOnly; SameSite=Lax$/],
    ['oidc', true, /; Path=\/sso\/oidc\/callback; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/],
    // SAML's ACS gets a cross-site POST: None (with Secure) over https; Lax on plain-HTTP development.
    ['saml', true, /; Path=\/sso\/saml\/acs; Max-Age=600; HttpOnly; SameSite=None; Secure$/],
    ['saml', false, /; Path=\/sso\/saml\/acs; Max-Age=600; HttpOnly; SameSite=Lax$/],
  ] as const)('%s, secure=%s', (kind, secure, attrs) => {
    const line = transactionCookie({ baseName: 'doorman_sso', secure, key }, kind, 'id-1', 'conn-1', NOW);
    expect(line).toMatch(attrs);
    expect(line.startsWith(`${transactionCookieName('doorman_sso', kind, 'id-1')}=`)).toBe(true);
    expect(clearedTransactionCookie({ baseName: 'doorman_sso', secure, key }, kind, 'id-1')).toMatch(/=; Path=.*Max-Age=0.*Expires=Thu, 01 Jan 1970/);
  });

  it('names each pending sign-in apart (parallel sign-ins in two tabs), by kind too', () => {
    const names = new Set([transactionCookieName('s', 'oidc', 'a'), transactionCookieName('s', 'oidc', 'b'), transactionCookieName('s', 'saml', 'a')]);
    expect(names.size).toBe(3);
    for (const n of names) expect(n).toMatch(/^s_tx_[A-Za-z0-9_-]{16}$/);
  });
});

describe('checkTransactionCookie', () => {
  const good = issue('oidc', 'state-1', 'conn-1');
  const cases: Array<[string, string | undefined, TransactionKind, string, string, number, TransactionCheck]> = [
    ['the cookie of this sign-in', good, 'oidc', 'state-1', 'conn-1', NOW + 1000, 'ok'],
    ['no cookie', undefined, 'oidc', 'state-1', 'conn-1', NOW, 'missing'],
    ['empty', '', 'oidc', 'state-1', 'conn-1', NOW, 'missing'],
    ['another state', good, 'oidc', 'state-2', 'conn-1', NOW, 'invalid'],
    ['another connection', good, 'oidc', 'state-1', 'conn-2', NOW, 'invalid'],
    ['another kind', good, 'saml', 'state-1', 'conn-1', NOW, 'invalid'],
    ['a MAC with another key', issue('oidc', 'state-1', 'conn-1').replace(/\..*/, `.${'A'.repeat(43)}`), 'oidc', 'state-1', 'conn-1', NOW, 'invalid'],
    ['a later expiry with the old MAC', good.replace(/^\d+/, String(NOW + 10 * TRANSACTION_TTL_MS)), 'oidc', 'state-1', 'conn-1', NOW, 'invalid'],
    ['garbage', 'not-a-cookie', 'oidc', 'state-1', 'conn-1', NOW, 'invalid'],
    ['a session cookie value', '0b4e7c1e-0000-4000-8000-000000000000.abc', 'oidc', 'state-1', 'conn-1', NOW, 'invalid'],
    ['expired (after 10 minutes)', good, 'oidc', 'state-1', 'conn-1', NOW + TRANSACTION_TTL_MS, 'expired'],
    ['SAML request id', issue('saml', '_abc', 'conn-1'), 'saml', '_abc', 'conn-1', NOW, 'ok'],
  ];
  it.each(cases)('%s', (_name, value, kind, id, connection, now, expected) => {
    expect(checkTransactionCookie(key, value, kind, id, connection, now)).toBe(expected);
  });

  it('does not accept a MAC made with the session key itself', () => {
    const other = transactionKey('another-session-secret-of-32-characters!!');
    expect(checkTransactionCookie(other, good, 'oidc', 'state-1', 'conn-1', NOW)).toBe('invalid');
  });
});
