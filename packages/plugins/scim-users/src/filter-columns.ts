/**
 * Where each filterable SCIM User attribute lives in this plugin's tables, for the filter and sort
 * compilers of @doorman/scim (pure; they know no table). Trusted text: it comes from code, never
 * from input. Attributes over other plugins' tables (`groups`: scim-groups) are added through
 * `scimUserFiltersRef` (`userFilterAttributes` below; docs/architecture.md "Plugins").
 */
import type { ScimUserFilters } from '@doorman/plugin-api';
import {
  caseExactColumn,
  dockerUserKey,
  enterpriseUserKey,
  jsonUserAttributes,
  lowerCasedColumn,
  typedColumn,
  type AttributeMap,
  type JsonMultiValuedAttribute,
  type MultiValuedAttribute,
} from '@doorman/scim';

const USER_JSON = jsonUserAttributes('u.resource');

/** Filterable User attributes: `u` is `connection_users` (see @doorman/model). Columns win over JSON. */
export const USER_ATTRIBUTES: AttributeMap = Object.freeze({
  ...USER_JSON,
  id: caseExactColumn('u.id'),
  username: lowerCasedColumn('u.user_name_lc'),
  externalid: caseExactColumn('u.external_id'),
  displayname: lowerCasedColumn('u.display_name_lc'),
  'name.givenname': lowerCasedColumn('u.given_name_lc'),
  'name.familyname': lowerCasedColumn('u.family_name_lc'),
  'name.formatted': lowerCasedColumn('u.formatted_name_lc'),
  active: typedColumn('u.active', 'boolean'),
  'meta.created': typedColumn('u.created_at', 'datetime'),
  'meta.lastmodified': typedColumn('u.updated_at', 'datetime'),
  // Every row of this table is a User: a constant, so `meta.resourceType eq "User"` matches all.
  'meta.resourcetype': lowerCasedColumn("'user'"),
  emails: <MultiValuedAttribute>{
    kind: 'multi',
    table: 'connection_user_emails',
    alias: 'e',
    join: 'e.connection_user_id = u.id',
    subAttrs: { value: lowerCasedColumn('e.value_lc'), type: lowerCasedColumn('e.type_lc'), primary: typedColumn('e.is_primary', 'boolean') },
    json: USER_JSON.emails as JsonMultiValuedAttribute,
  },
  [dockerUserKey('dockerrole')]: lowerCasedColumn('u.docker_role_lc'),
  [dockerUserKey('dockerorg')]: lowerCasedColumn('u.docker_org_lc'),
  [dockerUserKey('dockerteam')]: lowerCasedColumn('u.docker_team_lc'),
  [enterpriseUserKey('employeenumber')]: lowerCasedColumn('u.employee_number_lc'),
});

/** The SCIM id of the User row a filter tests, as the attributes other plugins add join on it. */
const USER_ID_COLUMN = 'u.id';

/**
 * USER_ATTRIBUTES plus what other plugins add while registering (`scimUserFiltersRef`): `current()`
 * is read by every list, so an attribute added after scim-users registered is filterable at once.
 * Names must be lower-cased (as filters look them up) and new: a clash is a start-up error.
 */
export function userFilterAttributes(): { filters: ScimUserFilters; current(): AttributeMap } {
  let attributes: AttributeMap = USER_ATTRIBUTES;
  return {
    filters: {
      addAttributes(build) {
        const added = build(USER_ID_COLUMN);
        for (const name of Object.keys(added)) {
          if (name !== name.toLowerCase()) throw new Error(`SCIM User filter attribute "${name}" must be lower-cased`);
          if (name in attributes) throw new Error(`SCIM User filter attribute "${name}" is already defined`);
        }
        attributes = Object.freeze({ ...attributes, ...added });
      },
    },
    current: () => attributes,
  };
}
