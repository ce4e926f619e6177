/**
 * Where each filterable SCIM User attribute lives in this plugin's tables, for the filter and sort
 * compilers of @doorman/scim (pure; they know no table). Trusted text: it comes from code, never
 * from input. The `groups` attribute reads the group membership tables (docs/architecture.md).
 */
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
  groups: <MultiValuedAttribute>{
    kind: 'multi',
    table: 'group_members',
    alias: 'gm',
    join: 'gm.connection_user_id = u.id',
    subAttrs: {
      value: caseExactColumn('gm.group_id'),
      display: lowerCasedColumn('(SELECT sg.display_name_lc FROM scim_groups sg WHERE sg.id = gm.group_id)'),
      type: lowerCasedColumn("'direct'"),
    },
  },
  [dockerUserKey('dockerrole')]: lowerCasedColumn('u.docker_role_lc'),
  [dockerUserKey('dockerorg')]: lowerCasedColumn('u.docker_org_lc'),
  [dockerUserKey('dockerteam')]: lowerCasedColumn('u.docker_team_lc'),
  [enterpriseUserKey('employeenumber')]: lowerCasedColumn('u.employee_number_lc'),
});
