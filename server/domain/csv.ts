// Every CSV the platform writes goes through here (exports, the topline, the call list, the
// status table, the non-response interviews), so that no text a respondent, an invitee, a frame
// or a questionnaire wrote can become a formula in a spreadsheet: a text cell that starts with =,
// +, -, @, a tab or a carriage return gets a leading apostrophe, header cells included. Numbers
// are never touched (-1 stays a missing code), and are written without exponent or locale.

import { stringify } from 'csv-stringify/sync';

export type CsvCell = string | number | null | undefined;

/** A text cell that a spreadsheet would run as a formula gets a leading apostrophe ("-" alone, a blank, is text). */
export function guardFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) && text !== '-' ? `'${text}` : text;
}

export function formatNumber(n: number): string {
  // No exponent notation and no locale: every reader parses "0.591928".
  return Number.isInteger(n) ? String(n) : n.toFixed(6).replace(/0+$/, '');
}

function cellText(cell: CsvCell): string {
  if (cell === null || cell === undefined) return '';
  return typeof cell === 'number' ? formatNumber(cell) : guardFormula(cell);
}

/**
 * Rows as CSV, the first one the header. `delimiter` ';' (and `bom`) for files that Dutch Excel
 * opens by double-click; ',' for analysis software.
 */
export function csv(rows: readonly (readonly CsvCell[])[], options: { delimiter?: ',' | ';'; bom?: boolean } = {}): string {
  return stringify(
    rows.map((row) => row.map(cellText)),
    { delimiter: options.delimiter ?? ',', record_delimiter: '\n', bom: options.bom ?? false },
  );
}
