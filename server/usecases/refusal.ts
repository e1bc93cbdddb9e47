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

import { checkpoint, type Db } from '../db/connection.ts';
import { deleteDraft, getDraft } from '../db/drafts.ts';
import { isSubmitted } from '../db/submissions.ts';
import { markNotEligible, markRefused, markUncounted, type InviteeRow } from '../db/invitees.ts';
import { amsterdamDate } from '../domain/survey/dates.ts';
import type { Secrets } from '../security/secrets.ts';
import { draftKeyFor, submissionKeyFor } from './invitations.ts';

/** Whether the invitee has a questionnaire in progress (answers saved, not yet submitted). */
export async function hasAnswersInProgress(db: Db, secrets: Secrets, invitee: InviteeRow): Promise<boolean> {
  if (invitee.state === 'submitted') return false;
  return (await getDraft(db, draftKeyFor(secrets, invitee))) !== undefined;
}

/**
 * Whether the invitee submitted: the ledger says so, or the answer side does while the ledger has
 * yet to learn it (ledger-marks.ts).
 */
export async function hasSubmitted(db: Db, secrets: Secrets, invitee: Pick<InviteeRow, 'id' | 'survey_id' | 'state' | 'code_sealed'>): Promise<boolean> {
  return invitee.state === 'submitted' || (await isSubmitted(db, submissionKeyFor(secrets, invitee)));
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
 * `withdrawAnswers` deletes their answers in progress. Withdrawing also works for someone already
 * refused (who unsubscribed with one click, say, and now asks for their answers to go), never for
 * someone who submitted (also not while the ledger has yet to learn that they did).
 *
 * The ledger and the answers change in two transactions, never one (docs/anonymity.md), the
 * ledger first: a crash in between leaves the answers, which still count as theirs at close only
 * if they reached the counting rule again. After a withdrawal the WAL is emptied, so that the
 * deleted answers do not stay readable next to the ledger change that explains them.
 */
export async function recordDisposition(
  db: Db,
  secrets: Secrets,
  invitee: InviteeRow,
  disposition: 'refused' | 'not_eligible',
  now: Date,
  options: { withdrawAnswers: boolean },
): Promise<DispositionOutcome> {
  if (await hasSubmitted(db, secrets, invitee)) return { changed: false, withdrawn: false };
  const today = amsterdamDate(now);
  const draftKey = options.withdrawAnswers ? draftKeyFor(secrets, invitee) : undefined;
  const hasDraft = draftKey !== undefined && (await getDraft(db, draftKey)) !== undefined;
  const { changed, uncounted } = await db.transaction().execute(async (trx) => {
    const changed = await markDisposition(trx, invitee.id, disposition, today);
    // markUncounted checks that they did not submit all the same: a response must never lose its count.
    return { changed, uncounted: hasDraft && (await markUncounted(trx, invitee.id)) };
  });
  if (!uncounted) return { changed, withdrawn: false };
  await deleteDraft(db, draftKey!);
  await checkpoint(db);
  return { changed, withdrawn: true };
}
