import { randomInt } from 'node:crypto';

/**
 * Docker-ID-style usernames, "based on the user's email, name, and random numbers to ensure all
 * usernames are unique": the local part of the email, reduced to [a-z0-9], plus four digits.
 * Uniqueness is finally guaranteed by the unique index; callers retry on a collision.
 */
export function candidateUsername(email: string): string {
  const base = email.split('@')[0]!.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 24) || 'user';
  return `${base.length < 4 ? base.padEnd(4, '0') : base}${randomInt(1000, 10_000)}`;
}
