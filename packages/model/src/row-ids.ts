import { randomFillSync } from 'node:crypto';
import { v7, version, validate } from 'uuid';

/** Random bytes for this many ids are drawn at once: one `randomFillSync` per id cost ~8 µs, 5% of a create's CPU. */
const IDS_PER_DRAW = 256;
const pool = Buffer.alloc(16 * IDS_PER_DRAW);
let drawn = IDS_PER_DRAW;
/** The last id's millisecond and counter, so this process's ids increase also within a millisecond. */
const last = { msecs: -Infinity, seq: 0 };

/**
 * A new row id: an RFC 9562 version-7 UUID (48 bits of Unix milliseconds, a counter, random bits),
 * laid out by the `uuid` package. Every table keys its rows, and indexes the rows that point at
 * them, by these ids; ordered ids put each new row at the end of those B-trees instead of on a
 * random page, which MariaDB must otherwise read into its buffer pool (and later write back) once
 * the tables outgrow it. Why, what they reveal, and the ids that stay random: docs/row-ids.md.
 *
 * The counter follows the `uuid` package's own version-7 state (a random start each millisecond,
 * +1 per id within it, the millisecond moved on when it wraps); only the random bytes come from a
 * pool refilled in bulk instead of one draw per id.
 */
export function newRowId(): string {
  if (drawn === IDS_PER_DRAW) {
    randomFillSync(pool);
    drawn = 0;
  }
  const random = pool.subarray(drawn * 16, ++drawn * 16);
  const now = Date.now();
  if (now > last.msecs) {
    last.msecs = now;
    last.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    last.seq = (last.seq + 1) | 0;
    if (last.seq === 0) last.msecs++;
  }
  return v7({ random, msecs: last.msecs, seq: last.seq });
}

/** Whether an id is a version-7 UUID (rows created before docs/row-ids.md keep version-4 ids). */
export function isUuidV7(id: string): boolean {
  return validate(id) && version(id) === 7;
}
