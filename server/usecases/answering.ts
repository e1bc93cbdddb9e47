// The respondent's path through a survey: where they are, saving a page, finishing, and what
// happens to unfinished questionnaires at close. Every write is one transaction; mail and other
// network I/O never happen in here.

import type { Db } from '../db/connection.ts';
import { deleteDraft, insertDraft, listDrafts, updateDraft, type DraftRow } from '../db/drafts.ts';
import { markCounted, markStarted, markSubmitted, type RespondentInvitee } from '../db/invitees.ts';
import { readRespondentRows } from '../db/respondents.ts';
import { insertResponse } from '../db/responses.ts';
import { markSurveyClosed, type SurveyRow } from '../db/surveys.ts';
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
}

export type Situation = 'answering' | 'completed' | 'closed' | 'not-open' | 'refused' | 'not-eligible';

/** The respondent of a session, or undefined if the invitee (or their survey) is gone. */
export async function loadRespondent(db: Db, questionnaires: QuestionnaireRegistry, session: { invitee: number; draftKey: string }): Promise<Respondent | undefined> {
  const rows = await readRespondentRows(db, session.invitee, session.draftKey);
  if (!rows) return undefined;
  const { invitee, survey, draft } = rows;
  return {
    survey,
    questionnaire: await questionnaires.byHash(survey.questionnaire_hash),
    invitee,
    sample: JSON.parse(invitee.sample) as SampleValues,
    draftKey: session.draftKey,
    draft,
    answers: draft ? (JSON.parse(draft.answers) as Answers) : {},
  };
}

export function isClosed(survey: SurveyRow, now: Date): boolean {
  return survey.closed_at !== null || now.getTime() >= Date.parse(survey.closes_at);
}

export function situationOf(r: Respondent, now: Date): Situation {
  if (r.invitee.state === 'submitted') return 'completed';
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

  try {
    return await db.transaction().execute(async (trx) => {
      if (direction === 'next' && !next) {
        await finish(trx, r, answers, 'complete');
        if (r.invitee.counted_on === null) await markCounted(trx, r.invitee.id, today);
        if (!(await markSubmitted(trx, r.invitee.id, today))) throw new StaleForm();
        return { kind: 'finished' } as const;
      }
      const target = next ?? block;
      // Counted once (markCounted keeps the first date anyway); skipping it saves a statement.
      if (target.index >= q.countingItem.block.index && r.invitee.counted_on === null) await markCounted(trx, r.invitee.id, today);
      const draft: DraftRow = {
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
        await markStarted(trx, r.invitee.id, today);
      }
      return { kind: 'saved', next: target } as const;
    });
  } catch (e) {
    // A concurrent save of the same page (double click) either bumped the version or created
    // the draft first; this one changes nothing.
    if (e instanceof StaleForm || isUniqueViolation(e)) return { kind: 'stale' };
    throw e;
  }
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
 * Closes a survey: codes stop working, drafts that passed the counting rule become partial
 * responses and the rest are discarded. Idempotent.
 */
export async function closeSurvey(db: Db, survey: SurveyRow, questionnaire: Questionnaire, now: Date): Promise<{ partial: number; discarded: number }> {
  const countingPage = questionnaire.countingItem.block.index;
  return db.transaction().execute(async (trx) => {
    await markSurveyClosed(trx, survey.id, now);
    // Mail still waiting in the outbox will not go out any more.
    await trx.updateTable('outbox').set({ status: 'skipped', last_error: 'the survey is closed' }).where('survey_id', '=', survey.id).where('status', '=', 'pending').execute();
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
}

