// Phoning non-responders ("nabellen"): the Monitor 2020 called the office holders whose number
// was known, to encourage them and to hear who would not take part (seed-monitor-2020, F6). The
// call list holds everyone who can still respond and has not: invited (perhaps opened the link),
// started, or bounced (an address that failed may be put right on the phone), with what earlier
// calls brought. What a call brings is recorded (recordCall): not reached, call back (on a date),
// will respond, wrong number, or refused and not eligible, which also set the ledger's state.
// Someone who wants to take part gets their typed code read out (`survey code`), which is not on
// the list: a list passed around the call room must not open anyone's questionnaire.

import { stringify } from 'csv-stringify/sync';
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
      String(i.mails_sent ?? 0),
      i.last_sent_at ? amsterdamDate(new Date(i.last_sent_at)) : '',
      String(i.calls ?? 0),
      i.called_on ?? '',
      i.outcome ?? '',
      i.call_back_on ?? '',
      i.note ?? '',
    ];
  });
  const collator = new Intl.Collator('nl', { sensitivity: 'base', numeric: true });
  rows.sort((a, b) => {
    for (let k = 0; k < a.length; k++) {
      const c = collator.compare(a[k]!, b[k]!);
      if (c !== 0) return c;
    }
    return 0;
  });
  const header = [...strata, 'organisation', 'name', 'salutation', 'email', 'phone', 'state', 'opened_on', 'started_on', 'bounced_on', 'mails_sent', 'last_mail_on', 'calls', 'last_call_on', 'last_call', 'call_back_on', 'note'];
  return { csv: stringify([header, ...rows], { delimiter: ';', record_delimiter: '\n' }), rows: rows.length };
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
    if (/[\u0000-\u001f\u007f]/.test(note)) throw new SurveyError('the note contains a line break or control character: it is one line in the call list');
    if (note.length > NOTE_MAX) throw new SurveyError(`the note is ${note.length} characters; at most ${NOTE_MAX}: when to call and whom to ask for, not what was said`);
  }
  const phone = call.phone?.trim();
  if (phone !== undefined && (/[\u0000-\u001f\u007f]/.test(phone) || phone.length > 40 || !/\d/.test(phone))) throw new SurveyError(`"${call.phone}" is not a phone number`);
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
