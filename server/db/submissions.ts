// The answer side's record that a questionnaire was submitted (migration 0009): the code stops
// opening the questionnaire, and reminders stop, the moment the response is stored, while the
// ledger learns "submitted" later, in a batch of several people (usecases/ledger-marks.ts).
import type { Db } from './connection.ts';
import { prepared } from './prepared.ts';

const insert = prepared((db, v: { key: string; surveyId: string }) => db.insertInto('submissions').values({ key: v.key, survey_id: v.surveyId }));
const find = prepared((db, v: { key: string }) => db.selectFrom('submissions').select('key').where('key', '=', v.key));

export async function insertSubmission(db: Db, key: string, surveyId: string): Promise<void> {
  await insert(db, { key, surveyId });
}

export async function isSubmitted(db: Db, key: string): Promise<boolean> {
  return (await find(db, { key })).rows.length > 0;
}

/** Every submission key of a survey. */
export async function submissionKeys(db: Db, surveyId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('submissions').select('key').where('survey_id', '=', surveyId).execute();
  return new Set(rows.map((r) => r.key));
}

export async function deleteSubmissions(db: Db, surveyId: string): Promise<void> {
  await db.deleteFrom('submissions').where('survey_id', '=', surveyId).execute();
}
