// Sending a mail again to one person who cannot find it (survey resend): a copy of the invitation
// (or another mailing that reached them) with the same link and code, through the outbox, once,
// under a Message-ID of its own; refused, with what to do instead, where it makes no sense.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findInviteeByEmail, unmarkRefused } from '../../server/db/invitees.ts';
import { getSurvey } from '../../server/db/surveys.ts';
import { smtpTransport, type MailTransport } from '../../server/mail/transport.ts';
import { closeSurvey } from '../../server/usecases/answering.ts';
import { buildDashboard } from '../../server/usecases/dashboard.ts';
import { markDisposition } from '../../server/usecases/refusal.ts';
import { resendMail } from '../../server/usecases/resend.ts';
import { formatCode, testServer, type TestServer } from '../helpers/app.ts';
import { fieldwork } from '../helpers/fieldwork.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

let server: TestServer;
let smtp: TestSmtp;
let transport: MailTransport;
const at = (local: string) => new Date(`${local}+02:00`);
const people = ['jan', 'piet', 'klaar', 'nee', 'weg', 'kapot', 'later'].map((n) => ({ email: `${n}@gemeente.nl`, name: n, sample: { functie: 'raadslid' } }));
const calendar = {
  mailings: [
    { id: 'invitation', kind: 'invitation', at: 'P0D' },
    { id: 'reminder1', kind: 'reminder', at: 'P7D' },
  ],
};
let invites: { code: string; token: string }[];

beforeEach(async () => {
  server = await testServer({ start: at('2024-06-03T09:00:00') });
  smtp = await startSmtp();
  transport = smtpTransport(smtp.url);
  smtp.rejectPermanently.add('kapot@gemeente.nl');
  invites = await server.survey('owb-2024', people.slice(0, 6), { calendar });
  expect(await fieldwork(server, transport).run()).toMatchObject({ sent: 5, bounced: 1 });
});
afterEach(async () => {
  transport.close();
  await smtp.close();
  await server.close();
});

const survey = async () => (await getSurvey(server.app.db, 'owb-2024'))!;
const invitee = async (email: string) => (await findInviteeByEmail(server.app.db, 'owb-2024', email))!;
const resend = async (email: string, mailing?: string) => resendMail(server.app.db, await survey(), await invitee(email), mailing, server.clock.now);

describe('survey resend', () => {
  it('sends the invitation again to one person, with the same link and code under a Message-ID of its own, once', async () => {
    server.clock.now = at('2024-06-05T14:00:00');
    expect(await resend('jan@gemeente.nl')).toEqual({ mailingId: 'invitation', copy: 2 });
    const { run } = fieldwork(server, transport);
    expect(await run()).toMatchObject({ sent: 1 });
    expect(await run()).toMatchObject({ sent: 0 });
    const toJan = smtp.received.filter((r) => r.envelopeTo[0] === 'jan@gemeente.nl');
    expect(toJan).toHaveLength(2);
    const [first, again] = toJan.map((r) => r.mail);
    expect(again!.subject).toBe(first!.subject);
    expect(again!.text).toContain(`https://enquete.test/s/${invites[0]!.token}`);
    expect(again!.text).toContain(formatCode(invites[0]!.code));
    // A mailbox hides a second message with the same Message-ID as a duplicate.
    expect(again!.messageId).not.toBe(first!.messageId);

    // Again later: the third copy. The dashboard counts them apart from the mailing itself.
    expect(await resend('jan@gemeente.nl')).toEqual({ mailingId: 'invitation', copy: 3 });
    await expect(resend('jan@gemeente.nl')).rejects.toThrow('a copy of invitation for jan@gemeente.nl is already queued and goes out on the next send');
    const dashboard = await buildDashboard(server.app.db, await survey(), server.clock.now);
    expect(dashboard.mailings[0]).toMatchObject({ id: 'invitation', outbox: { sent: 5, failed: 1 }, resent: { sent: 1, pending: 1 } });
    expect(await run()).toMatchObject({ sent: 1 });
  });

  it('sends a reminder again that reached them, and the reminder still reaches whoever had only the invitation resent', async () => {
    const { run } = fieldwork(server, transport);
    await expect(resend('jan@gemeente.nl', 'reminder1')).rejects.toThrow('reminder1 has not gone out to jan@gemeente.nl (it is not queued for them): there is nothing to send again');
    await resend('piet@gemeente.nl');
    server.clock.now = at('2024-06-10T10:00:00');
    // Piet's copy of the invitation, and the reminder to the five whose invitation arrived.
    expect(await run()).toMatchObject({ sent: 6 });
    expect(await resend('jan@gemeente.nl', 'reminder1')).toEqual({ mailingId: 'reminder1', copy: 2 });
    expect(await run()).toMatchObject({ sent: 1 });
    const toJan = smtp.received.filter((r) => r.envelopeTo[0] === 'jan@gemeente.nl').map((r) => r.mail.subject);
    expect(toJan).toEqual(['Uitnodiging: owb-2024', 'Herinnering: owb-2024', 'Herinnering: owb-2024']);
  });

  it('sends the invitation that was skipped while the person had refused, once they take part after all', async () => {
    await server.survey('owb-2024', people.slice(6), { calendar });
    const later = await invitee('later@gemeente.nl');
    const { run } = fieldwork(server, transport);
    // Queued, then refused (by phone, say) before it went out: skipped.
    expect(await run({ sendLimit: 0 })).toMatchObject({ enqueued: { 'owb-2024/invitation': 1 } });
    await markDisposition(server.app.db, later.id, 'refused', '2024-06-03');
    expect(await run()).toMatchObject({ sent: 0, skipped: 1 });
    await unmarkRefused(server.app.db, later.id);
    // The invitation is not queued a second time by itself.
    expect(await run()).toMatchObject({ sent: 0 });
    expect(await resend('later@gemeente.nl')).toEqual({ mailingId: 'invitation', copy: 2 });
    expect(await run()).toMatchObject({ sent: 1 });
    expect(smtp.received.at(-1)!.envelopeTo).toEqual(['later@gemeente.nl']);
  });

  it('refuses, saying what to do instead, where sending again makes no sense; and queues nothing', async () => {
    const b = server.browser();
    await b.open(`/s/${invites[2]!.token}`);
    while (b.pageId()) await b.submit(b.pageId() === 'H1' ? { Q1: ['geen'] } : b.pageId() === 'H5' ? { Q15: 'goed' } : {});
    await markDisposition(server.app.db, (await invitee('nee@gemeente.nl')).id, 'refused', '2024-06-04');
    await markDisposition(server.app.db, (await invitee('weg@gemeente.nl')).id, 'not_eligible', '2024-06-04');
    // Imported after the invitation went out, and not sent yet.
    await server.survey('owb-2024', people.slice(6), { calendar });
    const cases: [string, string | undefined, string][] = [
      ['klaar@gemeente.nl', undefined, 'klaar@gemeente.nl has already completed the questionnaire'],
      ['nee@gemeente.nl', undefined, 'nee@gemeente.nl said they do not take part, so no more mail goes to them. If they want to after all, read out their code (survey code owb-2024 nee@gemeente.nl)'],
      ['weg@gemeente.nl', undefined, 'weg@gemeente.nl is marked not eligible'],
      ['kapot@gemeente.nl', undefined, 'mail to kapot@gemeente.nl bounced: correct the address with survey address owb-2024 kapot@gemeente.nl <new-email>'],
      ['later@gemeente.nl', undefined, 'invitation has not gone out to later@gemeente.nl (it is not queued for them): there is nothing to send again'],
      ['jan@gemeente.nl', 'reminder9', 'survey owb-2024 has no mailing "reminder9": its mailings are invitation, reminder1'],
    ];
    for (const [email, mailing, message] of cases) await expect(resend(email, mailing), email).rejects.toThrow(message);
    // Queued, not sent yet.
    await fieldwork(server, transport).run({ sendLimit: 0 });
    await expect(resend('later@gemeente.nl')).rejects.toThrow('invitation has not gone out to later@gemeente.nl (it is queued and goes out on the next send)');
    const queued = await server.app.db.selectFrom('outbox').select('mailing_id').where('mailing_id', 'like', '%~%').execute();
    expect(queued).toEqual([]);

    await closeSurvey(server.app.db, server.app.secrets, await survey(), await server.app.questionnaires.byHash((await survey()).questionnaire_hash), server.clock.now);
    await expect(resend('jan@gemeente.nl')).rejects.toThrow('survey owb-2024 is closed: no more mail goes out');
  });
});
