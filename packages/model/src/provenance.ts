import type { GrantVia, MembershipSource } from './entities.ts';

/**
 * Provenance of a membership: which connection granted it (null = an admin), how, and by what.
 * `via`: scim_attribute (a SCIM User's dockerRole/dockerOrg/dockerTeam/groups attributes, or the
 * connection's defaults, through role mapping), scim_group (a SCIM Group the person is a member of;
 * `ref` = the group's id), jit (role mapping at SSO sign-in), admin. `ref` is free-form so later
 * kinds (a group mapping rule) can name their source. See docs/people-and-explain.md.
 */
export interface Provenance {
  via: GrantVia;
  connectionId: string | null;
  ref: string | null;
}

export const GRANT_VIAS: readonly GrantVia[] = ['scim_attribute', 'scim_group', 'jit', 'admin'];

/** The `grant_via` a role-mapping write records, from its flow and (teams) its grant. */
export function grantViaOf(source: MembershipSource, grantedBy?: 'mapping' | 'group' | 'admin'): GrantVia {
  if (source === 'manual' || grantedBy === 'admin') return 'admin';
  if (source === 'jit') return 'jit';
  return grantedBy === 'group' ? 'scim_group' : 'scim_attribute';
}

/**
 * A membership row's provenance: its recorded `grantVia`/`grantRef`, or, for rows written before
 * provenance was recorded (or by a writer that does not record it), what `source`/`grantedBy` imply.
 */
export function membershipProvenance(row: {
  source: MembershipSource;
  connectionId: string | null;
  grantedBy?: 'mapping' | 'group' | 'admin';
  grantVia?: GrantVia | string | null;
  grantRef?: string | null;
}): Provenance {
  const recorded = GRANT_VIAS.find((v) => v === row.grantVia);
  return { via: recorded ?? grantViaOf(row.source, row.grantedBy), connectionId: row.connectionId, ref: row.grantRef ?? null };
}
