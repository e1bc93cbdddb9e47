// The durable outbox: one row per (invitee, mailing), written before anything is sent. The sender
// claims a few rows at a time (status 'sending'), sends one mail at a time outside any
// transaction, and records each outcome before the server may take the next mail. Of the rows
// still 'sending' after a crash, only the one that was being transmitted may have gone out: they
// are logged and sent again, so nothing is lost and at most that one mail is duplicated.

import { sql, type Selectable } from 'kysely';
import type { Db } from './connection.ts';
import { prepared } from './prepared.ts';
import type { InviteeState, OutboxStatus, OutboxTable } from './schema.ts';

export type OutboxRow = Selectable<OutboxTable>;

/** Who a mailing may go to: everyone invited for the invitation; for reminders only non-responders. */
export const ELIGIBLE: Record<'invitation' | 'reminder', InviteeState[]> = {
  invitation: ['invited', 'started'],
  reminder: ['invited', 'started'],
};

/**
 * A mail sent again at the invitee's request (survey resend) is queued as the mailing's next copy,
 * `<mailing>~<n>` (n = 2, 3, …; mailing ids hold no "~"): the outbox keeps one row per (invitee,
 * mailing id), and the copy gets a Message-ID of its own, or the mailbox would hide it as a
 * duplicate of the first.
 */
export function copyId(mailingId: string, copy: number): string {
  return `${mailingId}~${copy}`;
}

/** The mailing an outbox row is of, and which copy (1: the mailing itself). */
export function mailingOf(outboxMailingId: string): { mailingId: string; copy: number } {
  const tilde = outboxMailingId.indexOf('~');
  return tilde < 0 ? { mailingId: outboxMailingId, copy: 1 } : { mailingId: outboxMailingId.slice(0, tilde), copy: Number(outboxMailingId.slice(tilde + 1)) };
}

/** An invitee's outbox rows of one mailing: the mailing itself and its copies. */
export async function inviteeMailingRows(db: Db, inviteeId: number, mailingId: string): Promise<{ copy: number; status: OutboxStatus }[]> {
  const rows = await db.selectFrom('outbox').select(['mailing_id', 'status']).where('invitee_id', '=', inviteeId).execute();
  return rows.map((r) => ({ ...mailingOf(r.mailing_id), status: r.status })).filter((r) => r.mailingId === mailingId).map(({ copy, status }) => ({ copy, status }));
}

/** Queues a copy of a mailing for one invitee, due now. */
export async function queueCopy(db: Db, surveyId: string, inviteeId: number, mailingId: string, copy: number, now: Date): Promise<void> {
  const at = now.toISOString();
  await db.insertInto('outbox').values({ survey_id: surveyId, invitee_id: inviteeId, mailing_id: copyId(mailingId, copy), status: 'pending', attempts: 0, next_attempt_at: at, created_at: at }).execute();
}

type MailingRef = { id: string; kind: 'invitation' | 'reminder'; sendAt: Date; only?: Record<string, string[]> };

/**
 * Who a mailing goes to if it is queued now: invitees in a state it may reach, not queued for it
 * yet, and for a reminder only those whose invitation went out before the reminder was planned
 * (someone imported late gets the invitation, not a reminder), and, for a reminder to part of the
 * sample, only those with the values it names. The one rule behind queueing and behind every
 * "would reach" count.
 */
function audience(db: Db, surveyId: string, mailing: MailingRef, invitationId: string, { noneQueued = false } = {}) {
  let q = db.selectFrom('invitees as i').where('i.survey_id', '=', surveyId).where('i.state', 'in', ELIGIBLE[mailing.kind]);
  for (const [field, values] of Object.entries(mailing.only ?? {})) {
    // The field quoted in the JSON path, so that a column name with a dot or a space is one key.
    q = q.where(sql<string>`json_extract(i.sample, ${`$."${field}"`})`, 'in', values);
  }
  // Skipped when the caller knows nothing is queued for the mailing: it costs a lookup per invitee.
  if (!noneQueued) q = q.where((w) => w.not(w.exists(w.selectFrom('outbox as queued').select('queued.id').whereRef('queued.invitee_id', '=', 'i.id').where('queued.mailing_id', '=', mailing.id))));
  if (mailing.kind === 'reminder') {
    // As a list of ids, so that SQLite starts from the invitations sent (none, before they go
    // out) rather than looking up every invitee.
    q = q.where('i.id', 'in', (w) =>
      w
        .selectFrom('outbox as inv')
        .select('inv.invitee_id')
        .where('inv.survey_id', '=', surveyId)
        .where('inv.status', '=', 'sent')
        .where('inv.mailing_id', '=', invitationId)
        .where('inv.sent_at', '<', mailing.sendAt.toISOString()),
    );
  }
  return q;
}

/** Creates the outbox rows of a due mailing for its audience (see above). Idempotent. */
export async function enqueueMailing(db: Db, surveyId: string, mailing: MailingRef, invitationId: string, now: Date): Promise<number> {
  const result = await db
    .insertInto('outbox')
    .columns(['survey_id', 'invitee_id', 'mailing_id', 'status', 'attempts', 'next_attempt_at', 'created_at'])
    .expression(
      audience(db, surveyId, mailing, invitationId).select([
        sql.lit(surveyId).as('survey_id'),
        'i.id',
        sql.lit(mailing.id).as('mailing_id'),
        sql.lit('pending').as('status'),
        sql.lit(0).as('attempts'),
        sql.lit(now.toISOString()).as('next_attempt_at'),
        sql.lit(now.toISOString()).as('created_at'),
      ]),
    )
    .onConflict((oc) => oc.columns(['invitee_id', 'mailing_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/** How many a mailing would reach if it were queued now, per sample (the invitees' JSON sample). */
export async function audienceBySample(db: Db, surveyId: string, mailing: MailingRef, invitationId: string): Promise<{ sample: string; n: number }[]> {
  const rows = await audience(db, surveyId, mailing, invitationId)
    .select(['i.sample', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('i.sample')
    .execute();
  return rows.map((r) => ({ sample: r.sample, n: Number(r.n) }));
}

/** How many a mailing would reach if it were queued now; `noneQueued`: nothing is queued for it yet. */
export async function audienceSize(db: Db, surveyId: string, mailing: MailingRef, invitationId: string, options: { noneQueued?: boolean } = {}): Promise<number> {
  const row = await audience(db, surveyId, mailing, invitationId, options)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Claims up to `limit` due rows of a survey (longest due first), marking them 'sending' with the
 * claim time, in one statement. A claimed row that was not yet transmitted when the sender
 * stopped is simply sent later: only a transmitted, unrecorded mail can become a duplicate.
 */
export async function claimDue(db: Db, now: Date, surveyId: string, limit: number): Promise<OutboxRow[]> {
  const rows = await db
    .updateTable('outbox')
    .set((eb) => ({ status: 'sending', attempts: eb('attempts', '+', 1), next_attempt_at: now.toISOString() }))
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('outbox')
        .select('id')
        .where('survey_id', '=', surveyId)
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now.toISOString())
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(limit),
    )
    .returningAll()
    .execute();
  return rows.sort((a, b) => a.next_attempt_at.localeCompare(b.next_attempt_at) || a.id - b.id);
}

/**
 * Claimed rows that were not transmitted (the send window closed first) go back in line as if
 * they had never been claimed: this was not an attempt.
 */
export async function releaseUnsent(db: Db, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('outbox')
    .set((eb) => ({ status: 'pending', attempts: eb('attempts', '-', 1) }))
    .where('id', 'in', ids)
    .where('status', '=', 'sending')
    .execute();
}

/** How many mails of a survey are due now. */
export async function countDue(db: Db, surveyId: string, now: Date): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('survey_id', '=', surveyId)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now.toISOString())
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

// Prepared (db/prepared.ts): it runs once for every mail sent.
const sent = prepared((db, v: { id: number; at: string; messageId: string }) =>
  db.updateTable('outbox').set({ status: 'sent', sent_at: v.at, message_id: v.messageId, last_error: null }).where('id', '=', v.id),
);

export async function markSent(db: Db, id: number, at: Date, messageId: string): Promise<void> {
  await sent(db, { id, at: at.toISOString(), messageId });
}

export async function markSkipped(db: Db, id: number, reason: string): Promise<void> {
  await db.updateTable('outbox').set({ status: 'skipped', last_error: reason }).where('id', '=', id).execute();
}

export async function markRetry(db: Db, id: number, at: Date, error: string): Promise<void> {
  await db.updateTable('outbox').set({ status: 'pending', next_attempt_at: at.toISOString(), last_error: error }).where('id', '=', id).execute();
}

export async function markFailed(db: Db, id: number, error: string): Promise<void> {
  await db.updateTable('outbox').set({ status: 'failed', last_error: error }).where('id', '=', id).execute();
}

/**
 * Rows left 'sending' by a process that died, claimed longer than `staleAfterMs` ago, go back to
 * 'pending'. They are returned so the caller can log each one: that mail may go out twice.
 */
export async function releaseStaleClaims(db: Db, now: Date, staleAfterMs: number, surveyId?: string): Promise<OutboxRow[]> {
  let q = db
    .updateTable('outbox')
    .set({ status: 'pending', last_error: 'was being sent when the sender stopped; sent again' })
    .where('status', '=', 'sending')
    .where('next_attempt_at', '<=', new Date(now.getTime() - staleAfterMs).toISOString());
  if (surveyId) q = q.where('survey_id', '=', surveyId);
  return q.returningAll().execute();
}

/** How many outbox rows a survey has per mailing and status. */
export async function outboxCounts(db: Db, surveyId: string): Promise<{ mailing_id: string; status: OutboxStatus; n: number }[]> {
  const rows = await db
    .selectFrom('outbox')
    .select(['mailing_id', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('survey_id', '=', surveyId)
    .groupBy(['mailing_id', 'status'])
    .execute();
  return rows.map((r) => ({ ...r, n: Number(r.n) }));
}

/**
 * Mail that did not go out: given up on (failed: rejected, or too many temporary failures), or
 * waiting for another try after an error; with the recipient's address and the reason.
 */
export async function undeliveredMail(db: Db, surveyId: string): Promise<{ status: OutboxStatus; last_error: string | null; email: string }[]> {
  // Per status, so that each part reads its own range of the outbox_survey_due index (with an OR,
  // SQLite reads every row of the survey: millions, on a dashboard that is loaded often).
  const part = (status: 'failed' | 'pending') =>
    db.selectFrom('outbox as o').innerJoin('invitees as i', 'i.id', 'o.invitee_id').select(['o.status', 'o.last_error', 'i.email']).where('o.survey_id', '=', surveyId).where('o.status', '=', status);
  return part('failed').unionAll(part('pending').where('o.last_error', 'is not', null)).execute();
}

/** Invitees with mail given up on, or marked bounced: whom retryUndelivered can reach. */
export async function undeliveredInvitees(db: Db, surveyId: string): Promise<{ id: number; email: string }[]> {
  return db
    .selectFrom('invitees as i')
    .select(['i.id', 'i.email'])
    .where('i.survey_id', '=', surveyId)
    .where((w) => w.or([w('i.state', '=', 'bounced'), w('i.id', 'in', w.selectFrom('outbox as o').select('o.invitee_id').where('o.survey_id', '=', surveyId).where('o.status', '=', 'failed'))]))
    .execute();
}

/** The mails given up on for these invitees are due again now, as if never tried. */
export async function requeueFailed(db: Db, inviteeIds: readonly number[], now: Date): Promise<number> {
  if (inviteeIds.length === 0) return 0;
  const result = await db
    .updateTable('outbox')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now.toISOString(), last_error: null })
    .where('invitee_id', 'in', inviteeIds)
    .where('status', '=', 'failed')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
