/**
 * Group mapping rules and role precedence, pure and table-driven (docs/role-precedence.md,
 * docs/group-mapping.md): every combination of an explicit dockerRole with the roles groups give,
 * in the person's own organization and in another one, for SCIM and JIT; rule matching; and
 * provenance (removing a group removes only what it granted).
 */
import { describe, expect, it } from 'vitest';
import type { OrgRole } from '@doorman/model';
import { higherRole, resolveGroups, ruleMatches, type GroupFact, type GroupRule, type GroupRuleSet } from '../src/group-rules.ts';
import { decideMemberships, desiredRole, type CurrentGrant, type MappingDecision, type MappingInput, type MembershipChange } from '../src/policy.ts';

const C1 = 'c1';
const MOBY = 'o-moby';
const WHALE = 'o-whale';
const T_EVERYONE = 't-everyone';
const T_DEV = 't-dev';
const T_DESK = 't-desk';
const ORGS = [
  { id: MOBY, name: 'moby', seatLimit: null, seatsUsed: 10, ownerCount: 2 },
  { id: WHALE, name: 'whale', seatLimit: null, seatsUsed: 10, ownerCount: 2 },
];

const group = (id: string, displayName = id, externalId: string | null = null): GroupFact => ({ id, displayName, externalId });
const rule = (id: string, groupId: string, orgId: string, role: OrgRole | null, team: string | null = null): GroupRule => ({ id, matchBy: 'id', matchValue: groupId, orgId, team, role });

function make(o: Partial<Omit<MappingInput, 'current'>> & { current?: Partial<MappingInput['current']> } = {}): MappingInput {
  return {
    flow: 'scim',
    firstTime: false,
    connection: { id: C1, defaultOrgId: MOBY, defaultTeam: 'everyone' },
    orgs: ORGS.map((x) => ({ ...x })),
    teams: [
      { id: T_EVERYONE, orgId: MOBY, name: 'everyone' },
      { id: T_DEV, orgId: MOBY, name: 'developers' },
      { id: T_DESK, orgId: WHALE, name: 'desktop' },
    ],
    attributes: {},
    ...o,
    current: { orgs: [], teams: [], grants: [], ...o.current },
  };
}

/** Applies a decision to the input as the service would, so the next decision sees the result. */
function applied(input: MappingInput, d: MappingDecision): MappingInput {
  const next = structuredClone(input);
  const cur = next.current;
  const teamId = (orgId: string, name: string, id: string | null) => id ?? next.teams.find((t) => t.orgId === orgId && t.name.toLowerCase() === name.toLowerCase())!.id;
  for (const c of d.changes) {
    if (c.kind === 'addOrgMembership') cur.orgs.push({ orgId: c.orgId, role: c.role, source: input.flow, connectionId: C1 });
    if (c.kind === 'changeRole') cur.orgs.find((m) => m.orgId === c.orgId)!.role = c.to;
    if (c.kind === 'removeOrgMembership') cur.orgs = cur.orgs.filter((m) => m.orgId !== c.orgId);
    if (c.kind === 'createTeam') next.teams.push({ id: `new-${c.name}`, orgId: c.orgId, name: c.name });
    if (c.kind === 'addTeamMembership') cur.teams.push({ teamId: teamId(c.orgId, c.teamName, c.teamId), orgId: c.orgId, connectionId: C1, grantedBy: c.grantedBy });
    if (c.kind === 'removeTeamMembership') cur.teams = cur.teams.filter((t) => t.teamId !== c.teamId);
    if (c.kind === 'addGrant') cur.grants!.push({ orgId: c.orgId, teamId: c.teamName === null ? null : teamId(c.orgId, c.teamName, c.teamId), connectionId: C1, groupId: c.groupId, role: c.role });
    if (c.kind === 'removeGrant') cur.grants = cur.grants!.filter((g) => !(g.orgId === c.orgId && g.teamId === c.teamId && g.groupId === c.groupId && g.connectionId === C1));
  }
  return next;
}

const roleIn = (input: MappingInput, orgId: string) => input.current.orgs.find((m) => m.orgId === orgId)?.role;
const kinds = (changes: MembershipChange[]) => changes.map((c) => c.kind);

describe('higherRole and desiredRole', () => {
  const roles: Array<OrgRole | null> = [null, 'member', 'editor', 'owner'];
  const rank = { member: 0, editor: 1, owner: 2 } as const;
  for (const a of roles) {
    for (const b of roles) {
      const expected = a === null ? b : b === null ? a : rank[a] >= rank[b] ? a : b;
      it(`higherRole(${a}, ${b}) = ${expected}`, () => expect(higherRole(a, b)).toBe(expected));
    }
  }
  it.each([
    [null, true, null, 'member'],
    [null, true, 'editor', 'editor'],
    ['member', true, 'owner', 'member'],
    ['owner', true, 'member', 'owner'],
    ['owner', false, null, 'member'],
    ['member', false, 'editor', 'editor'],
  ] as const)('desiredRole(explicit %s, effective org %s, groups %s) = %s', (explicit, effective, groups, expected) => {
    expect(desiredRole(explicit, effective, groups)).toBe(expected);
  });
});

// Every combination: dockerRole × the roles of the person's groups, in moby (their own org) and whale.
const DOCKER_ROLES: Array<string | undefined> = [undefined, 'member', 'editor', 'owner'];
const GROUP_ROLE_SETS: Array<Array<OrgRole | null>> = [[], [null], ['member'], ['editor'], ['owner'], ['member', 'editor'], ['editor', 'owner'], ['member', 'owner'], [null, 'editor'], ['member', 'editor', 'owner']];
const highest = (set: Array<OrgRole | null>) => set.reduce<OrgRole | null>((acc, r) => higherRole(acc, r), null);

describe('role precedence, every combination (SCIM)', () => {
  for (const dockerRole of DOCKER_ROLES) {
    for (const set of GROUP_ROLE_SETS) {
      for (const orgId of [MOBY, WHALE]) {
        const label = `dockerRole=${dockerRole ?? 'unset'}, groups in ${orgId === MOBY ? 'moby (own org)' : 'whale'} give [${set.map((r) => r ?? 'no role').join(', ')}]`;
        it(label, () => {
          const groups = set.map((_, i) => group(`g${i}`));
          const rules: GroupRuleSet = { builtinOrgTeam: true, rules: set.map((r, i) => rule(`r${i}`, `g${i}`, orgId, r)) };
          const input = make({ attributes: { dockerRole }, groups, rules });
          const d = decideMemberships(input);
          const after = applied(input, d);
          const groupRole = highest(set);
          // Own org: an explicit dockerRole wins; otherwise the highest group role; otherwise member.
          const expectedMoby = dockerRole ?? (orgId === MOBY ? (groupRole ?? 'member') : 'member');
          expect(roleIn(after, MOBY)).toBe(expectedMoby);
          expect(d.mappedRole).toBe(expectedMoby);
          // Another org: only the groups speak (dockerRole places a person in one org only).
          expect(roleIn(after, WHALE)).toBe(orgId === WHALE && set.length ? (groupRole ?? 'member') : undefined);
          // Deciding again changes nothing.
          expect(decideMemberships(after).changes).toEqual([]);
        });
      }
    }
  }
});

describe('role precedence when a membership exists', () => {
  const g = [group('g-own'), group('g-ed')];
  const rules: GroupRuleSet = { builtinOrgTeam: true, rules: [rule('r1', 'g-own', MOBY, 'owner'), rule('r2', 'g-ed', MOBY, 'editor')] };
  const cases: Array<{ name: string; current: MappingInput['current']['orgs'][number]; groups: GroupFact[]; dockerRole?: string; flow?: 'scim' | 'jit'; expected: OrgRole; change: boolean }> = [
    { name: 'owned membership follows the highest group role', current: { orgId: MOBY, role: 'member', source: 'scim', connectionId: C1 }, groups: g, expected: 'owner', change: true },
    { name: 'owned membership drops to the remaining group role when the owner group goes', current: { orgId: MOBY, role: 'owner', source: 'scim', connectionId: C1 }, groups: [g[1]!], expected: 'editor', change: true },
    { name: 'owned membership: explicit dockerRole beats a higher group role', current: { orgId: MOBY, role: 'owner', source: 'scim', connectionId: C1 }, groups: g, dockerRole: 'member', expected: 'member', change: true },
    { name: 'admin-added membership keeps its role whatever the groups say', current: { orgId: MOBY, role: 'member', source: 'manual', connectionId: null }, groups: g, expected: 'member', change: false },
    { name: "another connection's membership keeps its role", current: { orgId: MOBY, role: 'editor', source: 'scim', connectionId: 'c2' }, groups: g, expected: 'editor', change: false },
    { name: 'JIT never changes an existing role (Docker: roles do not move back and forth)', current: { orgId: MOBY, role: 'member', source: 'jit', connectionId: C1 }, groups: g, flow: 'jit', expected: 'member', change: false },
  ];
  it.each(cases)('$name', ({ current, groups, dockerRole, flow, expected, change }) => {
    const input = make({ flow: flow ?? 'scim', attributes: { dockerRole }, groups, rules, current: { orgs: [current] } });
    const d = decideMemberships(input);
    expect(d.changes.some((c) => c.kind === 'changeRole')).toBe(change);
    expect(roleIn(applied(input, d), MOBY)).toBe(expected);
  });

  it.each([
    [true, 'owner'],
    [false, 'member'],
  ] as const)('JIT new membership (first time %s): group role %s', (firstTime, expected) => {
    // Name-only groups (SAML claims) matched by a displayName rule.
    const nameRules: GroupRuleSet = { builtinOrgTeam: true, rules: [{ id: 'r', matchBy: 'displayName', matchValue: 'Admins', orgId: WHALE, team: null, role: 'owner' }] };
    const input = make({ flow: 'jit', firstTime, attributes: { groups: ['admins'] }, rules: nameRules });
    expect(roleIn(applied(input, decideMemberships(input)), WHALE)).toBe(expected);
  });
});

describe('rule matching', () => {
  const g = { id: 'gid-1', externalId: 'Obj-ABC', displayName: 'Engineering' };
  it.each([
    ['id', 'gid-1', true],
    ['id', 'GID-1', false],
    ['externalId', 'Obj-ABC', true],
    ['externalId', 'obj-abc', false],
    ['displayName', 'engineering', true],
    ['displayName', ' ENGINEERING ', true],
    ['displayName', 'Engineer', false],
  ] as const)('%s = %j → %s', (matchBy, matchValue, expected) => expect(ruleMatches({ matchBy, matchValue }, g)).toBe(expected));
  it('a name-only group never matches an id or externalId rule', () => {
    expect(ruleMatches({ matchBy: 'id', matchValue: 'x' }, { id: null, externalId: null, displayName: 'x' })).toBe(false);
  });

  it.each([
    ['built-in on: moby:developers → that team', true, [], 'moby:developers', [{ orgId: MOBY, team: 'developers', via: 'builtin' }]],
    ['built-in off: unmapped', false, [], 'moby:developers', []],
    ['an org the connection does not serve: unmapped', true, [], 'acme:developers', []],
    ['a rule and the built-in both map: both targets', true, [{ ...rule('r', 'g', WHALE, 'editor'), matchBy: 'displayName' as const, matchValue: 'moby:developers' }], 'moby:developers', [
      { orgId: MOBY, team: 'developers', via: 'builtin' },
      { orgId: WHALE, team: null, via: 'r' },
    ]],
    ['a rule for an org no longer served grants nothing', true, [rule('r', 'g', 'o-gone', 'owner')], 'Engineering', []],
  ] as const)('%s', (_name, builtin, rules, displayName, expected) => {
    const { targets, unmapped } = resolveGroups([group('g', displayName)], { builtinOrgTeam: builtin, rules: [...rules] }, ORGS);
    expect(targets.map((t) => ({ orgId: t.orgId, team: t.team, via: t.via }))).toEqual(expected);
    expect(unmapped.length).toBe(expected.length ? 0 : 1);
  });
});

describe('provenance: a group removes only what it granted', () => {
  const rules: GroupRuleSet = { builtinOrgTeam: true, rules: [rule('r-dev', 'g-eng', MOBY, null, 'developers'), rule('r-dev2', 'g-all', MOBY, null, 'developers'), rule('r-whale', 'g-w', WHALE, 'editor')] };
  const grant = (groupId: string, orgId: string, teamId: string | null, connectionId = C1, role: OrgRole | null = null): CurrentGrant => ({ groupId, orgId, teamId, connectionId, role });
  const devRow = (grantedBy: 'group' | 'mapping' | 'admin', connectionId: string | null = C1) => ({ teamId: T_DEV, orgId: MOBY, connectionId, grantedBy });
  const ownMoby = { orgId: MOBY, role: 'member' as const, source: 'scim' as const, connectionId: C1 };
  const devGrants = (groupId: string, connectionId = C1) => [grant(groupId, MOBY, null, connectionId), grant(groupId, MOBY, T_DEV, connectionId)];

  const cases: Array<{ name: string; input: MappingInput; removesDev: boolean; removesWhale?: boolean }> = [
    { name: 'the only granting group is left: the team goes', input: make({ rules, groups: [], current: { orgs: [ownMoby], teams: [devRow('group')], grants: devGrants('g-eng') } }), removesDev: true },
    { name: 'another group still grants it: the team stays', input: make({ rules, groups: [group('g-all')], current: { orgs: [ownMoby], teams: [devRow('group')], grants: [...devGrants('g-eng'), ...devGrants('g-all')] } }), removesDev: false },
    { name: "another connection's group still grants it: the team stays", input: make({ rules, groups: [], current: { orgs: [ownMoby], teams: [devRow('group')], grants: [...devGrants('g-eng'), ...devGrants('g-x', 'c2')] } }), removesDev: false },
    { name: 'an admin granted the team: it stays', input: make({ rules, groups: [], current: { orgs: [ownMoby], teams: [devRow('admin', null)], grants: devGrants('g-eng') } }), removesDev: false },
    { name: 'dockerTeam (an attribute) names the team: it stays', input: make({ rules, groups: [], attributes: { dockerTeam: 'developers' }, current: { orgs: [ownMoby], teams: [devRow('group')], grants: devGrants('g-eng') } }), removesDev: false },
    { name: 'a JIT group claim granted it (no SCIM grant): it stays', input: make({ rules, groups: [], current: { orgs: [ownMoby], teams: [devRow('group')], grants: [] } }), removesDev: false },
    {
      name: 'a rule-only organization goes with its group; the own org stays',
      input: make({ rules, groups: [], current: { orgs: [ownMoby, { orgId: WHALE, role: 'editor', source: 'scim', connectionId: C1 }], teams: [], grants: [grant('g-w', WHALE, null, C1, 'editor')] } }),
      removesDev: false,
      removesWhale: true,
    },
    {
      name: "a rule-only organization another connection's group also grants stays",
      input: make({ rules, groups: [], current: { orgs: [ownMoby, { orgId: WHALE, role: 'editor', source: 'scim', connectionId: C1 }], teams: [], grants: [grant('g-w', WHALE, null, C1, 'editor'), grant('g-x', WHALE, null, 'c2')] } }),
      removesDev: false,
      removesWhale: false,
    },
  ];
  it.each(cases)('$name', ({ input, removesDev, removesWhale }) => {
    const d = decideMemberships(input);
    expect(d.changes.some((c) => c.kind === 'removeTeamMembership' && c.teamId === T_DEV)).toBe(removesDev);
    expect(d.changes.some((c) => c.kind === 'removeOrgMembership' && c.orgId === WHALE)).toBe(removesWhale ?? false);
    expect(d.changes.some((c) => c.kind === 'removeOrgMembership' && c.orgId === MOBY)).toBe(false);
    // This connection's grants of groups no longer listed are removed; other connections' never.
    const removedGrants = d.changes.filter((c): c is Extract<MembershipChange, { kind: 'removeGrant' }> => c.kind === 'removeGrant');
    expect(removedGrants.every((c) => input.current.grants!.some((g) => g.groupId === c.groupId && g.connectionId === C1))).toBe(true);
    expect(decideMemberships(applied(input, d)).changes).toEqual([]);
  });

  it('joining records a grant per target; a changed rule role replaces the org grant', () => {
    const input = make({ rules, groups: [group('g-eng'), group('g-w')] });
    const d = decideMemberships(input);
    expect(d.changes.filter((c) => c.kind === 'addGrant').map((c) => [c.orgId, (c as { teamName: string | null }).teamName, (c as { groupId: string }).groupId])).toEqual([
      [MOBY, null, 'g-eng'],
      [MOBY, 'developers', 'g-eng'],
      [WHALE, null, 'g-w'],
    ]);
    const after = applied(input, d);
    const promoted = { ...after, rules: { ...rules, rules: rules.rules.map((r) => (r.id === 'r-whale' ? { ...r, role: 'owner' as const } : r)) } };
    const d2 = decideMemberships(promoted);
    expect(kinds(d2.changes)).toEqual(['changeRole', 'removeGrant', 'addGrant']);
    expect(roleIn(applied(promoted, d2), WHALE)).toBe('owner');
  });

  it('JIT never removes grants or memberships', () => {
    const input = make({ flow: 'jit', rules, groups: [], current: { orgs: [ownMoby], teams: [devRow('group')], grants: devGrants('g-eng') } });
    expect(decideMemberships(input).changes.filter((c) => c.kind.startsWith('remove'))).toEqual([]);
  });

  it('SCIM groups add teams beside the default team; group claims (JIT) replace it', () => {
    const scim = decideMemberships(make({ rules, groups: [group('g-eng')] }));
    expect(scim.team).toBe('everyone');
    const jit = decideMemberships(make({ flow: 'jit', firstTime: true, attributes: { groups: ['moby:developers'] } }));
    expect(jit.team).toBe(null);
  });
});
