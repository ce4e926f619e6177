import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `console_sessions` of organization owners signed in through Doorman's SSO (docs/console.md,
 * "Organization owners"): such a session has `user_id` and the `sso_session_id` it came from, and no
 * `token_id`; it ends when that SSO session or the person's owner role ends.
 */
export class ConsoleOwnerSessions1733034000000 implements MigrationInterface {
  name = 'ConsoleOwnerSessions1733034000000';

  async up(q: QueryRunner): Promise<void> {
    await q.changeColumn('console_sessions', 'token_id', new TableColumn({ name: 'token_id', type: 'varchar', length: '36', isNullable: true }));
    await q.addColumns('console_sessions', [
      new TableColumn({ name: 'user_id', type: 'varchar', length: '36', isNullable: true }),
      new TableColumn({ name: 'sso_session_id', type: 'varchar', length: '36', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DELETE FROM console_sessions WHERE token_id IS NULL');
    await q.dropColumn('console_sessions', 'sso_session_id');
    await q.dropColumn('console_sessions', 'user_id');
    await q.changeColumn('console_sessions', 'token_id', new TableColumn({ name: 'token_id', type: 'varchar', length: '36' }));
  }
}
