// Weights and exports of a survey's anonymous responses. Weights come from counts: responses per
// weighting cell (from the response store for exports, from the ledger's counted responses on
// the dashboard) against the target (an explicit population table, or the number invited).

import { shuffle } from '../domain/analysis/shuffle.ts';
import { protectCarriedStrata } from '../domain/analysis/small-strata.ts';
import type { Db } from '../db/connection.ts';
import { listResponses } from '../db/responses.ts';
import type { SurveyRow } from '../db/surveys.ts';
import { codebook, codebookMarkdown, exportSchema, responsesCsv, spssSyntax, textWidths, toplineCsv, type Cell, type ExportInfo, type ResponseRecord } from '../domain/analysis/index.ts';
import type { Answers, Questionnaire } from '../domain/questionnaire/index.ts';
import type { SurveyDefinition } from '../domain/survey/definition.ts';
import { cellOf, tally, weightingColumns, weightingNotes, weightTable, type Cell as WeightCell, type Weighting } from '../domain/survey/weighting.ts';
import { definitionOf, SurveyError } from './surveys.ts';
import { ledgerCells } from './status.ts';
import { nonResponseCsv } from './nonresponse.ts';

type CellCounts = Map<string, { cell: WeightCell; count: number }>;

/** Invited per weighting cell: from the ledger, or after purge from the counts kept per stratum. */
async function invitedPerCell(db: Db, survey: SurveyRow, def: SurveyDefinition, weighting: Weighting): Promise<CellCounts> {
  const fields = weightingColumns(weighting);
  const missing = fields.filter((f) => !def.sample.strata.includes(f));
  if (survey.purged_at && missing.length > 0) {
    throw new SurveyError(`the contact data of ${survey.id} was purged and only counts per stratum remain; the weighting column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not among the strata`);
  }
  const counts: CellCounts = new Map();
  for (const cell of await ledgerCells(db, survey, fields)) tally(weighting, counts, cell.values, cell.counts.invited);
  return counts;
}

export function describeWeighting(weighting: Weighting): string {
  const rules = weighting.cells.map((r) => (r.where ? `${r.by.join(' x ')} where ${Object.entries(r.where).map(([f, v]) => `${f} is ${Array.isArray(v) ? v.join(' or ') : v}`).join(' and ')}` : r.by.join(' x '))).join('; otherwise ');
  const target = weighting.target === 'population' ? 'the population table in the survey definition' : 'the number invited per cell (the invited counts stand in for the population)';
  return `post-stratification by ${rules}; target: ${target}; weight = population share / response share, from counts.`;
}

export type ExportFormat = 'csv' | 'codebook' | 'codebook-json' | 'sps' | 'topline' | 'nonresponse';
export const EXPORT_FORMATS: Record<ExportFormat, { suffix: string; type: string; description: string }> = {
  csv: { suffix: 'responses.csv', type: 'text/csv; charset=utf-8', description: 'responses, one row each, in random order' },
  codebook: { suffix: 'codebook.md', type: 'text/markdown; charset=utf-8', description: 'codebook (Markdown)' },
  'codebook-json': { suffix: 'codebook.json', type: 'application/json; charset=utf-8', description: 'codebook (JSON)' },
  sps: { suffix: 'responses.sps', type: 'text/plain; charset=utf-8', description: 'SPSS syntax reading the CSV' },
  topline: { suffix: 'topline.csv', type: 'text/csv; charset=utf-8', description: 'topline per stratum' },
  nonresponse: { suffix: 'nonresponse.csv', type: 'text/csv; charset=utf-8', description: 'telephone non-response interviews, one row each, in random order' },
};

/** The formats a survey has: the non-response file only with non-response questions. */
export function exportFormatsOf(survey: SurveyRow): ExportFormat[] {
  const all = Object.keys(EXPORT_FORMATS) as ExportFormat[];
  return definitionOf(survey).nonResponse ? all : all.filter((f) => f !== 'nonresponse');
}

export function exportFileName(survey: SurveyRow, format: ExportFormat): string {
  return `${survey.id}-${EXPORT_FORMATS[format].suffix}`;
}

export interface ExportResult {
  fileName: string;
  contentType: string;
  body: string;
  responses: number;
  /** What a reader of the weighted results must be told (also in the codebook); empty if nothing. */
  notes: string[];
  /** Carried strata merged or left out (also in the codebook); empty if nothing. */
  strataNotes?: string[];
}

/**
 * One export file. Every call codes the responses afresh and shuffles them: the order of rows
 * says nothing about the order of arrival.
 */
export async function exportSurvey(db: Db, survey: SurveyRow, q: Questionnaire, format: ExportFormat, options: { lang?: string; keepSmallStrata?: boolean } = {}): Promise<ExportResult> {
  if (format === 'nonresponse') {
    const { csv, rows } = await nonResponseCsv(db, survey);
    return { fileName: exportFileName(survey, format), contentType: EXPORT_FORMATS[format].type, body: csv, responses: rows, notes: [] };
  }
  const def = definitionOf(survey);
  const stored = await listResponses(db, survey.id);
  const records: ResponseRecord[] = stored.map((r) => ({ answers: JSON.parse(r.answers) as Answers, strata: JSON.parse(r.strata) as Record<string, string>, status: r.status, reachedPage: r.reached_page }));
  const schema = exportSchema(q, { carry: def.sample.carry, weighted: def.weighting !== undefined, ...(options.lang ? { lang: options.lang } : {}) });

  let weightOf: (r: ResponseRecord) => number | null = () => null;
  let weighting: string | undefined;
  let notes: string[] = [];
  if (def.weighting) {
    const w = def.weighting;
    const responses: CellCounts = new Map();
    for (const r of records) tally(w, responses, r.strata);
    const invited = w.target === 'invited' ? await invitedPerCell(db, survey, def, w) : new Map();
    const table = weightTable(w, responses, invited);
    const byCell = new Map(table.cells.map((c) => [c.cell, c.weight ?? null]));
    weightOf = (r) => {
      const cell = cellOf(w, r.strata);
      return cell ? (byCell.get(cell.key) ?? null) : null;
    };
    weighting = describeWeighting(w);
    notes = weightingNotes(table);
  }

  const rows: Cell[][] = records.map((r) => schema.code(r, weightOf(r)));
  // Carried values that fewer than k responses have are merged or left out (small-strata.ts),
  // in the stratum columns only: coding (what was asked of whom) used the real values.
  let strataNotes: string[] = [];
  if (!options.keepSmallStrata) {
    const protection = protectCarriedStrata(records.map((r) => r.strata), def.sample.carry, def.reporting.minCell);
    for (const field of def.sample.carry) {
      const column = schema.variables.findIndex((v) => v.source === 'stratum' && v.name === field);
      rows.forEach((row, i) => (row[column] = protection.shown[i]![field] ?? null));
    }
    strataNotes = protection.notes;
    if (def.weighting && strataNotes.length > 0) strataNotes.push('The weights were computed on the strata as they are, so a weight can still tell apart values shown together.');
  }
  shuffle(rows);
  const info: ExportInfo = { surveyId: survey.id, title: survey.title, questionnaireId: q.id, questionnaireVersion: q.version, strataNotes, ...(weighting ? { weighting, weightingNotes: notes } : {}) };
  const meta = EXPORT_FORMATS[format];
  const result = (body: string): ExportResult => ({ fileName: exportFileName(survey, format), contentType: meta.type, body, responses: rows.length, notes, strataNotes });
  switch (format) {
    case 'csv':
      return result(responsesCsv(schema.variables, rows));
    case 'codebook':
      return result(codebookMarkdown(codebook(info, schema.variables, rows)));
    case 'codebook-json':
      return result(`${JSON.stringify(codebook(info, schema.variables, rows), null, 2)}\n`);
    case 'sps':
      return result(spssSyntax(info, schema.variables, textWidths(schema.variables, rows), exportFileName(survey, 'csv')));
    case 'topline':
      return result(toplineCsv(schema.variables, rows, { strata: def.sample.strata.filter((s) => def.sample.carry.includes(s)), minCell: def.reporting.minCell }));
  }
}

