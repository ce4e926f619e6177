import { InputError, NotAllowedError } from '@doorman/plugin-api';
import { C1, MOBY, WHALE, ACME, T_EVERYONE, T_DEV, T_DESK, T_RND, make, owned, manual, otherConn, mappingTeam, groupTeam, adminTeam, addOrg, changeRole, removeOrg, createTeam, addTeam, removeTeam, type Row, SEATS_MOBY, SEATS_WHALE } from './policy-fixture.ts';

export const rows: Row[] = [
  // dockerRole
  {
    name: 'role: unset → member, default org and default team',
    input: make(),
    changes: [addOrg(MOBY, 'member'), addTeam(MOBY, 'everyone', T_EVERYONE)],
    role: 'member',
    effectiveOrgId: MOBY,
  },
  { name: 'role: empty string → member', input: make({ attributes: { dockerRole: '  ' } }), role: 'member', changes: [addOrg(MOBY, 'member'), addTeam(MOBY, 'everyone', T_EVERYONE)] },
  { name: 'role: null → member', input: make({ attributes: { dockerRole: null } }), role: 'member' },
  { name: 'role: case-insensitive and trimmed (" Editor ")', input: make({ attributes: { dockerRole: ' Editor ' } }), changes: [addOrg(MOBY, 'editor'), addTeam(MOBY, 'everyone', T_EVERYONE)], role: 'editor' },
  { name: 'role: OWNER', input: make({ attributes: { dockerRole: 'OWNER' } }), role: 'owner' },
  {
    name: 'role: unknown value → InputError naming the allowed values',
    input: make({ attributes: { dockerRole: 'admin' } }),
    error: { type: InputError, field: 'dockerRole', message: "Invalid dockerRole 'admin': allowed values are member, editor, owner." },
  },

  // dockerOrg
  {
    name: 'org: dockerOrg (case-insensitive) overrides the default org and skips the default team',
    input: make({ attributes: { dockerOrg: ' WHALE ' } }),
    changes: [addOrg(WHALE, 'member')],
    effectiveOrgId: WHALE,
  },
  {
    name: 'org: dockerOrg naming an org the connection does not serve → InputError',
    input: make({ attributes: { dockerOrg: 'acme' } }),
    error: { type: InputError, field: 'dockerOrg', message: /dockerOrg 'acme' is not an organization served by this SSO connection/ },
  },
  {
    name: 'org: no default org and no dockerOrg → InputError',
    input: make({ connection: { defaultOrgId: null } }),
    error: { type: InputError, field: 'dockerOrg', message: 'connection has no default organization; set dockerOrg' },
  },
  {
    name: 'org: no default org but dockerOrg set → fine',
    input: make({ connection: { defaultOrgId: null }, attributes: { dockerOrg: 'moby' } }),
    changes: [addOrg(MOBY, 'member')],
  },
  {
    name: 'org: default org not among the served orgs → InputError',
    input: make({ connection: { defaultOrgId: ACME } }),
    error: { type: InputError, field: 'dockerOrg', message: /not one of the organizations it serves/ },
  },

  // dockerTeam
  {
    name: 'team: dockerOrg + dockerTeam → the team in that org',
    input: make({ attributes: { dockerOrg: 'whale', dockerTeam: 'Desktop' } }),
    changes: [addOrg(WHALE, 'member'), addTeam(WHALE, 'desktop', T_DESK)],
  },
  {
    name: 'team: dockerTeam replaces the default team, matched case-insensitively',
    input: make({ attributes: { dockerTeam: 'DEVELOPERS' } }),
    changes: [addOrg(MOBY, 'member'), addTeam(MOBY, 'developers', T_DEV)],
  },
  {
    name: 'team: a missing team is created first',
    input: make({ attributes: { dockerTeam: 'Platform Eng' } }),
    changes: [addOrg(MOBY, 'member'), createTeam(MOBY, 'Platform Eng'), addTeam(MOBY, 'Platform Eng', null)],
  },
  {
    name: 'team: an existing team is matched even if its name would not be creatable',
    input: make({ attributes: { dockerTeam: 'r&d' } }),
    changes: [addOrg(MOBY, 'member'), addTeam(MOBY, 'R&D', T_RND)],
  },
  {
    name: 'team: invalid name for a new team → InputError',
    input: make({ attributes: { dockerTeam: 'ops:admins' } }),
    error: { type: InputError, field: 'dockerTeam', message: /Invalid dockerTeam 'ops:admins'/ },
  },
  {
    name: 'team: a name over 100 characters → InputError',
    input: make({ attributes: { dockerTeam: 'a'.repeat(101) } }),
    error: { type: InputError, field: 'dockerTeam', message: /Invalid dockerTeam/ },
  },
  {
    name: 'team: no default team configured → org only',
    input: make({ connection: { defaultTeam: null } }),
    changes: [addOrg(MOBY, 'member')],
    effectiveOrgId: MOBY,
  },
  {
    name: 'team: default team missing in the org is created',
    input: make({ connection: { defaultTeam: 'newcomers' } }),
    changes: [addOrg(MOBY, 'member'), createTeam(MOBY, 'newcomers'), addTeam(MOBY, 'newcomers', null)],
  },
  {
    name: 'team: invalid default team that would need creating → InputError (field defaultTeam)',
    input: make({ connection: { defaultTeam: '!!' } }),
    error: { type: InputError, field: 'defaultTeam', message: /Invalid default team '!!'/ },
  },
  {
    name: 'team: user already in the team through an admin grant → nothing to add',
    input: make({ current: { orgs: [owned(MOBY, 'member')], teams: [adminTeam(T_EVERYONE)] } }),
    changes: [],
  },

  // groups
  {
    name: 'groups: org:team adds teams across served orgs, creating missing ones; default team skipped',
    input: make({ attributes: { dockerRole: 'editor', groups: ['moby:backend', 'whale:desktop'] } }),
    changes: [
      addOrg(MOBY, 'editor'),
      addOrg(WHALE, 'member'),
      createTeam(MOBY, 'backend'),
      addTeam(MOBY, 'backend', null, 'group'),
      addTeam(WHALE, 'desktop', T_DESK, 'group'),
    ],
    role: 'editor',
    ignoredGroups: [],
  },
  {
    name: 'groups: malformed, other-tenant and invalid-team groups are ignored and reported; defaults apply',
    input: make({ attributes: { groups: ['developers', 'acme:devs', 'moby:', ':devs', 'moby:bad/name', 'nowhere:x'] } }),
    changes: [addOrg(MOBY, 'member'), addTeam(MOBY, 'everyone', T_EVERYONE)],
    ignoredGroups: ['developers', 'acme:devs', 'moby:', ':devs', 'moby:bad/name', 'nowhere:x'],
  },
  {
    name: 'groups: duplicates (any case) count once',
    input: make({ attributes: { groups: ['moby:Developers', 'MOBY:developers', ' moby : developers '] } }),
    changes: [addOrg(MOBY, 'member'), addTeam(MOBY, 'developers', T_DEV, 'group')],
  },
  {
    name: 'groups: group team equal to dockerTeam is added once (as mapping)',
    input: make({ attributes: { dockerTeam: 'developers', groups: ['moby:developers'] } }),
    changes: [addOrg(MOBY, 'member'), addTeam(MOBY, 'developers', T_DEV, 'mapping')],
  },
  {
    name: 'groups: dockerTeam and groups combine',
    input: make({ attributes: { dockerTeam: 'developers', groups: ['whale:desktop'] } }),
    changes: [addOrg(MOBY, 'member'), addOrg(WHALE, 'member'), addTeam(MOBY, 'developers', T_DEV), addTeam(WHALE, 'desktop', T_DESK, 'group')],
  },
  {
    name: 'groups: SCIM never removes group-granted teams when the group disappears',
    input: make({ current: { orgs: [owned(MOBY, 'member')], teams: [mappingTeam(T_EVERYONE), groupTeam(T_DEV)] }, attributes: { groups: [] } }),
    changes: [],
  },
  {
    name: 'groups: a group in an org the user already belongs to (manually) keeps that role',
    input: make({ current: { orgs: [owned(MOBY, 'member'), manual(WHALE, 'owner')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { groups: ['whale:desktop'] } }),
    changes: [addTeam(WHALE, 'desktop', T_DESK, 'group'), removeTeam(T_EVERYONE)],
  },

  // SCIM updates
  {
    name: 'scim: changed dockerRole changes the role of a membership this connection granted',
    input: make({ current: { orgs: [owned(MOBY, 'member')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerRole: 'owner' } }),
    changes: [changeRole(MOBY, 'member', 'owner')],
    role: 'owner',
  },
  {
    name: 'scim: role change also applies to a JIT-created membership of this connection',
    input: make({ current: { orgs: [owned(MOBY, 'editor', 'jit')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerRole: 'member' } }),
    changes: [changeRole(MOBY, 'editor', 'member')],
  },
  {
    name: 'scim: same attributes again → no changes',
    input: make({ current: { orgs: [owned(MOBY, 'editor')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerRole: 'editor' } }),
    changes: [],
    role: 'editor',
  },
  {
    name: 'manual: an admin-added membership keeps its role (teams may still be added)',
    input: make({ current: { orgs: [manual(MOBY, 'editor')], teams: [] }, attributes: { dockerRole: 'owner' } }),
    changes: [addTeam(MOBY, 'everyone', T_EVERYONE)],
    role: 'editor',
  },
  {
    name: 'manual: source manual with this connection id is not owned either',
    input: make({ current: { orgs: [{ orgId: MOBY, role: 'owner', source: 'manual', connectionId: C1 }], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerRole: 'member' } }),
    changes: [],
    role: 'owner',
  },
  {
    name: 'manual: a membership granted by another connection is not changed',
    input: make({ current: { orgs: [otherConn(MOBY, 'member')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerRole: 'owner' } }),
    changes: [],
    role: 'member',
  },
  {
    name: 'scim: changed dockerOrg moves the membership and drops the old mapping team',
    input: make({ current: { orgs: [owned(MOBY, 'member')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerOrg: 'whale' } }),
    changes: [addOrg(WHALE, 'member'), removeTeam(T_EVERYONE), removeOrg(MOBY)],
    effectiveOrgId: WHALE,
  },
  {
    name: 'scim: org move keeps the old org while an admin-granted team remains there',
    input: make({ current: { orgs: [owned(MOBY, 'member')], teams: [mappingTeam(T_EVERYONE), adminTeam(T_DEV)] }, attributes: { dockerOrg: 'whale' } }),
    changes: [addOrg(WHALE, 'member'), removeTeam(T_EVERYONE)],
  },
  {
    name: 'manual: org move never removes an admin-added membership in the old org',
    input: make({ current: { orgs: [manual(MOBY, 'member')], teams: [adminTeam(T_EVERYONE)] }, attributes: { dockerOrg: 'whale' } }),
    changes: [addOrg(WHALE, 'member')],
  },
  {
    name: 'manual: org move never removes the old org membership of another connection',
    input: make({ current: { orgs: [otherConn(MOBY, 'member')], teams: [] }, attributes: { dockerOrg: 'whale' } }),
    changes: [addOrg(WHALE, 'member')],
  },
  {
    name: 'scim: memberships in orgs the connection no longer serves are left alone',
    input: make({ current: { orgs: [owned(MOBY, 'member'), owned(ACME, 'owner')], teams: [mappingTeam(T_EVERYONE), mappingTeam('t-acme', ACME)] } }),
    changes: [],
  },
  {
    name: 'scim: changed dockerTeam swaps only the mapping-granted team; group/admin/other-connection teams stay',
    input: make({
      current: {
        orgs: [owned(MOBY, 'member')],
        teams: [mappingTeam(T_DEV), groupTeam(T_RND), adminTeam(T_EVERYONE), { teamId: 't-x', orgId: MOBY, connectionId: 'c2', grantedBy: 'mapping' }],
      },
      attributes: { dockerTeam: 'platform' },
    }),
    changes: [createTeam(MOBY, 'platform'), addTeam(MOBY, 'platform', null), removeTeam(T_DEV)],
  },
  {
    name: 'scim: dockerTeam cleared → back to the default team',
    input: make({ current: { orgs: [owned(MOBY, 'member')], teams: [mappingTeam(T_DEV)] }, attributes: { dockerTeam: null } }),
    changes: [addTeam(MOBY, 'everyone', T_EVERYONE), removeTeam(T_DEV)],
  },
  {
    name: 'scim: dockerOrg set to the default org drops the default team the mapping granted',
    input: make({ current: { orgs: [owned(MOBY, 'member')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerOrg: 'moby' } }),
    changes: [removeTeam(T_EVERYONE)],
  },

  // last owner
  {
    name: 'last owner: demoting the only owner → InputError (dockerRole)',
    input: make({ whale: { ownerCount: 1 }, current: { orgs: [owned(WHALE, 'owner')], teams: [] }, attributes: { dockerOrg: 'whale', dockerRole: 'editor' } }),
    error: { type: InputError, field: 'dockerRole', message: /Cannot change the role of the last owner of organization 'whale' to editor/ },
  },
  {
    name: 'last owner: demoting one of two owners is fine',
    input: make({ whale: { ownerCount: 2 }, current: { orgs: [owned(WHALE, 'owner')], teams: [] }, attributes: { dockerOrg: 'whale', dockerRole: 'member' } }),
    changes: [changeRole(WHALE, 'owner', 'member')],
  },
  {
    name: 'last owner: unset dockerRole on the only owner is a demotion too → InputError',
    input: make({ moby: { ownerCount: 1 }, current: { orgs: [owned(MOBY, 'owner')], teams: [mappingTeam(T_EVERYONE)] } }),
    error: { type: InputError, field: 'dockerRole', message: /last owner of organization 'moby'/ },
  },
  {
    name: 'last owner: moving the only owner out of the org → InputError (dockerOrg)',
    input: make({ moby: { ownerCount: 1 }, current: { orgs: [owned(MOBY, 'owner')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerOrg: 'whale', dockerRole: 'owner' } }),
    error: { type: InputError, field: 'dockerOrg', message: /Cannot remove the last owner of organization 'moby'/ },
  },
  {
    name: 'last owner: moving one of two owners is fine',
    input: make({ moby: { ownerCount: 2 }, current: { orgs: [owned(MOBY, 'owner')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerOrg: 'whale', dockerRole: 'owner' } }),
    changes: [addOrg(WHALE, 'owner'), removeTeam(T_EVERYONE), removeOrg(MOBY)],
  },
  {
    name: 'last owner: a manual sole owner is never demoted (no error, no change)',
    input: make({ moby: { ownerCount: 1 }, current: { orgs: [manual(MOBY, 'owner')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerRole: 'member' } }),
    changes: [],
    role: 'owner',
  },

  // seats
  {
    name: 'seats: a new membership in a full org → NotAllowedError',
    input: make({ moby: { seatLimit: 10, seatsUsed: 10 } }),
    error: { type: NotAllowedError, message: SEATS_MOBY },
  },
  {
    name: 'seats: over the limit also refused',
    input: make({ moby: { seatLimit: 10, seatsUsed: 12 } }),
    error: { type: NotAllowedError, message: SEATS_MOBY },
  },
  {
    name: 'seats: one seat left → added',
    input: make({ moby: { seatLimit: 11, seatsUsed: 10 } }),
    changes: [addOrg(MOBY, 'member'), addTeam(MOBY, 'everyone', T_EVERYONE)],
  },
  {
    name: 'seats: an existing member of a full org can still change role',
    input: make({ moby: { seatLimit: 10, seatsUsed: 10 }, current: { orgs: [owned(MOBY, 'member')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerRole: 'editor' } }),
    changes: [changeRole(MOBY, 'member', 'editor')],
  },
  {
    name: 'seats: moving into a full org → NotAllowedError',
    input: make({ whale: { seatLimit: 10, seatsUsed: 10 }, current: { orgs: [owned(MOBY, 'member')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerOrg: 'whale' } }),
    error: { type: NotAllowedError, message: SEATS_WHALE },
  },
  {
    name: 'seats: a group naming a full org → NotAllowedError',
    input: make({ whale: { seatLimit: 10, seatsUsed: 10 }, attributes: { groups: ['whale:desktop'] } }),
    error: { type: NotAllowedError, message: SEATS_WHALE },
  },
  {
    name: 'seats: JIT is subject to seats too',
    input: make({ flow: 'jit', firstTime: true, moby: { seatLimit: 0, seatsUsed: 0 } }),
    error: { type: NotAllowedError, message: SEATS_MOBY },
  },

  // JIT
  {
    name: 'jit first: dockerRole applied when the user is first provisioned',
    input: make({ flow: 'jit', firstTime: true, attributes: { dockerRole: 'owner' } }),
    changes: [addOrg(MOBY, 'owner'), addTeam(MOBY, 'everyone', T_EVERYONE)],
    role: 'owner',
  },
  {
    name: 'jit later: the role is left as it is (no change even if dockerRole differs)',
    input: make({ flow: 'jit', current: { orgs: [owned(MOBY, 'editor', 'jit')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerRole: 'owner' } }),
    changes: [],
    role: 'editor',
    effectiveOrgId: MOBY,
  },
  {
    name: 'jit later: a missing org membership is re-added as member, not with dockerRole',
    input: make({ flow: 'jit', attributes: { dockerRole: 'owner' } }),
    changes: [addOrg(MOBY, 'member'), addTeam(MOBY, 'everyone', T_EVERYONE)],
    role: 'member',
  },
  {
    name: 'jit first: an existing (manual) membership keeps its role and gets no default team',
    input: make({ flow: 'jit', firstTime: true, current: { orgs: [manual(MOBY, 'member')], teams: [] }, attributes: { dockerRole: 'owner' } }),
    changes: [],
    role: 'member',
  },
  {
    name: 'jit later: the default team is not re-added to an existing member',
    input: make({ flow: 'jit', current: { orgs: [owned(MOBY, 'member', 'jit')], teams: [] } }),
    changes: [],
  },
  {
    name: 'jit later: a new dockerTeam is added, the old mapping team is kept',
    input: make({ flow: 'jit', current: { orgs: [owned(MOBY, 'member', 'jit')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerTeam: 'developers' } }),
    changes: [addTeam(MOBY, 'developers', T_DEV)],
  },
  {
    name: 'jit later: a changed dockerOrg adds the new org (as member) and keeps the old one',
    input: make({ flow: 'jit', current: { orgs: [owned(MOBY, 'owner', 'jit')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerOrg: 'whale', dockerRole: 'owner' } }),
    changes: [addOrg(WHALE, 'member')],
    role: 'member',
  },
  {
    name: 'jit later: groups add teams and never remove any',
    input: make({ flow: 'jit', current: { orgs: [owned(MOBY, 'member', 'jit')], teams: [mappingTeam(T_DEV), groupTeam(T_RND)] }, attributes: { groups: ['moby:backend'] } }),
    changes: [createTeam(MOBY, 'backend'), addTeam(MOBY, 'backend', null, 'group')],
  },
  {
    name: 'jit later: the sole owner is never demoted or removed (JIT changes no role)',
    input: make({ flow: 'jit', moby: { ownerCount: 1 }, current: { orgs: [owned(MOBY, 'owner', 'jit')], teams: [mappingTeam(T_EVERYONE)] }, attributes: { dockerOrg: 'whale', dockerRole: 'member' } }),
    changes: [addOrg(WHALE, 'member')],
  },
  {
    name: 'jit: an invalid dockerRole is refused even on later sign-ins',
    input: make({ flow: 'jit', current: { orgs: [owned(MOBY, 'member', 'jit')], teams: [] }, attributes: { dockerRole: 'superuser' } }),
    error: { type: InputError, field: 'dockerRole', message: /allowed values are member, editor, owner/ },
  },
];
