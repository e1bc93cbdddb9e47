// Opening the embedded SQLite database: WAL for concurrent readers, synchronous FULL so that an
// acknowledged answer survives a crash or power loss, and migrations applied on open.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { migrationProvider } from '../../migrations/index.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

/**
 * Kysely prepares every query it runs; better-sqlite3 statements are reusable, so keep the
 * prepared ones by their SQL text. Queries differ only in their parameters, so this set stays
 * small; it is bounded anyway.
 */
function withStatementCache(sqlite: SQLite.Database): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = sqlite.prepare.bind(sqlite);
  return new Proxy(sqlite, {
    get(target, property, receiver) {
      if (property !== 'prepare') return Reflect.get(target, property, receiver);
      return (source: string) => {
        // After SQLITE_FULL, SQLITE_IOERR and the like SQLite has already rolled the transaction
        // back; Kysely's ROLLBACK would then fail and hide the real error behind "no transaction
        // is active". Only then, ROLLBACK does nothing.
        if (source === 'rollback' && !target.inTransaction) return { run: () => ({ changes: 0, lastInsertRowid: 0 }), reader: false, all: () => [], iterate: () => [][Symbol.iterator]() } as unknown as SQLite.Statement;
        let statement = cache.get(source);
        if (!statement) {
          if (cache.size >= 500) cache.clear();
          statement = prepare(source);
          cache.set(source, statement);
        }
        return statement;
      };
    },
  });
}

export async function openDatabase(path: string): Promise<Db> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
  return db;
}
