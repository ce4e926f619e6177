import { Table, TableIndex, type QueryRunner, type TableColumnOptions } from 'typeorm';

/**
 * Dialect-neutral column and table helpers for migrations (MySQL/MariaDB and SQLite): varchar columns
 * with a case-insensitive or case-exact collation on MySQL, ids, timestamps defaulting to now.
 */
export function migrationHelpers(q: QueryRunner) {
  const mysql = q.connection.options.type === 'mysql' || q.connection.options.type === 'mariadb';
  const text = (name: string, length = 255, nullable = false, caseExact = false): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: String(length),
    isNullable: nullable,
    ...(mysql ? { charset: 'utf8mb4', collation: caseExact ? 'utf8mb4_bin' : 'utf8mb4_unicode_ci' } : {}),
  });
  const uuid = (name: string, nullable = false) => text(name, 36, nullable, true);
  const pk = (name = 'id'): TableColumnOptions => ({ ...uuid(name), isPrimary: true });
  const time = (name: string, nullable = false): TableColumnOptions => ({
    name,
    type: 'datetime',
    precision: 3,
    isNullable: nullable,
    ...(nullable ? {} : { default: mysql ? 'CURRENT_TIMESTAMP(3)' : "(STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW'))" }),
  });
  const table = (name: string, columns: TableColumnOptions[], indices: TableIndex[] = []) =>
    q.createTable(new Table({ name, columns, indices, ...(mysql ? { engine: 'InnoDB' } : {}) }));
  const idx = (name: string, columnNames: string[], isUnique = false) => new TableIndex({ name, columnNames, isUnique });
  return { mysql, text, uuid, pk, time, table, idx };
}
