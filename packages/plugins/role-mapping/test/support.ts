/** Fixtures shared by this package's integration tests and bench/ (not exported by the package). */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { coreServices, definePlugin, roleMappingServiceRef, type Actor, type DomainEvent } from '@doorman/plugin-api';
import { startTestGateway } from '@doorman/core/testing';
import {
  ConnectionOrgEntity,
  ConnectionUserEntity,
  recordConnectionUsersChange,
  OrganizationEntity,
  OrgMembershipEntity,
  SsoConnectionEntity,
  TeamEntity,
  TeamMembershipEntity,
  UserEntity,
  type OrgRole,
} from '@doorman/model';
import { roleMappingPlugin } from '../src/index.ts';
import type { RoleMappingServiceImpl } from '../src/service.ts';

/** Records every published domain event (rolled-back ones too: tests that count them avoid retries). */
export function eventRecorder() {
  const events: Array<{ actor: Actor; event: DomainEvent }> = [];
  const plugin = definePlugin({
    id: 'test-events',
    description: 'records domain events for assertions',
    deps: { events: coreServices.events },
    register(env) {
      env.events.subscribe(async (_tx, actor, event) => {
        events.push({ actor, event });
      });
    },
  });
  return { plugin, events, actions: () => events.map((e) => e.event.action), clear: () => void events.splice(0) };
}

/** A gateway with role mapping alone (plus the recorder), and the service as its implementation, for tests that call it directly. */
export async function startRoleMappingGateway(recorder: ReturnType<typeof eventRecorder>) {
  const t = await startTestGateway({ plugins: [roleMappingPlugin, recorder.plugin] });
  return { t, ds: t.gateway.db, service: t.gateway.get(roleMappingServiceRef) as RoleMappingServiceImpl };
}

export interface World {
  moby: string;
  whale: string;
  acme: string;
  everyoneTeam: string;
  /** Serves moby (default, default team "everyone") and whale. */
  c1: string;
  /** Another connection serving moby and acme. */
  c2: string;
}

export async function createOrg(ds: DataSource, name: string, seatLimit: number | null = null): Promise<string> {
  const id = randomUUID();
  await ds.getRepository(OrganizationEntity).insert({ id, name, displayName: null, seatLimit });
  return id;
}

export async function createTeam(ds: DataSource, orgId: string, name: string): Promise<string> {
  const id = randomUUID();
  await ds.getRepository(TeamEntity).insert({ id, orgId, name, nameLc: name.toLowerCase() });
  return id;
}

export async function createConnection(
  ds: DataSource,
  opts: { orgIds: string[]; defaultOrgId: string | null; defaultTeam?: string | null; scimEnabled?: boolean; name?: string },
): Promise<string> {
  const id = randomUUID();
  await ds.getRepository(SsoConnectionEntity).insert({
    id,
    name: opts.name ?? `conn-${id.slice(0, 6)}`,
    type: 'saml',
    defaultOrgId: opts.defaultOrgId,
    defaultTeam: opts.defaultTeam ?? null,
    jitEnabled: true,
    scimEnabled: opts.scimEnabled ?? true,
    idpSettings: {},
    rateLimitPerSecond: null,
  });
  await ds.getRepository(ConnectionOrgEntity).insert(opts.orgIds.map((orgId) => ({ connectionId: id, orgId })));
  return id;
}

/** Unique names per call so tests in one file never collide. */
export async function createWorld(ds: DataSource): Promise<World> {
  const tag = randomUUID().slice(0, 6);
  const moby = await createOrg(ds, `moby-${tag}`);
  const whale = await createOrg(ds, `whale-${tag}`);
  const acme = await createOrg(ds, `acme-${tag}`);
  const everyoneTeam = await createTeam(ds, moby, 'everyone');
  const c1 = await createConnection(ds, { orgIds: [moby, whale], defaultOrgId: moby, defaultTeam: 'everyone' });
  const c2 = await createConnection(ds, { orgIds: [moby, acme], defaultOrgId: acme });
  return { moby, whale, acme, everyoneTeam, c1, c2 };
}

export async function createUser(ds: DataSource, email = `u-${randomUUID().slice(0, 8)}@example.com`): Promise<string> {
  const id = randomUUID();
  await ds.getRepository(UserEntity).insert({ id, email, emailLc: email.toLowerCase(), username: `u${id.replace(/-/g, '').slice(0, 20)}`, fullName: null });
  return id;
}

export async function addMembership(ds: DataSource, m: { orgId: string; userId: string; role: OrgRole; source?: 'scim' | 'jit' | 'manual'; connectionId?: string | null }) {
  await ds.getRepository(OrgMembershipEntity).insert({ id: randomUUID(), source: 'manual', connectionId: null, ...m });
}

export async function addTeamMembership(
  ds: DataSource,
  m: { teamId: string; orgId: string; userId: string; grantedBy?: 'mapping' | 'group' | 'admin'; source?: 'scim' | 'jit' | 'manual'; connectionId?: string | null },
) {
  await ds.getRepository(TeamMembershipEntity).insert({ id: randomUUID(), source: 'manual', connectionId: null, grantedBy: 'admin', ...m });
}

export async function addConnectionUser(
  ds: DataSource,
  u: { connectionId: string; userId: string; active?: boolean; dockerRole?: string | null; dockerOrg?: string | null; dockerTeam?: string | null },
) {
  const userName = `${u.userId}@idp.example.com`;
  await ds.getRepository(ConnectionUserEntity).insert({
    id: randomUUID(),
    connectionId: u.connectionId,
    userId: u.userId,
    userName,
    userNameLc: userName,
    active: u.active ?? true,
    dockerRole: u.dockerRole ?? null,
    dockerRoleLc: u.dockerRole?.toLowerCase() ?? null,
    dockerOrg: u.dockerOrg ?? null,
    dockerOrgLc: u.dockerOrg?.toLowerCase() ?? null,
    dockerTeam: u.dockerTeam ?? null,
    dockerTeamLc: u.dockerTeam?.toLowerCase() ?? null,
    resource: {},
    version: 1,
  });
  await recordConnectionUsersChange(ds.manager, u.connectionId, +1);
}

/** The user's memberships, readable: org and team names instead of ids, sorted. */
export async function membershipsOf(ds: DataSource, userId: string) {
  const orgs: Array<{ org: string; role: OrgRole; source: string; connectionId: string | null }> = await ds.query(
    `SELECT o.name AS org, m.role AS role, m.source AS source, m.connection_id AS connectionId
       FROM org_memberships m JOIN organizations o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY o.name`,
    [userId],
  );
  const teams: Array<{ org: string; team: string; grantedBy: string; source: string; connectionId: string | null }> = await ds.query(
    `SELECT o.name AS org, t.name AS team, tm.granted_by AS grantedBy, tm.source AS source, tm.connection_id AS connectionId
       FROM team_memberships tm JOIN teams t ON t.id = tm.team_id JOIN organizations o ON o.id = tm.org_id
      WHERE tm.user_id = ? ORDER BY o.name, t.name`,
    [userId],
  );
  return { orgs, teams };
}

/** Row counts of the tables the mapping writes, to assert "nothing written". */
export async function rowCounts(ds: DataSource) {
  const [row] = await ds.query(
    `SELECT (SELECT COUNT(*) FROM org_memberships) AS orgMemberships, (SELECT COUNT(*) FROM team_memberships) AS teamMemberships,
            (SELECT COUNT(*) FROM teams) AS teams, (SELECT COUNT(*) FROM outbox) AS outbox`,
  );
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
}

export const TEST_ACTOR: Actor = { type: 'admin_token', id: 'test', requestId: null };
