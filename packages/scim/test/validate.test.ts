import { describe, expect, it } from 'vitest';
import { InputError } from '@doorman/plugin-api';
import { DOCKER_USER_SCHEMA as DOCKER, ENTERPRISE_USER_SCHEMA as ENTERPRISE, USER_RESOURCE, USER_SCHEMA as USER } from '../src/schemas.ts';
import { isEmailAddress, parseScimBoolean, validateResource } from '../src/validate.ts';

const user = (extra: Record<string, unknown>, schemas: string[] = [USER]) => ({ schemas, userName: 'jdoe', ...extra });
const validate = (body: unknown) => validateResource(body, USER_RESOURCE);

describe('parseScimBoolean', () => {
  it.each([
    [true, true],
    [false, false],
    ['True', true],
    ['FALSE', false],
    [' true ', true],
    ['yes', undefined],
    [1, undefined],
    [null, undefined],
  ])('%j → %j', (input, expected) => expect(parseScimBoolean(input)).toBe(expected));
});

describe('validateResource: accepted and normalised', () => {
  it.each([
    ['a minimal user', user({}), { schemas: [USER], userName: 'jdoe' }],
    ['attribute names in any case become canonical', { SCHEMAS: [USER], USERNAME: 'x', NickName: 'Jo', name: { GIVENNAME: 'Ada' } }, { schemas: [USER], userName: 'x', nickName: 'Jo', name: { givenName: 'Ada' } }],
    ["Entra's boolean strings", user({ emails: [{ value: 'a@b.co', primary: 'True' }, { value: 'c@b.co', primary: 'False' }] }), { emails: [{ value: 'a@b.co', primary: true }, { value: 'c@b.co', primary: false }] }],
    ['canonical values in their canonical spelling', user({ phoneNumbers: [{ value: '+49', type: 'Mobile' }], addresses: [{ country: 'DE', type: 'WORK' }] }), { phoneNumbers: [{ value: '+49', type: 'mobile' }], addresses: [{ country: 'DE', type: 'work' }] }],
    ['readOnly attributes are ignored', user({ id: 'x', meta: { created: 'y' }, groups: [{ value: 'g' }] }), { schemas: [USER], userName: 'jdoe' }],
    ['null and [] are unassigned', user({ title: null, emails: [], phoneNumbers: [null] }), { schemas: [USER], userName: 'jdoe' }],
    ['unknown plain attributes are ignored', user({ favouriteColour: 'blue', name: { nick: 'x', givenName: 'A' } }), { schemas: [USER], userName: 'jdoe', name: { givenName: 'A' } }],
    ['known extensions, listed in schemas even when undeclared', user({ [ENTERPRISE]: { department: 'R&D', manager: { value: 'm1', displayName: 'ro' } } }), { schemas: [USER, ENTERPRISE], [ENTERPRISE]: { department: 'R&D', manager: { value: 'm1' } } }],
    ['an extension of no known schema declared in schemas is kept as sent', user({ 'urn:example:custom:1.0': { anything: [1, { x: 2 }] } }, [USER, 'urn:example:custom:1.0']), { schemas: [USER, 'urn:example:custom:1.0'], 'urn:example:custom:1.0': { anything: [1, { x: 2 }] } }],
    ['dateTime and integer-free core', user({ x509Certificates: [{ value: 'TUlJQw==' }] }), { x509Certificates: [{ value: 'TUlJQw==' }] }],
    ['one primary', user({ emails: [{ value: 'a@b.co', primary: true }, { value: 'c@b.co' }] }), { emails: [{ value: 'a@b.co', primary: true }, { value: 'c@b.co' }] }],
    ['docker role in any case', user({ [DOCKER]: { dockerRole: 'Owner' } }, [USER, DOCKER]), { [DOCKER]: { dockerRole: 'owner' } }],
  ])('%s', (_name, body, expected) => {
    expect(validate(body)).toMatchObject(expected);
  });

  it('never stores an unknown attribute at the top level', () => {
    const out = validate(user({ favouriteColour: 'blue', 'urn:x:y': { a: 1 } }, [USER, 'urn:x:y']));
    expect(Object.keys(out).sort()).toEqual(['schemas', 'urn:x:y', 'userName']);
  });
});

describe('validateResource: refused', () => {
  it.each([
    ['not an object', [], 'invalidSyntax', undefined],
    ['no schemas', { userName: 'x' }, 'invalidValue', 'schemas'],
    ['schemas without the core schema', { schemas: [ENTERPRISE], userName: 'x' }, 'invalidValue', 'schemas'],
    ['no userName', { schemas: [USER] }, 'invalidValue', 'userName'],
    ['title as a nested list', user({ title: [[]] }), 'invalidValue', 'title'],
    ['nickName as a number', user({ nickName: 42 }), 'invalidValue', 'nickName'],
    ['userName as an object', user({ userName: { a: 1 } }), 'invalidValue', 'userName'],
    ['phoneNumbers as a string', user({ phoneNumbers: '+49 30 1234' }), 'invalidValue', 'phoneNumbers'],
    ['phoneNumbers as a lone object', user({ phoneNumbers: { value: '+49' } }), 'invalidValue', 'phoneNumbers'],
    ['emails[].primary as a word', user({ emails: [{ value: 'a@b.co', primary: 'yes' }] }), 'invalidValue', 'emails[0].primary'],
    ['two primary emails', user({ emails: [{ value: 'a@b.co', primary: true }, { value: 'c@b.co', primary: 'True' }] }), 'invalidValue', 'emails'],
    ['two primary addresses', user({ addresses: [{ country: 'DE', primary: true }, { country: 'FR', primary: true }] }), 'invalidValue', 'addresses'],
    ['a type outside the canonical values', user({ phoneNumbers: [{ value: '1', type: 'satellite' }] }), 'invalidValue', 'phoneNumbers[0].type'],
    ['name as a string', user({ name: 'Ada' }), 'invalidValue', 'name'],
    ['a sub-attribute with the wrong type', user({ name: { middleName: 7 } }), 'invalidValue', 'name.middleName'],
    ['a single-valued attribute given a list', user({ displayName: ['a'] }), 'invalidValue', 'displayName'],
    ['active as a word', user({ active: 'yes' }), 'invalidValue', 'active'],
    ['an enterprise attribute with the wrong type', user({ [ENTERPRISE]: { department: { x: 1 } } }), 'invalidValue', `${ENTERPRISE}:department`],
    ['an extension that is not an object', user({ [ENTERPRISE]: 'R&D' }), 'invalidValue', ENTERPRISE],
    ['a docker role outside the canonical values', user({ [DOCKER]: { dockerRole: 'admin' } }), 'invalidValue', `${DOCKER}:dockerRole`],
    ['an undeclared extension of no known schema', user({ 'urn:example:custom:1.0': { a: 1 } }), 'invalidSyntax', 'urn:example:custom:1.0'],
    ['a declared unknown extension that is not an object', user({ 'urn:x:y': 'v' }, [USER, 'urn:x:y']), 'invalidValue', 'urn:x:y'],
    ['the same attribute twice', user({ title: 'a', TITLE: 'b' }), 'invalidSyntax', 'title'],
    ['binary that is not base64', user({ x509Certificates: [{ value: '%%%' }] }), 'invalidValue', 'x509Certificates[0].value'],
  ])('%s', (_name, body, scimType, field) => {
    let thrown: unknown;
    try {
      validate(body);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).scimType).toBe(scimType);
    if (field) expect((thrown as InputError).field).toBe(field);
  });
});

describe('isEmailAddress', () => {
  it.each([
    ['ada@example.com', true],
    ["o'brien+tag@mail.example.co.uk", true],
    ['jürgen@beispiel.de', true],
    ['jdoe', false],
    ['jdoe@localhost', false],
    ['a b@example.com', false],
    ['ada@exa mple.com', false],
    ['ada\u0000@example.com', false],
    ['ada\n@example.com', false],
    ['ada\u202e@example.com', false],
    ['ada\u200b@example.com', false],
    ['"quoted"@example.com', false],
    ['<ada@example.com>', false],
    ['ada@example.com,eve@example.com', false],
    ['ada@@example.com', false],
    ['.ada@example.com', false],
    ['ada..b@example.com', false],
    ['ada@-example.com', false],
    ['ada@example..com', false],
    [`${'a'.repeat(65)}@example.com`, false],
    ['ada@[127.0.0.1]', false],
  ])('%j → %s', (value, expected) => expect(isEmailAddress(value)).toBe(expected));
});
