import { describe, expect, it } from 'vitest';
import { redactDetail, requestValues, routePattern } from '../src/http/refusal.ts';

describe('routePattern', () => {
  it.each([
    ['/scim/v2/Users', '/scim/v2/Users/:id', '/scim/v2/Users/:id'],
    ['/scim/v2/Users/2819c223-7f76-453a-919d-413861904646', undefined, '/scim/v2/Users/:id'],
    ['/scim/v2/Users', undefined, '/scim/v2/Users'],
    ['/scim/v2', undefined, '/scim/v2'],
    ['/scim/v2/ada@example.com/x', undefined, '/scim/v2/:id/:id'],
    ['/sso/saml/acs', undefined, '/sso/saml/acs'],
    ['/sso/saml/metadata/0b7e…', undefined, '/sso/saml/metadata/:id'],
  ])('%s (matched %s) → %s', (path, matched, expected) => {
    expect(routePattern(path, matched)).toBe(expected);
  });
});

describe('redactDetail', () => {
  const values = (query: string, body: unknown = {}) => requestValues(query, body);
  it.each([
    ['a filter value', 'Unknown attribute "favouriteColour" in filter', values('filter=favouriteColour%20eq%20%22Zanzibar%22'), 'Unknown attribute "favouriteColour" in filter'],
    ['a quoted filter literal echoed', 'no match for "Zanzibar"', values('filter=userName%20eq%20%22Zanzibar%22'), 'no match for "…"'],
    ['an unterminated literal', 'Unterminated string in filter: "ada@x.test', values('filter=userName%20eq%20%22ada%40x.test'), 'Unterminated string in filter: "…'],
    ['a body value', "a user with userName 'ada' already exists", values('', { userName: 'ada' }), "a user with userName '…' already exists"],
    ['a PATCH path stays, its value goes', '"active" must be a boolean, got "maybe"', values('', { Operations: [{ op: 'replace', path: 'active', value: 'maybe' }] }), '"active" must be a boolean, got "…"'],
    ['an email quoted by the server', "User 'bob@acme.test' is not assigned to this SSO organization", [], "User '…' is not assigned to this SSO organization"],
    ['only whole words', 'invalid value in name', values('', { x: 'am' }), 'invalid value in name'],
    ['a value unquoted', 'userName ada-smith is taken', values('', { userName: 'ada-smith' }), 'userName … is taken'],
  ])('%s', (_name, message, vals, expected) => {
    expect(redactDetail(message, vals)).toBe(expected);
  });

  it('cuts a long detail to 1024 characters', () => {
    expect(redactDetail('x'.repeat(5000), [])).toHaveLength(1024);
  });
});
