/**
 * Values the role-mapping policy reads (pure): roles, team names, and the errors for bad ones.
 */
import type { OrgRole } from '@doorman/model';
import { defineError, InputError } from '@doorman/plugin-api';

/** 403: adding the person would exceed the organization's seats. */
export const SeatsExhausted = defineError('DMN_ORG_SEATS_EXHAUSTED', 403);

export const ROLE_VALUES: readonly OrgRole[] = ['member', 'editor', 'owner'];

/**
 * Team names the mapping may create: 1–100 characters, starting with a letter or digit, then
 * letters, digits, space, `.`, `_` or `-` (no `:` so that `organization:team` stays unambiguous).
 * An existing team is matched by name case-insensitively whatever its name looks like.
 */
export const TEAM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$/;
export const TEAM_NAME_RULE =
  "team names are 1-100 characters, start with a letter or digit, and contain only letters, digits, spaces, '.', '_' and '-'";

export function isValidTeamName(name: string): boolean {
  return TEAM_NAME_PATTERN.test(name);
}

/** `dockerRole` → role: trimmed, case-insensitive, unset/empty → `member`; anything else is an InputError. */
export function parseDockerRole(raw: string | null | undefined): OrgRole {
  const value = blankToNull(raw);
  if (value === null) return 'member';
  const role = value.toLowerCase() as OrgRole;
  if (!ROLE_VALUES.includes(role)) {
    throw new InputError(`Invalid dockerRole '${value}': allowed values are ${ROLE_VALUES.join(', ')}.`, {
      scimType: 'invalidValue',
      field: 'dockerRole',
    });
  }
  return role;
}

export const blankToNull = (v: string | null | undefined): string | null => {
  const t = v?.trim();
  return t ? t : null;
};

export function seatCheck(org: { name: string; seatLimit: number | null; seatsUsed: number }): void {
  if (org.seatLimit !== null && org.seatsUsed >= org.seatLimit) {
    throw new SeatsExhausted(`Not enough seats in organization '${org.name}'. Add more seats or contact your administrator.`);
  }
}

export function lastOwnerError(org: { name: string }, what: 'demote' | 'remove', to?: OrgRole): InputError {
  const action =
    what === 'demote' ? `change the role of the last owner of organization '${org.name}' to ${to}` : `remove the last owner of organization '${org.name}'`;
  return new InputError(`Cannot ${action}: an organization must keep at least one owner. Make another member an owner first.`, {
    scimType: 'invalidValue',
    field: what === 'demote' ? 'dockerRole' : 'dockerOrg',
  });
}
