import type { Selectable } from 'kysely';
import type { Db } from './connection.ts';
import { prepared } from './prepared.ts';
import type { DraftTable } from './schema.ts';

export type DraftRow = Selectable<DraftTable>;
/** What a save writes: the session round is the respondent's to end (endSessions), not the save's. */
export type DraftWrite = Omit<DraftRow, 'session_round'>;

export async function getDraft(db: Db, key: string): Promise<DraftRow | undefined> {
  return db.selectFrom('drafts').selectAll().where('key', '=', key).executeTakeFirst();
}

// Prepared: a respondent's first save inserts the draft, every later one updates it.
const insert = prepared((db, d: DraftWrite) =>
  db.insertInto('drafts').values({ key: d.key, survey_id: d.survey_id, answers: d.answers, strata: d.strata, current_page: d.current_page, furthest_page: d.furthest_page, version: d.version }),
);
const update = prepared((db, d: DraftWrite & { expectedVersion: number }) =>
  db
    .updateTable('drafts')
    .set({ answers: d.answers, current_page: d.current_page, furthest_page: d.furthest_page, version: d.version })
    .where('key', '=', d.key)
    .where('version', '=', d.expectedVersion),
);

export async function insertDraft(db: Db, draft: DraftWrite): Promise<void> {
  await insert(db, draft);
}

/**
 * Saves a draft only if nobody saved it since `expectedVersion` was read (a double click or a
 * replayed form finds a newer version and changes nothing). Returns whether it was saved.
 */
export async function updateDraft(db: Db, draft: DraftWrite, expectedVersion: number): Promise<boolean> {
  const result = await update(db, { ...draft, expectedVersion });
  return Number(result.numAffectedRows) === 1;
}

/** Ends every session on this draft: cookies started before open nothing any more. */
export async function endSessions(db: Db, key: string): Promise<void> {
  await db.updateTable('drafts').set((eb) => ({ session_round: eb('session_round', '+', 1) })).where('key', '=', key).execute();
}

export async function deleteDraft(db: Db, key: string): Promise<void> {
  await db.deleteFrom('drafts').where('key', '=', key).execute();
}

export async function listDrafts(db: Db, surveyId: string): Promise<DraftRow[]> {
  return db.selectFrom('drafts').selectAll().where('survey_id', '=', surveyId).execute();
}
