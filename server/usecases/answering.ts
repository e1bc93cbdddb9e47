// The respondent's path through a survey: where they are, saving a page, finishing, and what
// happens to unfinished questionnaires at close. Every write is one transaction; mail and other
// network I/O never happen in here. A save writes the answer side only: what it means for the
// ledger (started, counted, submitted) is noted for a later batch (ledger-marks.ts), never
// written in the same commit as the answers.

import type { Db } from '../db/connection.ts';
import { deleteDraft, insertDraft, listDrafts, updateDraft, type DraftRow, type DraftWrite } from '../db/drafts.ts';
import type { RespondentInvitee } from '../db/invitees.ts';
import { readRespondentRows } from '../db/respondents.ts';
import { insertResponse } from '../db/responses.ts';
import { insertSubmission } from '../db/submissions.ts';
import { markSurveyClosed, type SurveyRow } from '../db/surveys.ts';
import { rebuild } from '../db/connection.ts';
import type { Secrets } from '../security/secrets.ts';
import { submissionKeyOf } from './invitations.ts';
import { recordLaggingMarks, type LedgerMarks } from './ledger-marks.ts';
import { prune, shownBlocks, type Answers, type CompiledBlock, type Questionnaire, type SampleValues } from '../domain/questionnaire/index.ts';
import { amsterdamDate } from '../domain/survey/dates.ts';
import type { QuestionnaireRegistry } from './questionnaire-registry.ts';
import { definitionOf } from './surveys.ts';
import { carriedStrata } from '../domain/survey/definition.ts';

export interface Respondent {
  survey: SurveyRow;
  questionnaire: Questionnaire;
  invitee: RespondentInvitee;
  sample: SampleValues;
  draftKey: string;
  draft: DraftRow | undefined;
  answers: Answers;
  /** Submitted, as the answer side knows at once (the ledger learns it in a later batch). */
  submitted: boolean;
}

export type Situation = 'answering' | 'completed' | 'closed' | 'not-open' | 'refused' | 'not-eligible';

/**
 * The respondent of a session, or undefined if the invitee (or their survey) is gone, or the
 * respondent ended their sessions since this one started ("later": endSessions).
 */
export async function loadRespondent(db: Db, secrets: Secrets, questionnaires: QuestionnaireRegistry, session: { invitee: number; draftKey: string; round?: number }): Promise<Respondent | undefined> {
  const rows = await readRespondentRows(db, session.invitee, session.draftKey, submissionKeyOf(secrets, session.draftKey));
  if (!rows) return undefined;
  if (rows.draft && rows.draft.session_round !== (session.round ?? 0)) return undefined;
  const { invitee, survey, draft, submitted } = rows;
  return {
    survey,
    questionnaire: await questionnaires.byHash(survey.questionnaire_hash),
    invitee,
    sample: JSON.parse(invitee.sample) as SampleValues,
    draftKey: session.draftKey,
    draft,
    answers: draft ? (JSON.parse(draft.answers) as Answers) : {},
    submitted,
  };
}

export function isClosed(survey: SurveyRow, now: Date): boolean {
  return survey.closed_at !== null || now.getTime() >= Date.parse(survey.closes_at);
}

export function situationOf(r: Respondent, now: Date): Situation {
  if (r.submitted || r.invitee.state === 'submitted') return 'completed';
  if (isClosed(r.survey, now)) return 'closed';
  if (now.getTime() < Date.parse(r.survey.opens_at)) return 'not-open';
  if (r.invitee.state === 'refused') return 'refused';
  if (r.invitee.state === 'not_eligible') return 'not-eligible';
  return 'answering';
}

/** The pages this respondent gets, in order, given what they answered so far. */
export function pagesOf(r: Respondent): CompiledBlock[] {
  return shownBlocks(r.questionnaire, r.answers, r.sample);
}

/** The page to show when the respondent arrives: where they left off. */
export function resumePage(r: Respondent): CompiledBlock {
  const pages = pagesOf(r);
  const at = r.draft?.current_page ?? -1;
  return pages.find((p) => p.index >= at) ?? pages[pages.length - 1]!;
}

/** Pages up to the furthest one reached can be revisited (browser back, "Vorige"). */
export function mayVisit(r: Respondent, block: CompiledBlock, pages = pagesOf(r)): boolean {
  const furthest = Math.max(r.draft?.furthest_page ?? -1, pages[0]!.index);
  return pages.includes(block) && block.index <= furthest;
}

export function draftVersion(r: Respondent): number {
  return r.draft?.version ?? 0;
}

export type SaveOutcome =
  | { kind: 'saved'; next: CompiledBlock }
  | { kind: 'finished' }
  /** The form was older than the draft (double click, refresh, replay): nothing was changed. */
  | { kind: 'stale' };

/**
 * Saves the answers given on `block` and moves the respondent on, back, or nowhere ('stay': they
 * stop for now and resume on this page). Answers that the new routing no longer asks for are
 * dropped. When there is no page after this one, the questionnaire is finished: the draft becomes
 * an anonymous response and the ledger learns "submitted" (date only).
 */
export async function savePage(
  db: Db,
  secrets: Secrets,
  marks: LedgerMarks,
  r: Respondent,
  block: CompiledBlock,
  pageAnswers: Answers,
  postedVersion: number,
  direction: 'next' | 'previous' | 'stay',
  now: Date,
): Promise<SaveOutcome> {
  if (postedVersion !== draftVersion(r)) return { kind: 'stale' };
  const q = r.questionnaire;
  // Replace everything this page held (including "other" texts) by what was posted now.
  const kept: Answers = {};
  for (const [key, value] of Object.entries(r.answers)) {
    const item = q.items.get(key.split('.')[0]!);
    if (item?.block !== block) kept[key] = value;
  }
  const answers = prune(q, { ...kept, ...pageAnswers }, r.sample);
  const pages = shownBlocks(q, answers, r.sample);
  const next = direction === 'next' ? pages.find((p) => p.index > block.index) : direction === 'previous' ? [...pages].reverse().find((p) => p.index < block.index) : block;
  const today = amsterdamDate(now);

  const actor = { inviteeId: r.invitee.id, survey: r.survey, sample: r.sample };
  let outcome: SaveOutcome;
  try {
    outcome = await db.transaction().execute(async (trx) => {
      if (direction === 'next' && !next) {
        await finish(trx, r, answers, 'complete');
        await insertSubmission(trx, submissionKeyOf(secrets, r.draftKey), r.survey.id);
        return { kind: 'finished' } as const;
      }
      const target = next ?? block;
      const draft: DraftWrite = {
        key: r.draftKey,
        survey_id: r.survey.id,
        answers: JSON.stringify(answers),
        strata: JSON.stringify(carriedStrata(definitionOf(r.survey), r.sample)),
        current_page: target.index,
        furthest_page: Math.max(r.draft?.furthest_page ?? -1, target.index),
        version: draftVersion(r) + 1,
      };
      if (r.draft) {
        if (!(await updateDraft(trx, draft, postedVersion))) throw new StaleForm();
      } else {
        await insertDraft(trx, draft);
      }
      return { kind: 'saved', next: target } as const;
    });
  } catch (e) {
    // A concurrent save of the same page (double click) either bumped the version or created
    // the draft first (or the submission); this one changes nothing.
    if (e instanceof StaleForm || isUniqueViolation(e)) return { kind: 'stale' };
    throw e;
  }
  // For the ledger, in a later batch: never in the commit that holds the answers.
  if (outcome.kind === 'finished') await marks.note(actor, 'submitted', today);
  else {
    if (!r.draft) await marks.note(actor, 'started', today);
    // Once, when the counting rule's page is first reached (the ledger, behind, cannot tell).
    const counting = q.countingItem.block.index;
    if (outcome.next.index >= counting && (r.draft?.furthest_page ?? -1) < counting && r.invitee.counted_on === null) await marks.note(actor, 'counted', today);
  }
  return outcome;
}

class StaleForm extends Error {}

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}


async function finish(trx: Db, r: Respondent, answers: Answers, status: 'complete'): Promise<void> {
  await insertResponse(trx, {
    survey_id: r.survey.id,
    questionnaire_id: r.questionnaire.id,
    questionnaire_version: r.questionnaire.version,
    questionnaire_hash: r.survey.questionnaire_hash,
    answers: JSON.stringify(answers),
    strata: JSON.stringify(carriedStrata(definitionOf(r.survey), r.sample)),
    status,
    reached_page: null,
  });
  await deleteDraft(trx, r.draftKey);
}

/**
 * Closes a survey: codes stop working, the ledger learns what respondents did that it did not know
 * yet (ledger-marks.ts), drafts that passed the counting rule become partial responses and the
 * rest are discarded, and the database file is rebuilt, so that nothing of the drafts, nor of the
 * order in which anything happened, stays in the files. Idempotent. Each step is a transaction of
 * its own: none touches both the ledger and the answers.
 */
export async function closeSurvey(db: Db, secrets: Secrets, survey: SurveyRow, questionnaire: Questionnaire, now: Date): Promise<{ partial: number; discarded: number }> {
  const countingPage = questionnaire.countingItem.block.index;
  await db.transaction().execute(async (trx) => {
    await markSurveyClosed(trx, survey.id, now);
    // Mail still waiting in the outbox will not go out any more.
    await trx.updateTable('outbox').set({ status: 'skipped', last_error: 'the survey is closed' }).where('survey_id', '=', survey.id).where('status', '=', 'pending').execute();
  });
  await recordLaggingMarks(db, secrets, survey, questionnaire, amsterdamDate(now));
  const released = await db.transaction().execute(async (trx) => {
    let partial = 0;
    let discarded = 0;
    for (const draft of await listDrafts(trx, survey.id)) {
      if (draft.furthest_page >= countingPage) {
        await insertResponse(trx, {
          survey_id: survey.id,
          questionnaire_id: questionnaire.id,
          questionnaire_version: questionnaire.version,
          questionnaire_hash: survey.questionnaire_hash,
          answers: draft.answers,
          strata: draft.strata,
          status: 'partial',
          // The furthest page the respondent was shown and never submitted: from there on, not reached.
          reached_page: draft.furthest_page,
        });
        partial++;
      } else {
        discarded++;
      }
      await deleteDraft(trx, draft.key);
    }
    return { partial, discarded };
  });
  await rebuild(db);
  return released;
}
