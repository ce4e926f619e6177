/**
 * Where each filterable SCIM Group attribute lives in this plugin's tables, for the filter and sort
 * compilers of @doorman/scim (pure; they know no table). Trusted text: it comes from code, never from input.
 */
import { caseExactColumn, lowerCasedColumn, typedColumn, type AttributeMap } from '@doorman/scim';

/** Filterable Group attributes: `g` is `scim_groups`. */
export const GROUP_ATTRIBUTES: AttributeMap = Object.freeze({
  id: caseExactColumn('g.id'),
  displayname: lowerCasedColumn('g.display_name_lc'),
  externalid: caseExactColumn('g.external_id'),
  'meta.created': typedColumn('g.created_at', 'datetime'),
  'meta.lastmodified': typedColumn('g.updated_at', 'datetime'),
  'meta.resourcetype': lowerCasedColumn("'group'"),
  members: {
    kind: 'multi',
    table: 'group_members',
    alias: 'm',
    join: 'm.group_id = g.id',
    subAttrs: { value: caseExactColumn('m.connection_user_id') },
  },
});

/**
 * The User attribute `groups` (RFC 7643 §4.1.2: the groups a user belongs to, read-only) over this
 * plugin's tables, contributed to scim-users' filters through `scimUserFiltersRef`: scim-users names
 * none of these tables, and without this plugin a filter on `groups` is an unknown attribute.
 * `userId` is the SQL expression of the filtered User's SCIM id.
 */
export const userGroupsAttributes = (userId: string): AttributeMap =>
  Object.freeze({
    groups: {
      kind: 'multi',
      table: 'group_members',
      alias: 'gm',
      join: `gm.connection_user_id = ${userId}`,
      subAttrs: {
        value: caseExactColumn('gm.group_id'),
        display: lowerCasedColumn('(SELECT sg.display_name_lc FROM scim_groups sg WHERE sg.id = gm.group_id)'),
        type: lowerCasedColumn("'direct'"),
      },
    },
  });
