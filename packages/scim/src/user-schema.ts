/**
 * The User resource's schemas as Doorman stores, returns, validates and filters them: the whole
 * RFC 7643 §4.1 core User schema (except `password`, which Doorman never keeps: changePassword is
 * unsupported), the §4.3 Enterprise extension and Docker's extension (docs/docker-behaviour.md §1.8).
 * `/Schemas` renders exactly these definitions, so a client that builds its model from them can read
 * every attribute of every response.
 */
import { attr, DOCKER_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, USER_SCHEMA, type AttributeDefinition, type SchemaDefinition } from './schema-types.ts';

/** value/display/type/primary: the §2.4 shape of a multi-valued attribute. */
function multi(name: string, description: string, types: readonly string[] | undefined, value: Partial<AttributeDefinition> = {}): AttributeDefinition {
  return attr(name, description, {
    type: 'complex',
    multiValued: true,
    subAttributes: [
      attr('value', `The ${name} value.`, value),
      attr('display', 'A human-readable name, primarily used for display purposes.'),
      attr('type', `A label indicating the ${name} value's function.`, types ? { canonicalValues: types } : {}),
      attr('primary', 'Whether this is the primary value of the attribute (at most one).', { type: 'boolean' }),
    ],
  });
}

export const USER_SCHEMA_DEFINITION: SchemaDefinition = {
  id: USER_SCHEMA,
  name: 'User',
  description: 'User Account',
  attributes: [
    attr('userName', "Unique identifier of the user as the IdP knows it (an email address, a login or an employee id); case-insensitive.", {
      required: true,
      uniqueness: 'server',
    }),
    attr('name', "The components of the user's name.", {
      type: 'complex',
      subAttributes: [
        attr('formatted', 'The full name, formatted for display.'),
        attr('familyName', 'The family name (last name).'),
        attr('givenName', 'The given name (first name).'),
        attr('middleName', 'The middle name(s).'),
        attr('honorificPrefix', 'The honorific prefix(es), e.g. "Ms.".'),
        attr('honorificSuffix', 'The honorific suffix(es), e.g. "III".'),
      ],
    }),
    attr('displayName', 'The name of the user, suitable for display.'),
    attr('nickName', 'The casual way to address the user.'),
    attr('profileUrl', "A URI of the user's online profile.", { type: 'reference', referenceTypes: ['external'] }),
    attr('title', "The user's title, e.g. \"Vice President\"."),
    attr('userType', 'The relationship between the organization and the user, e.g. "Employee".'),
    attr('preferredLanguage', "The user's preferred written or spoken language (RFC 7231 Accept-Language syntax)."),
    attr('locale', "The user's default location for localizing, e.g. \"en-US\"."),
    attr('timezone', "The user's time zone in IANA format, e.g. \"Europe/Berlin\"."),
    attr('active', "The user's administrative status; false deprovisions the user.", { type: 'boolean' }),
    multi('emails', 'Email addresses of the user.', ['work', 'home', 'other']),
    multi('phoneNumbers', 'Phone numbers of the user.', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    multi('ims', 'Instant messaging addresses of the user.', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
    multi('photos', "URIs of the user's photos.", ['photo', 'thumbnail'], { type: 'reference', referenceTypes: ['external'] }),
    attr('addresses', 'Physical mailing addresses of the user.', {
      type: 'complex',
      multiValued: true,
      subAttributes: [
        attr('formatted', 'The full mailing address, formatted for display.'),
        attr('streetAddress', 'The street address.'),
        attr('locality', 'The city or locality.'),
        attr('region', 'The state or region.'),
        attr('postalCode', 'The zip or postal code.'),
        attr('country', 'The country (ISO 3166-1 alpha-2 code, e.g. "DE").'),
        attr('type', "A label indicating the address's function.", { canonicalValues: ['work', 'home', 'other'] }),
        attr('primary', 'Whether this is the primary address (at most one).', { type: 'boolean' }),
      ],
    }),
    attr('groups', 'Groups the user belongs to; managed through the Group resource.', {
      type: 'complex',
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        attr('value', 'The id of the group.', { caseExact: true, mutability: 'readOnly' }),
        attr('$ref', 'The URI of the group.', { type: 'reference', referenceTypes: ['Group'], caseExact: true, mutability: 'readOnly' }),
        attr('display', 'The display name of the group.', { mutability: 'readOnly' }),
        attr('type', 'Direct or indirect membership.', { canonicalValues: ['direct', 'indirect'], mutability: 'readOnly' }),
      ],
    }),
    multi('entitlements', 'Entitlements of the user.', undefined),
    multi('roles', 'Roles of the user (informational: Docker roles come from the Docker extension).', undefined),
    multi('x509Certificates', 'X.509 certificates of the user (base64 DER).', undefined, { type: 'binary' }),
  ],
};

export const ENTERPRISE_USER_SCHEMA_DEFINITION: SchemaDefinition = {
  id: ENTERPRISE_USER_SCHEMA,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    attr('employeeNumber', 'Identifier assigned to the person by the organization.'),
    attr('costCenter', 'Name of a cost center.'),
    attr('organization', 'Name of an organization.'),
    attr('division', 'Name of a division.'),
    attr('department', 'Name of a department.'),
    attr('manager', "The user's manager.", {
      type: 'complex',
      subAttributes: [
        attr('value', 'The id of the manager.', { caseExact: true }),
        attr('$ref', 'The URI of the manager.', { type: 'reference', referenceTypes: ['User'], caseExact: true }),
        attr('displayName', 'The display name of the manager.', { mutability: 'readOnly' }),
      ],
    }),
  ],
};

export const DOCKER_USER_SCHEMA_DEFINITION: SchemaDefinition = {
  id: DOCKER_USER_SCHEMA,
  name: 'DockerUser',
  description: 'Docker role, organization and team mapping',
  attributes: [
    attr('dockerRole', 'Organization role; member when unset.', { canonicalValues: ['member', 'editor', 'owner'] }),
    attr('dockerOrg', "Organization name; overrides the connection's default organization."),
    attr('dockerTeam', 'Team name inside the organization; created when missing.'),
  ],
};
