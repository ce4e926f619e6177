import { definePlugin, type CliCommand } from '@doorman/core';
import { searchQuery, searchResult, personSchema } from './schemas.ts';
import { searchPeople } from './search.ts';
import { findPersonId, showPerson } from './show.ts';

export { searchPeople } from './search.ts';
export { showPerson, findPersonId } from './show.ts';

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
  },
});
