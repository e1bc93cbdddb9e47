// Group commit for the embedded SQLite database.
//
// A commit is durable once the WAL that holds it is on disk, and on a busy server that sync, not
// the work of the write, is what everyone waits for: one at a time, since the connection is
// single. So writes that arrive together share one transaction and one sync. Each Kysely
// transaction (a "unit") runs inside a SAVEPOINT of a shared SQLite transaction, as does each
// lone write; the shared transaction is committed once the event loop has handled everything that
// arrived in the same turn (setImmediate). A caller's promise settles only once that COMMIT is on
// disk, exactly as with a commit per write.
//
// The sync does not hold up the thread. With `sync` given, the connection runs with synchronous
// NORMAL (its COMMIT writes the WAL without waiting for the disk) and `sync` makes the WAL
// durable on libuv's thread pool: the same guarantee as synchronous FULL, which syncs the WAL in
// every COMMIT, but meanwhile the thread serves other requests and builds the next transaction.
// Syncs do not overlap: commits made while one is under way share the next. A sync starts only
// once someone waits for it, as every ordinary write does; a writer that asked to be acknowledged
// on COMMIT (acknowledgingCommit(): the sender's outcome records, which keep count themselves) is
// synced along with the next write that waits, or when synced() asks. Without `sync` (an
// in-memory database, or synchronous FULL) a unit is acknowledged right after its COMMIT.
//
// Failures stay as narrow as before: a unit that fails rolls back to its savepoint and leaves the
// others alone. If SQLite itself abandons the transaction (disk full, I/O error) or the COMMIT
// fails, every unit in it fails with that error; none of them was acknowledged. A failed sync
// fails its units too, and every write after it: what the disk holds is unknown, and a later
// sync that succeeds would not say that the lost pages were written (PostgreSQL's "fsyncgate").
// The process must be restarted.
//
// Reads do not wait for the commit. Within this process, and in other processes, they may see a
// write that is still waiting for its sync; it can only disappear if the sync fails or the machine
// loses power first, and then its writer was not told it was saved.

import type SQLite from 'better-sqlite3';
import { SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type CompiledQuery, type DatabaseConnection, type Dialect, type Driver, type Kysely, type QueryResult } from 'kysely';

/** A first-come, first-served lock: the one SQLite connection serves one unit at a time. */
class Mutex {
  #held = false;
  #waiting: (() => void)[] = [];

  lock(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  unlock(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#held = false;
  }
}

const ABANDONED = 'the transaction was abandoned by SQLite after an earlier error';

/** The shared transaction: open from the first write until its COMMIT and the sync after it. */
interface Batch {
  /** COMMIT has run: every reader sees it, and a crash of the process no longer undoes it. */
  committed: Promise<void>;
  /** On disk: a crash of the machine (power) no longer undoes it either. */
  durable: Promise<void>;
  /** Someone waits for `durable`: the sync after the COMMIT starts at once. */
  wanted: boolean;
  commit(): void;
  sync(): void;
  reject(error: unknown): void;
}

function newBatch(): Batch {
  const settle = () => {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Units await these; a failure nobody waits for must not end the process.
    promise.catch(() => {});
    return { promise, resolve, reject };
  };
  const committed = settle();
  const durable = settle();
  return {
    committed: committed.promise,
    durable: durable.promise,
    wanted: false,
    commit: committed.resolve,
    sync: durable.resolve,
    reject: (error) => {
      committed.reject(error);
      durable.reject(error);
    },
  };
}

/** When a unit is acknowledged: once on disk (every write, by default), or once committed. */
type Acknowledgement = 'durable' | 'committed';

/**
 * How a unit shares its SQLite transaction: with whatever arrives in the same turn (shared, the
 * default), or with nothing (alone: what was open is committed first, and the unit's own
 * transaction is committed as it ends, before any other unit runs).
 */
type Sharing = 'shared' | 'alone';

/** What Kysely holds between acquireConnection and releaseConnection. */
class Connection implements DatabaseConnection {
  held = true;
  inUnit = false;

  constructor(
    readonly driver: GroupCommitDriver,
    readonly acknowledged: Acknowledgement,
    readonly sharing: Sharing = 'shared',
  ) {}

  /** What a unit of this connection waits for before it is acknowledged. */
  acknowledgement(batch: Batch): Promise<void> {
    if (this.acknowledged === 'committed') return batch.committed;
    batch.wanted = true;
    return batch.durable;
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.driver.execute(this, query);
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    // Streams only read (Kysely's own SQLite driver allows nothing else).
    const statement = this.driver.statement(query.sql);
    if (!statement.reader || !statement.readonly) throw new Error('only reading queries can be streamed');
    for (const row of statement.iterate(query.parameters as unknown[])) yield { rows: [row as R] };
  }
}

export interface GroupCommitOptions {
  /** Makes every COMMIT made so far durable (the WAL on disk); see the top of this file. */
  sync?: () => Promise<void>;
  /** Called once the database is closed: whatever `sync` holds open. */
  close?: () => void;
}

class GroupCommitDriver implements Driver {
  readonly #sqlite: SQLite.Database;
  readonly #sync: (() => Promise<void>) | undefined;
  readonly #close: (() => void) | undefined;
  readonly #mutex = new Mutex();
  // Prepared statements by SQL text: queries differ only in their parameters, so this stays small.
  readonly #statements = new Map<string, SQLite.Statement>();
  #batch: Batch | undefined;
  // Committed, waiting for the sync that makes them durable: the next one, or the one under way.
  #unsynced: Batch[] = [];
  #lastCommitted: Batch | undefined;
  #syncing: Promise<void> | undefined;
  #syncFailed: Error | undefined;

  constructor(sqlite: SQLite.Database, options: GroupCommitOptions) {
    this.#sqlite = sqlite;
    this.#sync = options.sync;
    this.#close = options.close;
  }

  async init(): Promise<void> {}

  async acquireConnection(acknowledged: Acknowledgement = 'durable', sharing: Sharing = 'shared'): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return new Connection(this, acknowledged, sharing);
  }

  /**
   * The same database, but each transaction is a SQLite transaction (a WAL commit) of its own: no
   * other unit's writes are in it, before or after. For writes that must not be found next to
   * others in the files (the ledger's batches of respondents' marks: docs/anonymity.md).
   */
  aloneCommit(): Driver {
    return {
      init: async () => {},
      acquireConnection: () => this.acquireConnection('durable', 'alone'),
      beginTransaction: (c) => this.beginTransaction(c),
      commitTransaction: (c) => this.commitTransaction(c),
      rollbackTransaction: (c) => this.rollbackTransaction(c),
      releaseConnection: (c) => this.releaseConnection(c),
      destroy: async () => {},
    };
  }

  /**
   * Runs statements outside any transaction (a checkpoint, VACUUM), with the connection to
   * itself: the shared transaction open now is committed first, and no unit runs meanwhile.
   */
  async outsideTransaction<T>(work: (sqlite: SQLite.Database) => T): Promise<T> {
    await this.#mutex.lock();
    try {
      const open = this.#batch;
      if (open) this.#commitNow(open);
      return work(this.#sqlite);
    } finally {
      this.#mutex.unlock();
    }
  }

  /**
   * The same database and transactions, but units are acknowledged once committed, before the
   * sync: for a caller that keeps track of durability itself (synced()).
   */
  acknowledgingCommit(): Driver {
    return {
      init: async () => {},
      acquireConnection: () => this.acquireConnection('committed'),
      beginTransaction: (c) => this.beginTransaction(c),
      commitTransaction: (c) => this.commitTransaction(c),
      rollbackTransaction: (c) => this.rollbackTransaction(c),
      releaseConnection: (c) => this.releaseConnection(c),
      // The database belongs to the driver this is a view of.
      destroy: async () => {},
    };
  }

  /**
   * Resolves once everything committed so far is on disk (rejects if the sync failed), syncing
   * now if nobody asked for it yet.
   */
  synced(): Promise<void> {
    if (this.#syncFailed) return Promise.reject(this.#syncFailed);
    const last = this.#lastCommitted;
    if (!last) return Promise.resolve();
    last.wanted = true;
    this.#startSync();
    return last.durable;
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#release(connection as Connection);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as Connection;
    // Alone: whatever others wrote before goes into a commit of its own first.
    if (c.sharing === 'alone' && this.#batch) this.#commitNow(this.#batch);
    this.#join();
    this.statement('savepoint unit').run();
    c.inUnit = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as Connection;
    const batch = this.#batch;
    c.inUnit = false;
    if (!batch || !this.#sqlite.inTransaction) throw new Error(ABANDONED);
    this.statement('release unit').run();
    // Alone: committed now, while this unit still holds the connection, so nobody joins it.
    if (c.sharing === 'alone') {
      batch.wanted = c.acknowledged === 'durable';
      this.#commitNow(batch);
    }
    // Let the next unit in while this one waits for the shared commit.
    this.#release(c);
    await c.acknowledgement(batch);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as Connection).inUnit = false;
    // After SQLITE_FULL, SQLITE_IOERR and the like SQLite has already rolled everything back
    // (and #fail has told the other units); otherwise only this unit is undone.
    if (!this.#sqlite.inTransaction) return;
    this.statement('rollback to unit').run();
    this.statement('release unit').run();
  }

  async destroy(): Promise<void> {
    if (this.#batch) await this.#commit(this.#batch);
    // What was acknowledged on commit goes to disk too before the database is closed.
    for (const batch of this.#unsynced) batch.wanted = true;
    this.#startSync();
    while (this.#syncing) await this.#syncing.catch(() => {});
    this.#sqlite.close();
    this.#close?.();
  }

  statement(sql: string): SQLite.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      if (this.#statements.size >= 500) this.#statements.clear();
      statement = this.#sqlite.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  async execute<R>(c: Connection, query: CompiledQuery): Promise<QueryResult<R>> {
    // A connection that gave up the lock while its lone write was committed, used again.
    if (!c.held) {
      await this.#mutex.lock();
      c.held = true;
    }
    if (c.inUnit && !this.#sqlite.inTransaction) throw new Error(ABANDONED);
    const statement = this.statement(query.sql);
    if (c.inUnit || statement.readonly) return this.#run<R>(statement, query.parameters);
    // A write outside any transaction is a unit of its own.
    const batch = this.#join();
    const result = this.#run<R>(statement, query.parameters);
    this.#release(c);
    await c.acknowledgement(batch);
    return result;
  }

  #run<R>(statement: SQLite.Statement, parameters: readonly unknown[]): QueryResult<R> {
    try {
      if (statement.reader) return { rows: statement.all(parameters) as R[] };
      const { changes, lastInsertRowid } = statement.run(parameters);
      return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    } catch (error) {
      if (this.#batch && !this.#sqlite.inTransaction) this.#fail(this.#batch, error);
      throw error;
    }
  }

  /** The open shared transaction, begun (and its commit scheduled) by the first write. */
  #join(): Batch {
    if (this.#batch) return this.#batch;
    if (this.#syncFailed) throw this.#syncFailed;
    // IMMEDIATE: take the write lock now, so another process cannot write between this
    // transaction's first read and its first write.
    this.statement('begin immediate').run();
    const batch = newBatch();
    this.#batch = batch;
    setImmediate(() => void this.#commit(batch));
    return batch;
  }

  /** Commits the shared transaction once no unit is in the middle of its work. */
  async #commit(batch: Batch): Promise<void> {
    await this.#mutex.lock();
    try {
      if (this.#batch === batch) this.#commitNow(batch);
    } finally {
      this.#mutex.unlock();
    }
  }

  /** Commits the shared transaction now; the caller holds the connection (the mutex). */
  #commitNow(batch: Batch): void {
    this.#batch = undefined;
    try {
      this.statement('commit').run();
      batch.commit();
      this.#lastCommitted = batch;
      if (!this.#sync) batch.sync();
      else {
        this.#unsynced.push(batch);
        // Synced once someone waits for it; a commit acknowledged as committed (the sender's
        // records) is synced along with the next one that is waited for, or when synced() asks.
        this.#startSync();
      }
    } catch (error) {
      batch.reject(error);
      // Nothing may escape from here: nobody awaits this call, and an unhandled rejection
      // would end the process over a ROLLBACK that failed too.
      try {
        if (this.#sqlite.inTransaction) this.statement('rollback').run();
      } catch {}
    }
  }

  /** Starts syncing, unless a sync is under way (it goes on while anyone waits) or nobody waits. */
  #startSync(): void {
    if (this.#syncing || !this.#unsynced.some((b) => b.wanted)) return;
    this.#syncing = this.#syncUnsynced();
  }

  /** Syncs until every committed batch that is waited for is durable, and tells their units. */
  async #syncUnsynced(): Promise<void> {
    while (this.#unsynced.some((b) => b.wanted)) {
      // A sync covers every COMMIT made before it starts.
      const batches = this.#unsynced;
      this.#unsynced = [];
      try {
        // Awaited before anything else, also after a failure: #syncing is only cleared below,
        // after the caller has set it.
        await (this.#syncFailed ? Promise.reject(this.#syncFailed) : Promise.resolve().then(this.#sync));
        for (const batch of batches) batch.sync();
      } catch (error) {
        this.#syncFailed ??= new Error(`the database could not be synced to disk; restart the process: ${(error as Error).message}`, { cause: error });
        for (const batch of batches) batch.reject(this.#syncFailed);
      }
    }
    this.#syncing = undefined;
  }

  #fail(batch: Batch, error: unknown): void {
    this.#batch = undefined;
    batch.reject(error);
  }

  #release(c: Connection): void {
    if (!c.held) return;
    c.held = false;
    this.#mutex.unlock();
  }
}

export { GroupCommitDriver };

/** Kysely's SQLite dialect with a group-commit driver on `sqlite`. */
export function groupCommitDialect(sqlite: SQLite.Database, options: GroupCommitOptions = {}): Dialect {
  return dialectOf(new GroupCommitDriver(sqlite, options));
}

/** Kysely's SQLite dialect with this driver (a GroupCommitDriver, or a view of one). */
export function dialectOf(driver: Driver): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => driver,
    createIntrospector: (db: Kysely<unknown>) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
}
