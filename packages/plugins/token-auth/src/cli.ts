import type { CliCommand } from '@doorman/plugin-api';

/** `pnpm doorman <command>`: each maps onto one admin route; positional args fill the path's `:params` in order. */
export const tokenAuthCli: readonly CliCommand[] = [
  {
    command: 'scim-tokens create <connectionId>',
    description: 'Issue a SCIM bearer token for an SSO connection (the secret is printed once)',
    method: 'POST',
    path: '/connections/:connectionId/scim-tokens',
    options: [
      { flag: '--name <name>', field: 'name', description: 'label shown in lists' },
      { flag: '--expires-in-days <days>', field: 'expiresInDays', description: 'expire the token after this many days (default: never)', type: 'number' },
    ],
  },
  {
    command: 'scim-tokens list <connectionId>',
    description: "List an SSO connection's SCIM tokens (metadata only)",
    method: 'GET',
    path: '/connections/:connectionId/scim-tokens',
  },
  {
    command: 'scim-tokens rotate <connectionId> <tokenId>',
    description: 'Issue a replacement token; the old one keeps working until the grace period ends',
    method: 'POST',
    path: '/connections/:connectionId/scim-tokens/:tokenId/rotate',
    options: [
      { flag: '--grace-hours <hours>', field: 'graceHours', description: 'how long the old token keeps working (default 24, 0 = stop now)', type: 'number' },
      { flag: '--name <name>', field: 'name', description: "label of the new token (default: the old token's)" },
      { flag: '--expires-in-days <days>', field: 'expiresInDays', description: 'expire the new token after this many days', type: 'number' },
    ],
  },
  {
    command: 'scim-tokens revoke <connectionId> <tokenId>',
    description: 'Revoke a SCIM token (every replica refuses it within the cache TTL, normally at once)',
    method: 'DELETE',
    path: '/connections/:connectionId/scim-tokens/:tokenId',
  },
  {
    command: 'admin-tokens create',
    description: 'Issue an admin API token (the secret is printed once)',
    method: 'POST',
    path: '/admin-tokens',
    options: [{ flag: '--name <name>', field: 'name', description: 'who or what uses the token' }],
  },
  { command: 'admin-tokens list', description: 'List admin tokens (metadata only)', method: 'GET', path: '/admin-tokens' },
  { command: 'admin-tokens revoke <id>', description: 'Revoke an admin token', method: 'DELETE', path: '/admin-tokens/:id' },
];
