import { describe, expect, it } from 'vitest';
import { CalendarSchema, planCalendar, sendWindowAt, type Plan } from '../../server/domain/survey/calendar.ts';
import { formatPath } from '../../server/domain/questionnaire/index.ts';
import { amsterdamDate } from '../../server/domain/survey/dates.ts';

function plan(input: unknown): Plan {
  const result = planCalendar(CalendarSchema.parse(input));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}
const amsterdam = (d: Date) => d.toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 16);
const times = (p: Plan) => Object.fromEntries(p.mailings.map((m) => [m.id, amsterdam(m.sendAt)]));

describe('the fieldwork calendar', () => {
  it('expresses the OWB 2024 calendar with dates: invite 3 June, remind 11 June and 2 July, close 9 July', () => {
    const p = plan({
      opens: '2024-06-03T09:00',
      closes: '2024-07-09',
      mailings: [
        { id: 'invitation', kind: 'invitation', at: '2024-06-03T09:00' },
        { id: 'reminder1', kind: 'reminder', at: '2024-06-11' },
        { id: 'reminder2', kind: 'reminder', at: '2024-07-02' },
      ],
    });
    expect(times(p)).toEqual({ invitation: '2024-06-03 09:00', reminder1: '2024-06-11 09:00', reminder2: '2024-07-02 09:00' });
    expect(amsterdam(p.closesAt)).toBe('2024-07-10 00:00'); // through the end of 9 July
    expect(p.closesAt.toISOString()).toBe('2024-07-09T22:00:00.000Z');
  });

  it('expresses the same calendar relatively: day +8 and day +29, close after 36 days', () => {
    const p = plan({
      opens: '2024-06-03T09:00',
      closes: 'P36DT14H59M',
      mailings: [
        { id: 'invitation', kind: 'invitation', at: 'P0D' },
        { id: 'reminder1', kind: 'reminder', at: 'P8D' },
        { id: 'reminder2', kind: 'reminder', at: 'P29D' },
      ],
    });
    expect(times(p)).toEqual({ invitation: '2024-06-03 09:00', reminder1: '2024-06-11 09:00', reminder2: '2024-07-02 09:00' });
    expect(amsterdam(p.closesAt)).toBe('2024-07-09 23:59');
  });

  it("follows the Monitor's defaults: reminders after 1.5 and 3 weeks, within working hours; close after 5 weeks", () => {
    const p = plan({ opens: '2020-02-13' });
    // 1.5 weeks after Thursday 13 February 09:00 is Sunday 23 February 21:00: moved to Monday 09:00.
    expect(times(p)).toEqual({ invitation: '2020-02-13 09:00', reminder1: '2020-02-24 09:00', reminder2: '2020-03-05 09:00' });
    expect(p.mailings[1]!.moves).toEqual(['moved to the next send day']);
    expect(amsterdam(p.closesAt)).toBe('2020-03-19 09:00');
  });

  it('moves a reminder that falls in a recess to the second working day after it (Monitor 2024)', () => {
    const p = plan({
      opens: '2024-04-16T09:00',
      closes: '2024-05-21',
      blackouts: [{ label: 'mei-reces', from: '2024-04-27', until: '2024-05-12', resumeAfterWorkingDays: 2 }],
      mailings: [
        { id: 'invitation', kind: 'invitation', at: 'P0D' },
        { id: 'reminder1', kind: 'reminder', at: '2024-04-23' },
        { id: 'reminder2', kind: 'reminder', at: '2024-05-07' },
      ],
    });
    expect(times(p)).toEqual({ invitation: '2024-04-16 09:00', reminder1: '2024-04-23 09:00', reminder2: '2024-05-14 09:00' });
    expect(p.mailings[2]!.moves).toEqual(['moved to working day 2 after mei-reces (2024-04-27 to 2024-05-12)']);
  });

  it('keeps mail within the send window: evenings and weekends move to the next working morning', () => {
    const p = plan({
      opens: '2024-06-03T06:00',
      sendWindow: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:30', until: '17:00' },
      mailings: [
        { id: 'invitation', kind: 'invitation', at: '2024-06-03T06:00' },
        { id: 'reminder1', kind: 'reminder', at: '2024-06-07T17:00' },
        { id: 'reminder2', kind: 'reminder', at: '2024-06-15T12:00' },
      ],
    });
    expect(times(p)).toEqual({ invitation: '2024-06-03 08:30', reminder1: '2024-06-10 08:30', reminder2: '2024-06-17 08:30' });
    expect(p.mailings[0]!.moves).toEqual(['moved to the start of the send window (08:30)']);
  });

  it('keeps the local time across a change to summer time', () => {
    const p = plan({ opens: '2024-03-25T09:00', mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }, { id: 'reminder1', kind: 'reminder', at: 'P7D' }] });
    expect(p.mailings.map((m) => m.sendAt.toISOString())).toEqual(['2024-03-25T08:00:00.000Z', '2024-04-01T07:00:00.000Z']);
  });

  it.each([
    [{ opens: '2024-06-03', closes: '2024-06-10', mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }, { id: 'reminder1', kind: 'reminder', at: 'P14D' }] }, '$.calendar.mailings[1].at', 'mailing "reminder1" would go out after the survey closes'],
    [{ opens: '2024-06-03', mailings: [{ id: 'reminder1', kind: 'reminder', at: 'P1D' }] }, '$.calendar.mailings', 'exactly one invitation mailing (found 0)'],
    [{ opens: '2024-06-03', mailings: [{ id: 'invitation', kind: 'invitation', at: 'P2D' }, { id: 'reminder1', kind: 'reminder', at: 'P1D' }] }, '$.calendar.mailings', 'every reminder must go out after the invitation'],
    [{ opens: '3 juni 2024' }, '$.calendar.opens', 'is not a date'],
    [{ opens: '2024-06-03', closes: 'next month' }, '$.calendar.closes', 'is not a date, a date and time, or a duration'],
    [{ opens: '2024-06-03', closes: '2024-06-01' }, '$.calendar.closes', 'must close after it opens'],
    [{ opens: '2024-06-03', timezone: 'Europe/Amsterdamm' }, '$.calendar.timezone', 'unknown time zone'],
    [{ opens: '2024-06-03', blackouts: [{ from: '2024-06-10', until: '2024-06-01' }] }, '$.calendar.blackouts[0]', 'ends (2024-06-01) before it starts'],
    [{ opens: '2024-06-03', sendWindow: { days: ['mon'], from: '17:00', until: '09:00' } }, '$.calendar.sendWindow', 'must start before it ends'],
  ])('reports an impossible calendar (%#): %s', (input, path, message) => {
    const result = planCalendar(CalendarSchema.parse(input));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => [formatPath(p.path), p.message])).toContainEqual([path, expect.stringContaining(message)]);
  });
});

describe('the send window at a given moment', () => {
  const calendar = CalendarSchema.parse({
    opens: '2024-03-04',
    blackouts: [{ label: 'voorjaarsreces', from: '2024-03-11', until: '2024-03-15', resumeAfterWorkingDays: 2 }],
  });
  const at = (local: string) => {
    const state = sendWindowAt(calendar, new Date(local));
    return state.open ? `open until ${amsterdam(state.closesAt)}` : `closed until ${amsterdam(state.opensAt)}`;
  };

  it('is open on a working day between the window times, until the end of the window', () => {
    expect(at('2024-03-05T09:00:00+01:00')).toBe('open until 2024-03-05 17:00');
    expect(at('2024-03-05T16:59:59+01:00')).toBe('open until 2024-03-05 17:00');
  });

  it('is closed in the evening, at night and at the weekend, until the next working morning', () => {
    expect(at('2024-03-05T17:00:00+01:00')).toBe('closed until 2024-03-06 09:00');
    expect(at('2024-03-06T03:10:00+01:00')).toBe('closed until 2024-03-06 09:00');
    // Friday evening: the next send day is in the recess, so mail waits, as a planned mailing
    // would, for the second working day after it.
    expect(at('2024-03-08T18:30:00+01:00')).toBe('closed until 2024-03-19 09:00');
    expect(at('2024-03-02T12:00:00+01:00')).toBe('closed until 2024-03-04 09:00');
  });

  it('is closed in a blackout until the working day after it that the blackout names', () => {
    // Monday 18 March is the first working day after the recess, Tuesday the second.
    expect(at('2024-03-12T10:00:00+01:00')).toBe('closed until 2024-03-19 09:00');
  });

  it('opens at 09:00 local time across the change to summer time', () => {
    const state = sendWindowAt(calendar, new Date('2024-03-30T12:00:00+01:00'));
    expect(state).toEqual({ open: false, opensAt: new Date('2024-04-01T07:00:00.000Z') });
  });

  it('reads an hour the clocks skip or repeat as a time that exists, never earlier than asked', () => {
    // Sunday 31 March 2024 the clocks go from 02:00 to 03:00; Sunday 27 October from 03:00 back to 02:00.
    const night = CalendarSchema.parse({ opens: '2024-03-04', sendWindow: { days: ['sun'], from: '02:30', until: '04:00' } });
    expect(sendWindowAt(night, new Date('2024-03-31T01:59:00+01:00'))).toEqual({ open: false, opensAt: new Date('2024-03-31T03:30:00+02:00') });
    expect(sendWindowAt(night, new Date('2024-03-31T03:30:00+02:00'))).toEqual({ open: true, closesAt: new Date('2024-03-31T04:00:00+02:00') });
    const p = plan({ opens: '2024-03-31T02:15', closes: '2024-04-30', sendWindow: { days: ['sun', 'mon'], from: '00:00', until: '24:00' }, mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }] });
    expect(p.opensAt).toEqual(new Date('2024-03-31T03:15:00+02:00'));
    // 02:30 comes twice that night in October: the second time.
    const autumn = plan({ opens: '2024-10-21', closes: '2024-11-30', sendWindow: { days: ['sun', 'mon'], from: '00:00', until: '24:00' }, mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }, { id: 'reminder1', kind: 'reminder', at: '2024-10-27T02:30' }] });
    expect(autumn.mailings[1]!.sendAt).toEqual(new Date('2024-10-27T02:30:00+01:00'));
  });

  it('can stay open round the clock, through the last minute of the day (until 24:00)', () => {
    const always = CalendarSchema.parse({ opens: '2024-03-04', sendWindow: { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '00:00', until: '24:00' } });
    expect(sendWindowAt(always, new Date('2024-03-09T23:59:30+01:00'))).toEqual({ open: true, closesAt: new Date('2024-03-10T00:00:00+01:00') });
    expect(sendWindowAt(always, new Date('2024-03-10T00:00:00+01:00'))).toEqual({ open: true, closesAt: new Date('2024-03-11T00:00:00+01:00') });
    expect(planCalendar(always).ok).toBe(true);
    const late = CalendarSchema.safeParse({ opens: '2024-03-04', sendWindow: { days: ['mon'], from: '09:00', until: '24:30' } });
    expect(late.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['sendWindow.until', 'a time as HH:mm (24:00 for the end of the day)']]);
  });
});

describe('the ledger date', () => {
  it('is the date in Amsterdam, turning at local midnight in winter and summer time, also for consecutive calls', () => {
    const at = (iso: string) => amsterdamDate(new Date(iso));
    // Winter (UTC+1): midnight is 23:00 UTC.
    expect([at('2024-01-15T22:59:59.999Z'), at('2024-01-15T23:00:00.000Z')]).toEqual(['2024-01-15', '2024-01-16']);
    // Summer (UTC+2): midnight is 22:00 UTC; the same minute asked twice, then the next.
    expect([at('2024-06-11T21:59:00.000Z'), at('2024-06-11T21:59:59.999Z'), at('2024-06-11T22:00:00.000Z')]).toEqual(['2024-06-11', '2024-06-11', '2024-06-12']);
    // And back in time.
    expect(at('2024-06-11T21:59:30.000Z')).toBe('2024-06-11');
  });
});
