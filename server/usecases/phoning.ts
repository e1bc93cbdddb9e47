// Phoning non-responders ("nabellen"): the Monitor 2020 called the office holders whose number
// was known, to encourage them and to hear who would not take part (seed-monitor-2020, F6). The
// call list holds everyone who can still respond and has not: invited (perhaps opened the link),
// started, or bounced (an address that failed may be put right on the phone), with what earlier
// calls brought. What a call brings is recorded (recordCall): not reached, call back (on a date),
// will respond, wrong number, or refused and not eligible, which also set the ledger's state.
// Someone who wants to take part gets their typed code read out (`survey code`), which is not on
// the list: a list passed around the call room must not open anyone's questionnaire.

import { csv } from '../domain/csv.ts';
import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { InviteeRow } from '../db/invitees.ts';
import type { CallOutcome } from '../db/schema.ts';
import type { SurveyRow } from '../db/surveys.ts';
import { amsterdamDate } from '../domain/survey/dates.ts';
import { parseLocal } from '../domain/survey/zoned-time.ts';
import { revealInvitation } from './invitations.ts';
import { isClosed } from './answering.ts';
import { markDisposition } from './refusal.ts';
import { definitionOf, SurveyError } from './surveys.ts';
import type { Secrets } from '../security/secrets.ts';
import { hasControlCharacter } from '../domain/text.ts';

const TO_CALL = ['invited', 'started', 'bounced'] as const;

/** Why nobody can be called (or helped to respond) any more, if so. */
function fieldworkOver(survey: SurveyRow, now: Date): string | undefined {
  if (survey.purged_at) return `survey ${survey.id} was purged: its contact data is gone`;
  if (isClosed(survey, now)) return `survey ${survey.id} is closed: nobody can respond any more`;
  return undefined;
}

export interface CallListOptions {
  /** Only those with a phone number (a call that found it wrong took it off). */
  withPhone?: boolean;
  /**
   * A date (YYYY-MM-DD): leave out whoever was called on or after it, unless the call back they
   * asked for is due (today or before). For a second round that reaches those not reached yet.
   */
  notCalledSince?: string;
}

/** The call list as CSV (";", as Dutch spreadsheets expect), in stratum, organisation and name order. */
export async function callList(db: Db, survey: SurveyRow, now: Date, options: CallListOptions = {}): Promise<{ csv: string; rows: number }> {
  const over = fieldworkOver(survey, now);
  if (over) throw new SurveyError(over);
  if (options.notCalledSince !== undefined && !isDate(options.notCalledSince)) throw new SurveyError(`"${options.notCalledSince}" is not a date (YYYY-MM-DD)`);
  const strata = definitionOf(survey).sample.strata;
  const today = amsterdamDate(now);
  let query = db
    .selectFrom('invitees as i')
    .leftJoin(
      (eb) => eb.selectFrom('outbox').select((o) => ['invitee_id', o.fn.countAll<number>().as('mails_sent'), o.fn.max('sent_at').as('last_sent_at')]).where('survey_id', '=', survey.id).where('status', '=', 'sent').groupBy('invitee_id').as('o'),
      (j) => j.onRef('o.invitee_id', '=', 'i.id'),
    )
    .leftJoin(
      (eb) => eb.selectFrom('calls').select((c) => ['invitee_id', c.fn.countAll<number>().as('calls'), c.fn.max('id').as('last_call_id')]).where('survey_id', '=', survey.id).groupBy('invitee_id').as('c'),
      (j) => j.onRef('c.invitee_id', '=', 'i.id'),
    )
    .leftJoin('calls as last', 'last.id', 'c.last_call_id')
    .select(['i.email', 'i.name', 'i.salutation', 'i.organisation', 'i.phone', 'i.sample', 'i.state', 'i.opened_on', 'i.started_on', 'i.bounced_on', 'o.mails_sent', 'o.last_sent_at'])
    .select(['c.calls', 'last.called_on', 'last.outcome', 'last.call_back_on', 'last.note'])
    .where('i.survey_id', '=', survey.id)
    .where('i.state', 'in', TO_CALL);
  if (options.withPhone) query = query.where('i.phone', 'is not', null).where('i.phone', '!=', '');
  let invitees = await query.execute();
  const since = options.notCalledSince;
  if (since !== undefined) invitees = invitees.filter((i) => i.called_on === null || i.called_on < since || (i.call_back_on !== null && i.call_back_on <= today));
  const rows = invitees.map((i) => {
    const sample = JSON.parse(i.sample) as Record<string, string>;
    return [
      ...strata.map((s) => sample[s] ?? ''),
      i.organisation ?? '',
      i.name ?? '',
      i.salutation ?? '',
      i.email,
      i.phone ?? '',
      i.state,
      i.opened_on ?? '',
      i.started_on ?? '',
      i.bounced_on ?? '',
      Number(i.mails_sent ?? 0),
      i.last_sent_at ? amsterdamDate(new Date(i.last_sent_at)) : '',
      Number(i.calls ?? 0),
      i.called_on ?? '',
      i.outcome ?? '',
      i.call_back_on ?? '',
      i.note ?? '',
    ];
  });
  const collator = new Intl.Collator('nl', { sensitivity: 'base', numeric: true });
  rows.sort((a, b) => {
    for (let k = 0; k < a.length; k++) {
      const c = collator.compare(String(a[k]), String(b[k]));
      if (c !== 0) return c;
    }
    return 0;
  });
  const header = [...strata, 'organisation', 'name', 'salutation', 'email', 'phone', 'state', 'opened_on', 'started_on', 'bounced_on', 'mails_sent', 'last_mail_on', 'calls', 'last_call_on', 'last_call', 'call_back_on', 'note'];
  return { csv: csv([header, ...rows], { delimiter: ';' }), rows: rows.length };
}

export const CALL_OUTCOMES: readonly CallOutcome[] = ['no-answer', 'call-back', 'will-respond', 'wrong-number', 'refused', 'not-eligible'];

/** Outcomes after which there may be a date to call back on. */
const MAY_CALL_BACK: readonly CallOutcome[] = ['no-answer', 'call-back', 'will-respond'];

/** A note is for the call room (when to call, whom to ask for), one line in the call list. */
const NOTE_MAX = 200;

export interface Call {
  outcome: CallOutcome;
  /** YYYY-MM-DD, today or later. */
  callBackOn?: string;
  note?: string;
  /** A number learnt in the call (a direct line, the right one after a wrong one). */
  phone?: string;
}

export interface RecordedCall {
  /** The invitee's calls so far, this one included. */
  calls: number;
  /** For refused and not-eligible: the state the invitee had before. */
  stateBefore?: InviteeRow['state'];
}

/** A calendar date as YYYY-MM-DD, without a time. */
function isDate(text: string): boolean {
  return parseLocal(text)?.hasTime === false;
}

/**
 * Records a call and what it brought; refused and not-eligible also set the invitee's state (no
 * more mail goes out), and a number learnt in the call replaces the one on file, in the same
 * transaction. Calls are recorded while someone can still
 * respond: not once they completed or are marked not eligible, nor after close.
 */
export async function recordCall(db: Db, survey: SurveyRow, invitee: InviteeRow, call: Call, now: Date): Promise<RecordedCall> {
  const over = fieldworkOver(survey, now);
  if (over) throw new SurveyError(over);
  if (!CALL_OUTCOMES.includes(call.outcome)) throw new SurveyError(`unknown call outcome "${call.outcome}": use ${CALL_OUTCOMES.join(', ')}`);
  const today = amsterdamDate(now);
  if (call.callBackOn !== undefined) {
    if (!MAY_CALL_BACK.includes(call.outcome)) throw new SurveyError(`a date to call back on goes with ${MAY_CALL_BACK.join(', ')}, not with ${call.outcome}`);
    if (!isDate(call.callBackOn)) throw new SurveyError(`"${call.callBackOn}" is not a date (YYYY-MM-DD)`);
    if (call.callBackOn < today) throw new SurveyError(`the date to call back on, ${call.callBackOn}, has passed`);
  }
  const note = call.note?.trim() || undefined;
  if (note !== undefined) {
    if (hasControlCharacter(note)) throw new SurveyError('the note contains a line break or control character: it is one line in the call list');
    if (note.length > NOTE_MAX) throw new SurveyError(`the note is ${note.length} characters; at most ${NOTE_MAX}: when to call and whom to ask for, not what was said`);
  }
  const phone = call.phone?.trim();
  if (phone !== undefined && (hasControlCharacter(phone) || phone.length > 40 || !/\d/.test(phone))) throw new SurveyError(`"${call.phone}" is not a phone number`);
  if (invitee.state === 'submitted') throw new SurveyError(`${invitee.email} has already completed the questionnaire`);
  if (invitee.state === 'not_eligible') throw new SurveyError(`${invitee.email} is marked not eligible`);
  return db.transaction().execute(async (trx) => {
    let stateBefore: InviteeRow['state'] | undefined;
    if (call.outcome === 'refused' || call.outcome === 'not-eligible') {
      const changed = await markDisposition(trx, invitee.id, call.outcome === 'refused' ? 'refused' : 'not_eligible', today);
      if (!changed) throw new SurveyError(`${invitee.email} is ${invitee.state}; cannot mark ${call.outcome}`);
      stateBefore = invitee.state;
    }
    // A wrong number is of no use on the call list: it goes, kept in the call's note.
    const wrong = call.outcome === 'wrong-number' && invitee.phone ? `number was ${invitee.phone}` : undefined;
    if (phone !== undefined || wrong) await trx.updateTable('invitees').set({ phone: phone ?? null }).where('id', '=', invitee.id).execute();
    await trx
      .insertInto('calls')
      .values({ survey_id: survey.id, invitee_id: invitee.id, called_on: today, outcome: call.outcome, call_back_on: call.callBackOn ?? null, note: [note, wrong].filter(Boolean).join('; ') || null })
      .execute();
    const { n } = await trx.selectFrom('calls').select((eb) => eb.fn.countAll<number>().as('n')).where('invitee_id', '=', invitee.id).executeTakeFirstOrThrow();
    return { calls: Number(n), ...(stateBefore ? { stateBefore } : {}) };
  });
}

/**
 * An invitee's typed code and personal link, to read out on the phone or print in a letter, as
 * long as they can still respond (also after a refusal: people change their mind).
 */
export function codeFor(secrets: Secrets, survey: SurveyRow, invitee: InviteeRow, now: Date): { code: string; token: string } {
  const over = fieldworkOver(survey, now);
  if (over) throw new SurveyError(over);
  if (invitee.state === 'submitted') throw new SurveyError(`${invitee.email} has already completed the questionnaire`);
  if (invitee.state === 'not_eligible') throw new SurveyError(`${invitee.email} is marked not eligible; the code does not open the questionnaire`);
  // A refusal is no bar: whoever changes their mind can take part (the code then leads to a page
  // that asks them to confirm it).
  return revealInvitation(secrets, invitee);
}

/** How phoning goes in one stratum (or in total): the dashboard's "phoning" table. */
export interface PhoningRow {
  /** Stratum values, e.g. {"functie": "raadslid"}; {} for the total. */
  stratum: Record<string, string | null>;
  kind: 'stratum' | 'total';
  /** Can still respond, has a phone number, and was never called. */
  toCall: number;
  /** Called at least once. */
  called: number;
  /** Of those called: what the last call brought. */
  lastCall: Record<CallOutcome, number>;
  /** Of those called: can still respond, and the call back they asked for is due (today or before). */
  callBackDue: number;
  /** Of those called: a response (complete, or past the counting rule) on or after the day of the first call. */
  respondedSince: number;
}

/**
 * Phoning per stratum, from the calls and the ledger (never from answers): who is left to call,
 * who was called, what the last call brought, whose call back is due, and how many responded
 * after being called, which is what the calls are for. Undefined until a call is recorded (and
 * after purge, which deletes the calls): then there is nothing to show, and the dashboard of a
 * survey without phoning does not scan its invitees for this.
 */
export async function phoningProgress(db: Db, survey: SurveyRow, now: Date): Promise<PhoningRow[] | undefined> {
  const anyCall = await db.selectFrom('calls').select('id').where('survey_id', '=', survey.id).limit(1).executeTakeFirst();
  if (!anyCall) return undefined;
  const strata = definitionOf(survey).sample.strata;
  const today = amsterdamDate(now);
  const toCall = sql.join(TO_CALL.map((s) => sql`${s}`));
  const columns = strata.map((s, i) => sql`json_extract(i.sample, ${`$.${s}`}) as ${sql.ref(`s${i}`)}`);
  // The day a response was counted, as the ledger has it (status.ts).
  const responded = sql`coalesce(i.counted_on, case when i.state = 'submitted' then i.submitted_on end)`;
  const counts = [
    sql`sum(c.invitee_id is null and i.state in (${toCall}) and coalesce(i.phone, '') != '') as to_call`,
    sql`sum(c.invitee_id is not null) as called`,
    ...CALL_OUTCOMES.map((o, k) => sql`sum(last.outcome = ${o}) as ${sql.ref(`o${k}`)}`),
    sql`sum(i.state in (${toCall}) and last.call_back_on <= ${today}) as call_back_due`,
    sql`sum(${responded} >= c.first_on) as responded_since`,
  ];
  const result = await sql<Record<string, string | number | null>>`
    select ${sql.join([...columns, ...counts])}
    from invitees i
    left join (
      select invitee_id, min(called_on) as first_on, max(id) as last_id
      from calls where survey_id = ${survey.id} group by invitee_id) c on c.invitee_id = i.id
    left join calls last on last.id = c.last_id
    where i.survey_id = ${survey.id}
    ${strata.length > 0 ? sql`group by ${sql.join(strata.map((_, i) => sql.ref(`s${i}`)))}` : sql``}`.execute(db);

  const rowOf = (stratum: PhoningRow['stratum'], kind: PhoningRow['kind'], r: Record<string, string | number | null>): PhoningRow => ({
    stratum,
    kind,
    toCall: Number(r.to_call ?? 0),
    called: Number(r.called ?? 0),
    lastCall: Object.fromEntries(CALL_OUTCOMES.map((o, k) => [o, Number(r[`o${k}`] ?? 0)])) as Record<CallOutcome, number>,
    callBackDue: Number(r.call_back_due ?? 0),
    respondedSince: Number(r.responded_since ?? 0),
  });
  const rows = result.rows
    .map((r) => rowOf(Object.fromEntries(strata.map((s, i) => [s, (r[`s${i}`] as string | null) ?? null])), 'stratum', r))
    .sort((a, b) => JSON.stringify(a.stratum).localeCompare(JSON.stringify(b.stratum)));
  const total = rows.reduce<PhoningRow>(
    (sum, r) => ({
      ...sum,
      toCall: sum.toCall + r.toCall,
      called: sum.called + r.called,
      lastCall: Object.fromEntries(CALL_OUTCOMES.map((o) => [o, sum.lastCall[o] + r.lastCall[o]])) as Record<CallOutcome, number>,
      callBackDue: sum.callBackDue + r.callBackDue,
      respondedSince: sum.respondedSince + r.respondedSince,
    }),
    { stratum: {}, kind: 'total', toCall: 0, called: 0, lastCall: Object.fromEntries(CALL_OUTCOMES.map((o) => [o, 0])) as Record<CallOutcome, number>, callBackDue: 0, respondedSince: 0 },
  );
  // Without strata the one group is the total.
  return strata.length > 0 ? [...rows, total] : [total];
}
