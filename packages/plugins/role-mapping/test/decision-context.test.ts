/**
 * What each role-mapping change records as its decision's inputs (src/decision-context.ts,
 * docs/people-and-explain.md): pure, table-driven, through the real policy.
 */
import { describe, expect, it } from 'vitest';
import { decisionContexts } from '../src/decision-context.ts';
import { decideMemberships, type MappingInput } from '../src/policy.ts';

const MOBY = 'o-moby';
const WHALE = 'o-whale';
const input = (o: Partial<MappingInput>): MappingInput => ({
  flow: 'scim',
  firstTime: false,
  connection: { id: 'c1', defaultOrgId: MOBY, defaultTeam: 'everyone' },
  orgs: [
    { id: MOBY, name: 'moby', seatLimit: 50, seatsUsed: 10, ownerCount: 1 },
    { id: WHALE, name: 'whale', seatLimit: null, seatsUsed: 3, ownerCount: 2 },
  ],
  teams: [{ id: 't-everyone', orgId: MOBY, name: 'everyone' }],
  current: { orgs: [], teams: [], grants: [] },
  attributes: {},
  ...o,
});

/** Each change of the decision as `kind(org|team): rule [group]`. */
function explain(i: MappingInput): string[] {
  const decision = decideMemberships(i);
  const ctx = decisionContexts(i, decision);
  return decision.changes
    .filter((c) => c.kind !== 'addGrant' && c.kind !== 'removeGrant')
    .map((c) => {
      const x = ctx(c);
      const what = 'teamName' in c ? c.teamName : 'name' in c ? c.name : c.orgId;
      return `${c.kind}(${what}): ${x.rule}${x.group ? ` [${x.group.name} via ${x.group.via}]` : ''}`;
    });
}

describe('decision context', () => {
  it.each<[string, Partial<MappingInput>, string[]]>([
    ['SCIM, no attributes: the default organization and team', {}, ['addOrgMembership(o-moby): defaultOrganization', 'addTeamMembership(everyone): defaultTeam']],
    ['SCIM, dockerOrg and dockerTeam', { attributes: { dockerOrg: 'whale', dockerTeam: 'ops' } }, ['addOrgMembership(o-whale): dockerOrg', 'createTeam(ops): dockerTeam', 'addTeamMembership(ops): dockerTeam']],
    [
      'SCIM, a role change by dockerRole',
      { attributes: { dockerRole: 'editor' }, current: { orgs: [{ orgId: MOBY, role: 'member', source: 'scim', connectionId: 'c1' }], teams: [{ teamId: 't-everyone', orgId: MOBY, connectionId: 'c1', grantedBy: 'mapping' }], grants: [] } },
      ['changeRole(o-moby): dockerRole'],
    ],
    [
      'SCIM, a group `whale:desktop` through the built-in rule',
      {
        groups: [{ id: 'g1', externalId: null, displayName: 'whale:desktop' }],
        current: { orgs: [{ orgId: MOBY, role: 'member', source: 'scim', connectionId: 'c1' }], teams: [{ teamId: 't-everyone', orgId: MOBY, connectionId: 'c1', grantedBy: 'mapping' }], grants: [] },
      },
      ['addOrgMembership(o-whale): group [whale:desktop via builtin]', 'createTeam(desktop): group [whale:desktop via builtin]', 'addTeamMembership(desktop): group [whale:desktop via builtin]'],
    ],
    [
      'SCIM, a group rule giving owner',
      {
        groups: [{ id: 'g2', externalId: null, displayName: 'Admins' }],
        rules: { builtinOrgTeam: true, rules: [{ id: 'r1', matchBy: 'id', matchValue: 'g2', orgId: MOBY, team: null, role: 'owner' }] },
        current: { orgs: [{ orgId: MOBY, role: 'member', source: 'scim', connectionId: 'c1' }], teams: [{ teamId: 't-everyone', orgId: MOBY, connectionId: 'c1', grantedBy: 'mapping' }], grants: [] },
      },
      ['changeRole(o-moby): groupRole [Admins via r1]'],
    ],
    ['JIT, later sign-in: dockerRole is not used', { flow: 'jit', firstTime: false, attributes: { dockerRole: 'owner' } }, ['addOrgMembership(o-moby): defaultOrganization', 'addTeamMembership(everyone): defaultTeam']],
  ])('%s', (_name, i, expected) => {
    expect(explain(input(i))).toEqual(expected);
  });

  it('records the inputs, the flow and the organization limits the decision read', () => {
    const i = input({ flow: 'jit', firstTime: true, attributes: { dockerRole: 'editor', groups: ['moby:ops'] } });
    const decision = decideMemberships(i);
    const add = decision.changes.find((c) => c.kind === 'addOrgMembership')!;
    expect(decisionContexts(i, decision)(add)).toMatchObject({
      rule: 'defaultOrganization',
      flow: 'jit',
      firstTime: true,
      inputs: { dockerRole: 'editor', dockerOrg: null, dockerTeam: null, groups: ['moby:ops'] },
      org: { id: MOBY, name: 'moby', seatLimit: 50, seatsUsed: 10, ownerCount: 1 },
      mappedRole: 'editor',
      role: 'editor',
    });
  });
});
