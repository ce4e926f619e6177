import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';

/**
 * INSERTs rows through the entity's column mapping in one statement, without TypeORM's follow-up
 * SELECT of generated and defaulted columns (on MySQL, `repository.insert` re-reads them: one more
 * round trip per insert). For rows whose caller already knows every value it needs back.
 */
export async function insertRows<T extends ObjectLiteral>(tx: EntityManager, entity: EntityTarget<T>, rows: QueryDeepPartialEntity<T> | Array<QueryDeepPartialEntity<T>>): Promise<void> {
  if (Array.isArray(rows) && rows.length === 0) return;
  await tx.createQueryBuilder().insert().into(entity).values(rows).updateEntity(false).execute();
}
