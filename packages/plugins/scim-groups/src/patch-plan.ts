import { InputError } from '@doorman/plugin-api';
import { normalizePatchRequest, parseAttrPath, resourceSchemaFor } from '@doorman/scim';
import { readDisplayName, readMemberRefs } from './group-resource.ts';

/**
 * Turns a Group PATCH body into steps the store applies in order (pure). Member steps are applied
 * as set operations in SQL, never by rewriting a loaded member list: that is what keeps a one-member
 * change on a 10,000-member group as cheap as on a 10-member one.
 *
 * Dialects covered (after @doorman/scim's normalizer: capitalised ops, path-less values, lone objects):
 * - `add` `members` with a list (Okta, Entra);
 * - `remove` `members[value eq "<id>"]` (Okta; any filter on `value`);
 * - `remove` `members` with a `value` list (Entra): removes only those;
 * - `remove` `members` without a value: removes every member (RFC 7644 §3.5.2.2);
 * - `replace` `members` (the whole list), `replace` `displayName` (renames the team), `externalId`;
 * - Okta's path-less `replace` echoing `id` (accepted when it is unchanged).
 */
export type PatchStep =
  | { kind: 'displayName'; value: string }
  | { kind: 'externalId'; value: string | null }
  | { kind: 'addMembers'; ids: string[] }
  | { kind: 'removeMembers'; ids: string[] }
  | { kind: 'removeMembersWhere'; filter: string }
  | { kind: 'replaceMembers'; ids: string[] };

const GROUP = resourceSchemaFor('Group');

export function planGroupPatch(body: unknown, groupId: string): PatchStep[] {
  const { Operations } = normalizePatchRequest(body, { schema: 'Group' });
  const steps: PatchStep[] = [];
  for (const op of Operations) {
    const p = parseAttrPath(op.path!, GROUP, 'invalidPath');
    if (p.urn !== undefined) continue; // Group has no extensions; nothing to keep
    const attr = (p.attr ?? '').toLowerCase();
    const hasValue = 'value' in op && op.value !== undefined;
    switch (attr) {
      case 'members': {
        if (p.sub !== undefined) throw new InputError(`"${op.path}": member sub-attributes cannot be changed; add or remove the member`, { scimType: 'invalidPath', field: 'path' });
        if (p.filter !== undefined) {
          if (op.op !== 'remove') throw new InputError(`"${op.path}": a value filter selects members to remove; add members with path "members"`, { scimType: 'invalidPath', field: 'path' });
          steps.push({ kind: 'removeMembersWhere', filter: p.filter });
        } else if (op.op === 'add') {
          steps.push({ kind: 'addMembers', ids: readMemberRefs(op.value, 'value') });
        } else if (op.op === 'replace') {
          steps.push({ kind: 'replaceMembers', ids: readMemberRefs(op.value, 'value') });
        } else if (hasValue) {
          steps.push({ kind: 'removeMembers', ids: readMemberRefs(op.value, 'value') });
        } else {
          steps.push({ kind: 'replaceMembers', ids: [] });
        }
        break;
      }
      case 'displayname': {
        if (p.filter !== undefined || p.sub !== undefined) throw new InputError(`"${op.path}" is not a valid path`, { scimType: 'invalidPath', field: 'path' });
        if (op.op === 'remove') throw new InputError('displayName is required and cannot be removed', { scimType: 'invalidValue', field: 'displayName' });
        steps.push({ kind: 'displayName', value: readDisplayName(op.value) });
        break;
      }
      case 'externalid': {
        if (op.op === 'remove' || op.value === null || op.value === '') {
          steps.push({ kind: 'externalId', value: null });
          break;
        }
        if (typeof op.value !== 'string' || op.value.length > 255) throw new InputError('externalId must be a string of at most 255 characters', { scimType: 'invalidValue', field: 'externalId' });
        steps.push({ kind: 'externalId', value: op.value });
        break;
      }
      case 'id': {
        if (op.op === 'remove' || op.value !== groupId) throw new InputError('"id" is read-only', { scimType: 'mutability', field: 'id' });
        break;
      }
      default:
        // meta, schemas and attributes Doorman does not model: accepted, not kept (as on POST/PUT).
        break;
    }
  }
  return steps;
}
