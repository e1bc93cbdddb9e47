import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Db } from './connection.ts';
import type { ResponseTable } from './schema.ts';

export type ResponseRow = Selectable<ResponseTable>;

/** Stores a response under a random id: rows sort by that id, never by arrival. */
export async function insertResponse(db: Db, response: Omit<ResponseRow, 'id'>): Promise<string> {
  const id = randomBytes(16).toString('hex');
  await db.insertInto('responses').values({ id, ...response }).execute();
  return id;
}

export async function listResponses(db: Db, surveyId: string): Promise<ResponseRow[]> {
  return db.selectFrom('responses').selectAll().where('survey_id', '=', surveyId).orderBy('id').execute();
}

/**
 * Whether anyone has answered anything in a survey: a page saved (a draft), a response, or a
 * submission record. From then on its questionnaire may not change (usecases/surveys.ts), also
 * when no mail went out yet (codes handed out another way).
 */
export async function hasAnswers(db: Db, surveyId: string): Promise<boolean> {
  const any = (table: 'drafts' | 'responses' | 'submissions') => db.selectFrom(table).select((eb) => eb.lit(1).as('one')).where('survey_id', '=', surveyId).limit(1).executeTakeFirst();
  return (await any('drafts')) !== undefined || (await any('responses')) !== undefined || (await any('submissions')) !== undefined;
}
