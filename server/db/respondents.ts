// What every request of a respondent reads: their ledger entry, their survey and, under the key
// from their session, their draft, in one prepared statement. Three lookups by key cost three
// trips through the query builder and the driver, each more than the lookup itself, on every page
// a respondent opens or saves (scripts/bench/load.ts).

import type { Db } from './connection.ts';
import type { DraftRow } from './drafts.ts';
import type { RespondentInvitee } from './invitees.ts';
import { prepared } from './prepared.ts';
import type { SurveyRow } from './surveys.ts';

export interface RespondentRows {
  invitee: RespondentInvitee;
  survey: SurveyRow;
  draft: DraftRow | undefined;
  /** The answer side's record that this questionnaire was submitted (the ledger may not know yet). */
  submitted: boolean;
}

const respondentRow = prepared((db, v: { inviteeId: number; draftKey: string; submissionKey: string }) =>
  db
    .selectFrom('invitees as i')
    .innerJoin('surveys as s', 's.id', 'i.survey_id')
    .leftJoin('drafts as d', (join) => join.on('d.key', '=', v.draftKey).onRef('d.survey_id', '=', 'i.survey_id'))
    .leftJoin('submissions as sub', (join) => join.on('sub.key', '=', v.submissionKey).onRef('sub.survey_id', '=', 'i.survey_id'))
    .select(['i.id as invitee_id', 'i.state', 'i.sample', 'i.counted_on'])
    .select(['s.id', 's.title', 's.questionnaire_hash', 's.definition', 's.opens_at', 's.closes_at', 's.closed_at', 's.created_at', 's.frozen_at', 's.purged_at'])
    .select(['d.key as draft_key', 'd.answers', 'd.strata', 'd.current_page', 'd.furthest_page', 'd.version', 'd.session_round', 'sub.key as submission_key'])
    .where('i.id', '=', v.inviteeId),
);

export async function readRespondentRows(db: Db, inviteeId: number, draftKey: string, submissionKey: string): Promise<RespondentRows | undefined> {
  const [row] = (await respondentRow(db, { inviteeId, draftKey, submissionKey })).rows;
  if (!row) return undefined;
  const { invitee_id, state, sample, counted_on, draft_key, answers, strata, current_page, furthest_page, version, session_round, submission_key, ...survey } = row;
  return {
    invitee: { id: invitee_id, survey_id: survey.id, state, sample, counted_on },
    survey,
    draft:
      draft_key === null
        ? undefined
        : { key: draft_key, survey_id: survey.id, answers: answers!, strata: strata!, current_page: current_page!, furthest_page: furthest_page!, version: version!, session_round: session_round! },
    submitted: submission_key !== null,
  };
}
