// Every survey at a glance, for `survey list` and the dashboard's first page: where it stands in
// its calendar, and how many were invited and responded, counted as `survey status` counts them
// (after purge, from the counts kept per stratum).

import type { Db } from '../db/connection.ts';
import { isClosed } from './answering.ts';
import { surveyStatus } from './status.ts';

export type SurveyStage = 'not-open' | 'open' | 'closed' | 'purged';

export interface SurveyOverview {
  id: string;
  title: string;
  stage: SurveyStage;
  opensAt: Date;
  closesAt: Date;
  invited: number;
  /** Counted responses: complete and partial (the counting rule). */
  responses: number;
}

export async function surveyOverview(db: Db, now: Date): Promise<SurveyOverview[]> {
  const surveys = await db.selectFrom('surveys').selectAll().orderBy('opens_at', 'desc').orderBy('id').execute();
  const overview: SurveyOverview[] = [];
  for (const s of surveys) {
    const total = (await surveyStatus(db, s)).find((r) => r.kind === 'total');
    const stage: SurveyStage = s.purged_at ? 'purged' : isClosed(s, now) ? 'closed' : now.getTime() < Date.parse(s.opens_at) ? 'not-open' : 'open';
    overview.push({ id: s.id, title: s.title, stage, opensAt: new Date(s.opens_at), closesAt: new Date(s.closes_at), invited: total?.invited ?? 0, responses: total?.responses ?? 0 });
  }
  return overview;
}
