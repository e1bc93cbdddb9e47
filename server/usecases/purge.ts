// After fieldwork: contact data goes, aggregate counts per stratum stay (for the report's
// response tables). Only a closed survey can be purged; responses are anonymous and stay.

import type { Db } from '../db/connection.ts';
import type { SurveyRow } from '../db/surveys.ts';
import { SurveyError, definitionOf } from './surveys.ts';

export interface StratumCounts {
  invited: number;
  states: Record<string, number>;
  opened: number;
  mailings: Record<string, number>;
}

export async function purgeSurvey(db: Db, survey: SurveyRow, now: Date): Promise<{ invitees: number; strata: number }> {
  if (!survey.closed_at) throw new SurveyError(`survey ${survey.id} is still open: close it first (survey close ${survey.id})`);
  if (survey.purged_at) throw new SurveyError(`survey ${survey.id} was already purged on ${survey.purged_at}`);
  const strata = definitionOf(survey).sample.strata;
  const invitees = await db.selectFrom('invitees').select(['id', 'sample', 'state', 'opened_on']).where('survey_id', '=', survey.id).execute();
  const sent = await db.selectFrom('outbox').select(['invitee_id', 'mailing_id']).where('survey_id', '=', survey.id).where('status', '=', 'sent').execute();
  const mailingsOf = new Map<number, string[]>();
  for (const s of sent) mailingsOf.set(s.invitee_id, [...(mailingsOf.get(s.invitee_id) ?? []), s.mailing_id]);

  const byStratum = new Map<string, StratumCounts>();
  for (const invitee of invitees) {
    const sample = JSON.parse(invitee.sample) as Record<string, string>;
    const key = JSON.stringify(Object.fromEntries(strata.map((s) => [s, sample[s] ?? null])));
    const c = byStratum.get(key) ?? { invited: 0, states: {}, opened: 0, mailings: {} };
    c.invited++;
    c.states[invitee.state] = (c.states[invitee.state] ?? 0) + 1;
    if (invitee.opened_on) c.opened++;
    for (const m of mailingsOf.get(invitee.id) ?? []) c.mailings[m] = (c.mailings[m] ?? 0) + 1;
    byStratum.set(key, c);
  }
  await db.transaction().execute(async (trx) => {
    for (const [stratum, counts] of byStratum) {
      await trx.insertInto('stratum_counts').values({ survey_id: survey.id, stratum, counts: JSON.stringify(counts) }).execute();
    }
    await trx.deleteFrom('outbox').where('survey_id', '=', survey.id).execute();
    await trx.deleteFrom('invitees').where('survey_id', '=', survey.id).execute();
    await trx.updateTable('surveys').set({ purged_at: now.toISOString() }).where('id', '=', survey.id).execute();
  });
  return { invitees: invitees.length, strata: byStratum.size };
}
