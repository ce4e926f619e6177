import { EntitySchema } from 'typeorm';

/**
 * A signed-in admin console session. The cookie carries a random id; only its SHA-256 is stored (a
 * database leak yields no usable cookie). `tokenId` is the admin token that opened it (`bootstrap`
 * for the configured one): revoking that token ends its sessions. An organization owner's session
 * (signed in through Doorman's SSO) has `userId` and `ssoSessionId` instead, and ends with that SSO
 * session or the owner role. Idle and absolute limits are enforced on every request (docs/console.md).
 */
export interface ConsoleSession {
  idHash: string;
  tokenId: string | null;
  userId?: string | null;
  ssoSessionId?: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
}
export const ConsoleSessionEntity = new EntitySchema<ConsoleSession>({
  name: 'ConsoleSession',
  tableName: 'console_sessions',
  columns: {
    idHash: { type: 'varchar', length: 64, primary: true, name: 'id_hash' },
    tokenId: { type: 'varchar', length: 36, nullable: true, name: 'token_id' },
    userId: { type: 'varchar', length: 36, nullable: true, name: 'user_id' },
    ssoSessionId: { type: 'varchar', length: 36, nullable: true, name: 'sso_session_id' },
    createdAt: { type: 'datetime', precision: 3, name: 'created_at' },
    lastSeenAt: { type: 'datetime', precision: 3, name: 'last_seen_at' },
    expiresAt: { type: 'datetime', precision: 3, name: 'expires_at' },
    endedAt: { type: 'datetime', precision: 3, nullable: true, name: 'ended_at' },
  },
  indices: [{ name: 'idx_console_sessions_expires', columns: ['expiresAt'] }],
});
