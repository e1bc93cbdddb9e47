// Group commit: writes that arrive together share one durable commit, yet each caller is told
// "done" only once its write is on disk, and one failing write does not take the others along.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, sql, type Generated } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { walSync } from '../../server/db/connection.ts';
import { dialectOf, groupCommitDialect, GroupCommitDriver, type GroupCommitOptions } from '../../server/db/group-commit.ts';
import { decodePage, walCommits } from '../helpers/sqlite-bytes.ts';

interface Schema {
  t: { id: Generated<number>; value: string };
}

let path: string;
let db: Kysely<Schema>;
// A second connection, as another process would have: it sees only what was committed.
let other: SQLite.Database;

const committed = () => (other.prepare('select value from t order by id').all() as { value: string }[]).map((r) => r.value);

/** How the database is opened (connection.ts), with `sync` to watch or replace the WAL sync. */
function open(sync?: (wal: ReturnType<typeof walSync>) => GroupCommitOptions) {
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.exec('create table if not exists t (id integer primary key, value text not null unique)');
  const wal = walSync(`${path}-wal`);
  return new Kysely<Schema>({ dialect: groupCommitDialect(sqlite, sync ? sync(wal) : wal) });
}

beforeEach(() => {
  path = join(mkdtempSync(join(tmpdir(), 'group-commit-')), 'db.sqlite');
  db = open();
  other = new SQLite(path, { readonly: true });
});

afterEach(async () => {
  other.close();
  await db.destroy();
});

const insert = (value: string) => db.transaction().execute((trx) => trx.insertInto('t').values({ value }).execute());

describe('group commit', () => {
  it('concurrent transactions share one commit, and none is acknowledged before it', async () => {
    const seenAtAcknowledgement: string[][] = [];
    const saves = Array.from({ length: 20 }, (_, i) => insert(`v${i}`).then(() => seenAtAcknowledgement.push(committed())));
    // All twenty ran their statements at once, but nothing is on disk yet.
    await Promise.resolve();
    expect(committed()).toEqual([]);
    await Promise.all(saves);
    // When the first was acknowledged, all twenty were committed: one commit for all.
    const all = Array.from({ length: 20 }, (_, i) => `v${i}`);
    expect(seenAtAcknowledgement).toHaveLength(20);
    for (const seen of seenAtAcknowledgement) expect(seen).toEqual(all);
  });

  it('a lone write (no transaction) is on disk when it is acknowledged', async () => {
    await db.insertInto('t').values({ value: 'alone' }).execute();
    expect(committed()).toEqual(['alone']);
  });

  it('a failing transaction is undone alone; the others in the same commit are kept', async () => {
    await insert('taken');
    const results = await Promise.allSettled([
      insert('a'),
      db.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ value: 'half' }).execute();
        await trx.insertInto('t').values({ value: 'taken' }).execute();
      }),
      insert('b'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(committed()).toEqual(['taken', 'a', 'b']);
  });

  it('a transaction that waits for something else is never committed half-way', async () => {
    let midway: string[] = [];
    const slow = db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ value: 'first half' }).execute();
      await new Promise((resolve) => setTimeout(resolve, 30));
      midway = committed();
      await trx.insertInto('t').values({ value: 'second half' }).execute();
    });
    await slow;
    expect(midway).toEqual([]);
    expect(committed()).toEqual(['first half', 'second half']);
  });

  it('when SQLite abandons the shared transaction, every write in it fails and nothing is kept', async () => {
    await insert('before');
    const pages = other.pragma('page_count', { simple: true }) as number;
    const big = 'x'.repeat(50_000);
    // No room for another page: the big row fails with SQLITE_FULL, which ends the transaction.
    await sql.raw(`pragma max_page_count = ${pages}`).execute(db);
    const results = await Promise.allSettled([insert('small'), insert(big)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_FULL' });
    expect(committed()).toEqual(['before']);
    // And it works again once there is room.
    await sql.raw('pragma max_page_count = 1073741823').execute(db);
    await insert('after');
    expect(committed()).toEqual(['before', 'after']);
  });

  it('acknowledges a write only once the WAL is synced, off the thread; writes during a sync share the next one', async () => {
    await db.destroy();
    const syncs: { done: () => void }[] = [];
    db = open((wal) => ({
      sync: () => new Promise<void>((resolve) => syncs.push({ done: () => void wal.sync().then(resolve) })),
      close: wal.close,
    }));
    const acknowledged: string[] = [];
    const first = insert('a').then(() => acknowledged.push('a'));
    while (syncs.length === 0) await new Promise((r) => setImmediate(r));
    // Committed (another connection sees it), not yet on disk: not acknowledged.
    expect(committed()).toEqual(['a']);
    const more = [insert('b'), insert('c')].map((p, i) => p.then(() => acknowledged.push('bc'[i]!)));
    while (committed().length < 3) await new Promise((r) => setImmediate(r));
    // b and c were committed while the sync for a was under way: they wait for one more sync.
    expect(syncs).toHaveLength(1);
    syncs[0]!.done();
    await first;
    expect(acknowledged).toEqual(['a']);
    while (syncs.length < 2) await new Promise((r) => setImmediate(r));
    syncs[1]!.done();
    await Promise.all(more);
    expect(acknowledged).toEqual(['a', 'b', 'c']);
    expect(syncs).toHaveLength(2);
  });

  it('when the WAL cannot be synced, fails the writes waiting for it and every write after, saying to restart', async () => {
    await db.destroy();
    let failing = false;
    db = open((wal) => ({ sync: () => (failing ? Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })) : wal.sync()), close: wal.close }));
    await insert('before');
    failing = true;
    await expect(insert('lost?')).rejects.toThrow(/could not be synced to disk; restart the process: EIO/);
    failing = false;
    await expect(insert('after')).rejects.toThrow(/could not be synced to disk; restart the process/);
    await expect(db.insertInto('t').values({ value: 'alone' }).execute()).rejects.toThrow(/restart the process/);
  });

  it('acknowledges a writer on commit when it asks so, syncs only once someone waits for the disk, and synced() says when', async () => {
    await db.destroy();
    const sqlite = new SQLite(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.exec('create table if not exists t (id integer primary key, value text not null unique)');
    const wal = walSync(`${path}-wal`);
    const syncs: (() => void)[] = [];
    const driver = new GroupCommitDriver(sqlite, { sync: () => new Promise<void>((resolve) => syncs.push(() => void wal.sync().then(resolve))), close: wal.close });
    db = new Kysely<Schema>({ dialect: dialectOf(driver) });
    const onCommit = new Kysely<Schema>({ dialect: dialectOf(driver.acknowledgingCommit()) });
    // Acknowledged once committed (another connection sees it), and no sync was started for it.
    await onCommit.insertInto('t').values({ value: 'a' }).execute();
    await onCommit.transaction().execute((trx) => trx.insertInto('t').values({ value: 'b' }).execute());
    expect(committed()).toEqual(['a', 'b']);
    await new Promise((r) => setImmediate(r));
    expect(syncs).toHaveLength(0);
    // Asking when it is on disk starts the sync.
    let onDisk = false;
    const synced = driver.synced().then(() => (onDisk = true));
    await new Promise((r) => setImmediate(r));
    expect(syncs).toHaveLength(1);
    expect(onDisk).toBe(false);
    syncs[0]!();
    await synced;
    // A write acknowledged on disk starts its sync itself.
    const durable = insert('c');
    while (syncs.length < 2) await new Promise((r) => setImmediate(r));
    syncs[1]!();
    await durable;
    await onCommit.destroy();
  });
});

describe('a transaction committed alone', () => {
  it('is a WAL commit of its own: nothing written before or after it in the same turn shares its commit, and it is on disk when acknowledged', async () => {
    const sqlite = new SQLite(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.exec('create table if not exists t (id integer primary key, value text not null unique)');
    const wal = walSync(`${path}-wal`);
    let syncs = 0;
    const driver = new GroupCommitDriver(sqlite, { sync: () => (syncs++, wal.sync()), close: wal.close });
    await db.destroy();
    db = new Kysely<Schema>({ dialect: dialectOf(driver) });
    const alone = new Kysely<Schema>({ dialect: dialectOf(driver.aloneCommit()) });
    // In one turn: a lone write, a transaction alone, and two writes after it (which of them the
    // connection serves first is up to Kysely; the others share commits, never with it).
    const writes = [
      db.insertInto('t').values({ value: 'before' }).execute(),
      alone.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ value: 'alone-1' }).execute();
        await trx.insertInto('t').values({ value: 'alone-2' }).execute();
      }),
      db.insertInto('t').values({ value: 'after-1' }).execute(),
      db.transaction().execute((trx) => trx.insertInto('t').values({ value: 'after-2' }).execute()),
    ];
    await Promise.all(writes);
    expect(committed().sort()).toEqual(['after-1', 'after-2', 'alone-1', 'alone-2', 'before']);
    expect(syncs).toBeGreaterThan(0);
    // Each commit in the WAL, by the values its pages hold that the commit before did not.
    const commits = walCommits(new Uint8Array(readFileSync(`${path}-wal`)));
    let seen = new Set<string>();
    const added = commits.map((c) => {
      const values = new Set(c.frames.flatMap((f) => decodePage(f.data, f.page).cells.flatMap((cell) => cell.values.filter((v): v is string => typeof v === 'string' && /^(before|alone|after)/.test(v)))));
      const fresh = [...values].filter((v) => !seen.has(v));
      seen = new Set([...seen, ...values]);
      return fresh.sort();
    }).filter((values) => values.length > 0);
    expect(added).toContainEqual(['alone-1', 'alone-2']);
    expect(added.filter((values) => values.some((v) => v.startsWith('alone')))).toHaveLength(1);
    expect(added.flat().sort()).toEqual(['after-1', 'after-2', 'alone-1', 'alone-2', 'before']);
    await alone.destroy();
  });
});
