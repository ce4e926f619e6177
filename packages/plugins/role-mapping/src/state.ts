/**
 * What the role-mapping service reads: the mapping state of a decision, a person's memberships under
 * lock, seat and owner counts under lock; each in one statement where its locking allows (a UNION
 * ALL of members, union-read.ts).
 *
 * Names (organization, team) come from scalar subqueries. A locking read does not lock the rows a
 * nested subquery reads (MySQL documents this; checked on MariaDB 10.11), whereas a JOIN would lock
 * the organization and team rows FOR UPDATE and hold up everyone else joining them.
 */
import type { EntityManager } from 'typeorm';
import { NotFoundError } from '@doorman/plugin-api';
import type { MembershipSource, OrgRole } from '@doorman/model';
import { parseGroupName, type GroupFact, type GroupRule, type GroupRuleSet } from './group-rules.ts';
import type { CurrentGrant, MappingInput, TeamGrant } from './policy.ts';

export interface OrgMembershipRow {
  id: string;
  orgId: string;
  role: OrgRole;
  source: MembershipSource;
  connectionId: string | null;
  /** null when the organization row is gone or newer than this transaction's snapshot. */
  orgName: string | null;
}

export interface TeamMembershipRow {
  id: string;
  teamId: string;
  orgId: string;
  source: MembershipSource;
  connectionId: string | null;
  grantedBy: TeamGrant;
  /** The team row's name and organization; null when it is newer than this transaction's snapshot. */
  teamName: string | null;
  teamOrgId: string | null;
  orgName: string | null;
}

export interface MappingState {
  connection: MappingInput['connection'];
  orgs: MappingInput['orgs'];
  /** The teams the decision can name or compare (see `loadState`), not every team of the orgs. */
  teams: MappingInput['teams'];
  orgMemberships: OrgMembershipRow[];
  teamMemberships: TeamMembershipRow[];
  /** The user's group grants (every connection's), with row ids. */
  grants: Array<CurrentGrant & { id: string }>;
  /** The connection's group mapping rules. */
  rules: GroupRuleSet;
}
import { byId, locks, member, placeholders, str, unionAll, type Member, type Row } from './union-read.ts';

// ---- The user and their memberships -------------------------------------------------------------

const orgNameOf = (column: string) => `(SELECT o.name FROM organizations o WHERE o.id = ${column})`;

/**
 * The users' rows, then their org and team memberships (with names), as locking reads when `lock`:
 * the user row is the per-person mutex, and the memberships are then current even when the
 * transaction's snapshot is older. Several users (a batch of deactivations) are read by the same
 * members with `IN (…)`: their user rows are locked first, in primary-key order, before any
 * membership, as one user's are.
 */
function userMembers(userIds: string[], lock: boolean): Member[] {
  const l = lock ? 'update' : undefined;
  const of = (column: string) => (userIds.length === 1 ? `${column} = ?` : `${column} IN (${placeholders(userIds.length)})`);
  return [
    member('user', { id: 'u.id', user_id: 'u.id' }, `FROM users u WHERE ${of('u.id')}`, userIds, l),
    member(
      'org_membership',
      { id: 'm.id', user_id: 'm.user_id', org_id: 'm.org_id', org_name: orgNameOf('m.org_id'), role: 'm.role', source: 'm.source', connection_id: 'm.connection_id' },
      `FROM org_memberships m WHERE ${of('m.user_id')}`,
      userIds,
      l,
    ),
    member(
      'team_membership',
      {
        id: 'm.id',
        user_id: 'm.user_id',
        org_id: 'm.org_id',
        team_id: 'm.team_id',
        team_org_id: '(SELECT t.org_id FROM teams t WHERE t.id = m.team_id)',
        name: '(SELECT t.name FROM teams t WHERE t.id = m.team_id)',
        org_name: orgNameOf('m.org_id'),
        source: 'm.source',
        connection_id: 'm.connection_id',
        granted_by: 'm.granted_by',
      },
      `FROM team_memberships m WHERE ${of('m.user_id')}`,
      userIds,
      l,
    ),
    member(
      'grant',
      { id: 'g.id', user_id: 'g.user_id', org_id: 'g.org_id', team_id: 'g.team_id', connection_id: 'g.connection_id', name: 'g.source_ref', role: 'g.role' },
      `FROM membership_grants g WHERE ${of('g.user_id')} AND g.kind = 'group'`,
      userIds,
      l,
    ),
  ];
}

function readMemberships(rows: Row[]) {
  const orgMemberships: OrgMembershipRow[] = [];
  const teamMemberships: TeamMembershipRow[] = [];
  const grants: MappingState['grants'] = [];
  let userFound = false;
  for (const r of rows) {
    if (r.kind === 'user') userFound = true;
    else if (r.kind === 'grant') {
      grants.push({
        id: String(r.id),
        orgId: String(r.org_id),
        teamId: r.team_id === null || r.team_id === '' ? null : String(r.team_id),
        connectionId: str(r.connection_id),
        groupId: String(r.name),
        role: str(r.role) as OrgRole | null,
      });
    }
    else if (r.kind === 'org_membership') {
      orgMemberships.push({
        id: String(r.id),
        orgId: String(r.org_id),
        role: String(r.role) as OrgRole,
        source: String(r.source) as MembershipSource,
        connectionId: str(r.connection_id),
        orgName: str(r.org_name),
      });
    } else if (r.kind === 'team_membership') {
      teamMemberships.push({
        id: String(r.id),
        teamId: String(r.team_id),
        orgId: String(r.org_id),
        source: String(r.source) as MembershipSource,
        connectionId: str(r.connection_id),
        grantedBy: String(r.granted_by) as TeamGrant,
        teamName: str(r.name),
        teamOrgId: str(r.team_org_id),
        orgName: str(r.org_name),
      });
    }
  }
  // The order the indexes on user_id give (and the separate queries gave): by id, teams by org first.
  orgMemberships.sort(byId);
  teamMemberships.sort((a, b) => (a.orgId < b.orgId ? -1 : a.orgId > b.orgId ? 1 : byId(a, b)));
  grants.sort(byId);
  return { userFound, orgMemberships, teamMemberships, grants };
}

export type HeldMemberships = Pick<MappingState, 'orgMemberships' | 'teamMemberships' | 'grants'>;

/**
 * Locks the users' rows (primary-key order) and reads their memberships with locking reads
 * (deactivation, one person or a batch). One statement. Keyed by user id; unknown users are absent.
 */
export async function lockUsersMemberships(tx: EntityManager, userIds: string[]): Promise<Map<string, HeldMemberships>> {
  const held = new Map<string, HeldMemberships>();
  const ids = [...new Set(userIds)].sort();
  if (!ids.length) return held;
  const byUser = new Map<string, Row[]>();
  for (const row of await unionAll(tx, userMembers(ids, true))) {
    const key = String(row.user_id);
    const rows = byUser.get(key) ?? [];
    rows.push(row);
    byUser.set(key, rows);
  }
  for (const [userId, rows] of byUser) {
    const { userFound, orgMemberships, teamMemberships, grants } = readMemberships(rows);
    if (userFound) held.set(userId, { orgMemberships, teamMemberships, grants });
  }
  return held;
}

// ---- The whole mapping state ------------------------------------------------------------------------

const blankToNull = (v: string | null | undefined) => v?.trim() || null;

/**
 * The lower-cased team names the attributes can name (dockerTeam and the teams of `org:team` groups),
 * normalised as the policy does, so the teams looked up are the ones it will look for.
 */
function namedTeams(attributes: MappingInput['attributes'], groups: readonly GroupFact[]): string[] {
  const names = new Set<string>();
  const dockerTeam = blankToNull(attributes.dockerTeam);
  if (dockerTeam) names.add(dockerTeam.toLowerCase());
  for (const group of [...(attributes.groups ?? []), ...groups.map((g) => g.displayName)]) {
    const parsed = parseGroupName(group);
    if (parsed) names.add(parsed.team.toLowerCase());
  }
  return [...names];
}

const teamColumns = { id: 't.id', org_id: 't.org_id', name: 't.name' };
const servedTeams = 'FROM connection_orgs co JOIN teams t ON t.org_id = co.org_id WHERE co.connection_id = ?';

/** A person whose mapping state is read: `userId` null for a person with no account yet. */
export interface StateRequest {
  userId: string | null;
  attributes: MappingInput['attributes'];
  groups?: readonly GroupFact[];
  /** The account was created in this transaction: it holds nothing and is not read (docs/row-ids.md, "Locks"). */
  accountCreated?: boolean;
}

const userKinds = new Set(['user', 'org_membership', 'team_membership', 'grant']);

/**
 * Everything `decideMemberships` needs, in one statement (two in rare cases, below):
 * - with `lock`, the user row FOR UPDATE and the user's memberships with locking reads; NotFound
 *   (field userId) for an unknown user;
 * - the connection (NotFound, field connectionId) and the organizations it serves, with the counts
 *   the policy may need. Counting a large organization's members costs milliseconds, so each count
 *   is made only where it can matter: seats where there is a seat limit, owners where this user is
 *   an owner (the last-owner rule). Elsewhere the count reads 0, which the policy never consults;
 * - of the served organizations' teams, only those the policy can look up: the ones named by
 *   dockerTeam, by groups or by the connection's default team (matched by `name_lc`), and the ones
 *   the user holds. Loading every team of a large organization on every write would be wasted.
 *
 * A second statement is needed only when a team the user holds is newer than the snapshot (the
 * memberships are locking reads, the teams are not), or when SQL cannot lower-case and trim the
 * default team exactly as the policy does (whitespace other than spaces, non-ASCII on SQLite).
 */
export async function loadState(tx: EntityManager, request: StateRequest & { connectionId: string }, lock: boolean): Promise<MappingState> {
  return (await loadStates(tx, request.connectionId, [request], lock))[0]!;
}

/**
 * `loadState` for several people of one connection in the same one statement (a group of SCIM
 * creates, docs/group-commit.md "Creates"): the users' rows and memberships are read by the same
 * members with `IN (…)` (rows locked in primary-key order, as `lockUsersMemberships` does), the
 * connection's organizations, rules and teams once. Each person's state is what `loadState` would
 * read for them alone, except that `teams` may hold more teams of the served organizations (those
 * another person's attributes name): the policy only looks teams up by id or name, so a team it was
 * not asked about changes nothing. States in the order of `requests`.
 */
export async function loadStates(tx: EntityManager, connectionId: string, requests: readonly StateRequest[], lock: boolean): Promise<MappingState[]> {
  const names = [...new Set(requests.flatMap((r) => namedTeams(r.attributes, r.groups ?? [])))];
  // A just-created account holds nothing: reading it would only take gap locks (docs/row-ids.md, "Locks").
  const created = new Set(requests.flatMap((r) => (r.userId !== null && r.accountCreated ? [r.userId] : [])));
  const userIds = [...new Set(requests.flatMap((r) => (r.userId === null || created.has(r.userId) ? [] : [r.userId])))].sort();
  const of = (column: string) => (userIds.length === 1 ? `${column} = ?` : `${column} IN (${placeholders(userIds.length)})`);
  const members = [
    ...(userIds.length ? userMembers(userIds, lock) : []),
    member(
      'connection',
      { id: 'c.id', default_org_id: 'c.default_org_id', default_team: 'c.default_team', default_team_key: 'LOWER(TRIM(c.default_team))' },
      'FROM sso_connections c WHERE c.id = ?',
      [connectionId],
    ),
    member(
      'org',
      {
        id: 'o.id',
        name: 'o.name',
        seat_limit: 'o.seat_limit',
        seats_used: 'CASE WHEN o.seat_limit IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM org_memberships m WHERE m.org_id = o.id) END',
        owner_count: `CASE WHEN EXISTS (SELECT 1 FROM org_memberships mine WHERE mine.org_id = o.id AND ${userIds.length ? of('mine.user_id') : 'mine.user_id = ?'} AND mine.role = 'owner')
                      THEN (SELECT COUNT(*) FROM org_memberships m WHERE m.org_id = o.id AND m.role = 'owner') ELSE 0 END`,
      },
      'FROM connection_orgs co JOIN organizations o ON o.id = co.org_id WHERE co.connection_id = ?',
      [...(userIds.length ? userIds : ['']), connectionId],
    ),
    ...(names.length ? [member('team', teamColumns, `${servedTeams} AND t.name_lc IN (${placeholders(names.length)})`, [connectionId, ...names])] : []),
    member('team', teamColumns, `${servedTeams} AND t.name_lc = (SELECT LOWER(TRIM(c.default_team)) FROM sso_connections c WHERE c.id = ?)`, [connectionId, connectionId]),
    // The rules, the built-in rule's switch, and the teams rules name.
    member(
      'rule',
      { id: 'r.id', org_id: 'r.org_id', source: 'r.match_by', name: 'r.match_value', team_name: 'r.team', role: 'r.role' },
      'FROM group_mapping_rules r WHERE r.connection_id = ?',
      [connectionId],
    ),
    member('rules_settings', { flag: 's.builtin_org_team' }, 'FROM group_mapping_settings s WHERE s.connection_id = ?', [connectionId]),
    member('team', teamColumns, 'FROM group_mapping_rules r JOIN teams t ON t.org_id = r.org_id AND t.name_lc = LOWER(r.team) WHERE r.connection_id = ?', [connectionId]),
    ...(userIds.length
      ? [member('team', teamColumns, `FROM membership_grants g JOIN teams t ON t.id = g.team_id WHERE ${of('g.user_id')} AND g.kind = 'group' AND g.team_id <> ''`, userIds)]
      : []),
  ];
  const rows = await unionAll(tx, members);

  // The rows every person shares, and each person's own (tagged with user_id).
  const shared: Row[] = [];
  const byUser = new Map<string, Row[]>();
  for (const r of rows) {
    if (!userKinds.has(String(r.kind))) shared.push(r);
    else {
      const list = byUser.get(String(r.user_id)) ?? [];
      list.push(r);
      byUser.set(String(r.user_id), list);
    }
  }
  const held = requests.map((request) => {
    const { userFound, ...memberships } = readMemberships(request.userId === null ? [] : (byUser.get(request.userId) ?? []));
    if (request.userId !== null && !userFound && !created.has(request.userId)) throw new NotFoundError(`user '${request.userId}' not found`, { field: 'userId' });
    return memberships;
  });
  const conn = shared.find((r) => r.kind === 'connection');
  if (!conn) throw new NotFoundError(`SSO connection '${connectionId}' not found`, { field: 'connectionId' });
  const rules = readRules(shared);
  const states: MappingState[] = [];
  for (const memberships of held) states.push(await stateOf(tx, connectionId, conn, shared, memberships, rules, lock));
  return states;
}

/** One person's state from the union's shared rows and their memberships (a second statement only in rare cases, above). */
async function stateOf(tx: EntityManager, connectionId: string, conn: Row, shared: Row[], held: HeldMemberships, rules: GroupRuleSet, lock: boolean): Promise<MappingState> {
  const { orgMemberships, teamMemberships, grants } = held;
  const connection = { id: String(conn.id), defaultOrgId: str(conn.default_org_id), defaultTeam: str(conn.default_team) };
  // Each person's own copy: the service may update an organization's counts for one decision.
  const orgs = shared
    .filter((r) => r.kind === 'org')
    .map((r) => ({
      id: String(r.id),
      name: String(r.name),
      seatLimit: r.seat_limit === null ? null : Number(r.seat_limit),
      seatsUsed: Number(r.seats_used),
      ownerCount: Number(r.owner_count),
    }))
    .sort(byId);
  const served = new Set(orgs.map((o) => o.id));

  const teams = new Map<string, MappingInput['teams'][number]>();
  for (const r of shared) if (r.kind === 'team') teams.set(String(r.id), { id: String(r.id), orgId: String(r.org_id), name: String(r.name) });
  for (const m of teamMemberships) {
    if (m.teamName !== null && m.teamOrgId !== null && served.has(m.teamOrgId)) teams.set(m.teamId, { id: m.teamId, orgId: m.teamOrgId, name: m.teamName });
  }

  const defaultKey = blankToNull(connection.defaultTeam)?.toLowerCase() ?? null;
  if (defaultKey !== null && defaultKey !== conn.default_team_key) {
    const found: Array<{ id: string; orgId: string; name: string }> = await tx.query(
      `SELECT t.id AS id, t.org_id AS orgId, t.name AS name ${servedTeams} AND t.name_lc = ?`,
      [connectionId, defaultKey],
    );
    for (const t of found) teams.set(t.id, { id: t.id, orgId: t.orgId, name: t.name });
  }
  // A team the user holds may be newer than this transaction's snapshot (the memberships above are
  // locking reads, the team names are not): fetch it by id with a locking read so it is compared, not ignored.
  const missing = [...new Set(teamMemberships.filter((m) => served.has(m.orgId) && !teams.has(m.teamId)).map((m) => m.teamId))];
  if (missing.length) {
    const found: Array<{ id: string; orgId: string; name: string }> = await tx.query(
      `SELECT id, org_id AS orgId, name FROM teams WHERE id IN (${placeholders(missing.length)})${lock ? locks(tx).forShare : ''}`,
      missing,
    );
    for (const t of found) teams.set(t.id, { id: t.id, orgId: t.orgId, name: t.name });
  }
  return { connection, orgs, teams: [...teams.values()], orgMemberships, teamMemberships, grants, rules: { ...rules, rules: [...rules.rules] } };
}

function readRules(rows: Row[]): GroupRuleSet {
  const settings = rows.find((r) => r.kind === 'rules_settings');
  const rules: GroupRule[] = rows
    .filter((r) => r.kind === 'rule')
    .map((r) => ({
      id: String(r.id),
      matchBy: String(r.source) as GroupRule['matchBy'],
      matchValue: String(r.name),
      orgId: String(r.org_id),
      team: str(r.team_name),
      role: str(r.role) as OrgRole | null,
    }))
    .sort(byId);
  return { builtinOrgTeam: settings ? Number(settings.flag) === 1 || settings.flag === 'true' : true, rules };
}

// ---- Seat and owner counts under lock ------------------------------------------------------------

/**
 * Locks the organization rows (FOR UPDATE, in id order: one union member per id, run in order) and
 * counts members (`seatOrgIds`) and owners (`ownerOrgIds`) with locking reads, so two transactions
 * cannot both take the last seat or both remove one of the last two owners. One statement.
 * On SQLite it only counts.
 */
export async function lockOrgsAndCount(tx: EntityManager, seatOrgIds: string[], ownerOrgIds: string[]) {
  const { mysql } = locks(tx);
  const ids = [...new Set([...seatOrgIds, ...ownerOrgIds])].sort();
  const seats = new Map<string, number>();
  const owners = new Map<string, number>();
  if (!ids.length) return { seats, owners };
  const rows = await unionAll<{ kind: string; org_id: string; n: number | string | null }>(tx, [
    ...(mysql ? ids.map((id) => ({ sql: "SELECT 'lock' AS kind, id AS org_id, NULL AS n FROM organizations WHERE id = ?", params: [id], lock: 'update' as const })) : []),
    ...seatOrgIds.map((id) => ({ sql: "SELECT 'seats' AS kind, ? AS org_id, COUNT(*) AS n FROM org_memberships WHERE org_id = ?", params: [id, id], lock: 'share' as const })),
    ...ownerOrgIds.map((id) => ({
      sql: "SELECT 'owners' AS kind, ? AS org_id, COUNT(*) AS n FROM org_memberships WHERE org_id = ? AND role = 'owner'",
      params: [id, id],
      lock: 'share' as const,
    })),
  ]);
  for (const r of rows) {
    if (r.kind === 'seats') seats.set(r.org_id, Number(r.n));
    if (r.kind === 'owners') owners.set(r.org_id, Number(r.n));
  }
  return { seats, owners };
}
