import { randomInt } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { UserEntity, type User } from './entities.ts';
import { insertRows } from './insert.ts';
import { newRowId } from './row-ids.ts';
import { AccountEmailTaken, UsernameExhausted } from './errors.ts';

export { AccountEmailTaken };

/**
 * Docker-ID-style usernames, "based on the user's email, name, and random numbers to ensure all
 * usernames are unique": the local part of the email, reduced to [a-z0-9], plus four digits.
 * Uniqueness is finally decided by the unique index (see insertAccount).
 */
export function candidateUsername(email: string): string {
  const base = email.split('@')[0]!.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 24) || 'user';
  return `${base.length < 4 ? base.padEnd(4, '0') : base}${randomInt(1000, 10_000)}`;
}


/** A unique-key violation, on MySQL/MariaDB or SQLite (TypeORM's wrapped error or the driver's own). */
export function isDuplicateKeyError(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  const code = e?.driverError?.code ?? e?.code;
  return code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * Creates the global account for an email (one per email) with a generated unique username,
 * retrying username collisions. A failed INSERT undoes only itself on MySQL and SQLite, so the
 * caller's transaction goes on. Throws AccountEmailTaken when the email's account appeared meanwhile.
 */
export async function insertAccount(tx: EntityManager, account: { email: string; fullName: string | null; now: Date }): Promise<User> {
  const accounts = tx.getRepository(UserEntity);
  const mysql = tx.connection.options.type === 'mysql' || tx.connection.options.type === 'mariadb';
  for (let attempt = 1; attempt <= 5; attempt++) {
    const row: User = {
      id: newRowId(),
      email: account.email,
      emailLc: account.email.toLowerCase(),
      username: candidateUsername(account.email),
      fullName: account.fullName,
      createdAt: account.now,
      updatedAt: account.now,
    };
    try {
      await insertRows(tx, UserEntity, row);
      return row;
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      // A locking read sees the latest committed row, which the transaction's snapshot may not.
      const taken = await accounts.findOne({ where: { emailLc: row.emailLc }, ...(mysql ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
      if (taken) throw new AccountEmailTaken();
    }
  }
  throw new UsernameExhausted();
}
