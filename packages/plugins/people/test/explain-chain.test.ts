/**
 * The explain chain builder (src/explain-chain.ts), pure and table-driven: grouping by request and job,
 * ordering (request → decision → changes → sessions), causal links, org/team filters, the "why not" side.
 */
import { describe, expect, it } from 'vitest';
import { buildExplanation, type ExplainEvent, type ExplainInput } from '../src/explain-chain.ts';

const P = 'u-ann';
const OKTA = 'c-okta';
const MOBY = 'o-moby';
const WHALE = 'o-whale';
let seq = 0;
const ev = (action: string, o: Partial<ExplainEvent> = {}): ExplainEvent => {
  seq += 1;
  return {
    id: `e${seq}`,
    seq,
    occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    action,
    orgId: null,
    connectionId: OKTA,
    actorType: 'scim_token',
    actorId: 't1',
    requestId: null,
    jobId: null,
    causeId: null,
    targetType: 'user',
    targetId: P,
    changes: null,
    context: null,
    sealed: true,
    ...o,
  };
};
const ctx = (rule: string, extra: Record<string, unknown> = {}) => ({ rule, flow: 'scim', firstTime: false, inputs: { dockerRole: null, dockerOrg: null, dockerTeam: null, groups: [] }, mappedRole: 'member', role: 'member', ...extra });

/** SCIM create (r1) → group move (r2) → deactivation (r3) → its job → refused sign-in (r4). Mapping events are written before their SCIM event (same request). */
function scenario(): ExplainEvent[] {
  seq = 0;
  const added = ev('member.added', { requestId: 'r1', orgId: MOBY, causeId: 'e4', changes: { role: { after: 'member' } }, context: ctx('defaultOrganization', { org: { id: MOBY, seatLimit: 10, seatsUsed: 3, ownerCount: 1 } }) });
  const team = ev('team_member.added', { requestId: 'r1', orgId: MOBY, causeId: 'e4', changes: { team: { after: 'everyone' }, teamId: { after: 't-every' } }, context: ctx('defaultTeam') });
  const other = ev('member.added', { requestId: 'r1', orgId: WHALE, causeId: 'e4', changes: { role: { after: 'member' } }, context: ctx('dockerOrg') });
  const created = ev('user.created', { id: 'e4', requestId: 'r1', changes: { userName: { after: 'ann@example.com' }, active: { after: true } } });
  const moved = ev('team_member.added', { requestId: 'r2', orgId: MOBY, causeId: 'e6', changes: { team: { after: 'desktop' }, teamId: { after: 't-desk' } }, context: ctx('group', { group: { id: 'g1', name: 'moby:desktop', via: 'builtin' } }) });
  const group = ev('group.members_added', { id: 'e6', requestId: 'r2', targetType: 'group', targetId: 'g1', changes: { count: { after: 1 }, members: { after: ['s1'] } } });
  const ended = ev('sso.sessions_ended', { requestId: 'r3', causeId: 'e8', changes: { sessions: { after: 1 }, scope: { after: 'organization' } } });
  const deact = ev('user.deactivated', { id: 'e8', requestId: 'r3', changes: { active: { before: true, after: false } } });
  const jobEvents = [
    ev('team_member.removed', { actorType: 'system', actorId: null, requestId: 'r3', jobId: 'j1', causeId: 'e8', orgId: MOBY, changes: { team: { before: 'desktop' }, teamId: { before: 't-desk' } } }),
    ev('member.removed', { actorType: 'system', actorId: null, requestId: 'r3', jobId: 'j1', causeId: 'e8', orgId: MOBY, changes: { role: { before: 'member' } } }),
    ev('user.deprovisioned', { actorType: 'system', actorId: null, requestId: 'r3', jobId: 'j1', causeId: 'e8', changes: { memberships: { after: 2 }, sessions: { after: 0 } } }),
  ];
  const refused = ev('sso.sign_in_denied', { actorType: 'system', actorId: null, requestId: 'r4', orgId: MOBY, targetType: 'email', targetId: 'ann@example.com', changes: { reason: { after: 'deactivated' } }, context: { reason: 'deactivated', status: 403, field: null, detail: 'User deactivated' } });
  return [refused, ...jobEvents, deact, ended, group, moved, created, other, team, added]; // any order in
}

const input = (events: ExplainEvent[], filter?: ExplainInput['filter']): ExplainInput => ({
  person: { id: P, email: 'ann@example.com' },
  events,
  memberships: { orgs: [], teams: [] },
  names: { connections: { [OKTA]: 'Okta' }, orgs: { [MOBY]: 'moby', [WHALE]: 'whale' }, teams: { 't-desk': 'desktop', 't-every': 'everyone' } },
  filter,
});
const line = (s: { kind: string; eventId: string; follows: string | null }) => `${s.kind} ${s.eventId}${s.follows ? ` ← ${s.follows}` : ''}`;

describe('buildExplanation', () => {
  it.each<[string, ExplainInput['filter'], string[]]>([
    [
      'no filter: every request and job, request first, then decision, changes, sessions',
      undefined,
      [
        'idp_request e4', 'decision e1 ← e4', 'change e1 ← e4', 'change e2 ← e4', 'change e3 ← e4',
        'idp_request e6', 'decision e5 ← e6', 'change e5 ← e6',
        'deactivation e8', 'sessions_ended e7 ← e8',
        'job e11 ← e8', 'change e9 ← e8', 'change e10 ← e8',
        'refused_sign_in e12',
      ],
    ],
    [
      'org whale (served by Okta): its membership, and the person-level steps of Okta',
      { orgId: WHALE, servingConnections: [OKTA] },
      ['idp_request e4', 'decision e3 ← e4', 'change e3 ← e4', 'idp_request e6', 'deactivation e8', 'sessions_ended e7 ← e8', 'job e11 ← e8', 'refused_sign_in e12'],
    ],
    [
      'team desktop of moby: the group move and its removal by the job',
      { orgId: MOBY, teamId: 't-desk', servingConnections: [OKTA] },
      ['idp_request e4', 'decision e1 ← e4', 'change e1 ← e4', 'idp_request e6', 'decision e5 ← e6', 'change e5 ← e6', 'deactivation e8', 'sessions_ended e7 ← e8', 'job e11 ← e8', 'change e9 ← e8', 'change e10 ← e8', 'refused_sign_in e12'],
    ],
    ['an organization no connection of the person serves: nothing', { orgId: 'o-other', servingConnections: [] }, []],
  ])('%s', (_name, filter, expected) => {
    expect(buildExplanation(input(scenario(), filter)).chain.map(line)).toEqual(expected);
  });

  it('words each step, numbers them, and lists the why-not steps', () => {
    const x = buildExplanation(input(scenario(), { orgId: MOBY, servingConnections: [OKTA] }));
    const text = x.chain.map((s) => `${s.n}. ${s.summary}`);
    expect(text).toContain('1. SCIM: Okta provisioned (request r1)');
    expect(text.find((t) => t.includes('role mapping'))).toMatch(/role mapping \(SCIM\): dockerRole=—, dockerOrg=—, dockerTeam=—; mapped role member; moby: seats 3\/10, owners 1/);
    expect(text).toContain('7. team added: moby/desktop (rule group: group moby:desktop)');
    expect(text.find((t) => t.includes('job j1'))).toMatch(/job j1: removed 2 membership\(s\), ended 0 session\(s\) from Okta/);
    expect(x.whyNot.map((n) => x.chain[n - 1]!.action)).toEqual(['user.deactivated', 'sso.sign_in_denied']);
    expect(x.now.summary).toBe('not in moby');
  });

  it('a sign-in refused for a dockerOrg the connection does not serve adds a not-served step', () => {
    seq = 0;
    const refused = ev('sso.sign_in_denied', { requestId: 'r9', changes: { reason: { after: 'mapping_refused' } }, context: { reason: 'mapping_refused', status: 400, field: 'dockerOrg', detail: "dockerOrg: 'whale' is not served" } });
    const x = buildExplanation(input([refused]));
    expect(x.chain.map(line)).toEqual(['refused_sign_in e1', 'not_served e1 ← e1']);
    expect(x.chain[1]!.summary).toBe('the dockerOrg sent is not an organization Okta serves');
    expect(x.whyNot).toEqual([1, 2]);
  });

  it('old events without causal links still chain by request, and other actions are ignored', () => {
    seq = 0;
    const events = [ev('member.added', { requestId: 'r1', orgId: MOBY, changes: { role: { after: 'owner' } } }), ev('user.created', { requestId: 'r1' }), ev('org.updated', { orgId: MOBY })];
    expect(buildExplanation(input(events)).chain.map(line)).toEqual(['idp_request e2', 'change e1 ← e2']);
  });

  it('the current memberships answer the question', () => {
    const i = input([], { orgId: MOBY });
    i.memberships.orgs.push({ orgId: MOBY, org: 'moby', role: 'editor', provenance: { via: 'scim_group', connectionId: OKTA, ref: 'g1' }, since: '2026-01-01T00:00:00.000Z' });
    expect(buildExplanation(i).now.summary).toBe('in moby as editor, granted by Okta (scim group g1) since 2026-01-01T00:00:00.000Z');
  });
});
