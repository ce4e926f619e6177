import type { EntityManager } from 'typeorm';
import { DoormanError } from '@doorman/plugin-api';

/** What one member of a group came to: its answer, or the error it is answered with. */
export type MemberOutcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

type Transaction = <T>(work: (tx: EntityManager) => Promise<T>) => Promise<T>;

export interface GroupCommitOptions<I, O> {
  /** The gateway's transaction runner (retries a deadlocked group as a whole). */
  transaction: Transaction;
  /**
   * Runs every member in `tx` and says what each came to. A member's own failure (bad input, a
   * conflict) is an outcome, after the member undid what it wrote (a savepoint, or nothing written);
   * a throw fails the whole group (a deadlock, a lost connection, anything unexpected).
   */
  runGroup(tx: EntityManager, inputs: I[]): Promise<Array<MemberOutcome<O>>>;
  /** One member in a transaction of its own: the fallback when a group fails as a whole. */
  runAlone(input: I): Promise<O>;
  /** Largest group (default 64). */
  maxGroup?: number;
  /** Groups in flight at once; later arrivals wait and form the next, larger group (default 4). */
  maxInFlight?: number;
  /** Told each group's size (a metric). */
  onGroup?: (size: number) => void;
}

/**
 * Application group commit (docs/group-commit.md): requests that arrive together share ONE database
 * transaction — one BEGIN, one multi-row INSERT of their audit events and job intents, one COMMIT
 * (one log flush) — instead of one durable commit each. Members are collected in the turn of the
 * event loop they arrive in (flushed on setImmediate); while `maxInFlight` groups are committing,
 * arrivals wait and form the next group, so a group grows with the load and latency stays one
 * commit when idle.
 *
 * Safety: every member is answered only after the shared COMMIT succeeded (or with its own error);
 * a member that fails undoes its own statements (`runGroup`'s contract), so the others commit; a
 * group that fails as a whole (deadlock retries exhausted, a broken connection, an unexpected error)
 * is re-run member by member, each in its own transaction, so one poisonous member fails alone.
 */
export function groupCommitter<I, O>(options: GroupCommitOptions<I, O>): (input: I) => Promise<O> {
  const maxGroup = options.maxGroup ?? 64;
  const maxInFlight = options.maxInFlight ?? 4;
  type Member = { input: I; resolve: (value: O) => void; reject: (error: unknown) => void };
  let pending: Member[] = [];
  let scheduled = false;
  let inFlight = 0;

  const schedule = () => {
    if (scheduled || !pending.length || inFlight >= maxInFlight) return;
    scheduled = true;
    setImmediate(flush);
  };

  function flush() {
    scheduled = false;
    while (pending.length && inFlight < maxInFlight) {
      const members = pending.slice(0, maxGroup);
      pending = pending.slice(members.length);
      inFlight++;
      void run(members).finally(() => {
        inFlight--;
        schedule();
      });
    }
  }

  async function run(members: Member[]) {
    options.onGroup?.(members.length);
    let outcomes: Array<MemberOutcome<O>>;
    try {
      outcomes = await options.transaction((tx) => options.runGroup(tx, members.map((m) => m.input)));
    } catch (err) {
      if (members.length === 1) {
        members[0]!.reject(err);
        return;
      }
      // The group failed as a whole: nothing of it committed. Each member alone, so that one
      // member's failure is its own.
      await Promise.all(members.map((m) => options.runAlone(m.input).then(m.resolve, m.reject)));
      return;
    }
    // Committed: every member's answer is now durable.
    members.forEach((m, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) m.resolve(outcome.value);
      else m.reject(outcome.error);
    });
  }

  return (input) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ input, resolve, reject });
      schedule();
    });
}

/**
 * Whether a member's error is its own (bad input, not found, a conflict, a stale If-Match: a 4xx the
 * member is answered with) rather than the group's (a database or unexpected error, which fails the
 * group so it is retried or re-run member by member).
 */
export function isMemberError(err: unknown): boolean {
  return err instanceof DoormanError && err.status < 500;
}
