// Phoning non-responders ("nabellen"): the Monitor 2020 called the office holders whose number
// was known, to encourage them and to hear who would not take part (seed-monitor-2020, F6). The
// call list holds everyone who can still respond and has not: invited (perhaps opened the link),
// started, or bounced (an address that failed may be put right on the phone). The outcome of a
// call is recorded with `survey mark` (refused, not eligible); someone who wants to take part gets
// their typed code read out (`survey code`), which is not on the list: a list passed around the
// call room must not open anyone's questionnaire.

import { stringify } from 'csv-stringify/sync';
import type { Db } from '../db/connection.ts';
import type { InviteeRow } from '../db/invitees.ts';
import type { SurveyRow } from '../db/surveys.ts';
import { amsterdamDate } from '../domain/survey/dates.ts';
import { revealInvitation } from './invitations.ts';
import { isClosed } from './answering.ts';
import { definitionOf, SurveyError } from './surveys.ts';
import type { Secrets } from '../security/secrets.ts';

const TO_CALL = ['invited', 'started', 'bounced'] as const;

/** Why nobody can be called (or helped to respond) any more, if so. */
function fieldworkOver(survey: SurveyRow, now: Date): string | undefined {
  if (survey.purged_at) return `survey ${survey.id} was purged: its contact data is gone`;
  if (isClosed(survey, now)) return `survey ${survey.id} is closed: nobody can respond any more`;
  return undefined;
}

/** The call list as CSV (";", as Dutch spreadsheets expect), in stratum, organisation and name order. */
export async function callList(db: Db, survey: SurveyRow, now: Date, options: { withPhone?: boolean } = {}): Promise<{ csv: string; rows: number }> {
  const over = fieldworkOver(survey, now);
  if (over) throw new SurveyError(over);
  const strata = definitionOf(survey).sample.strata;
  let query = db
    .selectFrom('invitees as i')
    .leftJoin('outbox as o', (j) => j.onRef('o.invitee_id', '=', 'i.id').on('o.status', '=', 'sent'))
    .select(['i.email', 'i.name', 'i.salutation', 'i.organisation', 'i.phone', 'i.sample', 'i.state', 'i.opened_on', 'i.started_on', 'i.bounced_on'])
    .select((eb) => [eb.fn.count<number>('o.id').as('mails_sent'), eb.fn.max('o.sent_at').as('last_sent_at')])
    .where('i.survey_id', '=', survey.id)
    .where('i.state', 'in', TO_CALL)
    .groupBy('i.id');
  if (options.withPhone) query = query.where('i.phone', 'is not', null).where('i.phone', '!=', '');
  const invitees = await query.execute();
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
      String(i.mails_sent),
      i.last_sent_at ? amsterdamDate(new Date(i.last_sent_at)) : '',
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
  const header = [...strata, 'organisation', 'name', 'salutation', 'email', 'phone', 'state', 'opened_on', 'started_on', 'bounced_on', 'mails_sent', 'last_mail_on'];
  return { csv: stringify([header, ...rows], { delimiter: ';', record_delimiter: '\n' }), rows: rows.length };
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
