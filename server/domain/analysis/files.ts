// The export files, from the variables and the coded rows: the responses as CSV, the codebook
// (Markdown and JSON) and SPSS syntax that reads the CSV with every label and missing value.

import { csv, guardFormula } from '../csv.ts';
import type { Cell, Variable } from './variables.ts';

export interface ExportInfo {
  surveyId: string;
  title: string;
  questionnaireId: string;
  questionnaireVersion: string;
  /** How the weights were made, in a sentence; undefined when unweighted. */
  weighting?: string;
  /** What a reader of the weighted results must be told (cells without responses, …). */
  weightingNotes?: string[];
  /** Carried strata merged or left out because fewer than k responses had them (small-strata.ts). */
  strataNotes?: string[];
}

/**
 * A text cell as the responses CSV holds it: one line, so that every reader, PSPP and SPSS among
 * them (they read a case per line), finds one case per response. A line break (CR, LF, CRLF, or
 * Unicode's line and paragraph separators) is written as "↵", other control characters as a space;
 * the codebook says so (TEXT_NOTE).
 */
export function oneLine(text: string): string {
  return text.replace(/\r\n|[\r\n\u2028\u2029\u0085\v\f]/g, '↵').replace(/[\u0000-\u0008\u000e-\u001f\u007f]/g, ' ');
}

const TEXT_NOTE = 'Open answers are on one line each: a line break the respondent typed is written as ↵.';

/** The responses, one row each; text cells on one line and guarded against spreadsheet formulas (domain/csv.ts). */
export function responsesCsv(variables: readonly Variable[], rows: readonly Cell[][]): string {
  const body = rows.map((row) => row.map((cell, i) => (cell === null ? null : variables[i]!.kind === 'text' ? oneLine(String(cell)) : (cell as number))));
  return csv([variables.map((v) => v.name), ...body]);
}

/** Bytes (UTF-8) of the widest value per text variable, at least 1: SPSS string widths. */
export function textWidths(variables: readonly Variable[], rows: readonly Cell[][]): number[] {
  return variables.map((v, i) => {
    if (v.kind !== 'text') return 0;
    let width = 1;
    for (const row of rows) {
      const cell = row[i];
      if (cell !== null && cell !== undefined) width = Math.max(width, Buffer.byteLength(guardFormula(oneLine(String(cell)))));
    }
    return Math.min(width, 32767);
  });
}

export interface Base {
  /** Responses that were asked this variable (not routed away, not broken off before it). */
  asked: number;
  /** Of those, the responses with a substantive answer. */
  answered: number;
}

export function bases(variables: readonly Variable[], rows: readonly Cell[][]): Base[] {
  return variables.map((v, i) => {
    let asked = 0;
    let answered = 0;
    for (const row of rows) {
      const cell = row[i];
      if (v.kind === 'text' || v.values.every((l) => !l.missing)) {
        // Text, and numbers without missing codes: an empty cell says nothing about why.
        if (cell !== null && cell !== '') {
          asked++;
          answered++;
        }
        continue;
      }
      if (cell === null || cell === -1 || cell === -3) continue;
      asked++;
      if (typeof cell === 'number' && cell >= 0) answered++;
    }
    return { asked, answered };
  });
}

export interface CodebookVariable {
  name: string;
  label: string;
  type: 'numeric' | 'text';
  source: Variable['source'];
  question?: string;
  questionType?: string;
  member?: string;
  asked?: string;
  values: { value: number; label: string; missing: boolean }[];
  base: Base;
}

export interface Codebook {
  survey: string;
  title: string;
  questionnaire: { id: string; version: string };
  responses: number;
  weighting: string | null;
  weightingNotes: string[];
  strataNotes: string[];
  missingValues: string;
  variables: CodebookVariable[];
}

const MISSING_NOTE =
  'Negative codes are missing values: -1 not asked (routed away), -2 no answer, -3 not reached (break-off), -9 and up non-substantive answers such as "weet niet" (per question). Text variables and numbers that may be negative leave every missing value empty.';

export function codebook(info: ExportInfo, variables: readonly Variable[], rows: readonly Cell[][]): Codebook {
  const b = bases(variables, rows);
  return {
    survey: info.surveyId,
    title: info.title,
    questionnaire: { id: info.questionnaireId, version: info.questionnaireVersion },
    responses: rows.length,
    weighting: info.weighting ?? null,
    weightingNotes: info.weightingNotes ?? [],
    strataNotes: info.strataNotes ?? [],
    missingValues: `${MISSING_NOTE} ${TEXT_NOTE}`,
    variables: variables.map((v, i) => ({
      name: v.name,
      label: v.label,
      type: v.kind,
      source: v.source,
      ...(v.item ? { question: v.item } : {}),
      ...(v.type ? { questionType: v.type } : {}),
      ...(v.member ? { member: v.member } : {}),
      ...(v.asked ? { asked: v.asked } : {}),
      values: v.values.map((l) => ({ value: l.value, label: l.label, missing: l.missing === true })),
      base: b[i]!,
    })),
  };
}

export function codebookMarkdown(book: Codebook): string {
  const md = (s: string): string => s.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`);
  const lines = [
    `# Codebook: ${md(book.title)}`,
    '',
    `Survey \`${book.survey}\`, questionnaire \`${book.questionnaire.id}\` version ${md(book.questionnaire.version)}; ${book.responses} responses.`,
    '',
    book.weighting ? `Weighting: ${md(book.weighting)}` : 'Unweighted.',
    '',
    ...book.weightingNotes.flatMap((note) => [`**Note:** ${md(note)}`, '']),
    ...book.strataNotes.flatMap((note) => [`**Carried strata:** ${md(note)}`, '']),
    md(book.missingValues),
    '',
  ];
  for (const v of book.variables) {
    lines.push(`## ${md(v.name)}`, '', md(v.label), '');
    const facts = [`type: ${v.type}${v.questionType ? ` (${v.questionType} question ${md(v.question!)})` : v.source !== 'question' ? ` (${v.source})` : ''}`];
    facts.push(`asked: ${v.asked ? `when ${md(v.asked)}` : v.source === 'question' || v.source === 'other-text' ? 'everyone who reached it' : 'every response'}`);
    facts.push(`base: asked ${v.base.asked}, answered ${v.base.answered}`);
    lines.push(...facts.map((f) => `- ${f}`), '');
    if (v.values.length > 0) {
      lines.push('| value | label |', '|---:|---|');
      for (const l of v.values) lines.push(`| ${l.value} | ${md(l.label)}${l.missing ? ' (missing)' : ''} |`);
      lines.push('');
    }
  }
  return lines.join('\n');
}

/** SPSS syntax that reads `csvFile` (UTF-8) and applies variable labels, value labels and missing values. */
export function spssSyntax(info: ExportInfo, variables: readonly Variable[], widths: readonly number[], csvFile: string): string {
  // Every text from a questionnaire, a definition or a file name is data, never syntax: on one
  // line (a line break would end a comment or a string and start a command, such as HOST), and
  // in a string, quotes doubled.
  const flat = (s: string): string => s.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g, ' ');
  const q = (s: string): string => `"${flat(s).replace(/"/g, '""')}"`;
  // Long labels: SPSS takes up to 256 bytes for variable labels and 120 for value labels.
  const cut = (s: string, bytes: number): string => {
    let out = s;
    while (Buffer.byteLength(out) > bytes) out = out.slice(0, -1);
    return out;
  };
  const format = (v: Variable, i: number): string => (v.kind === 'text' ? `A${widths[i]}` : v.decimals > 0 ? `F16.${v.decimals}` : 'F8.0');
  const lines = [
    // A comment: one line, and no period at its end but the last (a period at the end of a line ends it).
    `* ${cut(flat(`${info.title}: survey ${info.surveyId}, questionnaire ${info.questionnaireId} ${info.questionnaireVersion}`), 250).replace(/\.+$/, '')}.`,
    '* Reads the responses CSV written by `survey export --format csv`; change FILE if it lives elsewhere.',
    'SET DECIMAL=DOT.',
    'GET DATA /TYPE=TXT',
    `  /FILE=${q(csvFile)}`,
    "  /ENCODING='UTF8'",
    '  /ARRANGEMENT=DELIMITED',
    '  /DELCASE=LINE',
    '  /FIRSTCASE=2',
    "  /DELIMITERS=\",\"",
    "  /QUALIFIER='\"'",
    '  /VARIABLES=',
    ...variables.map((v, i) => `    ${v.name} ${format(v, i)}`),
    '.',
    '',
    'VARIABLE LABELS',
    ...variables.map((v, i) => `  ${v.name} ${q(cut(v.label, 255))}${i === variables.length - 1 ? '.' : ''}`),
    '',
  ];
  const labelled = variables.filter((v) => v.values.length > 0);
  if (labelled.length > 0) {
    lines.push('VALUE LABELS');
    labelled.forEach((v, i) => {
      lines.push(`  ${i === 0 ? '' : '/'}${v.name}`);
      for (const l of v.values) lines.push(`    ${l.value} ${q(cut(l.label, 120))}`);
      if (i === labelled.length - 1) lines.push('.');
    });
    lines.push('');
  }
  const withMissing = variables.filter((v) => v.kind === 'numeric' && v.values.some((l) => l.missing));
  if (withMissing.length > 0) {
    lines.push('MISSING VALUES');
    withMissing.forEach((v, i) => lines.push(`  ${i === 0 ? '' : '/'}${v.name} (LOWEST THRU -1)${i === withMissing.length - 1 ? '.' : ''}`));
    lines.push('');
  }
  // Codes of choices are categories (NOMINAL); a rating scale, the shared answer scale of a grid
  // (mee eens … mee oneens) and a place in a ranking are ordered (ORDINAL); numbers and weights
  // are measurements (SPSS's default, SCALE).
  const ordered = new Set<string | undefined>(['scale', 'grid', 'ranking']);
  const numeric = variables.filter((v) => v.kind === 'numeric');
  const levels = [
    { level: 'ORDINAL', names: numeric.filter((v) => ordered.has(v.type)).map((v) => v.name) },
    { level: 'NOMINAL', names: numeric.filter((v) => !ordered.has(v.type) && v.values.some((l) => !l.missing)).map((v) => v.name) },
  ].filter((l) => l.names.length > 0);
  if (levels.length > 0) lines.push('VARIABLE LEVEL', ...levels.map((l, i) => `  ${i === 0 ? '' : '/'}${l.names.join(' ')} (${l.level})${i === levels.length - 1 ? '.' : ''}`), '');
  if (variables.some((v) => v.source === 'weight')) {
    lines.push('* To weight results: WEIGHT BY weight.');
    for (const note of info.weightingNotes ?? []) lines.push(`* Note on the weights: ${flat(note).replace(/\.+$/, '')}.`);
    lines.push('');
  }
  lines.push('EXECUTE.', '');
  return lines.join('\n');
}
