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
