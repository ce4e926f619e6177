import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { RowShapeInvalid } from './errors.ts';

/**
 * Raw-SQL reads and writes of one entity's rows that still go through TypeORM's own column mapping
 * and value conversion (booleans, datetimes, simple-json, per dialect), without the query builder:
 * on the hottest paths (SCIM get, list, the row lock and update of every write) building each query
 * costs more CPU than running it.
 */
export interface RowCodec<T> {
  /** `col AS "property", …` for every column (or just `only`), optionally qualified by a table alias. */
  select(alias?: string, only?: ReadonlyArray<keyof T & string>): string;
  /** A raw row selected with `select` as the entity (with `only`, just those properties are set). */
  hydrate(raw: Record<string, unknown>): T;
  /** `SET` clause and parameters for the given properties' new values (unknown properties throw). */
  assignments(values: Partial<T>): { sql: string; params: unknown[] };
  /**
   * One multi-row INSERT of the properties the first row sets (columns left out take their database
   * default); every row must set the same properties.
   */
  insert(rows: ReadonlyArray<Partial<T>>): { sql: string; params: unknown[] };
  /**
   * One UPDATE giving several rows, found by `key`, each its own values of the same properties:
   * `SET col = CASE key WHEN ? THEN ? … END, … WHERE key IN (…)`. Every row sets `key` and the same
   * other properties.
   */
  updateEach(key: keyof T & string, rows: ReadonlyArray<Partial<T>>): { sql: string; params: unknown[] };
}

export function rowCodec<T extends ObjectLiteral>(db: DataSource, entity: EntityTarget<T>): RowCodec<T> {
  const metadata = db.getMetadata(entity);
  const driver = db.driver;
  const q = (name: string) => driver.escape(name);
  const byProperty = new Map<string, ColumnMetadata>(metadata.columns.map((c) => [c.propertyName, c]));
  return {
    select: (alias, only) =>
      metadata.columns
        .filter((c) => !only || only.includes(c.propertyName as keyof T & string))
        .map((c) => `${alias ? `${alias}.` : ''}${q(c.databaseName)} AS ${q(c.propertyName)}`)
        .join(', '),
    hydrate(raw) {
      const out: Record<string, unknown> = {};
      for (const c of metadata.columns) {
        if (!(c.propertyName in raw)) continue;
        const value = raw[c.propertyName];
        out[c.propertyName] = value === null || value === undefined ? null : driver.prepareHydratedValue(value, c);
      }
      return out as T;
    },
    assignments(values) {
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const [property, value] of Object.entries(values)) {
        const column = byProperty.get(property);
        if (!column) throw new RowShapeInvalid(`${metadata.name} has no column ${property}`);
        sets.push(`${q(column.databaseName)} = ?`);
        params.push(driver.preparePersistentValue(value, column));
      }
      return { sql: sets.join(', '), params };
    },
    insert(rows) {
      const properties = Object.keys(rows[0] ?? {});
      const columns = properties.map((p) => {
        const column = byProperty.get(p);
        if (!column) throw new RowShapeInvalid(`${metadata.name} has no column ${p}`);
        return column;
      });
      const params: unknown[] = [];
      for (const row of rows) {
        const keys = Object.keys(row);
        if (keys.length !== properties.length || keys.some((k) => !byProperty.has(k) || !properties.includes(k))) {
          throw new RowShapeInvalid(`every ${metadata.name} row of one INSERT must set the same properties`);
        }
        for (const c of columns) params.push(driver.preparePersistentValue((row as Record<string, unknown>)[c.propertyName], c));
      }
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      return {
        sql: `INSERT INTO ${q(metadata.tableName)} (${columns.map((c) => q(c.databaseName)).join(', ')}) VALUES ${rows.map(() => tuple).join(', ')}`,
        params,
      };
    },
    updateEach(key, rows) {
      const keyColumn = byProperty.get(key);
      if (!keyColumn) throw new RowShapeInvalid(`${metadata.name} has no column ${key}`);
      const properties = Object.keys(rows[0] ?? {}).filter((p) => p !== key);
      const columns = properties.map((p) => {
        const column = byProperty.get(p);
        if (!column) throw new RowShapeInvalid(`${metadata.name} has no column ${p}`);
        return column;
      });
      for (const row of rows) {
        const keys = Object.keys(row);
        if (!keys.includes(key) || keys.length !== properties.length + 1 || keys.some((k) => k !== key && !properties.includes(k))) {
          throw new RowShapeInvalid(`every ${metadata.name} row of one UPDATE must set ${key} and the same properties`);
        }
      }
      const keyOf = (row: Partial<T>) => driver.preparePersistentValue((row as Record<string, unknown>)[key], keyColumn);
      const params: unknown[] = [];
      const sets = columns.map((c) => {
        for (const row of rows) params.push(keyOf(row), driver.preparePersistentValue((row as Record<string, unknown>)[c.propertyName], c));
        return `${q(c.databaseName)} = CASE ${q(keyColumn.databaseName)}${' WHEN ? THEN ?'.repeat(rows.length)} END`;
      });
      for (const row of rows) params.push(keyOf(row));
      return {
        sql: `UPDATE ${q(metadata.tableName)} SET ${sets.join(', ')} WHERE ${q(keyColumn.databaseName)} IN (${rows.map(() => '?').join(', ')})`,
        params,
      };
    },
  };
}
