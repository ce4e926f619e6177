import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DataSource, type DataSourceOptions, type EntitySchema } from 'typeorm';
import { ENTITIES } from './entities.ts';
import { ConsoleSessionEntity } from './entities-console.ts';
import { GROUP_MAPPING_ENTITIES } from './entities-group-mapping.ts';
import { Initial1732800000000 } from './migrations/1732800000000-Initial.ts';
import { AuditChain1732800100000 } from './migrations/1732800100000-AuditChain.ts';
import { AuditSealer1732800200000 } from './migrations/1732800200000-AuditSealer.ts';
import { ConnectionUserCounts1732800300000 } from './migrations/1732800300000-ConnectionUserCounts.ts';
import { OrgWideDeprovisioning1733019500000 } from './migrations/1733019500000-OrgWideDeprovisioning.ts';
import { AuditEventMac1733019500001 } from './migrations/1733019500001-AuditEventMac.ts';
import { OutboxCompletion1733020000000 } from './migrations/1733020000000-OutboxCompletion.ts';
import { MembershipProvenance1733022000000 } from './migrations/1733022000000-MembershipProvenance.ts';
import { Webhooks1733024000000 } from './migrations/1733024000000-Webhooks.ts';
import { WEBHOOK_ENTITIES } from './entities-webhooks.ts';
import { ConsoleSessions1733025000000 } from './migrations/1733025000000-ConsoleSessions.ts';
import { ConnectionActivity1733031000000 } from './migrations/1733031000000-ConnectionActivity.ts';
import { ConsoleOwnerSessions1733034000000 } from './migrations/1733034000000-ConsoleOwnerSessions.ts';
import { GroupMapping1733023000000 } from './migrations/1733023000000-GroupMapping.ts';
import { AuditCausalLinks1733030000000 } from './migrations/1733030000000-AuditCausalLinks.ts';
import { DatabaseUrlInvalid } from './errors.ts';
import { mysqlDriver } from './mysql-driver.ts';

export const MIGRATIONS = [
  Initial1732800000000,
  AuditChain1732800100000,
  AuditSealer1732800200000,
  ConnectionUserCounts1732800300000,
  OrgWideDeprovisioning1733019500000,
  AuditEventMac1733019500001,
  OutboxCompletion1733020000000,
  MembershipProvenance1733022000000,
  GroupMapping1733023000000,
  Webhooks1733024000000,
  ConsoleSessions1733025000000,
  AuditCausalLinks1733030000000,
  ConnectionActivity1733031000000,
  ConsoleOwnerSessions1733034000000,
];

export interface DatabaseSettings {
  /** `mysql://user:pass@host:port/db`, `mariadb://…`, or `sqlite:///path/file.db` / `sqlite::memory:`. */
  url: string;
  /** Connection pool size (MySQL). */
  poolSize?: number;
  logging?: boolean;
}

export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  const { url } = settings;
  const entities: EntitySchema<any>[] = [...ENTITIES, ConsoleSessionEntity, ...WEBHOOK_ENTITIES, ...GROUP_MAPPING_ENTITIES];
  const common = { entities, migrations: MIGRATIONS, synchronize: false, migrationsRun: false, logging: settings.logging ?? false } as const;
  if (url.startsWith('sqlite:')) {
    const file = url === 'sqlite::memory:' ? ':memory:' : resolve(url.replace(/^sqlite:(\/\/)?/, ''));
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    return { ...common, type: 'better-sqlite3', database: file, enableWAL: file !== ':memory:', prepareDatabase: (db) => db.pragma('busy_timeout = 5000') } as DataSourceOptions;
  }
  if (/^(mysql|mariadb):\/\//.test(url)) {
    return {
      ...common,
      type: 'mysql',
      url: url.replace(/^mariadb:/, 'mysql:'),
      charset: 'utf8mb4_unicode_ci',
      timezone: 'Z',
      poolSize: settings.poolSize ?? 10,
      // Datetimes are stored and read as UTC regardless of the server's zone.
      // trace: false — mysql2 otherwise captures a stack trace on every query (3–5% of a busy
      // gateway's CPU) only to decorate errors with the caller's frames.
      extra: { connectionLimit: settings.poolSize ?? 10, dateStrings: false, trace: false },
      // mysql2 with one promise wrapper per pooled connection instead of one per statement (mysql-driver.ts).
      driver: mysqlDriver(),
    } as DataSourceOptions;
  }
  throw new DatabaseUrlInvalid(`unsupported database url scheme in ${redactUrl(url)}`);
}

/** Hides the password of a database URL for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

export function createDataSource(settings: DatabaseSettings): DataSource {
  return new DataSource(dataSourceOptions(settings));
}

export function isMysql(ds: DataSource): boolean {
  return ds.options.type === 'mysql' || ds.options.type === 'mariadb';
}
