import { definePlugin, type CliCommand } from '@doorman/core';
import { explainPerson } from './explain.ts';
import { renderExplanation } from './explain-render.ts';
import { explainQuery, explanationSchema, searchQuery, searchResult, personSchema } from './schemas.ts';
import { searchPeople } from './search.ts';
import { findPersonId, showPerson } from './show.ts';

export { searchPeople } from './search.ts';
export { showPerson, findPersonId } from './show.ts';
export { explainPerson } from './explain.ts';
export { buildExplanation, type Explanation, type ExplainEvent, type ExplainStep } from './explain-chain.ts';
export { renderExplanation } from './explain-render.ts';
export { explanationSchema } from './schemas.ts';

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
];

/**
 * People: who is this person here, and why? Search across every connection (deactivated people
 * included) and one person's accounts, SCIM states, memberships with provenance, sessions and jobs.
 * Read-only. docs/people-and-explain.md.
 */
export const peoplePlugin = definePlugin({
  id: 'people',
  description: 'People search and detail (SCIM state per connection, memberships with provenance, sessions, jobs)',
  cli: CLI,
  register({ http, db, clock }) {
    http.adminRoute({
      method: 'get',
      path: '/people',
      summary: 'Search people by a prefix of email, username, name, SCIM userName or externalId',
      query: searchQuery,
      responses: { 200: { description: 'a page of people, by email; nextCursor is null on the last page', schema: searchResult } },
      handler: (_ctx, { query }) => searchPeople(db, query),
    });

    http.adminRoute({
      method: 'get',
      path: '/people/:person',
      summary: 'Show one person (by account id, email or username)',
      responses: { 200: { description: 'the account, SCIM state per connection, memberships with provenance, open sessions, unfinished jobs', schema: personSchema } },
      handler: async (_ctx, { params }) => showPerson(db, await findPersonId(db, params.person), clock.now()),
    });

    http.adminRoute({
      method: 'get',
      path: '/people/:person/explain',
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
  },
});
