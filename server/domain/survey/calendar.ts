// The fieldwork calendar: when the survey opens and closes, and when each mailing goes out.
// A mailing's requested time (an absolute date or a duration after opening) is moved out of
// blackout periods (a recess: to the N-th working day after it) and into the send window
// (working days and hours), all in the survey's time zone.

import { z } from 'zod';
import type { Problem } from '../questionnaire/problems.ts';
import { addDays, dateKey, fromWallTime, parseDuration, parseLocal, toWallTime, weekdayOf, type WallTime } from './zoned-time.ts';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const Day = z.enum(WEEKDAYS);
const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:mm');
const LocalDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');
const Moment = z
  .string()
  .describe('A local date (YYYY-MM-DD), date and time (YYYY-MM-DDTHH:mm), or a duration after opening (P10D, P1W, P1DT12H).');

export const Mailing = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and _'),
  kind: z.enum(['invitation', 'reminder']).describe('An invitation goes to everyone invited; a reminder only to those who have not responded, refused, bounced or been marked not eligible.'),
  at: Moment,
  template: z.string().regex(/^[a-z][a-z0-9_-]*$/).optional().describe('Template name in templates/email/ (default: the mailing id).'),
  subject: z.string().min(1).optional().describe('Subject line; merge fields as in the templates, e.g. {{surveyTitle}}.'),
  only: z
    .record(z.string(), z.array(z.string().min(1)).min(1))
    .optional()
    .describe('A reminder for part of the sample: only invitees with one of these values in each field named, e.g. {"functie": ["raadslid"]} for a stratum whose response lags.'),
});

export const DEFAULT_SEND_WINDOW = { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as (typeof WEEKDAYS)[number][], from: '09:00', until: '17:00' };
/** The Monitor's defaults: reminders after 1.5 and 3 weeks, close after 5 weeks. */
export const DEFAULT_MAILINGS: z.input<typeof Mailing>[] = [
  { id: 'invitation', kind: 'invitation', at: 'P0D' },
  { id: 'reminder1', kind: 'reminder', at: 'P10DT12H' },
  { id: 'reminder2', kind: 'reminder', at: 'P21D' },
];

export const CalendarSchema = z.strictObject({
  timezone: z.string().default('Europe/Amsterdam'),
  opens: Moment.describe('When the survey opens (local date or date and time).'),
  closes: Moment.default('P35D').describe('When it closes: a local date (through the end of that day), a date and time, or a duration after opening (default P35D).'),
  sendWindow: z
    .strictObject({ days: z.array(Day).min(1), from: ClockTime, until: z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'a time as HH:mm (24:00 for the end of the day)').describe('End of the window (exclusive); 24:00 for the end of the day.') })
    .default(DEFAULT_SEND_WINDOW)
    .describe('Mail goes out only on these days between these times.'),
  blackouts: z
    .array(
      z.strictObject({
        label: z.string().optional(),
        from: LocalDate,
        until: LocalDate.describe('Last day of the blackout (inclusive).'),
        resumeAfterWorkingDays: z.number().int().min(1).default(1).describe('A mailing that falls in the blackout goes out on this working day after it (2: the second working day).'),
      }),
    )
    .default([]),
  mailings: z.array(Mailing).min(1).default(DEFAULT_MAILINGS),
});
export type Calendar = z.output<typeof CalendarSchema>;

export interface PlannedMailing {
  id: string;
  kind: 'invitation' | 'reminder';
  template: string;
  subject: string | undefined;
  /** A reminder for part of the sample: the values each sample field must have. */
  only?: Record<string, string[]>;
  requestedAt: Date;
  sendAt: Date;
  /** Why sendAt differs from requestedAt, in order. */
  moves: string[];
}

export interface Plan {
  timezone: string;
  opensAt: Date;
  closesAt: Date;
  mailings: PlannedMailing[];
}

/** A reminder's part of the sample as text: "functie: raadslid, statenlid; laag: gemeente". */
export function partOfSample(only: Record<string, string[]>): string {
  return Object.entries(only)
    .map(([field, values]) => `${field}: ${values.join(', ')}`)
    .join('; ');
}

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The send window and blackouts of a calendar, on wall times in its time zone. */
function sendWindowOf(calendar: Calendar) {
  const window = calendar.sendWindow;
  const from = minutesOf(window.from);
  const until = minutesOf(window.until);
  const sendDays = new Set(window.days.map((d) => WEEKDAYS.indexOf(d)));
  const blackoutOn = (wall: WallTime) => calendar.blackouts.find((b) => b.from <= dateKey(wall) && dateKey(wall) <= b.until);
  const isWorkingDay = (wall: WallTime) => sendDays.has(weekdayOf(wall)) && !blackoutOn(wall);
  const atWindowStart = (wall: WallTime): WallTime => ({ ...wall, hour: Math.floor(from / 60), minute: from % 60 });

  /** Moves a wall time out of blackouts and into the send window; no moves: mail may go out then. */
  const fit = (start: WallTime): { wall: WallTime; moves: string[] } => {
    let wall = start;
    const moves: string[] = [];
    for (let guard = 0; guard < 1000; guard++) {
      const blackout = blackoutOn(wall);
      if (blackout) {
        let day: WallTime = { ...parseLocal(blackout.until)!.wall };
        for (let n = 0; n < blackout.resumeAfterWorkingDays; ) {
          day = addDays(day, 1);
          if (isWorkingDay(day)) n++;
        }
        wall = atWindowStart(day);
        moves.push(`moved to working day ${blackout.resumeAfterWorkingDays} after ${blackout.label ?? 'the blackout'} (${blackout.from} to ${blackout.until})`);
        continue;
      }
      const minutes = wall.hour * 60 + wall.minute;
      if (!sendDays.has(weekdayOf(wall)) || minutes >= until) {
        wall = atWindowStart(addDays(wall, 1));
        if (moves[moves.length - 1] !== 'moved to the next send day') moves.push('moved to the next send day');
        continue;
      }
      if (minutes < from) {
        wall = atWindowStart(wall);
        moves.push(`moved to the start of the send window (${window.from})`);
      }
      return { wall, moves };
    }
    throw new Error('the send window leaves no time to send');
  };
  return { from, until, atWindowStart, fit };
}

export type SendWindowState = { open: true; closesAt: Date } | { open: false; opensAt: Date };

/**
 * Whether mail may go out at `at` under a calendar that plans (planCalendar): while the window is
 * open, until when; otherwise when it opens again. The sender asks this before every mail, so a
 * retry that falls due at night, mail left over when the server was down over a weekend and a
 * batch that runs past the end of the day all wait for the window, as planned mailings do.
 */
export function sendWindowAt(calendar: Calendar, at: Date): SendWindowState {
  const { until, fit } = sendWindowOf(calendar);
  const { year, month, day, hour, minute } = toWallTime(at, calendar.timezone);
  const now = { year, month, day, hour, minute };
  const { wall, moves } = fit(now);
  if (moves.length > 0) return { open: false, opensAt: fromWallTime(wall, calendar.timezone) };
  return { open: true, closesAt: fromWallTime({ ...now, hour: Math.floor(until / 60), minute: until % 60 }, calendar.timezone) };
}

export function planCalendar(calendar: Calendar, path: (string | number)[] = ['calendar']): { ok: true; plan: Plan } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const tz = calendar.timezone;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    return { ok: false, problems: [{ path: [...path, 'timezone'], message: `unknown time zone "${tz}"` }] };
  }
  const { from, until, atWindowStart, fit } = sendWindowOf(calendar);
  if (from >= until) problems.push({ path: [...path, 'sendWindow'], message: `the send window must start before it ends (${calendar.sendWindow.from}-${calendar.sendWindow.until})` });
  calendar.blackouts.forEach((b, i) => {
    if (b.from > b.until) problems.push({ path: [...path, 'blackouts', i], message: `the blackout ends (${b.until}) before it starts (${b.from})` });
  });

  const opensParsed = parseLocal(calendar.opens);
  if (!opensParsed) return { ok: false, problems: [...problems, { path: [...path, 'opens'], message: `"${calendar.opens}" is not a date (YYYY-MM-DD) or date and time (YYYY-MM-DDTHH:mm)` }] };
  if (problems.length > 0) return { ok: false, problems };
  const opensWall = opensParsed.hasTime ? opensParsed.wall : atWindowStart(opensParsed.wall);
  const opensAt = fromWallTime(opensWall, tz);

  /** A moment: local date (at the window start, or end of day for the close), date-time, or duration after opening. */
  const resolve = (text: string, where: (string | number)[], endOfDay: boolean): WallTime | undefined => {
    const duration = parseDuration(text);
    if (duration) {
      const shifted = addDays(opensWall, duration.days);
      const total = shifted.hour * 60 + shifted.minute + duration.minutes;
      return addDays({ ...shifted, hour: Math.floor((total % 1440) / 60), minute: total % 60 }, Math.floor(total / 1440));
    }
    const local = parseLocal(text);
    if (!local) {
      problems.push({ path: where, message: `"${text}" is not a date, a date and time, or a duration such as P10D` });
      return undefined;
    }
    if (local.hasTime) return local.wall;
    return endOfDay ? { ...addDays(local.wall, 1), hour: 0, minute: 0 } : atWindowStart(local.wall);
  };

  const closesWall = resolve(calendar.closes, [...path, 'closes'], true);
  const closesAt = closesWall ? fromWallTime(closesWall, tz) : opensAt;
  if (closesWall && closesAt <= opensAt) problems.push({ path: [...path, 'closes'], message: 'the survey must close after it opens' });

  const seen = new Set<string>();
  const mailings: PlannedMailing[] = [];
  calendar.mailings.forEach((m, i) => {
    const where = [...path, 'mailings', i];
    if (seen.has(m.id)) problems.push({ path: [...where, 'id'], message: `duplicate mailing "${m.id}"` });
    seen.add(m.id);
    const requested = resolve(m.at, [...where, 'at'], false);
    if (!requested) return;
    const { wall, moves } = fit(requested);
    const sendAt = fromWallTime(wall, tz);
    if (sendAt < opensAt) problems.push({ path: [...where, 'at'], message: `mailing "${m.id}" would go out before the survey opens` });
    if (sendAt >= closesAt) problems.push({ path: [...where, 'at'], message: `mailing "${m.id}" would go out after the survey closes` });
    if (m.only && m.kind !== 'reminder') problems.push({ path: [...where, 'only'], message: 'only a reminder can go to part of the sample: the invitation goes to everyone invited' });
    else if (m.only && Object.keys(m.only).length === 0) problems.push({ path: [...where, 'only'], message: 'name at least one sample field, e.g. {"functie": ["raadslid"]}, or leave "only" out' });
    mailings.push({ id: m.id, kind: m.kind, template: m.template ?? m.id, subject: m.subject, ...(m.only ? { only: m.only } : {}), requestedAt: fromWallTime(requested, tz), sendAt, moves });
  });
  const invitations = mailings.filter((m) => m.kind === 'invitation');
  if (invitations.length !== 1) problems.push({ path: [...path, 'mailings'], message: `there must be exactly one invitation mailing (found ${invitations.length})` });
  else if (mailings.some((m) => m.kind === 'reminder' && m.sendAt <= invitations[0]!.sendAt)) {
    problems.push({ path: [...path, 'mailings'], message: 'every reminder must go out after the invitation' });
  }
  if (problems.length > 0) return { ok: false, problems };
  mailings.sort((a, b) => a.sendAt.getTime() - b.sendAt.getTime());
  return { ok: true, plan: { timezone: tz, opensAt, closesAt, mailings } };
}
