/** Table tests for the pure parts: attribute reading, cookies, the in-memory store, settings. */
import { describe, expect, it } from 'vitest';
import { identityFromOidc, identityFromSaml, isEmail, parseSessionMinutes } from '../src/attributes.ts';
import { configSchema } from '../src/config.ts';
import { isLoopbackHttp } from '../src/oidc.ts';
import { candidateUsername } from '@doorman/model';
import { clearedCookie, readCookie, sessionCookie, signSessionId, verifySessionCookie } from '../src/session.ts';
import { memoryStore } from '../src/store.ts';

const C = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/';

describe('identityFromSaml', () => {
  it.each([
    ['Name ID only', 'a@x.io', {}, { email: 'a@x.io', fullName: null, groups: [] }],
    ['emailaddress claim naming the Name ID (any case)', 'Ann@x.io', { [`${C}emailaddress`]: 'ann@X.io' }, { email: 'Ann@x.io' }],
    ['email attribute naming the Name ID', 'a@x.io', { email: ['a@x.io'] }, { email: 'a@x.io' }],
    ['a different UPN is an identifier, not compared: the Name ID is the address', 'a@x.io', { [`${C}upn`]: 'u@corp.onmicrosoft.com' }, { email: 'a@x.io' }],
    ['name claim', 'a@x.io', { [`${C}name`]: ' Ann Lee ' }, { fullName: 'Ann Lee' }],
    ['given name and surname', 'a@x.io', { [`${C}givenname`]: 'Ann', [`${C}surname`]: 'Lee' }, { fullName: 'Ann Lee' }],
    ['typed attribute value', 'a@x.io', { name: { _: 'Typed', $: { 'xsi:type': 'xs:string' } } }, { fullName: 'Typed' }],
    [
      'every group claim name, merged and deduplicated',
      'a@x.io',
      { groups: ['o:a', 'o:b'], Groups: 'o:a', 'http://schemas.xmlsoap.org/claims/Group': 'o:c', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups': ['o:d'] },
      { groups: ['o:c', 'o:d', 'o:a', 'o:b'] },
    ],
    ['docker attributes', 'a@x.io', { dockerOrg: 'moby', dockerTeam: 'ops', dockerRole: 'Owner', dockerSessionMinutes: '30' }, { dockerOrg: 'moby', dockerTeam: 'ops', dockerRole: 'Owner', sessionMinutes: 30 }],
  ])('%s', (_n, nameId, attrs, expected) => {
    const r = identityFromSaml(nameId, attrs);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const flat = { email: r.identity.email, fullName: r.identity.fullName, sessionMinutes: r.identity.sessionMinutes, ...r.identity.attributes };
    expect(flat).toMatchObject(expected);
  });

  it.each([
    ['persistent Name ID', 'a1b2-c3', {}, 'name_id_not_email'],
    ['missing Name ID', null, {}, 'name_id_not_email'],
    ['email attribute that is not an email', 'a@x.io', { email: 'nope' }, 'invalid'],
    ['emailaddress claim naming another address', 'a@x.io', { [`${C}emailaddress`]: 'b@x.io' }, 'email_mismatch'],
    ['email attribute naming another address', 'a@x.io', { email: 'ceo@x.io' }, 'email_mismatch'],
    ['one of several email values naming another address', 'a@x.io', { email: ['a@x.io', 'b@x.io'] }, 'email_mismatch'],
    ['dockerSessionMinutes 0', 'a@x.io', { dockerSessionMinutes: '0' }, 'invalid'],
    ['dockerSessionMinutes not a number', 'a@x.io', { dockerSessionMinutes: '1h' }, 'invalid'],
  ])('refuses %s', (_n, nameId, attrs, kind) => {
    const r = identityFromSaml(nameId, attrs);
    expect(r.ok ? null : r.problem.kind).toBe(kind);
  });
});

describe('identityFromOidc', () => {
  it.each([
    [{ email: 'a@x.io', email_verified: true, name: 'Ann' }, { ok: true, email: 'a@x.io', fullName: 'Ann' }],
    [{ upn: 'u@x.io' }, { ok: true, email: 'u@x.io' }],
    [{ preferred_username: 'p@x.io', given_name: 'P', family_name: 'Q' }, { ok: true, email: 'p@x.io', fullName: 'P Q' }],
    [{ email: 'a@x.io', groups: ['o:t'] }, { ok: true, groups: [] }],
    [{ email: 'a@x.io', dockerSessionMinutes: 45 }, { ok: true, sessionMinutes: 45 }],
    [{ sub: 'x' }, { ok: false, kind: 'email_missing' }],
    [{ email: 'a@x.io', email_verified: false }, { ok: false, kind: 'email_not_verified' }],
    [{ preferred_username: 'not-an-email' }, { ok: false, kind: 'invalid' }],
  ])('%j', (claims, expected) => {
    const r = identityFromOidc(claims);
    const flat = r.ok
      ? { ok: true, email: r.identity.email, fullName: r.identity.fullName, groups: r.identity.attributes.groups, sessionMinutes: r.identity.sessionMinutes }
      : { ok: false, kind: r.problem.kind };
    expect(flat).toMatchObject(expected);
  });
});

describe('small rules', () => {
  it.each([
    ['a@b.co', true],
    ['first.last+tag@sub.example.com', true],
    ['no-at-sign', false],
    ['two@@x.io', false],
    ['space @x.io', false],
    ['a@nodot', false],
  ])('isEmail(%s) = %s', (v, ok) => expect(isEmail(v)).toBe(ok));

  it.each([
    [null, { ok: true, value: null }],
    ['1', { ok: true, value: 1 }],
    ['0', { ok: false }],
    ['-5', { ok: false }],
    ['2.5', { ok: false }],
  ])('parseSessionMinutes(%s)', (v, expected) => expect(parseSessionMinutes(v)).toMatchObject(expected));

  it.each([
    ['http://127.0.0.1:4000', true],
    ['http://localhost/', true],
    ['https://127.0.0.1', false],
    ['http://idp.example.com', false],
    ['not a url', false],
  ])('isLoopbackHttp(%s) = %s', (v, ok) => expect(isLoopbackHttp(v)).toBe(ok));

  it.each([
    ['alice.smith@x.io', /^alicesmith\d{4}$/],
    ['Al@x.io', /^al00\d{4}$/],
    ['+++@x.io', /^user\d{4}$/],
  ])('candidateUsername(%s)', (email, pattern) => expect(candidateUsername(email)).toMatch(pattern));
});

describe('session cookie', () => {
  const id = '3f3701f4-24a2-4848-b6eb-7b1ed71ff505';
  it('verifies only a value signed with the same secret', () => {
    const value = signSessionId('secret-a', id);
    expect(verifySessionCookie('secret-a', value)).toBe(id);
    expect(verifySessionCookie('secret-b', value)).toBeNull();
    expect(verifySessionCookie('secret-a', `${id}.`)).toBeNull();
    expect(verifySessionCookie('secret-a', value.slice(0, -1))).toBeNull();
    expect(verifySessionCookie('secret-a', undefined)).toBeNull();
    expect(verifySessionCookie('secret-a', `not-a-uuid.${value.split('.')[1]}`)).toBeNull();
  });
  it('formats and reads cookies', () => {
    expect(sessionCookie({ name: 's', secure: true }, 'v', 60)).toBe('s=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure');
    expect(clearedCookie({ name: 's', secure: false })).toBe('s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
    expect(readCookie('a=1; s=two.parts; b=3', 's')).toBe('two.parts');
    expect(readCookie('a=1', 's')).toBeUndefined();
  });
});

describe('memoryStore (embedded mode)', () => {
  it('takes a value once, expires it, and claims a key once', async () => {
    let now = 1000;
    const store = memoryStore(() => now);
    await store.put('k', 'v', 100);
    expect(await store.get('k')).toBe('v');
    expect(await store.take('k')).toBe('v');
    expect(await store.take('k')).toBeNull();
    await store.put('e', 'v', 100);
    now += 100;
    expect(await store.get('e')).toBeNull();
    expect(await store.claim('a', 50)).toBe(true);
    expect(await store.claim('a', 50)).toBe(false);
    now += 50;
    expect(await store.claim('a', 50)).toBe(true);
  });
});

describe('settings', () => {
  it('defaults, coerces environment strings, and names bad settings', () => {
    expect(configSchema.parse({})).toEqual({ sessionMinutes: 480, cookieName: 'doorman_sso' });
    expect(configSchema.parse({ sessionMinutes: '90' }).sessionMinutes).toBe(90);
    const bad = configSchema.safeParse({ sessionSecret: 'short', cookieName: 'a b', extra: 1 });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.') || i.code).sort()).toEqual(['cookieName', 'sessionSecret', 'unrecognized_keys']);
  });
});
