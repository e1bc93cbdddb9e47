// Group commit for the embedded SQLite database.
//
// With synchronous FULL, SQLite makes a commit durable by syncing the WAL to disk, and on a busy
// server that sync, not the work of the write, is what everyone waits for: one at a time, since
// the connection is single. So writes that arrive together share one transaction and one sync.
// Each Kysely transaction (a "unit") runs inside a SAVEPOINT of a shared SQLite transaction, as
// does each lone write; the shared transaction is committed once the event loop has handled
// everything that arrived in the same turn (setImmediate). A caller's promise settles only after
// that COMMIT, so nothing is acknowledged before it is on disk, exactly as with a commit per
// write.
//
// Failures stay as narrow as before: a unit that fails rolls back to its savepoint and leaves the
// others alone. If SQLite itself abandons the transaction (disk full, I/O error) or the COMMIT
// fails, every unit in it fails with that error; none of them was acknowledged.
//
// Reads do not wait for the commit. Within this process they may see a write that is still
// waiting for its sync; it can only disappear if the sync fails, and then its writer is told.

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

/** The shared transaction: open from the first write until its COMMIT. */
interface Batch {
  committed: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/** What Kysely holds between acquireConnection and releaseConnection. */
class Connection implements DatabaseConnection {
  held = true;
  inUnit = false;

  constructor(readonly driver: GroupCommitDriver) {}

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

class GroupCommitDriver implements Driver {
  readonly #sqlite: SQLite.Database;
  readonly #mutex = new Mutex();
  // Prepared statements by SQL text: queries differ only in their parameters, so this stays small.
  readonly #statements = new Map<string, SQLite.Statement>();
  #batch: Batch | undefined;

  constructor(sqlite: SQLite.Database) {
    this.#sqlite = sqlite;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return new Connection(this);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#release(connection as Connection);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    this.#join();
    this.statement('savepoint unit').run();
    (connection as Connection).inUnit = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as Connection;
    const batch = this.#batch;
    c.inUnit = false;
    if (!batch || !this.#sqlite.inTransaction) throw new Error(ABANDONED);
    this.statement('release unit').run();
    // Let the next unit in while this one waits for the shared commit.
    this.#release(c);
    await batch.committed;
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
    this.#sqlite.close();
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
    await batch.committed;
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
    // IMMEDIATE: take the write lock now, so another process cannot write between this
    // transaction's first read and its first write.
    this.statement('begin immediate').run();
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const committed = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Every unit awaits this promise; a failure nobody waits for must not end the process.
    committed.catch(() => {});
    const batch: Batch = { committed, resolve, reject };
    this.#batch = batch;
    setImmediate(() => void this.#commit(batch));
    return batch;
  }

  /** Commits the shared transaction once no unit is in the middle of its work. */
  async #commit(batch: Batch): Promise<void> {
    await this.#mutex.lock();
    try {
      if (this.#batch !== batch) return;
      this.#batch = undefined;
      try {
        this.statement('commit').run();
        batch.resolve();
      } catch (error) {
        batch.reject(error);
        // Nothing may escape from here: nobody awaits this call, and an unhandled rejection
        // would end the process over a ROLLBACK that failed too.
        try {
          if (this.#sqlite.inTransaction) this.statement('rollback').run();
        } catch {}
      }
    } finally {
      this.#mutex.unlock();
    }
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

/** Kysely's SQLite dialect with the group-commit driver. */
export function groupCommitDialect(sqlite: SQLite.Database): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new GroupCommitDriver(sqlite),
    createIntrospector: (db: Kysely<unknown>) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
}
