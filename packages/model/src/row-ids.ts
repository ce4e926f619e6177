import { v7, version, validate } from 'uuid';

/**
 * A new row id: an RFC 9562 version-7 UUID (48 bits of Unix milliseconds, then 74 random bits, as
 * the `uuid` package makes them: ids from one process also increase within a millisecond). Every
 * table keys its rows, and indexes the rows that point at them, by these ids; ordered ids put each
 * new row at the end of those B-trees instead of on a random page, which MariaDB must otherwise read
 * into its buffer pool (and later write back) once the tables outgrow it. Why, what they reveal, and
 * the ids that stay random: docs/row-ids.md.
 */
export function newRowId(): string {
  return v7();
}

/** Whether an id is a version-7 UUID (rows created before docs/row-ids.md keep version-4 ids). */
export function isUuidV7(id: string): boolean {
  return validate(id) && version(id) === 7;
}
