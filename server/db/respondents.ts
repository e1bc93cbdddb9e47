// What every request of a respondent reads: their ledger entry, their survey and, under the key
// from their session, their draft, in one statement. Three lookups by key cost three round trips
// through the query builder and SQLite, each more than the lookup itself, on every page a
// respondent opens or saves (scripts/bench/load.ts).

import type { CompiledQuery, InferResult } from 'kysely';
import type { Db } from './connection.ts';
import type { DraftRow } from './drafts.ts';
import type { RespondentInvitee } from './invitees.ts';
import type { SurveyRow } from './surveys.ts';

export interface RespondentRows {
  invitee: RespondentInvitee;
  survey: SurveyRow;
  draft: DraftRow | undefined;
}

// Sentinels for the values bound on each run of the compiled statement.
const INVITEE_ID = { bound: 'invitee id' };
const DRAFT_KEY = { bound: 'draft key' };

function respondentQuery(db: Db) {
  return db
    .selectFrom('invitees as i')
    .innerJoin('surveys as s', 's.id', 'i.survey_id')
    .leftJoin('drafts as d', (join) => join.on('d.key', '=', DRAFT_KEY as never).onRef('d.survey_id', '=', 'i.survey_id'))
    .select(['i.id as invitee_id', 'i.state', 'i.sample'])
    .select(['s.id', 's.title', 's.questionnaire_hash', 's.definition', 's.opens_at', 's.closes_at', 's.closed_at', 's.created_at', 's.frozen_at', 's.purged_at'])
    .select(['d.key as draft_key', 'd.answers', 'd.strata', 'd.current_page', 'd.furthest_page', 'd.version'])
    .where('i.id', '=', INVITEE_ID as never);
}

// Built and compiled once per database: building this query in Kysely took longer than running
// it, on every request of every respondent (measured: 66-81 us a run built each time, 18-19 us
// compiled once).
const compiled = new WeakMap<Db, CompiledQuery<RespondentRow>>();
type RespondentRow = InferResult<ReturnType<typeof respondentQuery>>[number];

export async function readRespondentRows(db: Db, inviteeId: number, draftKey: string): Promise<RespondentRows | undefined> {
  let statement = compiled.get(db);
  if (!statement) {
    statement = respondentQuery(db).compile();
    compiled.set(db, statement);
  }
  const parameters = statement.parameters.map((p) => (p === INVITEE_ID ? inviteeId : p === DRAFT_KEY ? draftKey : p));
  const [row] = (await db.executeQuery<RespondentRow>({ ...statement, parameters })).rows;
  if (!row) return undefined;
  const { invitee_id, state, sample, draft_key, answers, strata, current_page, furthest_page, version, ...survey } = row;
  return {
    invitee: { id: invitee_id, survey_id: survey.id, state, sample },
    survey,
    draft:
      draft_key === null
        ? undefined
        : { key: draft_key, survey_id: survey.id, answers: answers!, strata: strata!, current_page: current_page!, furthest_page: furthest_page!, version: version! },
  };
}
