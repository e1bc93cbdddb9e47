// What the fieldwork dashboard shows for one survey, from one grouped pass over the ledger (per
// stratum, weighting column and counted date) plus the outbox per mailing: the status table,
// the response curve per stratum, the weights, and the mailings with whom they would reach.

import type { Db } from '../db/connection.ts';
import { outboxCounts } from '../db/outbox.ts';
import type { SurveyRow } from '../db/surveys.ts';
import { amsterdamDate } from '../domain/survey/dates.ts';
import type { SurveyDefinition } from '../domain/survey/definition.ts';
import { tally, weightTable, type Cell, type WeightTable } from '../domain/survey/weighting.ts';
import { planOf } from './fieldwork.ts';
import { countsAfterPurge, countsPerStratum, ledgerBreakdown, statusRows, type LedgerCell, type LedgerCounts, type StatusRow } from './status.ts';

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
  outbox: Partial<Record<'pending' | 'sending' | 'sent' | 'skipped' | 'failed', number>>;
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
}

export function stratumLabel(stratum: Record<string, string | null>): string {
  return Object.values(stratum).map((v) => v ?? '-').join(' / ');
}

export async function buildDashboard(db: Db, survey: SurveyRow, now: Date): Promise<Dashboard> {
  const { definition: def, plan } = planOf(survey);
  const strata = def.sample.strata;
  const weightFields = def.weighting ? def.weighting.cells.flatMap((r) => [...r.by, ...Object.keys(r.where ?? {})]) : [];
  const fields = [...new Set([...strata, ...weightFields])];
  const minCell = def.reporting.minCell;

  let status: StatusRow[];
  let curve: ResponseCurve | undefined;
  let weightSource: { values: Record<string, string | null>; counts: LedgerCounts }[];
  if (survey.purged_at) {
    // After purge only counts per stratum remain: no dates, so no curve.
    const perStratum = await countsAfterPurge(db, survey.id);
    status = statusRows(def, perStratum);
    weightSource = [...perStratum].map(([values, counts]) => ({ values, counts }));
  } else {
    const cells = await ledgerBreakdown(db, survey.id, fields);
    status = statusRows(def, countsPerStratum(cells, strata));
    curve = responseCurve(cells, strata, plan.opensAt, survey.closed_at ? new Date(survey.closed_at) : plan.closesAt, now, plan.mailings, minCell);
    weightSource = cells;
  }

  let weights: WeightTable | undefined;
  if (def.weighting) {
    const responses = new Map<string, { cell: Cell; count: number }>();
    const invited = new Map<string, { cell: Cell; count: number }>();
    for (const { values, counts } of weightSource) {
      tally(def.weighting, responses, values, counts.d.I + counts.d.P);
      tally(def.weighting, invited, values, counts.invited);
    }
    weights = weightTable(def.weighting, responses, invited);
  }

  const outbox = await outboxCounts(db, survey.id);
  const total = status[status.length - 1]!;
  const eligible = total.invited - total.bounced - total.refused - total.notEligible - total.complete;
  const mailings: MailingState[] = plan.mailings.map((m) => {
    const rows = outbox.filter((o) => o.mailing_id === m.id);
    return {
      id: m.id,
      kind: m.kind,
      sendAt: m.sendAt,
      moves: m.moves,
      outbox: Object.fromEntries(rows.map((r) => [r.status, r.n])),
      reach: rows.length === 0 && !survey.closed_at ? eligible : undefined,
    };
  });
  return { definition: def, minCell, status, curve, weights, mailings };
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
    groups.set(label, [...(groups.get(label) ?? []), c]);
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
