// Opening the embedded SQLite database: WAL for concurrent readers, every acknowledged write on
// disk so that it survives a crash or power loss, writes that arrive together sharing one commit
// and its sync, which runs off the thread (group-commit.ts), and migrations applied on open.

import { closeSync, fdatasync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator } from 'kysely';
import { migrationProvider } from '../../migrations/index.ts';
import { dialectOf, GroupCommitDriver, type GroupCommitOptions } from './group-commit.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

/**
 * `durability`: how a commit reaches the disk; by default the WAL is synced (walSync). A test
 * holds it back to see what waits for the disk.
 */
export async function openDatabase(path: string, durability?: GroupCommitOptions): Promise<Db> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
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
  sqlite.pragma('busy_timeout = 5000');
  const driver = new GroupCommitDriver(sqlite, inMemory ? {} : (durability ?? walSync(`${path}-wal`)));
  const db = new Kysely<Database>({ dialect: dialectOf(driver) });
  drivers.set(db, driver);
  const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
  return db;
}

const drivers = new WeakMap<Db, GroupCommitDriver>();
const onCommit = new WeakMap<Db, Db>();

/**
 * The same database, whose writes are acknowledged once committed (every reader sees them, and a
 * crash of the process no longer undoes them) rather than once on disk (when a crash of the
 * machine no longer does either): for a writer that keeps track of durability itself, with
 * synced(). The sender records each mail's outcome this way (fieldwork.ts says why).
 */
export function acknowledgedOnCommit(db: Db): Db {
  const driver = drivers.get(db);
  if (!driver) return db;
  let view = onCommit.get(db);
  if (!view) {
    view = new Kysely<Database>({ dialect: dialectOf(driver.acknowledgingCommit()) });
    onCommit.set(db, view);
  }
  return view;
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
