// A whole fieldwork on a simulated clock, hour by hour: import, invitation, some respondents
// finish, refuse, bounce or are marked not eligible; the reminders reach exactly the right people
// within the send window, one of them moved by a recess; the close stops everything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getInvitee, markNotEligible } from '../../server/db/invitees.ts';
import { listResponses } from '../../server/db/responses.ts';
import { smtpTransport, type MailTransport } from '../../server/mail/transport.ts';
import { testServer, type Browser, type TestServer } from '../helpers/app.ts';
import { fieldwork } from '../helpers/fieldwork.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

const calendar = {
  opens: '2024-04-16T09:00',
  closes: '2024-05-21',
  sendWindow: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', until: '17:00' },
  blackouts: [{ label: 'mei-reces', from: '2024-04-27', until: '2024-05-12', resumeAfterWorkingDays: 2 }],
  mailings: [
    { id: 'invitation', kind: 'invitation', at: 'P0D' },
    { id: 'reminder1', kind: 'reminder', at: 'P7D' },
    { id: 'reminder2', kind: 'reminder', at: '2024-05-07' },
  ],
};
const NAMES = ['finishes-early', 'refuses', 'bounces', 'left-office', 'stops-halfway', 'finishes-late', 'silent-1', 'silent-2'] as const;
const email = (name: string) => `${name}@gemeente.test`;

let server: TestServer;
let stateAtReminder: string | undefined;
let smtp: TestSmtp;
let transport: MailTransport;
/** Every mail delivered, with the simulated time it went out. */
const delivered: { to: string; subject: string; at: Date }[] = [];
const tokens = new Map<string, string>();

const local = (d: Date) => d.toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 16);
const at = (s: string) => new Date(`${s}:00+02:00`);

async function finish(b: Browser) {
  while (b.pageId()) {
    const page = b.pageId();
    await b.submit(page === 'H1' ? { Q1: ['geen'] } : page === 'H5' ? { Q15: 'goed' } : {});
  }
}

beforeAll(async () => {
  // As in production, the ledger learns what respondents do in batches of k (none fills up here):
  // reminders must still pass over whoever submitted.
  server = await testServer({ start: at('2024-04-15T08:00'), batchedLedger: true });
  smtp = await startSmtp();
  smtp.rejectPermanently.add(email('bounces'));
  const smtpOut = smtpTransport(smtp.url);
  transport = {
    description: smtpOut.description,
    async send(mail, finish) {
      await smtpOut.send(mail, finish);
      delivered.push({ to: mail.rendered.to.address, subject: mail.rendered.subject, at: server.clock.now });
    },
    close: () => smtpOut.close(),
  };
  const invites = await server.survey(
    'owb-2024',
    NAMES.map((name, i) => ({ email: email(name), name, sample: { functie: ['burgemeester', 'raadslid'][i % 2]! } })),
    { calendar, closes: '2024-05-21' },
  );
  NAMES.forEach((name, i) => tokens.set(name, invites[i]!.token));

  // What people do, and when.
  const actions: [string, () => Promise<unknown>][] = [
    ['2024-04-17T10:30', async () => {
      const b = server.browser();
      await b.open(`/s/${tokens.get('finishes-early')}`);
      await finish(b);
    }],
    ['2024-04-18T20:00', () => server.browser().open(`/optout/${tokens.get('refuses')}`).then(() => server.app.inject({ method: 'POST', url: `/optout/${tokens.get('refuses')}` }))],
    ['2024-04-19T11:00', () => markNotEligible(server.app.db, 4, '2024-04-19')],
    ['2024-04-24T14:00', async () => {
      const b = server.browser();
      await b.open(`/s/${tokens.get('stops-halfway')}`);
      await b.submit({});
      await b.submit({ Q1: ['verbale_agressie'] });
    }],
    ['2024-04-25T09:45', async () => {
      const b = server.browser();
      await b.open(`/s/${tokens.get('finishes-late')}`);
      await finish(b);
    }],
  ];
  const { run } = fieldwork(server, transport);
  // What the ledger said of the early finisher when reminder 1 went out.
  let ledgerAtReminder: string | undefined;
  // Every hour from the day before opening until the day after closing.
  for (let t = at('2024-04-15T09:00').getTime(); t <= at('2024-05-22T12:00').getTime(); t += 3600_000) {
    server.clock.now = new Date(t);
    while (actions.length > 0 && at(actions[0]![0]) <= server.clock.now) await actions.shift()![1]();
    await run();
    if (local(server.clock.now) === '2024-04-23 09:00') ledgerAtReminder = (await getInvitee(server.app.db, 1))!.state;
  }
  stateAtReminder = ledgerAtReminder;
}, 120_000);

afterAll(async () => {
  transport.close();
  await smtp.close();
  await server.close();
});

const recipients = (subjectStart: string) =>
  delivered
    .filter((d) => d.subject.startsWith(subjectStart))
    .map((d) => d.to.split('@')[0])
    .sort();

describe('a whole fieldwork', () => {
  it('sends the invitation to everyone at opening, except the address that bounces', () => {
    expect(recipients('Uitnodiging')).toEqual(['finishes-early', 'finishes-late', 'left-office', 'refuses', 'silent-1', 'silent-2', 'stops-halfway']);
    expect(new Set(delivered.filter((d) => d.subject.startsWith('Uitnodiging')).map((d) => local(d.at)))).toEqual(new Set(['2024-04-16 09:00']));
  });

  it('records the bounce in the ledger', async () => {
    expect((await getInvitee(server.app.db, 3))!.state).toBe('bounced');
  });

  it('sends reminder 1 a week later only to those who have not responded, refused, bounced or left', () => {
    const first = delivered.filter((d) => d.subject.startsWith('Herinnering') && local(d.at) < '2024-05-01');
    expect(first.map((d) => d.to.split('@')[0]).sort()).toEqual(['finishes-late', 'silent-1', 'silent-2', 'stops-halfway']);
    expect(new Set(first.map((d) => local(d.at)))).toEqual(new Set(['2024-04-23 09:00']));
  });

  it('moves reminder 2 out of the recess to the second working day after it, and skips the late finisher', () => {
    const second = delivered.filter((d) => d.subject.startsWith('Herinnering') && local(d.at) >= '2024-05-01');
    expect(second.map((d) => d.to.split('@')[0]).sort()).toEqual(['silent-1', 'silent-2', 'stops-halfway']);
    expect(new Set(second.map((d) => local(d.at)))).toEqual(new Set(['2024-05-14 09:00']));
  });

  it('sends every mail on a working day within the send window, never in the recess, and never twice', () => {
    for (const d of delivered) {
      const day = new Date(local(d.at).slice(0, 10)).getUTCDay();
      const time = local(d.at).slice(11);
      expect(day >= 1 && day <= 5, local(d.at)).toBe(true);
      expect(time >= '09:00' && time < '17:00', local(d.at)).toBe(true);
      expect(local(d.at) >= '2024-04-27' && local(d.at) < '2024-05-13', local(d.at)).toBe(false);
    }
    const keys = delivered.map((d) => `${d.to}|${d.subject}|${local(d.at).slice(0, 10)}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(delivered).toHaveLength(7 + 4 + 3);
  });

  it('skipped the finishers while the ledger did not know yet that they had submitted, and knows it after the close', async () => {
    expect(stateAtReminder).toBe('invited');
    expect((await getInvitee(server.app.db, 1))!.state).toBe('submitted');
    expect((await getInvitee(server.app.db, 6))!.state).toBe('submitted');
  });

  it('closes by the calendar: codes open the closed page, the unfinished questionnaire becomes a partial response', async () => {
    const survey = await server.app.db.selectFrom('surveys').selectAll().executeTakeFirstOrThrow();
    expect(survey.closed_at).toBe(at('2024-05-22T00:00').toISOString());
    const responses = await listResponses(server.app.db, 'owb-2024');
    expect(responses.map((r) => r.status).sort()).toEqual(['complete', 'complete', 'partial']);
    const b = server.browser();
    await b.open(`/s/${tokens.get('silent-1')}`);
    expect(b.heading()).toBe('Deze vragenlijst is gesloten');
    expect(delivered.filter((d) => d.at >= at('2024-05-21T17:00'))).toEqual([]);
  });
});
