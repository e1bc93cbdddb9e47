// After fieldwork: contact data goes, aggregate counts per stratum stay (for the report's
// response tables). Only a closed survey can be purged; responses are anonymous and stay. The
// survey's .eml files (without SMTP_URL) go too: the caller removes them (mail/transport.ts).

import { sql } from 'kysely';
import { rebuild, type Db } from '../db/connection.ts';
import { deleteSubmissions } from '../db/submissions.ts';
import { countsFromLedger, type LedgerCounts } from './status.ts';
import type { SurveyRow } from '../db/surveys.ts';
import { SurveyError, definitionOf } from './surveys.ts';

export interface StratumCounts {
  /** What the response table needs (see status.ts), frozen at purge. */
  ledger: LedgerCounts;
  /** Mails sent per outbox mailing id (a copy sent again on request under its own, `<mailing>~<n>`). */
  mailings: Record<string, number>;
}

export async function purgeSurvey(db: Db, survey: SurveyRow, now: Date): Promise<{ invitees: number; strata: number }> {
  if (!survey.closed_at) throw new SurveyError(`survey ${survey.id} is still open: close it first (survey close ${survey.id})`);
  if (survey.purged_at) throw new SurveyError(`survey ${survey.id} was already purged on ${survey.purged_at}`);
  const strata = definitionOf(survey).sample.strata;
  const ledger = await countsFromLedger(db, survey.id, strata);
  const stratumColumns = strata.map((s) => sql<string | null>`json_extract(i.sample, ${`$.${s}`})`);
  const mailings = await db
    .selectFrom('outbox as o')
    .innerJoin('invitees as i', 'i.id', 'o.invitee_id')
    .select((eb) => ['o.mailing_id', eb.fn.countAll<number>().as('n'), (stratumColumns.length > 0 ? sql<string>`json_array(${sql.join(stratumColumns)})` : sql<string>`'[]'`).as('stratum')])
    .where('o.survey_id', '=', survey.id)
    .where('o.status', '=', 'sent')
    .groupBy(['o.mailing_id', 'stratum'])
    .execute();
  const invitees = [...ledger.values()].reduce((s, c) => s + c.invited, 0);
  await db.transaction().execute(async (trx) => {
    for (const [stratum, counts] of ledger) {
      const key = JSON.stringify(strata.map((s) => stratum[s] ?? null));
      const sent = Object.fromEntries(mailings.filter((m) => m.stratum === key).map((m) => [m.mailing_id, Number(m.n)]));
      const value: StratumCounts = { ledger: counts, mailings: sent };
      await trx.insertInto('stratum_counts').values({ survey_id: survey.id, stratum: JSON.stringify(stratum), counts: JSON.stringify(value) }).execute();
    }
    await trx.deleteFrom('bounces').where('survey_id', '=', survey.id).execute();
    await trx.deleteFrom('outbox').where('survey_id', '=', survey.id).execute();
    await trx.deleteFrom('calls').where('survey_id', '=', survey.id).execute();
    await trx.deleteFrom('invitees').where('survey_id', '=', survey.id).execute();
    await trx.updateTable('surveys').set({ purged_at: now.toISOString() }).where('id', '=', survey.id).execute();
  });
  // The answer side's submission records go too (a transaction of their own: none touches both
  // the ledger and the answers), and the file is rebuilt, so that no byte of the contact data
  // stays anywhere in the data folder.
  await deleteSubmissions(db, survey.id);
  await rebuild(db);
  return { invitees, strata: ledger.size };
}

/** Mails sent per mailing, as counted at purge (the outbox itself is gone). */
export async function sentBeforePurge(db: Db, surveyId: string): Promise<Map<string, number>> {
  const sent = new Map<string, number>();
  for (const r of await db.selectFrom('stratum_counts').select('counts').where('survey_id', '=', surveyId).execute()) {
    for (const [id, n] of Object.entries((JSON.parse(r.counts) as StratumCounts).mailings)) sent.set(id, (sent.get(id) ?? 0) + n);
  }
  return sent;
}
