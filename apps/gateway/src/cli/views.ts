import type { FormatOptions } from './format.ts';

/**
 * Per-command table columns where the generic choice (every non-empty column) would be too wide to
 * read; every other command uses the generic rendering (cli/format.ts). Keyed by the command without
 * its arguments, e.g. `people show`.
 */
export const CLI_VIEWS: Record<string, FormatOptions> = {
  'connections activity': {
    columns: { items: ['at', 'outcome', 'status', 'scimType', 'code', 'method', 'route', 'action', 'detail', 'requestId'] },
    maxCell: 60,
  },
  'people show': {
    columns: {
      connections: ['connectionName', 'state', 'userName', 'externalId', 'lastIdpRequestAt', 'connectionId'],
      organizations: ['org', 'role', 'provenance.via', 'provenance.connectionId', 'since'],
      teams: ['org', 'team', 'provenance.via', 'provenance.ref', 'since'],
      sessions: ['id', 'connectionId', 'createdAt', 'expiresAt'],
      jobs: ['state', 'queue', 'name', 'attempts', 'lastError', 'createdAt'],
    },
  },
  'people search': { columns: { people: ['email', 'username', 'fullName', 'id', 'createdAt'] } },
};

/** `people show <person>` → `people show`. */
export const viewKey = (command: string) => command.replace(/\s*[<[].*$/, '').trim();
