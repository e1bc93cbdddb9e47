// Sending a mail again to one person who asks for it ("I cannot find your mail"), on the phone
// or by mail to the helpdesk: a copy of the invitation (or of another mailing that reached them),
// with their own link and code, queued in the outbox like any mail, so that it goes out within
// the send window, once, and survives a crash like the rest. Only to someone the mail may still
// go to, and only once it reached them: what never went out is not sent "again" (survey retry
// and survey address are for mail that did not arrive).

import type { Db } from '../db/connection.ts';
import { findInviteeByEmail, type InviteeRow } from '../db/invitees.ts';
import { ELIGIBLE, inviteeMailingRows, queueCopy } from '../db/outbox.ts';
import { listOpenSurveys, type SurveyRow } from '../db/surveys.ts';
import { isClosed } from './answering.ts';
import { planOf } from './fieldwork.ts';
import { SurveyError } from './surveys.ts';

export interface Resent {
  mailingId: string;
  /** Which copy this is: 2 for the first one sent again. */
  copy: number;
}

/**
 * Queues a copy of a mailing (default: the invitation) for one invitee, due now. Refused, with
 * what to do instead, for someone who completed, refused, bounced or is not eligible, for a
 * mailing that has not reached them, while a copy is still waiting, and once fieldwork is over.
 */
export async function resendMail(db: Db, survey: SurveyRow, invitee: InviteeRow, mailingId: string | undefined, now: Date, options: { maxCopies?: number } = {}): Promise<Resent> {
  if (survey.purged_at) throw new SurveyError(`survey ${survey.id} was purged: its contact data is gone`);
  if (isClosed(survey, now)) throw new SurveyError(`survey ${survey.id} is closed: no more mail goes out`);
  const { plan } = planOf(survey);
  const mailing = mailingId === undefined ? plan.mailings.find((m) => m.kind === 'invitation')! : plan.mailings.find((m) => m.id === mailingId);
  if (!mailing) throw new SurveyError(`survey ${survey.id} has no mailing "${mailingId}": its mailings are ${plan.mailings.map((m) => m.id).join(', ')}`);
  const email = invitee.email;
  if (!ELIGIBLE[mailing.kind].includes(invitee.state)) throw new SurveyError(notEligible(survey, invitee));
  return db.transaction().execute(async (trx) => {
    const rows = await inviteeMailingRows(trx, invitee.id, mailing.id);
    const first = rows.find((r) => r.copy === 1);
    // Skipped: the person could not be mailed then (refused, say) and can now; they get it now.
    if (first?.status !== 'sent' && first?.status !== 'skipped') {
      const why = !first ? 'it is not queued for them' : first.status === 'failed' ? `it was given up on: survey retry ${survey.id} --email ${email} sends it again` : 'it is queued and goes out on the next send';
      throw new SurveyError(`${mailing.id} has not gone out to ${email} (${why}): there is nothing to send again`);
    }
    const waiting = rows.find((r) => r.copy > 1 && (r.status === 'pending' || r.status === 'sending'));
    if (waiting) throw new SurveyError(`a copy of ${mailing.id} for ${email} is already queued and goes out on the next send`);
    const copy = Math.max(...rows.map((r) => r.copy)) + 1;
    if (options.maxCopies !== undefined && copy - 1 > options.maxCopies) throw new SurveyError(`${mailing.id} was sent again to ${email} ${options.maxCopies} times already`);
    await queueCopy(trx, survey.id, invitee.id, mailing.id, copy, now);
    return { mailingId: mailing.id, copy };
  });
}

/** How often someone may ask for their invitation again themselves (the helpdesk may go on). */
export const SELF_SERVICE_COPIES = 3;

/**
 * Someone who lost the invitation asks for it on the start page by typing their address: the
 * invitation of every open survey that reached that address is sent again, to that address only
 * (never to one typed in), through the outbox, at most SELF_SERVICE_COPIES times. The page says
 * the same whatever happened, so it tells nobody whether an address is in a sample; this returns
 * the invitee numbers for the audit log.
 */
export async function resendOnRequest(db: Db, email: string, now: Date): Promise<{ surveyId: string; inviteeId: number }[]> {
  const address = email.trim().toLowerCase();
  const queued: { surveyId: string; inviteeId: number }[] = [];
  for (const survey of await listOpenSurveys(db)) {
    const invitee = await findInviteeByEmail(db, survey.id, address);
    if (!invitee) continue;
    try {
      await resendMail(db, survey, invitee, undefined, now, { maxCopies: SELF_SERVICE_COPIES });
      queued.push({ surveyId: survey.id, inviteeId: invitee.id });
    } catch (e) {
      // Completed, refused, not yet invited, a copy on its way, asked too often: nothing to send.
      if (!(e instanceof SurveyError)) throw e;
    }
  }
  return queued;
}

function notEligible(survey: SurveyRow, invitee: InviteeRow): string {
  const email = invitee.email;
  switch (invitee.state) {
    case 'submitted':
      return `${email} has already completed the questionnaire`;
    case 'refused':
      return `${email} said they do not take part, so no more mail goes to them. If they want to after all, read out their code (survey code ${survey.id} ${email}): the questionnaire asks them to confirm`;
    case 'bounced':
      return `mail to ${email} bounced: correct the address with survey address ${survey.id} ${email} <new-email>, or, if it works again, survey retry ${survey.id} --email ${email}`;
    case 'not_eligible':
      return `${email} is marked not eligible`;
    default:
      return `${email} is ${invitee.state}`;
  }
}
