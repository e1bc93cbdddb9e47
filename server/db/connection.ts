// Opening the embedded SQLite database: WAL for concurrent readers, every acknowledged write on
// disk so that it survives a crash or power loss, writes that arrive together sharing one commit
// and its sync, which runs off the thread (group-commit.ts), and migrations applied on open.

import { closeSync, fdatasync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, type Driver } from 'kysely';
import { migrationProvider } from '../../migrations/index.ts';
import { dialectOf, GroupCommitDriver, type GroupCommitOptions } from './group-commit.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

/** The database cannot be created or opened where DATABASE_PATH says: said in a sentence at start. */
export class DatabaseOpenError extends Error {}

const BUSY_TIMEOUT_MS = 5000;

/**
 * `durability`: how a commit reaches the disk; by default the WAL is synced (walSync). A test
 * holds it back to see what waits for the disk.
 */
export async function openDatabase(path: string, durability?: GroupCommitOptions): Promise<Db> {
  let sqlite: SQLite.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    sqlite = new SQLite(path);
    // Reading the header finds a file that is no database, or one this process cannot read.
    sqlite.pragma('schema_version');
  } catch (e) {
    const reason = `${(e as { code?: string }).code ?? 'error'}: ${(e as Error).message}`;
    throw new DatabaseOpenError(`${path}: cannot create or open the database there (${reason}); DATABASE_PATH must name a database file in a folder this process can write`, { cause: e });
  }
  const inMemory = path === ':memory:';
  const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
  if (!inMemory && mode !== 'wal') {
    sqlite.close();
    throw new Error(`${path}: SQLite cannot keep this database in WAL mode (it stays in ${String(mode)} mode); put it on a local file system`);
  }
  // NORMAL: a COMMIT writes the WAL without syncing it; walSync does that, off the thread, before
  // any write is acknowledged. (SQLite still syncs the WAL and the database file itself around
  // every checkpoint.)
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // Nothing deleted stays readable (docs/anonymity.md): deleted rows and freed pages are
  // overwritten with zeros, no temporary file holds a copy of any (VACUUM's included), and the
  // WAL is cut back to what it holds since the last checkpoint each time it starts over, instead
  // of keeping older frames behind the point where it writes.
  sqlite.pragma('secure_delete = ON');
  sqlite.pragma('temp_store = MEMORY');
  sqlite.pragma('journal_size_limit = 0');
  const driver = new GroupCommitDriver(sqlite, inMemory ? {} : (durability ?? walSync(`${path}-wal`)));
  const db = new Kysely<Database>({ dialect: dialectOf(driver) });
  drivers.set(db, driver);
  // Another process may be migrating the same file at this moment (two servers, or a server and a
  // survey command, started at once on an empty database): both read that nothing was applied, and
  // the second then finds the first one's tables. Read the state again and go on, a few times.
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (!error && !failed) return db;
    if (attempt < 5 && /already exists|SQLITE_BUSY|database is locked|duplicate column/i.test(String(error))) {
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      continue;
    }
    await db.destroy();
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}

const drivers = new WeakMap<Db, GroupCommitDriver>();

/** The same database through another view of its driver (made once per database and kind). */
function viewOf(db: Db, views: WeakMap<Db, Db>, driverView: (driver: GroupCommitDriver) => Driver): Db {
  const driver = drivers.get(db);
  if (!driver) return db;
  let view = views.get(db);
  if (!view) {
    view = new Kysely<Database>({ dialect: dialectOf(driverView(driver)) });
    views.set(db, view);
  }
  return view;
}

const alone = new WeakMap<Db, Db>();

/**
 * The same database, whose transactions are each a WAL commit of their own, never shared with
 * another writer's (group-commit.ts): for the ledger's batches of respondents' marks, which must
 * not be found in one commit with anyone's answers.
 */
export function committedAlone(db: Db): Db {
  return viewOf(db, alone, (driver) => driver.aloneCommit());
}

/**
 * Copies everything in the WAL into the database file and empties the WAL (TRUNCATE), so that no
 * earlier version of a page (a draft before it was submitted, a row since deleted) stays in it.
 * With `wait` false it does not wait for readers in other processes (a `survey` command reading):
 * it then does what it can, and the WAL is emptied at the next checkpoint. Returns whether the
 * WAL was emptied.
 */
export async function checkpoint(db: Db, options: { wait: boolean } = { wait: false }): Promise<boolean> {
  const driver = drivers.get(db);
  if (!driver) return false;
  return driver.outsideTransaction((sqlite) => {
    if (!options.wait) sqlite.pragma('busy_timeout = 0');
    try {
      const [result] = sqlite.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      return result?.busy === 0;
    } finally {
      if (!options.wait) sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  });
}

/**
 * Rebuilds the database file (VACUUM) and empties the WAL: after purge and close, so that no byte
 * of what was removed stays anywhere in the data folder, also not in the unused parts of pages
 * that secure_delete does not reach (what was moved when a page was split or merged).
 */
export async function rebuild(db: Db): Promise<void> {
  const driver = drivers.get(db);
  if (!driver) return;
  await driver.outsideTransaction((sqlite) => sqlite.exec('vacuum'));
  await checkpoint(db, { wait: true });
}

const onCommit = new WeakMap<Db, Db>();

/**
 * The same database, whose writes are acknowledged once committed (every reader sees them, and a
 * crash of the process no longer undoes them) rather than once on disk (when a crash of the
 * machine no longer does either): for a writer that keeps track of durability itself, with
 * synced(). The sender records each mail's outcome this way (fieldwork.ts says why).
 */
export function acknowledgedOnCommit(db: Db): Db {
  return viewOf(db, onCommit, (driver) => driver.acknowledgingCommit());
}

/** Resolves once every write committed so far is on disk. */
export function synced(db: Db): Promise<void> {
  return drivers.get(db)?.synced() ?? Promise.resolve();
}

/**
 * Syncs the WAL file (fdatasync, on libuv's thread pool). It stays the same file while the
 * database is open here: SQLite deletes it only when the last connection closes, and otherwise
 * empties it in place (another process's checkpoint too).
 */
export function walSync(walPath: string): { sync: () => Promise<void>; close: () => void } {
  let fd: number | undefined;
  return {
    sync: () =>
      new Promise<void>((resolve, reject) => {
        // Opened at the first commit: the file exists from the first transaction on.
        fd ??= openSync(walPath, 'r+');
        fdatasync(fd, (error) => (error ? reject(error) : resolve()));
      }),
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
