import type { MigrationInterface, QueryRunner, TableColumnOptions } from 'typeorm';
import { migrationHelpers } from './columns.ts';

/**
 * The initial schema, written once against TypeORM's dialect-neutral Table API so the same migration
 * runs on MySQL/MariaDB and on the embedded SQLite default.
 */
export class Initial1732800000000 implements MigrationInterface {
  name = 'Initial1732800000000';

  async up(q: QueryRunner): Promise<void> {
    const { mysql, text, uuid, pk, time, table, idx } = migrationHelpers(q);
    const bool = (name: string): TableColumnOptions => ({ name, type: 'boolean', isNullable: false });
    const int = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'int', isNullable: nullable });
    const json = (name: string, nullable = false): TableColumnOptions => ({
      name,
      type: mysql ? 'longtext' : 'text',
      isNullable: nullable,
    });
    const seq = (): TableColumnOptions => ({
      name: 'seq',
      type: mysql ? 'bigint' : 'integer',
      isPrimary: true,
      isGenerated: true,
      generationStrategy: 'increment',
    });

    await table('organizations', [pk(), text('name'), text('display_name', 255, true), int('seat_limit', true), time('created_at'), time('updated_at')], [
      idx('uq_organizations_name', ['name'], true),
    ]);
    await table('teams', [pk(), uuid('org_id'), text('name'), text('name_lc'), time('created_at')], [
      idx('uq_teams_org_name', ['org_id', 'name_lc'], true),
    ]);
    await table('users', [pk(), text('email', 320), text('email_lc', 320), text('username', 64), text('full_name', 255, true), time('created_at'), time('updated_at')], [
      idx('uq_users_email', ['email_lc'], true),
      idx('uq_users_username', ['username'], true),
    ]);
    await table(
      'org_memberships',
      [pk(), uuid('org_id'), uuid('user_id'), text('role', 16), text('source', 16), uuid('connection_id', true), time('created_at'), time('updated_at')],
      [idx('uq_org_memberships', ['org_id', 'user_id'], true), idx('ix_org_memberships_user', ['user_id']), idx('ix_org_memberships_role', ['org_id', 'role'])],
    );
    await table(
      'team_memberships',
      [pk(), uuid('team_id'), uuid('org_id'), uuid('user_id'), text('source', 16), uuid('connection_id', true), text('granted_by', 16), time('created_at')],
      [idx('uq_team_memberships', ['team_id', 'user_id'], true), idx('ix_team_memberships_user', ['user_id', 'org_id'])],
    );
    await table('sso_connections', [
      pk(),
      text('name'),
      text('type', 8),
      uuid('default_org_id', true),
      text('default_team', 255, true),
      bool('jit_enabled'),
      bool('scim_enabled'),
      json('idp_settings'),
      int('rate_limit_per_second', true),
      time('created_at'),
      time('updated_at'),
    ]);
    await table('connection_orgs', [{ ...uuid('connection_id'), isPrimary: true }, { ...uuid('org_id'), isPrimary: true }], [
      idx('ix_connection_orgs_org', ['org_id']),
    ]);
    await table('connection_domains', [pk(), uuid('connection_id'), text('domain'), bool('verified'), time('created_at')], [
      idx('uq_connection_domains', ['connection_id', 'domain'], true),
      idx('ix_connection_domains_domain', ['domain']),
    ]);
    await table(
      'scim_tokens',
      [pk(), uuid('connection_id'), text('name', 255, true), text('prefix', 64, false, true), text('hash', 64, false, true), time('created_at'), time('last_used_at', true), time('expires_at', true), time('revoked_at', true)],
      [idx('uq_scim_tokens_hash', ['hash'], true), idx('ix_scim_tokens_connection', ['connection_id'])],
    );
    await table(
      'admin_tokens',
      [pk(), text('name'), text('prefix', 64, false, true), text('hash', 64, false, true), time('created_at'), time('last_used_at', true), time('revoked_at', true)],
      [idx('uq_admin_tokens_hash', ['hash'], true)],
    );
    await table(
      'connection_users',
      [
        pk(),
        uuid('connection_id'),
        uuid('user_id'),
        text('user_name', 320),
        text('user_name_lc', 320),
        text('external_id', 255, true, true),
        text('display_name', 255, true),
        text('display_name_lc', 255, true),
        text('given_name', 255, true),
        text('given_name_lc', 255, true),
        text('family_name', 255, true),
        text('family_name_lc', 255, true),
        text('formatted_name', 255, true),
        text('formatted_name_lc', 255, true),
        bool('active'),
        text('docker_role', 64, true),
        text('docker_role_lc', 64, true),
        text('docker_org', 255, true),
        text('docker_org_lc', 255, true),
        text('docker_team', 255, true),
        text('docker_team_lc', 255, true),
        text('employee_number_lc', 255, true),
        json('resource'),
        int('version'),
        time('created_at'),
        time('updated_at'),
      ],
      [
        idx('uq_connection_users_user_name', ['connection_id', 'user_name_lc'], true),
        idx('uq_connection_users_account', ['connection_id', 'user_id'], true),
        idx('ix_connection_users_external_id', ['connection_id', 'external_id']),
        idx('ix_connection_users_display_name', ['connection_id', 'display_name_lc']),
        idx('ix_connection_users_created', ['connection_id', 'created_at']),
        idx('ix_connection_users_user', ['user_id']),
      ],
    );
    await table(
      'connection_user_emails',
      [pk(), uuid('connection_user_id'), text('value', 320), text('value_lc', 320), text('type', 64, true), text('type_lc', 64, true), bool('is_primary')],
      [idx('ix_connection_user_emails_user', ['connection_user_id']), idx('ix_connection_user_emails_value', ['value_lc'])],
    );
    await table(
      'scim_groups',
      [pk(), uuid('connection_id'), text('display_name'), text('display_name_lc'), text('external_id', 255, true, true), uuid('org_id'), uuid('team_id'), int('version'), time('created_at'), time('updated_at')],
      [idx('uq_scim_groups_name', ['connection_id', 'display_name_lc'], true), idx('ix_scim_groups_external_id', ['connection_id', 'external_id'])],
    );
    await table('group_members', [{ ...uuid('group_id'), isPrimary: true }, { ...uuid('connection_user_id'), isPrimary: true }], [
      idx('ix_group_members_user', ['connection_user_id']),
    ]);
    await table(
      'audit_events',
      [
        seq(),
        uuid('id'),
        time('occurred_at'),
        uuid('org_id', true),
        uuid('connection_id', true),
        text('actor_type', 16),
        text('actor_id', 255, true),
        text('request_id', 64, true),
        text('action', 64),
        text('target_type', 32, true),
        text('target_id', 255, true),
        json('changes', true),
        text('prev_hash', 64, true, true),
        text('hash', 64, false, true),
      ],
      [
        idx('uq_audit_events_id', ['id'], true),
        idx('ix_audit_events_org', ['org_id', 'seq']),
        idx('ix_audit_events_action', ['action', 'seq']),
        idx('ix_audit_events_target', ['target_id', 'seq']),
        idx('ix_audit_events_time', ['occurred_at']),
      ],
    );
    await table(
      'outbox',
      [seq(), text('queue', 64), text('job_name', 64), text('job_id', 255, false, true), json('payload'), time('created_at'), time('relayed_at', true), int('attempts'), text('last_error', 1024, true)],
      [idx('ix_outbox_pending', ['relayed_at', 'seq'])],
    );
    await table('sso_sessions', [pk(), uuid('user_id'), uuid('connection_id'), time('created_at'), time('expires_at'), time('ended_at', true)], [
      idx('ix_sso_sessions_user', ['user_id']),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const name of [
      'sso_sessions',
      'outbox',
      'audit_events',
      'group_members',
      'scim_groups',
      'connection_user_emails',
      'connection_users',
      'admin_tokens',
      'scim_tokens',
      'connection_domains',
      'connection_orgs',
      'sso_connections',
      'team_memberships',
      'org_memberships',
      'users',
      'teams',
      'organizations',
    ]) {
      await q.dropTable(name);
    }
  }
}
