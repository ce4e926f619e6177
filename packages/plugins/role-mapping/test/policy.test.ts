import { describe, expect, it } from 'vitest';
import { InputError } from '@doorman/plugin-api';
import { decideMemberships, isValidTeamName, parseDockerRole, parseGroupName, type MappingDecision, type MappingInput } from '../src/policy.ts';
import { MOBY, WHALE, T_DEV, T_DESK, make, owned, mappingTeam, addOrg, changeRole, removeOrg, addTeam, removeTeam, apply } from './policy-fixture.ts';
import { rows } from './policy-rows.ts';

function decide(input: MappingInput): MappingDecision {
  return decideMemberships(structuredClone(input));
}

describe('decideMemberships', () => {
  it.each(rows.map((r) => [r.name, r] as const))('%s', (_name, row) => {
    if (row.error) {
      let thrown: unknown;
      try {
        decide(row.input);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(row.error.type);
      const err = thrown as InputError;
      if (typeof row.error.message === 'string') expect(err.message).toBe(row.error.message);
      else expect(err.message).toMatch(row.error.message);
      if (row.error.type === InputError) expect(err.scimType).toBe('invalidValue');
      expect(err.field).toBe(row.error.field);
      return;
    }
    const decision = decide(row.input);
    if (row.changes) expect(decision.changes).toEqual(row.changes);
    if (row.role) expect(decision.role).toBe(row.role);
    if (row.effectiveOrgId) expect(decision.effectiveOrgId).toBe(row.effectiveOrgId);
    if (row.ignoredGroups) expect(decision.ignoredGroups).toEqual(row.ignoredGroups);
  });

  it.each(rows.filter((r) => !r.error).map((r) => [r.name, r] as const))('idempotent: %s', (_name, row) => {
    const first = decide(row.input);
    const after = apply(row.input, first);
    const second = decide(after);
    expect(second.changes).toEqual([]);
    expect(second.role).toBe(first.role);
    expect(second.effectiveOrgId).toBe(first.effectiveOrgId);
    // And a third time, for good measure.
    expect(decide(apply(after, second)).changes).toEqual([]);
  });

  it('is pure: does not mutate its input', () => {
    const input = make({ current: { orgs: [owned(MOBY, 'member')], teams: [mappingTeam(T_DEV)] }, attributes: { dockerOrg: 'whale', groups: ['moby:x'] } });
    const copy = structuredClone(input);
    decideMemberships(input);
    expect(input).toEqual(copy);
  });
});

describe('sequences', () => {
  it('SCIM then JIT keeps the SCIM role (roles do not move back and forth)', () => {
    // JIT first provisions as member, SCIM raises to editor, the next sign-in leaves editor.
    const jit1 = make({ flow: 'jit', firstTime: true, attributes: { dockerRole: 'member' } });
    const d1 = decide(jit1);
    expect(d1.role).toBe('member');
    const scim = { ...apply(jit1, d1), flow: 'scim' as const, attributes: { dockerRole: 'editor' } };
    const d2 = decide(scim);
    expect(d2.changes).toEqual([changeRole(MOBY, 'member', 'editor')]);
    const jit2 = { ...apply(scim, d2), flow: 'jit' as const, attributes: { dockerRole: 'member' } };
    const d3 = decide(jit2);
    expect(d3.changes).toEqual([]);
    expect(d3.role).toBe('editor');
  });

  it('SCIM create, then JIT first sign-in does not overwrite the SCIM role', () => {
    const scim = make({ attributes: { dockerRole: 'owner' } });
    const d1 = decide(scim);
    const jit = { ...apply(scim, d1), flow: 'jit' as const, firstTime: true, attributes: { dockerRole: 'member' } };
    const d2 = decide(jit);
    expect(d2.changes).toEqual([]);
    expect(d2.role).toBe('owner');
  });

  it('SCIM org move there and back is reversible and idempotent', () => {
    let state = make({ attributes: { dockerRole: 'editor', dockerTeam: 'developers' } });
    state = apply(state, decide(state));
    state = { ...state, attributes: { dockerRole: 'editor', dockerOrg: 'whale', dockerTeam: 'desktop' } };
    const there = decide(state);
    expect(there.changes).toEqual([addOrg(WHALE, 'editor'), addTeam(WHALE, 'desktop', T_DESK), removeTeam(T_DEV), removeOrg(MOBY)]);
    state = apply(state, there);
    state = { ...state, attributes: { dockerRole: 'editor', dockerTeam: 'developers' } };
    const back = decide(state);
    expect(back.changes).toEqual([addOrg(MOBY, 'editor'), addTeam(MOBY, 'developers', T_DEV), removeTeam(T_DESK, WHALE), removeOrg(WHALE)]);
    state = apply(state, back);
    expect(decide(state).changes).toEqual([]);
  });
});

describe('helpers', () => {
  it.each([
    [undefined, 'member'],
    [null, 'member'],
    ['', 'member'],
    ['member', 'member'],
    ['Editor', 'editor'],
    [' owner ', 'owner'],
  ] as const)('parseDockerRole(%j) = %s', (raw, role) => {
    expect(parseDockerRole(raw)).toBe(role);
  });

  it.each(['admin', 'owners', 'Owner!', 'My Corp Admins'])('parseDockerRole(%j) throws', (raw) => {
    expect(() => parseDockerRole(raw)).toThrow(InputError);
  });

  it.each([
    ['moby:developers', { org: 'moby', team: 'developers' }],
    [' moby : dev team ', { org: 'moby', team: 'dev team' }],
    ['moby:a:b', { org: 'moby', team: 'a:b' }],
    ['moby', null],
    ['moby:', null],
    [':dev', null],
  ] as const)('parseGroupName(%j)', (group, parsed) => {
    expect(parseGroupName(group)).toEqual(parsed);
  });

  it.each([
    ['developers', true],
    ['Dev Team 2', true],
    ['a', true],
    ['a.b_c-d', true],
    ['a'.repeat(100), true],
    ['a'.repeat(101), false],
    ['', false],
    [' lead', false],
    ['-lead', false],
    ['ops:admins', false],
    ['R&D', false],
  ] as const)('isValidTeamName(%j) = %s', (name, ok) => {
    expect(isValidTeamName(name)).toBe(ok);
  });
});
