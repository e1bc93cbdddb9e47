// Not taking part: by the opt-out link in every mail (or a mail client's one-click unsubscribe),
// or recorded by the fieldwork manager (`survey mark … refused|not-eligible`). No more mail goes
// out either way.
//
// Answers already given (a questionnaire in progress) are never dropped without the person being
// told: they stay, and at close become a partial response if they passed the counting rule,
// unless they are withdrawn, on the opt-out page, which says so before the person confirms, or by
// the manager (`--withdraw-answers`, for a request by phone or letter). Withdrawn, the draft is
// deleted and the ledger forgets that it reached the counting rule, so the person counts as a
// refusal (R) rather than a partial response (P). After close the answers are an anonymous
// response that nobody can trace back, so there is nothing left to withdraw.
//
// A refusal can be undone by the person, with their own code: the questionnaire's page then says
// they chose not to take part and offers to take part after all (routes/respondent, unmarkRefused).

import type { Db } from '../db/connection.ts';
import { deleteDraft, getDraft } from '../db/drafts.ts';
import { markNotEligible, markRefused, markUncounted, type InviteeRow } from '../db/invitees.ts';
import { amsterdamDate } from '../domain/survey/dates.ts';
import type { Secrets } from '../security/secrets.ts';
import { draftKeyFor } from './invitations.ts';

/** Whether the invitee has a questionnaire in progress (answers saved, not yet submitted). */
export async function hasAnswersInProgress(db: Db, secrets: Secrets, invitee: InviteeRow): Promise<boolean> {
  if (invitee.state === 'submitted') return false;
  return (await getDraft(db, draftKeyFor(secrets, invitee))) !== undefined;
}

export interface DispositionOutcome {
  /** Whether the state changed (false: it could not, e.g. already submitted or already refused). */
  changed: boolean;
  /** Whether answers in progress were deleted. */
  withdrawn: boolean;
}

/** Sets refused or not eligible, within the caller's transaction; whether the state changed. */
export function markDisposition(db: Db, inviteeId: number, disposition: 'refused' | 'not_eligible', on: string): Promise<boolean> {
  return disposition === 'refused' ? markRefused(db, inviteeId, on) : markNotEligible(db, inviteeId, on);
}

/**
 * Records that the invitee does not take part (refused) or is not eligible, and with
 * `withdrawAnswers` deletes their answers in progress, in one transaction. Withdrawing also works
 * for someone already refused (who unsubscribed with one click, say, and now asks for their
 * answers to go), never for someone who submitted.
 */
export async function recordDisposition(
  db: Db,
  secrets: Secrets,
  invitee: InviteeRow,
  disposition: 'refused' | 'not_eligible',
  now: Date,
  options: { withdrawAnswers: boolean },
): Promise<DispositionOutcome> {
  const today = amsterdamDate(now);
  const draftKey = options.withdrawAnswers && invitee.state !== 'submitted' ? draftKeyFor(secrets, invitee) : undefined;
  return db.transaction().execute(async (trx) => {
    const changed = await markDisposition(trx, invitee.id, disposition, today);
    if (!draftKey || (await getDraft(trx, draftKey)) === undefined) return { changed, withdrawn: false };
    // Submitting deletes the draft, so a submitted invitee never gets here; markUncounted checks
    // all the same, since a response must never lose its count.
    if (!(await markUncounted(trx, invitee.id))) return { changed, withdrawn: false };
    await deleteDraft(trx, draftKey);
    return { changed, withdrawn: true };
  });
}
