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
