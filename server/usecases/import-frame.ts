// Importing a sample frame (CSV): every bad row is reported with its line number and reason, and
// an import with any problem imports nothing. Re-importing adds new invitees and leaves existing
// ones (same email) untouched.

import { parse } from 'csv-parse/sync';
import type { Db } from '../db/connection.ts';
import type { SurveyRow } from '../db/surveys.ts';
import type { CompiledMember, Questionnaire } from '../domain/questionnaire/index.ts';
import { normalizeEmail } from '../domain/survey/addresses.ts';
import { CONTACT_COLUMNS, sampleColumns } from '../domain/survey/definition.ts';
import type { Secrets } from '../security/secrets.ts';
import { secretsMadeHere, secretsMadeOnWorker } from './invitation-secrets.ts';
import { issueInvitations, type Person } from './invitations.ts';
import { definitionOf } from './surveys.ts';
import { hasControlCharacter, hasInvisibleCharacter } from '../domain/text.ts';

export interface ImportProblem {
  line: number;
  message: string;
}

export interface ImportResult {
  problems: ImportProblem[];
  rows: number;
  added: number;
  existing: number;
}

const MAX_PROBLEMS = 1000;

/** A row of the file and the line on which it begins. */
type CsvRecord = { record: string[]; line: number };

/**
 * The line (1-based) at a byte offset of the text after `start` (the BOM). Not csv-parse's own
 * line count: it counts a CRLF inside a quoted field as two lines, so one multi-line cell would
 * shift the line of every row after it.
 */
function lineCounter(bytes: Uint8Array, start: number): (offset: number) => number {
  // Offsets come in rising order (records, then a skipped one between them): count on from the last.
  let pos = start;
  let line = 1;
  return (offset) => {
    const target = start + offset;
    if (target < pos) {
      pos = start;
      line = 1;
    }
    for (; pos < target && pos < bytes.length; pos++) if (bytes[pos] === 0x0a) line++;
    return line;
  };
}

/** The lines that hold a byte sequence that is not UTF-8 (every one: a Windows-1252 file has many). */
export function invalidUtf8Lines(bytes: Uint8Array): number[] {
  const lines: number[] = [];
  let line = 1;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    if (b === 0x0a) line++;
    let extra = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    for (let k = 1; k <= extra; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) extra = -1;
    if (extra < 0) {
      if (lines.at(-1) !== line) lines.push(line);
      i++;
    } else i += extra + 1;
  }
  return lines;
}

function detectDelimiter(firstLine: string): string {
  const counts = [';', ',', '\t'].map((d) => [d, firstLine.split(d).length - 1] as const);
  return counts.reduce((best, c) => (c[1] > best[1] ? c : best))[0];
}

export async function importFrame(
  db: Db,
  secrets: Secrets,
  survey: SurveyRow,
  questionnaire: Questionnaire,
  bytes: Uint8Array,
  now: Date,
  onProgress: (done: number, total: number, phase: 'checking' | 'importing') => void = () => {},
  // From this many rows on, the codes are made on a worker thread while the rows are checked.
  { secretsOnWorkerFrom = 20_000 }: { secretsOnWorkerFrom?: number } = {},
): Promise<ImportResult> {
  const result: ImportResult = { problems: [], rows: 0, added: 0, existing: 0 };
  const problem = (line: number, message: string): void => {
    if (result.problems.length < MAX_PROBLEMS) result.problems.push({ line, message });
  };
  const badLines = invalidUtf8Lines(bytes);
  if (badLines.length > 0) {
    for (const line of badLines) problem(line, 'this line is not UTF-8 (the file is in another encoding, such as Windows-1252: in Excel, save as "CSV UTF-8")');
    return result;
  }
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  // The byte offsets csv-parse reports count from here, so nothing else may be stripped.
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(bom));
  let records: CsvRecord[];
  // A record the CSV parser cannot read (a quote never closed) is reported and skipped, and the
  // rest is read and checked all the same, so that one run reports every problem of the file.
  const unreadable: { line: number; message: string }[] = [];
  const lineAt = lineCounter(bytes, bom);
  try {
    // A row with too many or too few fields is reported by checkRows, with all other bad rows.
    const parsed = parse(text, {
      delimiter: detectDelimiter(text.split(/\r?\n/, 1)[0] ?? ''),
      info: true,
      raw: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
      skip_records_with_error: true,
      on_skip: (err) => {
        // Where the parser found the fault: a line of that record.
        if (err) unreadable.push({ line: lineCounter(bytes, bom)((err as { bytes?: number }).bytes ?? 0), message: err.message.replace(/^Invalid \w+ Error: /i, '') });
      },
    }) as unknown as { record: string[]; raw: string; info: { bytes: number } }[];
    // A record begins where it ends less its raw text; a row of empty fields (";;;;", as
    // spreadsheets write below the data) is no row.
    records = parsed
      .map((p) => ({ record: p.record, line: lineAt(p.info.bytes - Buffer.byteLength(p.raw)) }))
      .filter((r, i) => i === 0 || r.record.some((f) => f !== ''));
  } catch (e) {
    const err = e as { lines?: number; message: string };
    problem(err.lines ?? 1, `the file cannot be read as CSV: ${err.message.replace(/^Invalid \w+ Error: /i, '')}`);
    return result;
  }
  for (const u of unreadable) problem(u.line, `this row cannot be read as CSV: ${u.message}`);
  if (records.length === 0) {
    problem(1, 'the file is empty');
    return result;
  }
  const rows = records.length - 1;
  // The codes are made while the rows are checked; for a large frame on a worker thread.
  const source = rows >= secretsOnWorkerFrom ? secretsMadeOnWorker(secrets, rows) : secretsMadeHere(secrets);
  try {
    const people = await checkRows(db, survey, questionnaire, records, onProgress, result, problem);
    if (result.problems.length > 0) {
      result.problems.sort((a, b) => a.line - b.line);
      return result;
    }
    // All or nothing: one transaction for every new invitee.
    await db.transaction().execute(async (trx) => {
      const chunk = 5000;
      for (let i = 0; i < people.length; i += chunk) {
        const some = people.slice(i, i + chunk);
        await issueInvitations(trx, secrets, survey.id, some, now, await source.take(some.length));
        onProgress(Math.min(i + chunk, people.length), people.length, 'importing');
      }
    });
    result.added = people.length;
    return result;
  } finally {
    await source.close();
  }
}

/** Dutch names for the contact columns, as a Dutch spreadsheet heads them. */
const DUTCH_COLUMNS: Record<string, (typeof CONTACT_COLUMNS)[number]> = {
  'e-mail': 'email',
  emailadres: 'email',
  'e-mailadres': 'email',
  naam: 'name',
  aanhef: 'salutation',
  organisatie: 'organisation',
  telefoon: 'phone',
  telefoonnummer: 'phone',
};

/**
 * How a frame may write a stratum's values besides its exact codes: a code or a label in any
 * language, ignoring case ("Burgemeester", "Commissaris van de Koning"). A spelling that could
 * mean two codes is left out, so it is reported rather than guessed.
 */
function spellings(options: readonly CompiledMember[]): Map<string, string> {
  const codes = new Map<string, Set<string>>();
  for (const o of options) {
    for (const text of [o.code, ...(typeof o.label === 'string' ? [o.label] : Object.values(o.label))]) {
      const key = text.trim().toLowerCase();
      codes.set(key, (codes.get(key) ?? new Set()).add(o.code));
    }
  }
  return new Map([...codes].flatMap(([key, set]) => (set.size === 1 ? [[key, [...set][0]!] as const] : [])));
}

/** Checks the header and every row, recording each problem; returns the people not yet invited. */
async function checkRows(
  db: Db,
  survey: SurveyRow,
  questionnaire: Questionnaire,
  records: CsvRecord[],
  onProgress: (done: number, total: number, phase: 'checking') => void,
  result: ImportResult,
  problem: (line: number, message: string) => void,
): Promise<Person[]> {
  const def = definitionOf(survey);
  const strata = sampleColumns(def, questionnaire);
  const known = [...CONTACT_COLUMNS, ...strata];
  const header = records[0]!.record;
  const columns = header.map((name) => known.find((k) => k.toLowerCase() === name.toLowerCase()) ?? DUTCH_COLUMNS[name.toLowerCase()]);
  header.forEach((name, i) => {
    if (!columns[i]) problem(1, `unknown column "${name}"; the columns are ${known.join(', ')}`);
    else if (columns.indexOf(columns[i]) !== i) problem(1, `column "${name}" appears twice`);
  });
  if (!columns.includes('email')) problem(1, 'there is no "email" column');
  const required = [...new Set([...def.sample.strata, ...[...questionnaire.sample.values()].filter((f) => f.options.length > 0).map((f) => f.id)])];
  for (const stratum of required) if (!columns.includes(stratum)) problem(1, `the stratum column "${stratum}" is missing`);
  // Rows are checked even after a header problem, so that one run reports every bad row.
  if (!columns.includes('email')) return [];

  // Looked up once, not per row: where each known column is, and each stratum's allowed codes.
  const at = new Map(columns.flatMap((c, i) => (c ? [[c, i] as const] : [])));
  const allowed = new Map(strata.map((stratum) => [stratum, questionnaire.sample.get(stratum)?.options.map((o) => o.code) ?? []]));
  const spelled = new Map(strata.map((stratum) => [stratum, spellings(questionnaire.sample.get(stratum)?.options ?? [])]));
  const requiredSet = new Set(required);

  const existing = new Set((await db.selectFrom('invitees').select('email').where('survey_id', '=', survey.id).execute()).map((r) => r.email));
  const seen = new Map<string, { line: number; typed: string }>();
  const people: Person[] = [];
  const total = records.length - 1;
  for (let r = 1; r < records.length; r++) {
    const { record, line } = records[r]!;
    const cell = (column: string): string | undefined => {
      const i = at.get(column);
      return i === undefined ? undefined : (record[i] ?? '');
    };
    result.rows++;
    // Empty fields past the header's are a delimiter at the end of the line, which some
    // spreadsheets write; anything else means the columns cannot be trusted.
    if (record.length < header.length || record.slice(header.length).some((f) => f !== '')) {
      problem(line, `${record.length} fields where the header has ${header.length}`);
      continue;
    }
    // One spelling per mailbox (NFC, IDNA: normalizeEmail), before the check for duplicates.
    const typed = cell('email') ?? '';
    const email = normalizeEmail(typed) ?? typed.toLowerCase();
    if (typed === '') problem(line, 'the email address is missing');
    else if (hasInvisibleCharacter(typed)) problem(line, `the email address "${typed}" holds an invisible or right-to-left character`);
    else if (normalizeEmail(typed) === undefined) problem(line, `invalid email address "${typed}"`);
    else if (seen.has(email)) {
      const first = seen.get(email)!;
      problem(line, `duplicate email address ${email} (also on line ${first.line}${first.typed.toLowerCase() === typed.toLowerCase() ? '' : `, as ${first.typed}`})`);
    }
    if (!seen.has(email)) seen.set(email, { line, typed });
    for (const field of ['name', 'salutation', 'organisation', 'phone', 'email'] as const) {
      if (hasControlCharacter(cell(field) ?? '')) problem(line, `${field} contains a line break or control character`);
      else if (field !== 'email' && hasInvisibleCharacter(cell(field) ?? '')) problem(line, `${field} holds an invisible or right-to-left character`);
    }
    const sample: Record<string, string> = {};
    for (const stratum of strata) {
      const value = cell(stratum);
      if (value === undefined) continue;
      const options = allowed.get(stratum)!;
      if (value === '') {
        if (requiredSet.has(stratum)) problem(line, `the stratum "${stratum}" is missing`);
        continue;
      }
      const code = options.length === 0 || options.includes(value) ? value : spelled.get(stratum)!.get(value.toLowerCase());
      if (!code) problem(line, `${stratum} "${value}" is not one of ${options.join(', ')} (or their labels)`);
      sample[stratum] = code ?? value;
    }
    if (!existing.has(email)) {
      people.push({ email, name: cell('name') || null, salutation: cell('salutation') || null, organisation: cell('organisation') || null, phone: cell('phone') || null, sample });
    } else {
      result.existing++;
    }
    if (r % 5000 === 0) onProgress(r, total, 'checking');
  }
  onProgress(total, total, 'checking');
  return people;
}
