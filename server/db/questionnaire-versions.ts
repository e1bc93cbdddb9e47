import { createHash } from 'node:crypto';
import type { Db } from './connection.ts';

export function hashQuestionnaire(source: string): string {
  return createHash('sha256').update(source).digest('hex');
}

/** Stores the exact questionnaire text a survey is frozen on; storing the same text twice is a no-op. */
export async function saveQuestionnaireVersion(db: Db, q: { id: string; version: string; source: string }, now: Date): Promise<string> {
  const hash = hashQuestionnaire(q.source);
  await db
    .insertInto('questionnaire_versions')
    .values({ hash, questionnaire_id: q.id, version: q.version, source: q.source, created_at: now.toISOString() })
    .onConflict((oc) => oc.column('hash').doNothing())
    .execute();
  return hash;
}

export async function getQuestionnaireSource(db: Db, hash: string): Promise<string | undefined> {
  const row = await db.selectFrom('questionnaire_versions').select('source').where('hash', '=', hash).executeTakeFirst();
  return row?.source;
}

/** Every stored questionnaire version, newest first (the preview lists them). */
export async function listQuestionnaireVersions(db: Db): Promise<{ hash: string; questionnaire_id: string; version: string; created_at: string }[]> {
  return db.selectFrom('questionnaire_versions').select(['hash', 'questionnaire_id', 'version', 'created_at']).orderBy('created_at', 'desc').orderBy('questionnaire_id').execute();
}
