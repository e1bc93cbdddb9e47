import type { Db } from './connection.ts';
import type { SurveyTable } from './schema.ts';

export type SurveyRow = SurveyTable;

export async function insertSurvey(db: Db, survey: SurveyRow): Promise<void> {
  await db.insertInto('surveys').values(survey).execute();
}

export async function updateSurvey(db: Db, id: string, changes: Pick<SurveyRow, 'title' | 'questionnaire_hash' | 'definition' | 'opens_at' | 'closes_at'>): Promise<void> {
  await db.updateTable('surveys').set(changes).where('id', '=', id).execute();
}

export async function getSurvey(db: Db, id: string): Promise<SurveyRow | undefined> {
  return db.selectFrom('surveys').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function countSurveys(db: Db): Promise<number> {
  const row = await db.selectFrom('surveys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function markSurveyClosed(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('surveys').set({ closed_at: at.toISOString() }).where('id', '=', id).where('closed_at', 'is', null).execute();
}

/** Surveys not closed by hand nor purged (their calendar may still have closed them). */
export async function listOpenSurveys(db: Db): Promise<SurveyRow[]> {
  return db.selectFrom('surveys').selectAll().where('closed_at', 'is', null).where('purged_at', 'is', null).execute();
}
