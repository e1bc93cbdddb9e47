// Delivery reports received after the relay took a mail (usecases/bounces.ts): the outbox row a
// report is about, recording it, and what `survey bounces` and the dashboard show of them.

import type { Selectable } from 'kysely';
import type { Db } from './connection.ts';
import type { BounceKind, BounceTable } from './schema.ts';

export type BounceRow = Selectable<BounceTable>;

/** The outbox row a report is about: which survey and invitee. */
export interface BouncedMail {
  id: number;
  survey_id: string;
  invitee_id: number;
}

const bouncedMail = (db: Db) => db.selectFrom('outbox').select(['id', 'survey_id', 'invitee_id']);

export async function outboxById(db: Db, id: number): Promise<BouncedMail | undefined> {
  return bouncedMail(db).where('id', '=', id).executeTakeFirst();
}

/** The outbox row of a mail by its Message-ID (reports quote it when they come to the From address). */
export async function outboxByMessageId(db: Db, messageIds: readonly string[]): Promise<BouncedMail | undefined> {
  if (messageIds.length === 0) return undefined;
  return bouncedMail(db).where('message_id', 'in', messageIds).executeTakeFirst();
}

/** Records a report; false when this report was recorded for this row before (it came twice). */
export async function insertBounce(db: Db, bounce: Omit<BounceRow, 'id'>): Promise<boolean> {
  const result = await db.insertInto('bounces').values(bounce).onConflict((oc) => oc.columns(['outbox_id', 'report_key']).doNothing()).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** A mail the relay took, reported failed afterwards: given up on, with the reason. */
export async function markSentMailFailed(db: Db, outboxId: number, reason: string): Promise<void> {
  await db.updateTable('outbox').set({ status: 'failed', last_error: reason }).where('id', '=', outboxId).where('status', '=', 'sent').execute();
}

export async function bounceCounts(db: Db, surveyId: string): Promise<Record<BounceKind, number>> {
  const rows = await db.selectFrom('bounces').select(['kind', (eb) => eb.fn.count<number>('invitee_id').distinct().as('n')]).where('survey_id', '=', surveyId).groupBy('kind').execute();
  const counts: Record<BounceKind, number> = { hard: 0, soft: 0, refused: 0 };
  for (const r of rows) counts[r.kind] = Number(r.n);
  return counts;
}

/** Every report of a survey, newest first, with the invitee's address and the mailing. */
export async function bouncesOfSurvey(db: Db, surveyId: string): Promise<(BounceRow & { email: string; mailing_id: string })[]> {
  return db
    .selectFrom('bounces as b')
    .innerJoin('invitees as i', 'i.id', 'b.invitee_id')
    .innerJoin('outbox as o', 'o.id', 'b.outbox_id')
    .selectAll('b')
    .select(['i.email', 'o.mailing_id'])
    .where('b.survey_id', '=', surveyId)
    .orderBy('b.received_at', 'desc')
    .orderBy('b.id', 'desc')
    .execute();
}
