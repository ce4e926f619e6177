import type { EntityManager } from 'typeorm';
import type { DirectoryUser, ScimUserDirectory } from '@doorman/plugin-api';

/** Ids per statement (well under SQLite's bind-variable limit). */
const CHUNK = 1000;

/**
 * scim-users' read-only view of its users for other plugins (`scimUserDirectoryRef`): scim-groups
 * checks member references and names members through it instead of reading `connection_users`.
 */
export function createScimUserDirectory(): ScimUserDirectory {
  return {
    async find(tx: EntityManager, connectionId: string, ids: string[]): Promise<DirectoryUser[]> {
      const out: DirectoryUser[] = [];
      for (let i = 0; i < ids.length; i += CHUNK) {
        const chunk = ids.slice(i, i + CHUNK);
        const rows: Array<{ id: string; userId: string; userName: string; displayName: string | null; active: number | boolean }> = await tx.query(
          `SELECT id, user_id AS userId, user_name AS userName, display_name AS displayName, active FROM connection_users
            WHERE connection_id = ? AND id IN (${chunk.map(() => '?').join(', ')})`,
          [connectionId, ...chunk],
        );
        for (const r of rows) out.push({ id: r.id, userId: r.userId, userName: r.userName, displayName: r.displayName, active: Boolean(Number(r.active)) });
      }
      return out;
    },
  };
}
