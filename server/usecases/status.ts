// Response per stratum, from the ledger (never from answers): counts, AAPOR dispositions and
// rates, response % of the invited and of the population, the 95% margin of error with
// finite-population correction, and the reports' reliability flags.
//
// Dispositions from ledger states, in this order:
//   NE  not eligible (marked by the fieldwork manager)
//   I   submitted (complete)
//   P   reached the counting rule's page, not submitted (a partial response at close)
//   R   refused (opt-out, phone), or opened the link / started without reaching the counting rule
//   NC  bounced (never reached)
//   UO  invited, never opened: unknown whether the mail was received

import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { SurveyRow } from '../db/surveys.ts';
import { aaporRates, marginOfError, reliabilityFlag, responseRate, sumDispositions, type AaporRates, type Dispositions, type Reliability } from '../domain/metrics/index.ts';
import { definitionOf, SurveyError } from './surveys.ts';
import { sampleColumns, type SurveyDefinition } from '../domain/survey/definition.ts';
import type { Questionnaire } from '../domain/questionnaire/index.ts';
import type { StratumCounts } from './purge.ts';

export interface StatusRow {
  /** Stratum values, e.g. {"functie": "burgemeester"}; {} for the total. */
  stratum: Record<string, string | null>;
  kind: 'stratum' | 'subtotal' | 'total';
  invited: number;
  bounced: number;
  opened: number;
  started: number;
  partial: number;
  complete: number;
  refused: number;
  notEligible: number;
  /** Counted responses: complete + partial. */
  responses: number;
  population: number;
  responseOfInvited: number | undefined;
  responseOfPopulation: number | undefined;
  rates: AaporRates;
  marginOfError: number | undefined;
  flag: Reliability;
}

export interface LedgerCounts {
  invited: number;
  bounced: number;
  opened: number;
  started: number;
  refused: number;
  d: Dispositions;
  population?: number;
}

function row(stratum: StatusRow['stratum'], kind: StatusRow['kind'], c: LedgerCounts): StatusRow {
  const responses = c.d.I + c.d.P;
  const population = c.population ?? c.invited;
  return {
    stratum,
    kind,
    invited: c.invited,
    bounced: c.bounced,
    opened: c.opened,
    started: c.started,
    partial: c.d.P,
    complete: c.d.I,
    refused: c.refused,
    notEligible: c.d.NE,
    responses,
    population,
    responseOfInvited: responseRate(responses, c.invited),
    responseOfPopulation: responseRate(responses, population),
    rates: aaporRates(c.d),
    marginOfError: marginOfError(responses, population),
    flag: reliabilityFlag(responses),
  };
}

export function addCounts(a: LedgerCounts, b: LedgerCounts): LedgerCounts {
  const sum: LedgerCounts = { invited: a.invited + b.invited, bounced: a.bounced + b.bounced, opened: a.opened + b.opened, started: a.started + b.started, refused: a.refused + b.refused, d: sumDispositions([a.d, b.d]) };
  if (a.population !== undefined || b.population !== undefined) sum.population = (a.population ?? a.invited) + (b.population ?? b.invited);
  return sum;
}

export const EMPTY_COUNTS: LedgerCounts = { invited: 0, bounced: 0, opened: 0, started: 0, refused: 0, d: { I: 0, P: 0, R: 0, NC: 0, O: 0, UH: 0, UO: 0, NE: 0 } };

export async function surveyStatus(db: Db, survey: SurveyRow): Promise<StatusRow[]> {
  const def = definitionOf(survey);
  return statusRows(def, countsPerStratum(await ledgerCells(db, survey, def.sample.strata), def.sample.strata));
}

/**
 * The status table grouped by other columns of the sample frame than the strata (`survey status
 * --by`): response by address type within functie, say (the Monitor 2024's table 4.4), or by
 * bestuurslaag alone. With two or more columns, subtotals per value of the first. After purge
 * only the strata's counts remain.
 */
export async function surveyStatusBy(db: Db, survey: SurveyRow, questionnaire: Questionnaire, by: readonly string[]): Promise<StatusRow[]> {
  const def = definitionOf(survey);
  const known = sampleColumns(def, questionnaire);
  const fields = [...new Set(by.map((f) => f.trim()).filter((f) => f !== ''))];
  if (fields.length === 0) throw new SurveyError(`say which columns to group by: ${known.join(', ') || 'the survey has no sample columns'}`);
  for (const field of fields) {
    if (!known.includes(field)) throw new SurveyError(`"${field}" is not a column of the sample of ${survey.id}: use ${known.join(', ') || 'none (the survey has no sample columns)'}`);
    if (survey.purged_at && !def.sample.strata.includes(field)) throw new SurveyError(`survey ${survey.id} was purged: only the counts per ${def.sample.strata.join(' / ') || 'survey'} were kept, not per ${field}`);
  }
  return statusRows(def, countsPerStratum(await ledgerCells(db, survey, fields), fields), fields);
}

/** "burgemeester", or "gemeente / wethouder" for two strata columns. */
export function stratumLabel(stratum: Record<string, string | null>): string {
  return Object.values(stratum).map((v) => v ?? '-').join(' / ');
}

/**
 * The ledger grouped by `fields` and counted date; after purge, the counts kept per stratum
 * (grouped by the strata columns, without dates).
 */
export async function ledgerCells(db: Db, survey: SurveyRow, fields: readonly string[]): Promise<LedgerCell[]> {
  if (!survey.purged_at) return ledgerBreakdown(db, survey.id, fields);
  return [...(await countsAfterPurge(db, survey.id))].map(([values, counts]) => ({ values, countedOn: null, counts }));
}

/** The status table from counts per stratum: strata rows, subtotals per first stratum, total. */
export function statusRows(def: SurveyDefinition, perStratum: Map<Record<string, string | null>, LedgerCounts>, strata: readonly string[] = def.sample.strata): StatusRow[] {
  // Population sizes are given per value of one stratum column.
  const populationField = strata.length === 1 ? strata[0]! : undefined;
  const populations = populationField ? def.sample.population?.[populationField] : undefined;
  for (const [stratum, counts] of perStratum) {
    const value = populationField ? stratum[populationField] : undefined;
    if (populations && value && populations[value] !== undefined) counts.population = populations[value];
  }

  const sorted = [...perStratum].sort(([a], [b]) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const rows: StatusRow[] = [];
  if (strata.length >= 2) {
    // Subtotals per value of the first stratum (e.g. bestuurslaag), as ratios of summed counts.
    const first = strata[0]!;
    for (const value of [...new Set(sorted.map(([s]) => s[first] ?? null))]) {
      const group = sorted.filter(([s]) => (s[first] ?? null) === value);
      for (const [s, c] of group) rows.push(row(s, 'stratum', c));
      rows.push(row({ [first]: value }, 'subtotal', group.reduce((a, [, c]) => addCounts(a, c), EMPTY_COUNTS)));
    }
  } else if (strata.length === 1) {
    for (const [s, c] of sorted) rows.push(row(s, 'stratum', c));
  }
  rows.push(row({}, 'total', sorted.reduce((a, [, c]) => addCounts(a, c), EMPTY_COUNTS)));
  return rows;
}

/** Ledger counts per combination of sample fields and the date responses were counted. */
export interface LedgerCell {
  values: Record<string, string | null>;
  /** The date the counting rule was reached (null: not a response). */
  countedOn: string | null;
  counts: LedgerCounts;
}

/**
 * The ledger in one grouped query: counts per combination of `fields` and counted date. The
 * status table, the response curve and the weights are all sums over these cells. The inner
 * query groups by plain columns in the order of the covering index invitees_overview, so it
 * streams without sorting; only its (few) groups are parsed and regrouped.
 */
export async function ledgerBreakdown(db: Db, surveyId: string, fields: readonly string[]): Promise<LedgerCell[]> {
  const columns = fields.map((s, i) => sql`json_extract(sample, ${`$.${s}`}) as ${sql.ref(`s${i}`)}`);
  const day = sql`case when counted_on is not null then counted_on when state = 'submitted' then submitted_on end`;
  const keys = [...fields.map((_, i) => sql.ref(`s${i}`)), sql.ref('counted'), sql.ref('state'), sql.ref('opened'), sql.ref('started'), sql.ref('reached')];
  const result = await sql<Record<string, string | number | null>>`
    select ${sql.join([...columns, sql`${day} as counted`, sql`state`, sql`opened_on is not null as opened`, sql`started_on is not null as started`, sql`counted_on is not null as reached`, sql`sum(n) as n`])}
    from (
      select sample, state, counted_on, submitted_on, opened_on, started_on, count(*) as n
      from invitees where survey_id = ${surveyId}
      group by sample, state, counted_on, submitted_on, opened_on, started_on)
    group by ${sql.join(keys)}`.execute(db);

  const cells = new Map<string, LedgerCell>();
  for (const r of result.rows) {
    const values = Object.fromEntries(fields.map((s, i) => [s, (r[`s${i}`] as string | null) ?? null]));
    const countedOn = (r.counted as string | null) ?? null;
    const key = JSON.stringify([values, countedOn]);
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = { values, countedOn, counts: { invited: 0, bounced: 0, opened: 0, started: 0, refused: 0, d: { I: 0, P: 0, R: 0, NC: 0, O: 0, UH: 0, UO: 0, NE: 0 } } }));
    const n = Number(r.n);
    const c = cell.counts;
    c.invited += n;
    if (r.state === 'bounced') c.bounced += n;
    if (r.state === 'refused') c.refused += n;
    if (Number(r.opened)) c.opened += n;
    if (Number(r.started)) c.started += n;
    c.d[disposition(String(r.state), Number(r.reached) === 1, Number(r.opened) === 1 || Number(r.started) === 1)] += n;
  }
  return [...cells.values()];
}

/**
 * The AAPOR disposition of a ledger state, in this order: not eligible NE; submitted I; reached
 * the counting rule P; refused R; bounced NC; opened or started without reaching it R; else UO.
 */
function disposition(state: string, reached: boolean, openedOrStarted: boolean): 'NE' | 'I' | 'P' | 'R' | 'NC' | 'UO' {
  if (state === 'not_eligible') return 'NE';
  if (state === 'submitted') return 'I';
  if (reached) return 'P';
  if (state === 'refused') return 'R';
  if (state === 'bounced') return 'NC';
  return openedOrStarted ? 'R' : 'UO';
}

/** Sums ledger cells per combination of `strata` (a subset of the fields they were grouped by). */
export function countsPerStratum(cells: readonly LedgerCell[], strata: readonly string[]): Map<Record<string, string | null>, LedgerCounts> {
  const byKey = new Map<string, [Record<string, string | null>, LedgerCounts]>();
  for (const cell of cells) {
    const stratum = Object.fromEntries(strata.map((s) => [s, cell.values[s] ?? null]));
    const key = JSON.stringify(stratum);
    const entry = byKey.get(key);
    // A copy: statusRows sets the population on what it is given.
    byKey.set(key, [stratum, entry ? addCounts(entry[1], cell.counts) : { ...cell.counts }]);
  }
  return new Map([...byKey.values()]);
}

/** Ledger counts per stratum combination, in one grouped query. */
export async function countsFromLedger(db: Db, surveyId: string, strata: string[]): Promise<Map<Record<string, string | null>, LedgerCounts>> {
  return countsPerStratum(await ledgerBreakdown(db, surveyId, strata), strata);
}

async function countsAfterPurge(db: Db, surveyId: string): Promise<Map<Record<string, string | null>, LedgerCounts>> {
  const rows = await db.selectFrom('stratum_counts').selectAll().where('survey_id', '=', surveyId).execute();
  const map = new Map<Record<string, string | null>, LedgerCounts>();
  for (const r of rows) {
    const c = JSON.parse(r.counts) as StratumCounts;
    map.set(JSON.parse(r.stratum) as Record<string, string | null>, { ...c.ledger });
  }
  return map;
}
