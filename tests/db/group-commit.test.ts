// Group commit: writes that arrive together share one durable commit, yet each caller is told
// "done" only once its write is on disk, and one failing write does not take the others along.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, sql, type Generated } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { groupCommitDialect } from '../../server/db/group-commit.ts';

interface Schema {
  t: { id: Generated<number>; value: string };
}

let path: string;
let db: Kysely<Schema>;
// A second connection, as another process would have: it sees only what was committed.
let other: SQLite.Database;

const committed = () => (other.prepare('select value from t order by id').all() as { value: string }[]).map((r) => r.value);

beforeEach(() => {
  path = join(mkdtempSync(join(tmpdir(), 'group-commit-')), 'db.sqlite');
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.exec('create table t (id integer primary key, value text not null unique)');
  db = new Kysely<Schema>({ dialect: groupCommitDialect(sqlite) });
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
});
