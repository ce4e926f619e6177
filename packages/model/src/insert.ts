import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { rowCodec, type RowCodec } from './row-codec.ts';

const codecs = new WeakMap<DataSource, Map<EntityTarget<ObjectLiteral>, RowCodec<ObjectLiteral>>>();

function codecFor<T extends ObjectLiteral>(db: DataSource, entity: EntityTarget<T>): RowCodec<T> {
  let byEntity = codecs.get(db);
  if (!byEntity) codecs.set(db, (byEntity = new Map()));
  let codec = byEntity.get(entity as EntityTarget<ObjectLiteral>);
  if (!codec) byEntity.set(entity as EntityTarget<ObjectLiteral>, (codec = rowCodec(db, entity as EntityTarget<ObjectLiteral>)));
  return codec as unknown as RowCodec<T>;
}

/**
 * INSERTs rows in one raw statement through the entity's column mapping (rowCodec): no query
 * builder, and none of `repository.insert`'s follow-up SELECT of generated and defaulted columns
 * (one more round trip per insert on MySQL). For rows whose caller already knows every value it
 * needs back; all rows set the same properties.
 */
export async function insertRows<T extends ObjectLiteral>(tx: EntityManager, entity: EntityTarget<T>, rows: Partial<T> | Array<Partial<T>>): Promise<void> {
  const list = Array.isArray(rows) ? rows : [rows];
  if (list.length === 0) return;
  const { sql, params } = codecFor(tx.connection, entity).insert(list);
  await tx.query(sql, params);
}
