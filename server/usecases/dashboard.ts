// What the fieldwork dashboard shows for one survey, from one grouped pass over the ledger (per
// stratum, weighting column and counted date) plus the outbox per mailing: the status table,
// the response curve per stratum, the weights, the mailings with whom they would reach, and
// how phoning goes.

import type { Db } from '../db/connection.ts';
import { audienceSize, mailingOf, outboxCounts } from '../db/outbox.ts';
import type { SurveyRow } from '../db/surveys.ts';
import { amsterdamDate } from '../domain/survey/dates.ts';
import type { SurveyDefinition } from '../domain/survey/definition.ts';
import { tally, weightingColumns, weightTable, type Cell, type WeightTable } from '../domain/survey/weighting.ts';
import { deliveryProblems, type DeliveryProblem } from './delivery-problems.ts';
import { bounceCounts } from '../db/bounces.ts';
import type { BounceKind } from '../db/schema.ts';
import { planOf } from './fieldwork.ts';
import { phoningProgress, type PhoningRow } from './phoning.ts';
import { countsPerStratum, ledgerCells, statusRows, stratumLabel, type LedgerCell, type StatusRow } from './status.ts';

export interface CurveSeries {
  label: string;
  invited: number;
  responses: number;
  /** Cumulative responses by the end of each day in `days`. */
  cumulative: number[];
}

export interface ResponseCurve {
  /** Fieldwork days, YYYY-MM-DD (Europe/Amsterdam), from opening to today or the close. */
  days: string[];
  mailings: { id: string; day: string }[];
  total: CurveSeries | undefined;
  series: CurveSeries[];
  /** Strata left out because they have fewer than k responses. */
  suppressed: string[];
}

export interface MailingState {
  id: string;
  kind: 'invitation' | 'reminder';
  sendAt: Date;
  moves: string[];
  /** A reminder for part of the sample: the values each field must have. */
  only: Record<string, string[]> | undefined;
  outbox: Partial<Record<'pending' | 'sending' | 'sent' | 'skipped' | 'failed', number>>;
  /** Copies sent again at someone's request (survey resend), by status. */
  resent: Partial<Record<'pending' | 'sending' | 'sent' | 'skipped' | 'failed', number>>;
  /** Not queued yet: how many it would reach if it went out now. */
  reach: number | undefined;
}

export interface Dashboard {
  definition: SurveyDefinition;
  minCell: number;
  status: StatusRow[];
  curve: ResponseCurve | undefined;
  weights: WeightTable | undefined;
  mailings: MailingState[];
  /** What did not go out, per recipient domain and reply (none after purge: no addresses left). */
  deliveryProblems: DeliveryProblem[];
  /** Invitees with delivery reports that came back later, per kind (usecases/bounces.ts). */
  bounces: Record<BounceKind, number>;
  /** Phoning per stratum, once a call is recorded. */
  phoning: PhoningRow[] | undefined;
}

export async function buildDashboard(db: Db, survey: SurveyRow, now: Date): Promise<Dashboard> {
  const { definition: def, plan } = planOf(survey);
  const strata = def.sample.strata;
  const fields = [...new Set([...strata, ...(def.weighting ? weightingColumns(def.weighting) : [])])];
  const minCell = def.reporting.minCell;
  const cells = await ledgerCells(db, survey, fields);
  const status = statusRows(def, countsPerStratum(cells, strata));
  // After purge there are no dates left, so no curve.
  const curve = survey.purged_at ? undefined : responseCurve(cells, strata, plan.opensAt, survey.closed_at ? new Date(survey.closed_at) : plan.closesAt, now, plan.mailings, minCell);

  let weights: WeightTable | undefined;
  if (def.weighting) {
    const responses = new Map<string, { cell: Cell; count: number }>();
    const invited = new Map<string, { cell: Cell; count: number }>();
    for (const { values, counts } of cells) {
      tally(def.weighting, responses, values, counts.d.I + counts.d.P);
      tally(def.weighting, invited, values, counts.invited);
    }
    weights = weightTable(def.weighting, responses, invited);
  }

  const outbox = await outboxCounts(db, survey.id);
  const invitation = plan.mailings.find((m) => m.kind === 'invitation')!;
  const mailings: MailingState[] = [];
  for (const m of plan.mailings) {
    const rows = outbox.filter((o) => o.mailing_id === m.id);
    const copies = outbox.filter((o) => o.mailing_id !== m.id && mailingOf(o.mailing_id).mailingId === m.id);
    mailings.push({
      id: m.id,
      kind: m.kind,
      sendAt: m.sendAt,
      moves: m.moves,
      only: m.only,
      outbox: Object.fromEntries(rows.map((r) => [r.status, r.n])),
      resent: copies.reduce<MailingState['resent']>((sum, c) => ({ ...sum, [c.status]: (sum[c.status] ?? 0) + c.n }), {}),
      reach: rows.length === 0 && !survey.closed_at ? await audienceSize(db, survey.id, m, invitation.id, { noneQueued: true }) : undefined,
    });
  }
  return { definition: def, minCell, status, curve, weights, mailings, deliveryProblems: await deliveryProblems(db, survey.id), bounces: await bounceCounts(db, survey.id), phoning: await phoningProgress(db, survey, now) };
}

function responseCurve(cells: readonly LedgerCell[], strata: readonly string[], opensAt: Date, closesAt: Date, now: Date, mailings: readonly { id: string; sendAt: Date }[], minCell: number): ResponseCurve | undefined {
  const first = amsterdamDate(opensAt);
  const last = amsterdamDate(new Date(Math.min(now.getTime(), closesAt.getTime())));
  if (last < first) return undefined;
  const days: string[] = [];
  for (let d = first; d <= last; d = nextDay(d)) days.push(d);

  const build = (label: string, members: readonly LedgerCell[]): CurveSeries => {
    const perDay = new Map<string, number>();
    let invited = 0;
    let responses = 0;
    for (const c of members) {
      invited += c.counts.invited;
      const n = c.counts.d.I + c.counts.d.P;
      responses += n;
      if (c.countedOn && n > 0) perDay.set(c.countedOn, (perDay.get(c.countedOn) ?? 0) + n);
    }
    // Responses counted before the opening day (a test run) start the curve above zero.
    let running = [...perDay].filter(([d]) => d < first).reduce((sum, [, n]) => sum + n, 0);
    const cumulative = days.map((d) => (running += perDay.get(d) ?? 0));
    return { label, invited, responses, cumulative };
  };

  const groups = new Map<string, LedgerCell[]>();
  for (const c of cells) {
    const label = stratumLabel(Object.fromEntries(strata.map((s) => [s, c.values[s] ?? null])));
    const group = groups.get(label);
    if (group) group.push(c);
    else groups.set(label, [c]);
  }
  const all = build('total', cells);
  const series: CurveSeries[] = [];
  const suppressed: string[] = [];
  // A stratum with fewer than k responses shows no dates: they could single someone out.
  for (const [label, members] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const s = build(label, members);
    if (strata.length === 0) continue;
    if (s.responses < minCell) suppressed.push(label);
    else series.push(s);
  }
  return {
    days,
    mailings: mailings.map((m) => ({ id: m.id, day: amsterdamDate(m.sendAt) })).filter((m) => m.day >= first && m.day <= last),
    total: all.responses >= minCell ? all : undefined,
    series,
    suppressed,
  };
}

function nextDay(day: string): string {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}
