// The telephone non-response survey: an interviewer asks those who would not take part the
// survey's few non-response questions (`nonResponse` in its definition) and records the answers
// with `survey nonresponse`. The answers are kept as responses are: linked to nobody (a random
// id, the carried strata, no invitee, no date), in a table of their own; the ledger learns only
// the date someone was interviewed, so that nobody is asked twice (docs/anonymity.md).

import { randomBytes } from 'node:crypto';
import { checkpoint, type Db } from '../db/connection.ts';
import type { InviteeRow } from '../db/invitees.ts';
import type { SurveyRow } from '../db/surveys.ts';
import { csv } from '../domain/csv.ts';
import { shuffle } from '../domain/analysis/shuffle.ts';
import { amsterdamDate } from '../domain/survey/dates.ts';
import { carriedStrata } from '../domain/survey/definition.ts';
import { parseNonResponseAnswers, summarizeNonResponse, type NonResponseAnswers, type NonResponseQuestions, type NonResponseSummary } from '../domain/survey/nonresponse.ts';
import { definitionOf, SurveyError } from './surveys.ts';

/** The survey's non-response questions; a SurveyError if it has none. */
export function nonResponseQuestions(survey: SurveyRow): NonResponseQuestions {
  const questions = definitionOf(survey).nonResponse?.questions;
  if (!questions) throw new SurveyError(`survey ${survey.id} has no non-response questions: add nonResponse to its definition (docs/fieldwork.md) and run survey create again`);
  return questions;
}

/**
 * Records the answers of one non-response interview. Only for someone who does not take part
 * (refused: by phone, by mail or through the opt-out link), once; also after close, as long as
 * the contact data is there.
 */
export async function recordNonResponseInterview(db: Db, survey: SurveyRow, invitee: InviteeRow, pairs: readonly string[], now: Date): Promise<NonResponseAnswers> {
  const questions = nonResponseQuestions(survey);
  if (survey.purged_at) throw new SurveyError(`survey ${survey.id} was purged: its contact data is gone`);
  if (invitee.interviewed_on !== null) throw new SurveyError(`${invitee.email} was already interviewed for the non-response survey on ${invitee.interviewed_on}`);
  if (invitee.state !== 'refused') {
    throw new SurveyError(
      invitee.state === 'submitted'
        ? `${invitee.email} has completed the questionnaire: the non-response questions are for those who do not take part`
        : `${invitee.email} is ${invitee.state}: the non-response questions are for those who do not take part; if they said so, record it first (survey call ${survey.id} ${invitee.email} refused)`,
    );
  }
  const parsed = parseNonResponseAnswers(questions, pairs);
  if (!parsed.ok) throw new SurveyError(`nothing recorded:\n  ${parsed.problems.join('\n  ')}`);
  const strata = carriedStrata(definitionOf(survey), JSON.parse(invitee.sample) as Record<string, string>);
  // Two transactions, never one (docs/anonymity.md): the ledger first, checked again in the write
  // (two interviewers recording the same person at once store one), then the answers; then the
  // WAL is emptied, so that no copy finds the two next to each other.
  const marked = await db
    .updateTable('invitees')
    .set({ interviewed_on: amsterdamDate(now) })
    .where('id', '=', invitee.id)
    .where('state', '=', 'refused')
    .where('interviewed_on', 'is', null)
    .executeTakeFirst();
  if (Number(marked.numUpdatedRows) !== 1) throw new SurveyError(`${invitee.email} changed meanwhile (interviewed already, or taking part after all): nothing recorded`);
  await db
    .insertInto('nonresponse_answers')
    .values({ id: randomBytes(16).toString('hex'), survey_id: survey.id, strata: JSON.stringify(strata), answers: JSON.stringify(parsed.answers) })
    .execute();
  await checkpoint(db);
  return parsed.answers;
}

async function interviews(db: Db, survey: SurveyRow): Promise<{ strata: Record<string, string>; answers: NonResponseAnswers }[]> {
  const rows = await db.selectFrom('nonresponse_answers').select(['strata', 'answers']).where('survey_id', '=', survey.id).execute();
  return rows.map((r) => ({ strata: JSON.parse(r.strata) as Record<string, string>, answers: JSON.parse(r.answers) as NonResponseAnswers }));
}

/** The answers counted per question; undefined for a survey without non-response questions. */
export async function nonResponseSummary(db: Db, survey: SurveyRow): Promise<NonResponseSummary | undefined> {
  const questions = definitionOf(survey).nonResponse?.questions;
  if (!questions) return undefined;
  return summarizeNonResponse(questions, (await interviews(db, survey)).map((i) => i.answers));
}

/**
 * The interviews as CSV, one row each: the carried strata, then each question's option code. In
 * a random order, shuffled afresh every time, like the responses export.
 */
export async function nonResponseCsv(db: Db, survey: SurveyRow): Promise<{ csv: string; rows: number }> {
  const questions = nonResponseQuestions(survey);
  const carry = definitionOf(survey).sample.carry;
  const rows = (await interviews(db, survey)).map((i) => [...carry.map((f) => i.strata[f] ?? ''), ...questions.map((q) => i.answers[q.id] ?? '')]);
  shuffle(rows);
  return { csv: csv([[...carry, ...questions.map((q) => q.id)], ...rows]), rows: rows.length };
}
