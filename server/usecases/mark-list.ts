// Marking many at once (survey mark-list): the office holders who left, from the municipalities'
// own lists after an election, or the refusals that came in by letter, as a file. Every address
// is checked first and every problem named with its line; then all are marked in one
// transaction, or, if anything is wrong, none.

import { parse } from 'csv-parse/sync';
import type { Db } from '../db/connection.ts';
import { findInviteeByEmail, type InviteeRow } from '../db/invitees.ts';
import type { SurveyRow } from '../db/surveys.ts';
import { normalizeEmail } from '../domain/survey/addresses.ts';
import { amsterdamDate } from '../domain/survey/dates.ts';
import type { Secrets } from '../security/secrets.ts';
import { hasAnswersInProgress, hasSubmitted, markDisposition } from './refusal.ts';
import { SurveyError } from './surveys.ts';

/** Headers that name the address column (as the frame import accepts them). */
const EMAIL_HEADERS = ['email', 'e-mail', 'emailadres', 'e-mailadres'];

export interface MarkListProblem {
  line: number;
  message: string;
}

export interface MarkListOutcome {
  /** Marked now. */
  marked: number;
  /** Already in that state: a list run twice changes nothing. */
  already: number;
  /** Of those marked, how many have answers in progress (they stay: survey mark --withdraw-answers). */
  inProgress: number;
}

/** The addresses of a list: one per line, or a CSV (`;`, `,` or tab) with an email column. */
export function addressesOf(text: string): { line: number; email: string }[] | MarkListProblem {
  const body = text.replace(/^\uFEFF/, '');
  const lines = body.split(/\r?\n/);
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) return { line: 1, message: 'the file holds no addresses' };
  const delimiter = [';', ',', '\t'].find((d) => lines[first]!.includes(d));
  const header = (delimiter ? lines[first]!.split(delimiter) : [lines[first]!]).map((h) => h.trim().toLowerCase());
  const column = header.findIndex((h) => EMAIL_HEADERS.includes(h));
  if (column < 0) {
    if (delimiter) return { line: first + 1, message: `there is no email column (${EMAIL_HEADERS.join(', ')}) in the header` };
    return lines.flatMap((l, i) => (l.trim() === '' ? [] : [{ line: i + 1, email: l.trim() }]));
  }
  if (!delimiter) return lines.flatMap((l, i) => (i <= first || l.trim() === '' ? [] : [{ line: i + 1, email: l.trim() }]));
  const records = parse(body, { delimiter, info: true, skip_empty_lines: true, trim: true, relax_column_count: true, from_line: first + 2 }) as unknown as { record: string[]; info: { lines: number } }[];
  return records.map(({ record, info }) => ({ line: info.lines, email: record[column] ?? '' }));
}

/**
 * Marks everyone on the list not eligible or refused, all or none. Problems: an address that is
 * not one, not in the sample, on the list twice, or of someone who completed (or, to refuse,
 * who is marked not eligible).
 */
export async function markList(db: Db, secrets: Secrets, survey: SurveyRow, text: string, disposition: 'refused' | 'not_eligible', now: Date): Promise<MarkListOutcome | { problems: MarkListProblem[] }> {
  if (survey.purged_at) throw new SurveyError(`survey ${survey.id} was purged: its contact data is gone`);
  const addresses = addressesOf(text);
  if (!Array.isArray(addresses)) return { problems: [addresses] };
  const problems: MarkListProblem[] = [];
  const seen = new Map<string, number>();
  const toMark: InviteeRow[] = [];
  let already = 0;
  for (const { line, email: typed } of addresses) {
    const email = normalizeEmail(typed);
    if (email === undefined) {
      problems.push({ line, message: `"${typed}" is not an email address` });
      continue;
    }
    const before = seen.get(email);
    seen.set(email, before ?? line);
    if (before !== undefined) {
      problems.push({ line, message: `${email} is on the list twice (also on line ${before})` });
      continue;
    }
    const invitee = await findInviteeByEmail(db, survey.id, email);
    if (!invitee) problems.push({ line, message: `${email} is not in the sample of ${survey.id}` });
    else if (invitee.state === disposition) already++;
    else if (await hasSubmitted(db, secrets, invitee)) problems.push({ line, message: `${email} has already completed the questionnaire` });
    else if (disposition === 'refused' && invitee.state === 'not_eligible') problems.push({ line, message: `${email} is marked not eligible` });
    else toMark.push(invitee);
  }
  if (problems.length > 0) return { problems };
  const today = amsterdamDate(now);
  await db.transaction().execute(async (trx) => {
    for (const invitee of toMark) {
      if (!(await markDisposition(trx, invitee.id, disposition, today))) throw new SurveyError(`${invitee.email} changed state meanwhile; nothing was marked, run the list again`);
    }
  });
  let inProgress = 0;
  for (const invitee of toMark) if (await hasAnswersInProgress(db, secrets, invitee)) inProgress++;
  return { marked: toMark.length, already, inProgress };
}
