import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';

/**
 * Work a transaction does at its commit, registered where it is caused (docs/architecture.md
 * "Commit hooks"): `beforeCommit` runs inside the transaction just before COMMIT (a failure fails the
 * commit), `afterCommit` once it committed, `transactionBuffer` collects rows and writes them in one
 * statement before COMMIT. Nothing runs on rollback.
 *
 * Savepoints (TypeORM's nested transactions, used by group commit: docs/group-commit.md) are
 * followed: what was registered or added inside a savepoint is dropped when that savepoint rolls
 * back, and belongs to the enclosing level when it is released; hooks run only at the outermost
 * COMMIT. One TypeORM subscriber per data source drives this, installed on first use.
 */

type Phase = 'before' | 'after';
interface Hook {
  phase: Phase;
  key: unknown;
  fn: (tx: EntityManager) => unknown;
  /** Transaction depth when registered (1: the transaction itself, 2+: a savepoint). */
  depth: number;
}
interface Item {
  value: unknown;
  depth: number;
}
interface TxState {
  hooks: Hook[];
  /** Buffered items per buffer. */
  items: Map<object, Item[]>;
}

const states = new WeakMap<QueryRunner, TxState>();
const installed = new WeakSet<DataSource>();

const depthOf = (qr: QueryRunner) => (qr as unknown as { transactionDepth?: number }).transactionDepth ?? 1;

/** Whether `tx` runs in an open transaction (a transaction runner's manager), not autocommit. */
export function inTransaction(tx: EntityManager): boolean {
  return !!tx.queryRunner?.isTransactionActive;
}

function stateOf(tx: EntityManager): { qr: QueryRunner; state: TxState } {
  const qr = tx.queryRunner;
  if (!qr?.isTransactionActive) throw new Error('commit hooks need an open transaction (check inTransaction(tx) first)');
  install(tx.connection);
  let state = states.get(qr);
  if (!state) states.set(qr, (state = { hooks: [], items: new Map() }));
  return { qr, state };
}

function register(tx: EntityManager, phase: Phase, key: unknown, fn: (tx: EntityManager) => unknown): void {
  const { qr, state } = stateOf(tx);
  const depth = depthOf(qr);
  // Registered once per key; the shallowest registration survives a savepoint's rollback.
  const existing = key === undefined ? undefined : state.hooks.find((h) => h.phase === phase && h.key === key);
  if (existing) existing.depth = Math.min(existing.depth, depth);
  else state.hooks.push({ phase, key, fn, depth });
}

/**
 * Runs `fn(tx)` inside the transaction just before its COMMIT, once per `key` (registering the same
 * key again in the transaction is a no-op). A throw fails the commit; nothing runs on rollback.
 */
export function beforeCommit(tx: EntityManager, key: unknown, fn: (tx: EntityManager) => Promise<unknown>): void {
  register(tx, 'before', key, fn);
}

/**
 * Runs `fn()` once the transaction committed, once per `key` (`undefined`: every registration runs).
 * It must not throw (the commit has happened; a throw is ignored); never runs on rollback.
 */
export function afterCommit(tx: EntityManager, key: unknown, fn: () => void): void {
  register(tx, 'after', key, fn);
}

export interface TransactionBuffer<T> {
  /**
   * Buffers `items` in `tx`'s transaction; the first add of a transaction registers the flush
   * (`beforeCommit`). Outside a transaction the items are flushed at once in `tx`.
   */
  add(tx: EntityManager, ...items: T[]): Promise<void>;
}

/**
 * Rows a transaction produces here and there, written together just before its COMMIT by one call of
 * `flush(tx, items)` (one multi-row statement per transaction, in the transaction: the rows commit or
 * roll back with the change). Items added inside a savepoint that rolls back are dropped.
 */
export function transactionBuffer<T>(flush: (tx: EntityManager, items: T[]) => Promise<void>): TransactionBuffer<T> {
  const buffer: TransactionBuffer<T> = {
    async add(tx, ...items) {
      if (!items.length) return;
      if (!inTransaction(tx)) return flush(tx, items);
      const { qr, state } = stateOf(tx);
      const depth = depthOf(qr);
      const list = state.items.get(buffer) ?? [];
      for (const value of items) list.push({ value, depth });
      state.items.set(buffer, list);
      register(tx, 'before', buffer, async (own) => {
        const pending = states.get(own.queryRunner!)?.items.get(buffer);
        states.get(own.queryRunner!)?.items.delete(buffer);
        if (pending?.length) await flush(own, pending.map((i) => i.value as T));
      });
    },
  };
  return buffer;
}

function install(db: DataSource): void {
  if (installed.has(db)) return;
  installed.add(db);
  db.subscribers.push(subscriber);
}

/** Releasing a savepoint hands what it registered to the enclosing level. */
function release(state: TxState, depth: number): void {
  for (const h of state.hooks) if (h.depth >= depth) h.depth = depth - 1;
  for (const list of state.items.values()) for (const i of list) if (i.depth >= depth) i.depth = depth - 1;
}

/** Rolling a savepoint back drops what it registered. */
function dropFrom(state: TxState, depth: number): void {
  state.hooks = state.hooks.filter((h) => h.depth < depth);
  for (const [buffer, list] of state.items) state.items.set(buffer, list.filter((i) => i.depth < depth));
}

const subscriber: EntitySubscriberInterface = {
  async beforeTransactionCommit(event: TransactionCommitEvent) {
    const qr = event.queryRunner;
    const state = states.get(qr);
    if (!state) return;
    const depth = depthOf(qr);
    if (depth > 1) return release(state, depth);
    // Before-hooks may register more (a flush that enqueues jobs registers the relay's wake-up).
    for (let hook = next(state); hook; hook = next(state)) await hook.fn(qr.manager);
  },
  afterTransactionCommit(event: TransactionCommitEvent) {
    const qr = event.queryRunner;
    const state = states.get(qr);
    if (!state || qr.isTransactionActive) return;
    states.delete(qr);
    for (const h of state.hooks) {
      try {
        h.fn(qr.manager);
      } catch {
        // Committed already: an after-commit hook is a notification (the relay's wake-up) and may not undo it.
      }
    }
  },
  beforeTransactionRollback(event: TransactionRollbackEvent) {
    const qr = event.queryRunner;
    const state = states.get(qr);
    if (!state) return;
    const depth = depthOf(qr);
    if (depth <= 1) states.delete(qr);
    else dropFrom(state, depth);
  },
};

/** The next before-commit hook to run, taken out of the state (so each runs once). */
function next(state: TxState): Hook | undefined {
  const i = state.hooks.findIndex((h) => h.phase === 'before');
  return i < 0 ? undefined : state.hooks.splice(i, 1)[0];
}
