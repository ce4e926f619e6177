import { ownerOrgIds } from '@doorman/core';
import { auditSettingsRef, coreServices, definePlugin, optionalRef, NotFoundError, refusalRecorderRef, ssoSessionServiceRef, type Actor, type CliCommand } from '@doorman/plugin-api';
import { explainPerson } from './explain.ts';
import { renderExplanation } from './explain-render.ts';
import { explainQuery, explanationSchema, searchQuery, searchResult, personSchema } from './schemas.ts';
import { searchPeople } from './search.ts';
import { findPersonId, showPerson } from './show.ts';
import { peopleConfigSchema } from './config.ts';
import { ActivityRecorder } from './activity/recorder.ts';
import { findConnection, listActivity } from './activity/list.ts';
import { purgeActivity } from './activity/retention.ts';
import { activityQuery, activityResult, endSessionsResult } from './activity/schemas.ts';
import { purgeActivityJob } from './jobs.ts';

export { searchPeople } from './search.ts';
export { showPerson, findPersonId } from './show.ts';
export { explainPerson } from './explain.ts';
export { buildExplanation, type Explanation, type ExplainEvent, type ExplainStep } from './explain-chain.ts';
export { renderExplanation } from './explain-render.ts';
export { explanationSchema } from './schemas.ts';
export { admit, ActivityRecorder } from './activity/recorder.ts';
export { afterCursor, decodeActivityCursor, encodeActivityCursor, listActivity } from './activity/list.ts';
export { peopleConfigSchema, type PeopleConfig } from './config.ts';

const DAY_MS = 86_400_000;

const CLI: CliCommand[] = [
  {
    command: 'people search <q>',
    description: 'search people by a prefix of email, username, name, SCIM userName or externalId',
    method: 'GET',
    path: '/people',
    options: [
      { flag: '--limit <n>', field: 'limit', description: 'page size (max 200)', type: 'number' },
      { flag: '--cursor <cursor>', field: 'cursor', description: 'nextCursor of the previous page' },
    ],
  },
  { command: 'people show <person>', description: 'show one person (account id, email or username): SCIM state, memberships with provenance, sessions, jobs', method: 'GET', path: '/people/:person' },
  {
    command: 'explain <person>',
    description: 'why is this person (not) in this organization or team, with this role: the causal chain from the audit trail',
    method: 'GET',
    path: '/people/:person/explain',
    options: [
      { flag: '--org <org>', field: 'org', description: 'organization id or name' },
      { flag: '--team <team>', field: 'team', description: 'team id or name (within --org when given)' },
    ],
    render: renderExplanation,
  },
  { command: 'people end-sessions <person>', description: "end every open SSO session of a person (audited); the next sign-in is not refused", method: 'POST', path: '/people/:person/sessions/end' },
  {
    command: 'connections activity <connectionId>',
    description: 'refused SCIM and SSO requests of a connection (with --outcome all: also the changes it made), newest first',
    method: 'GET',
    path: '/connections/:connectionId/activity',
    options: [
      { flag: '--outcome <outcome>', field: 'outcome', description: 'error (default) or all' },
      { flag: '--limit <n>', field: 'limit', description: 'page size (max 200)', type: 'number' },
      { flag: '--cursor <cursor>', field: 'cursor', description: 'nextCursor of the previous page' },
    ],
  },
];

/**
 * People: who is this person here, and why? Search across every connection (deactivated people
 * included) and one person's accounts, SCIM states, memberships with provenance, sessions and jobs;
 * ending a person's sessions; and each connection's activity log of refused requests, which this
 * plugin owns (`connection_activity`). docs/people-and-explain.md, docs/connection-activity.md.
 */
export const peoplePlugin = definePlugin({
  id: 'people',
  description: 'People search and detail (SCIM state per connection, memberships with provenance, sessions, jobs); connection activity',
  configSchema: peopleConfigSchema,
  cli: CLI,
  provides: [refusalRecorderRef],
  deps: {
    config: coreServices.config,
    logger: coreServices.logger,
    db: coreServices.database,
    transaction: coreServices.transaction,
    http: coreServices.http,
    jobs: coreServices.jobs,
    clock: coreServices.clock,
    provider: coreServices.provider,
    lifecycle: coreServices.lifecycle,
    auditSettings: optionalRef(auditSettingsRef),
    sessions: optionalRef(ssoSessionServiceRef),
  },
  register(env) {
    const { http, db, clock, config, jobs } = env;
    const recorder = new ActivityRecorder(db, env.logger, { perSecond: config.activityPerSecond, maxBuffered: 5000, flushMs: 500 });
    if (config.activityPerSecond > 0) env.provider.provide(refusalRecorderRef, recorder);
    env.lifecycle.onShutdown(() => recorder.flush());

    // Refused requests are kept as long as audit events (AUDIT_RETENTION_DAYS; the audit plugin's default when it is off).
    const retentionDays = () => env.auditSettings()?.retentionDays ?? 365;
    jobs.define({
      ...purgeActivityJob,
      async process(_data, job) {
        const days = retentionDays();
        if (!days) return { deleted: 0 };
        const deleted = await purgeActivity(db, new Date(clock.now().getTime() - days * DAY_MS));
        job.logger.info({ deleted }, 'refused requests past retention deleted');
        return { deleted };
      },
    });
    jobs.schedule(purgeActivityJob.schedule('people-purge-activity', config.activityPurgeCron));

    /** The organizations a person is a member of (none for an unknown person: owners get 404 either way). */
    const personOrgs = async (_ctx: unknown, { params }: { params: Record<string, string> }) => {
      const userId = await findPersonId(db, params.person!).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
      if (!userId) return [];
      const rows: Array<{ orgId: string }> = await db.query('SELECT org_id AS orgId FROM org_memberships WHERE user_id = ?', [userId]);
      return rows.map((r) => r.orgId);
    };

    http.adminRoute({
      method: 'get',
      path: '/people',
      scope: 'filtered',
      summary: 'Search people by a prefix of email, username, name, SCIM userName or externalId',
      query: searchQuery,
      responses: { 200: { description: 'a page of people, by email; nextCursor is null on the last page', schema: searchResult } },
      handler: (ctx, { query }) => searchPeople(db, query, ownerOrgIds(ctx)),
    });

    http.adminRoute({
      method: 'get',
      path: '/people/:person',
      scope: { orgs: personOrgs },
      summary: 'Show one person (by account id, email or username)',
      responses: { 200: { description: 'the account, SCIM state per connection, memberships with provenance, open sessions, unfinished or failed jobs', schema: personSchema } },
      handler: async (_ctx, { params }) => showPerson(db, await findPersonId(db, params.person), clock.now()),
    });

    http.adminRoute({
      method: 'get',
      path: '/people/:person/explain',
      scope: { orgs: personOrgs },
      summary: 'Why is this person (not) in this organization or team, with this role: the causal chain from the audit trail',
      query: explainQuery,
      responses: {
        200: {
          description: 'the memberships now and the chain of audit events behind them (IdP request → role-mapping decision → change → jobs → sessions ended; refusals and deactivations)',
          schema: explanationSchema,
        },
      },
      handler: async (_ctx, { params, query }) => explainPerson(db, await findPersonId(db, params.person), query),
    });

    http.adminRoute({
      method: 'post',
      path: '/people/:person/sessions/end',
      scope: { orgs: personOrgs },
      summary: "End every open SSO session of a person (audited as sso.sessions_ended, reason admin)",
      responses: { 200: { description: 'how many open sessions ended (0 without the jit-provisioning plugin)', schema: endSessionsResult } },
      handler: async (ctx, { params }) => {
        const userId = await findPersonId(db, params.person);
        const sessions = env.sessions();
        if (!sessions) return { sessionsEnded: 0 };
        const actor = ctx.state.actor as Actor;
        return env.transaction((tx) => sessions.endSessions(tx, { userId, actor }));
      },
    });

    http.adminRoute({
      method: 'get',
      path: '/connections/:connectionId/activity',
      scope: { connection: 'connectionId' },
      summary: "A connection's refused SCIM and SSO requests (and, with outcome=all, its accepted changes), newest first",
      query: activityQuery,
      responses: { 200: { description: 'a page of activity; nextCursor is null on the last page', schema: activityResult } },
      handler: async (_ctx, { params, query }) => {
        const connection = await findConnection(db, params.connectionId);
        return { connection, ...(await listActivity(db, connection.id, query)) };
      },
    });
  },
});
