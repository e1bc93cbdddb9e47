// Why mail did not go out, summed up for the fieldwork manager (`survey schedule`, the dashboard):
// per recipient domain and reply, so that one mail server turning away a whole organisation (a
// spam filter, a full quota) stands out from a few mistyped addresses, and can be taken up with
// its IT desk; and, once that is mended, sending it again (`survey retry`). A mistyped or outdated
// address, once the right one is known (from a phone call, say), is corrected with
// `survey address`, which sends what bounced again to the new one.

import type { Db } from '../db/connection.ts';
import { findInviteeByEmail, unmarkBounced, type InviteeRow } from '../db/invitees.ts';
import { requeueFailed, undeliveredInvitees, undeliveredMail } from '../db/outbox.ts';
import type { SurveyRow } from '../db/surveys.ts';
import { isClosed } from './answering.ts';
import { normalizeEmail } from '../domain/survey/addresses.ts';
import { SurveyError } from './surveys.ts';

export interface DeliveryProblem {
  /** failed: given up on (rejected, or too many temporary failures); retrying: tried again later. */
  status: 'failed' | 'retrying';
  domain: string;
  /** The server's reply (or our reason), with addresses taken out so that equal replies group. */
  reply: string;
  mails: number;
}

export async function deliveryProblems(db: Db, surveyId: string): Promise<DeliveryProblem[]> {
  const groups = new Map<string, DeliveryProblem>();
  for (const row of await undeliveredMail(db, surveyId)) {
    const status = row.status === 'failed' ? 'failed' : 'retrying';
    const domain = row.email.slice(row.email.lastIndexOf('@') + 1);
    const reply = replyPattern(row.last_error ?? 'no reason recorded');
    const key = JSON.stringify([status, domain, reply]);
    const group = groups.get(key);
    if (group) group.mails++;
    else groups.set(key, { status, domain, reply, mails: 1 });
  }
  return [...groups.values()].sort((a, b) => b.mails - a.mails || a.status.localeCompare(b.status) || a.domain.localeCompare(b.domain) || a.reply.localeCompare(b.reply));
}

/** A reply with its addresses replaced by <address>, on one line, at most 160 characters. */
function replyPattern(reply: string): string {
  const text = reply
    .replace(/<[^<>\s]*@[^<>\s]*>|[^\s<>@:;,()"']+@[^\s<>@:;,()"']+/g, '<address>')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

export interface RetryOutcome {
  /** Invitees marked bounced before, invited again (started, if they had started). */
  unbounced: number;
  /** Mails given up on that are queued again, due now. */
  requeued: number;
}

/**
 * Once the cause is mended (the organisation's IT desk lets our mail through, a mailbox is
 * repaired), the mail given up on for a domain or one address goes out again, and whoever was
 * marked bounced for it is invited again, in one transaction. The sender takes the mails on its
 * next run, within the send window; if the server still refuses, they bounce again.
 */
export async function retryUndelivered(db: Db, survey: SurveyRow, target: { domain: string } | { email: string }, now: Date): Promise<RetryOutcome> {
  if (isClosed(survey, now) || survey.purged_at !== null) throw new SurveyError(`survey ${survey.id} is closed: no more mail goes out`);
  const matches = 'domain' in target ? (email: string) => email.endsWith(`@${target.domain.trim().toLowerCase()}`) : (email: string) => email === target.email.trim().toLowerCase();
  return db.transaction().execute(async (trx) => {
    const ids = (await undeliveredInvitees(trx, survey.id)).filter((i) => matches(i.email)).map((i) => i.id);
    let unbounced = 0;
    let requeued = 0;
    // In chunks: SQLite takes at most 32,766 parameters in one statement.
    for (let i = 0; i < ids.length; i += 10_000) {
      const chunk = ids.slice(i, i + 10_000);
      unbounced += await unmarkBounced(trx, chunk);
      requeued += await requeueFailed(trx, chunk, now);
    }
    return { unbounced, requeued };
  });
}

/**
 * Corrects an invitee's address. Mail still to go out goes to the new one (the sender reads the
 * address when it sends); if the old one bounced, the invitee is invited again (started, if they
 * had started) and the mail given up on there is queued again, due at once, in one transaction.
 */
export async function correctAddress(db: Db, survey: SurveyRow, invitee: InviteeRow, address: string, now: Date): Promise<RetryOutcome> {
  if (isClosed(survey, now) || survey.purged_at !== null) throw new SurveyError(`survey ${survey.id} is closed: no more mail goes out`);
  const email = normalizeEmail(address);
  if (email === undefined) throw new SurveyError(`"${address}" is not an email address`);
  if (email === invitee.email) throw new SurveyError(`${invitee.email} is already the address of this invitee`);
  if (await findInviteeByEmail(db, survey.id, email)) throw new SurveyError(`${email} is already invited to survey ${survey.id}, as someone else`);
  return db.transaction().execute(async (trx) => {
    await trx.updateTable('invitees').set({ email }).where('id', '=', invitee.id).execute();
    if (invitee.state !== 'bounced') return { unbounced: 0, requeued: 0 };
    return { unbounced: await unmarkBounced(trx, [invitee.id]), requeued: await requeueFailed(trx, [invitee.id], now) };
  });
}
