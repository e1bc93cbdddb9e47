import type { Selectable } from 'kysely';
import type { Db } from './connection.ts';
import type { DraftTable } from './schema.ts';

export type DraftRow = Selectable<DraftTable>;

export async function getDraft(db: Db, key: string): Promise<DraftRow | undefined> {
  return db.selectFrom('drafts').selectAll().where('key', '=', key).executeTakeFirst();
}

export async function insertDraft(db: Db, draft: DraftRow): Promise<void> {
  await db.insertInto('drafts').values(draft).execute();
}

/**
 * Saves a draft only if nobody saved it since `expectedVersion` was read (a double click or a
 * replayed form finds a newer version and changes nothing). Returns whether it was saved.
 */
export async function updateDraft(db: Db, draft: DraftRow, expectedVersion: number): Promise<boolean> {
  const result = await db
    .updateTable('drafts')
    .set({ answers: draft.answers, current_page: draft.current_page, furthest_page: draft.furthest_page, version: draft.version })
    .where('key', '=', draft.key)
    .where('version', '=', expectedVersion)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteDraft(db: Db, key: string): Promise<void> {
  await db.deleteFrom('drafts').where('key', '=', key).execute();
}

export async function listDrafts(db: Db, surveyId: string): Promise<DraftRow[]> {
  return db.selectFrom('drafts').selectAll().where('survey_id', '=', surveyId).execute();
}
