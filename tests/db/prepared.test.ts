// Prepared statements: built and compiled once, each run binds its own values, also inside a
// transaction and when a value is used twice; everything else in the statement stays as built.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../server/db/connection.ts';
import { prepared } from '../../server/db/prepared.ts';

let db: Db;

beforeEach(async () => {
  db = await openDatabase(':memory:');
  await db
    .insertInto('drafts')
    .values(['a', 'b', 'c'].map((key, i) => ({ key, survey_id: i < 2 ? 's1' : 's2', answers: '{}', strata: '{}', current_page: i, furthest_page: i, version: 1 })))
    .execute();
});

afterEach(async () => {
  await db.destroy();
});

const pageOf = prepared((db, v: { key: string; survey: string }) =>
  db.selectFrom('drafts').select(['key', 'current_page']).where('key', '=', v.key).where('survey_id', '=', v.survey).where('version', '=', 1),
);
const move = prepared((db, v: { key: string; page: number }) => db.updateTable('drafts').set({ current_page: v.page, furthest_page: v.page }).where('key', '=', v.key));

describe('prepared', () => {
  it('binds the values of each run, leaving the constants of the statement alone', async () => {
    expect((await pageOf(db, { key: 'a', survey: 's1' })).rows).toEqual([{ key: 'a', current_page: 0 }]);
    expect((await pageOf(db, { key: 'b', survey: 's1' })).rows).toEqual([{ key: 'b', current_page: 1 }]);
    expect((await pageOf(db, { key: 'c', survey: 's1' })).rows).toEqual([]);
    expect((await pageOf(db, { key: 'c', survey: 's2' })).rows).toEqual([{ key: 'c', current_page: 2 }]);
  });

  it('binds a value used twice in both places, and runs inside a transaction', async () => {
    await db.transaction().execute(async (trx) => {
      expect(Number((await move(trx, { key: 'b', page: 7 })).numAffectedRows)).toBe(1);
      expect(Number((await move(trx, { key: 'nobody', page: 8 })).numAffectedRows)).toBe(0);
    });
    const rows = await db.selectFrom('drafts').select(['key', 'current_page', 'furthest_page']).orderBy('key').execute();
    expect(rows).toEqual([
      { key: 'a', current_page: 0, furthest_page: 0 },
      { key: 'b', current_page: 7, furthest_page: 7 },
      { key: 'c', current_page: 2, furthest_page: 2 },
    ]);
  });
});
