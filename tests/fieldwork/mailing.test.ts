import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, walSync } from '../../server/db/connection.ts';
import { getInvitee } from '../../server/db/invitees.ts';
import { closeSurvey } from '../../server/usecases/answering.ts';
import { correctAddress, deliveryProblems, retryUndelivered } from '../../server/usecases/delivery-problems.ts';
import { getSurvey } from '../../server/db/surveys.ts';
import { MailTemplates } from '../../server/mail/render.ts';
import { smtpTransport, type MailTransport } from '../../server/mail/transport.ts';
import { TEMPLATES_DIR } from '../../server/usecases/surveys.ts';
import { UNSYNCED_OUTCOMES } from '../../server/usecases/fieldwork.ts';
import { formatCode, testServer, type TestServer } from '../helpers/app.ts';
import { fieldwork } from '../helpers/fieldwork.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

let server: TestServer;
let smtp: TestSmtp;
let transport: MailTransport;
beforeEach(async () => {
  server = await testServer({ start: new Date('2024-06-03T09:00:00+02:00') });
  smtp = await startSmtp();
  transport = smtpTransport(smtp.url);
});
afterEach(async () => {
  transport.close();
  await smtp.close();
  await server.close();
});

/** The test's SMTP transport, doing `then` once the n-th mail has been taken: a change in mid-run. */
function afterMail(n: number, description: string, then: () => Promise<unknown>): MailTransport {
  let sent = 0;
  return {
    description,
    async send(mail, finish) {
      await transport.send(mail, finish);
      if (++sent === n) await then();
    },
    close: () => {},
  };
}

const people = [
  { email: 'j.jansen@gemeente-a.nl', name: 'Jan Jansen', salutation: 'Geachte heer Jansen', organisation: 'Gemeente A', sample: { functie: 'burgemeester' } },
  { email: 'p.pieters@gemeente-b.nl', name: 'Piet Pieters', organisation: 'Gemeente B', sample: { functie: 'raadslid' } },
];
const calendar = {
  opens: '2024-06-03T09:00',
  closes: '2024-07-09',
  mailings: [
    { id: 'invitation', kind: 'invitation', at: 'P0D' },
    { id: 'reminder1', kind: 'reminder', at: '2024-06-11' },
  ],
};

describe('invitations through SMTP', () => {
  it('reaches every invitee exactly once, in Dutch, with their link, typed code, anonymity statement and opt-out', async () => {
    const invites = await server.survey('owb-2024', people, { calendar });
    const { run } = fieldwork(server, transport);
    const report = await run();
    expect(report.sent).toBe(2);
    expect((await run()).sent).toBe(0);
    expect(smtp.received.map((r) => r.envelopeTo)).toEqual([['j.jansen@gemeente-a.nl'], ['p.pieters@gemeente-b.nl']]);

    const { mail } = smtp.received[0]!;
    expect(mail.subject).toBe('Uitnodiging: owb-2024');
    expect(mail.from!.value).toEqual([{ name: 'Onderzoek', address: 'onderzoek@bureau.test' }]);
    expect(mail.to).toMatchObject({ value: [{ name: 'Jan Jansen', address: 'j.jansen@gemeente-a.nl' }] });
    expect(mail.text).toContain('Geachte heer Jansen,');
    expect(mail.text).toContain(`https://enquete.test/s/${invites[0]!.token}`);
    expect(mail.text).toContain(formatCode(invites[0]!.code));
    expect(mail.text).toContain('tot en met dinsdag 9 juli 2024');
    expect(mail.text).toContain('Uw antwoorden worden anoniem verwerkt');
    expect(mail.html).toContain(`href="https://enquete.test/s/${invites[0]!.token}"`);
    expect(smtp.received[1]!.mail.text).toContain('Geachte Piet Pieters,');
    const raw = smtp.received[0]!.raw;
    const header = (name: string) => raw.split(/\r?\n/).find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2);
    expect(header('List-Unsubscribe')).toBe(`<https://enquete.test/optout/${invites[0]!.token}>`);
    expect(header('List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(mail.messageId).toMatch(/^<[A-Za-z0-9_-]{32}@bureau\.test>$/);
    // Dated by the fieldwork clock (here the simulated one), like everything else the sender records.
    expect(mail.date).toEqual(new Date('2024-06-03T07:00:00Z'));
    expect(smtp.received[1]!.mail.messageId).not.toBe(mail.messageId);
  });

  it('sends plain text as it is, and a name with accents or an overlong line quoted-printable, arriving exactly as written', async () => {
    const accented = { email: 'j.oztuerk@súdwest-fryslân.nl', name: 'Jeroen Brinkmann-Öztürk', organisation: 'Gemeente Súdwest-Fryslân', sample: { functie: 'wethouder' } };
    const longName = { email: 'lang@gemeente-c.nl', name: `Ambtsdrager ${'x'.repeat(100)} ${'met een zeer lange naam '.repeat(50)}`.trim(), organisation: 'Gemeente C', sample: { functie: 'raadslid' } };
    await server.survey('owb-2024', [people[0]!, accented, longName], { calendar });
    await fieldwork(server, transport).run();
    const [plain, withAccents, long] = smtp.received;
    const encodings = (raw: string) => [...raw.matchAll(/^Content-Transfer-Encoding: (.+)$/gm)].map((m) => m[1]!.trim());

    expect(encodings(plain!.raw)).toEqual(['7bit', '7bit']);
    expect(plain!.raw).toContain('Geachte heer Jansen,');
    expect(encodings(withAccents!.raw)).toEqual(['quoted-printable', 'quoted-printable']);
    expect(withAccents!.mail.text).toContain('Geachte Jeroen Brinkmann-Öztürk,');
    expect(withAccents!.mail.html).toContain('Gemeente Súdwest-Fryslân');
    // SMTP allows at most 998 characters on a line.
    expect(encodings(long!.raw)).toEqual(['quoted-printable', 'quoted-printable']);
    expect(Math.max(...long!.raw.split('\r\n').map((line) => line.length))).toBeLessThanOrEqual(998);
    expect(long!.mail.text).toContain(`Geachte ${longName.name},`);
    expect(long!.mail.to).toMatchObject({ value: [{ name: longName.name, address: longName.email }] });
    // An internationalised domain goes in its ASCII form, which every mail server accepts.
    // (The test server and the parser show it in Unicode again.)
    expect(withAccents!.raw).toContain(' <j.oztuerk@xn--sdwest-frysln-teb26a.nl>\r\n');
    expect(withAccents!.mail.to).toMatchObject({ value: [{ name: accented.name }] });
    // The template's line breaks survive the encoding: the same lines as the plain mail.
    expect(withAccents!.mail.text!.split('\n')).toHaveLength(plain!.mail.text!.split('\n').length);
  });

  it('sends a link and a code that open the questionnaire, and an opt-out link that works', async () => {
    await server.survey('owb-2024', people, { calendar });
    await fieldwork(server, transport).run();
    const text = smtp.received[0]!.mail.text!;
    const link = /https:\/\/enquete\.test(\/s\/\S+)/.exec(text)![1]!;
    const code = /code in: (\S+)/.exec(text)![1]!;
    const byLink = server.browser();
    await byLink.open(link);
    expect(byLink.pageId()).toBe('welkom');
    const byCode = server.browser();
    await byCode.typeCode(code);
    expect(byCode.pageId()).toBe('welkom');
    const optOut = /https:\/\/enquete\.test(\/optout\/\S+)/.exec(text)![1]!;
    const response = await server.app.inject({ method: 'POST', url: optOut, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    expect(response.statusCode).toBe(200);
    expect((await getInvitee(server.app.db, 1))!.state).toBe('refused');
  });

  it('marks an invitee bounced on a permanent rejection, and sends no reminder there', async () => {
    await server.survey('owb-2024', people, { calendar });
    smtp.rejectPermanently.add('p.pieters@gemeente-b.nl');
    const { run } = fieldwork(server, transport);
    expect(await run()).toMatchObject({ sent: 1, bounced: 1 });
    const invitee = (await getInvitee(server.app.db, 2))!;
    expect([invitee.state, invitee.bounced_on]).toEqual(['bounced', '2024-06-03']);
    server.clock.now = new Date('2024-06-11T09:00:00+02:00');
    expect(await run()).toMatchObject({ sent: 1, enqueued: { 'owb-2024/reminder1': 1 } });
    expect(smtp.received.map((r) => r.envelopeTo[0])).toEqual(['j.jansen@gemeente-a.nl', 'j.jansen@gemeente-a.nl']);
  });

  it('sums up, per domain and reply, what did not go out (survey schedule shows it)', async () => {
    await server.survey('owb-2024', [...people, { email: 'k.klaassen@gemeente-b.nl', name: 'Kees Klaassen', organisation: 'Gemeente B', sample: { functie: 'raadslid' } }], { calendar });
    smtp.rejectPermanently.add('p.pieters@gemeente-b.nl');
    smtp.rejectPermanently.add('k.klaassen@gemeente-b.nl');
    smtp.rejectTemporarily.set('j.jansen@gemeente-a.nl', 1);
    const { run } = fieldwork(server, transport);
    expect(await run()).toMatchObject({ sent: 0, bounced: 2, retried: 1 });
    const problems = await deliveryProblems(server.app.db, 'owb-2024');
    // The two rejections at gemeente-b.nl are one line: their replies differ only in the address.
    expect(problems).toEqual([
      { status: 'failed', domain: 'gemeente-b.nl', reply: expect.stringMatching(/550 5\.1\.1 <address>: Recipient address rejected: user unknown$/), mails: 2 },
      { status: 'retrying', domain: 'gemeente-a.nl', reply: expect.stringMatching(/451 4\.2\.1 try again later$/), mails: 1 },
    ]);
    // Once the retry went out, only the rejections are left.
    server.clock.now = new Date(server.clock.now.getTime() + 2 * 60_000);
    expect(await run()).toMatchObject({ sent: 1 });
    expect((await deliveryProblems(server.app.db, 'owb-2024')).map((p) => [p.status, p.domain, p.mails])).toEqual([['failed', 'gemeente-b.nl', 2]]);
  });

  it('sends again what a domain turned away, once that is mended, and the reminders follow', async () => {
    await server.survey('owb-2024', [...people, { email: 'k.klaassen@gemeente-b.nl', name: 'Kees Klaassen', organisation: 'Gemeente B', sample: { functie: 'raadslid' } }], { calendar });
    smtp.rejectPermanently.add('p.pieters@gemeente-b.nl');
    smtp.rejectPermanently.add('k.klaassen@gemeente-b.nl');
    const { run } = fieldwork(server, transport);
    expect(await run()).toMatchObject({ sent: 1, bounced: 2 });
    // Gemeente B's IT desk lets our mail through.
    smtp.rejectPermanently.clear();
    const survey = (await getSurvey(server.app.db, 'owb-2024'))!;
    expect(await retryUndelivered(server.app.db, survey, { domain: 'Gemeente-B.nl' }, server.clock.now)).toEqual({ unbounced: 2, requeued: 2 });
    expect((await getInvitee(server.app.db, 2))!).toMatchObject({ state: 'invited', bounced_on: null });
    expect(await run()).toMatchObject({ sent: 2, bounced: 0 });
    expect(await deliveryProblems(server.app.db, 'owb-2024')).toEqual([]);
    // Nothing left to retry.
    expect(await retryUndelivered(server.app.db, survey, { domain: 'gemeente-b.nl' }, server.clock.now)).toEqual({ unbounced: 0, requeued: 0 });
    server.clock.now = new Date('2024-06-11T09:00:00+02:00');
    expect(await run()).toMatchObject({ sent: 3, enqueued: { 'owb-2024/reminder1': 3 } });
    expect(smtp.received.map((r) => r.envelopeTo[0])).toEqual(['j.jansen@gemeente-a.nl', 'p.pieters@gemeente-b.nl', 'k.klaassen@gemeente-b.nl', 'j.jansen@gemeente-a.nl', 'p.pieters@gemeente-b.nl', 'k.klaassen@gemeente-b.nl']);
  });

  it('retries a temporary failure later, with a growing pause', async () => {
    await server.survey('owb-2024', people, { calendar });
    smtp.rejectTemporarily.set('j.jansen@gemeente-a.nl', 2);
    const { run } = fieldwork(server, transport);
    expect(await run()).toMatchObject({ sent: 1, retried: 1 });
    expect(await run()).toMatchObject({ sent: 0, retried: 0 });
    server.clock.now = new Date(server.clock.now.getTime() + 61_000);
    expect(await run()).toMatchObject({ sent: 0, retried: 1 });
    server.clock.now = new Date(server.clock.now.getTime() + 61_000);
    expect(await run()).toMatchObject({ sent: 0 });
    server.clock.now = new Date(server.clock.now.getTime() + 60_000);
    expect(await run()).toMatchObject({ sent: 1 });
    const row = await server.app.db.selectFrom('outbox').selectAll().where('invitee_id', '=', 1).executeTakeFirstOrThrow();
    expect([row.status, row.attempts]).toEqual(['sent', 3]);
    expect(smtp.received.filter((r) => r.envelopeTo[0] === 'j.jansen@gemeente-a.nl')).toHaveLength(1);
  });

  it('carries on over a new connection when the server ends the kept-open one (a limit of mails per connection)', async () => {
    const many = Array.from({ length: 5 }, (_, i) => ({ email: `raadslid${i}@gemeente.nl`, sample: { functie: 'raadslid' } }));
    await server.survey('owb-2024', many, { calendar });
    smtp.mailsPerConnection = 2;
    const report = await fieldwork(server, transport).run();
    expect([report.sent, report.retried, report.unavailable]).toEqual([5, 0, undefined]);
    expect(smtp.received.map((r) => r.envelopeTo[0]).sort()).toEqual(many.map((p) => p.email));
  });

  it('keeps trying a mail that meets temporary failures for about 20 hours by default, then gives up', async () => {
    // The test definition leaves `sending` out: the defaults apply.
    await server.survey('owb-2024', people.slice(0, 1), { calendar });
    smtp.rejectTemporarily.set('j.jansen@gemeente-a.nl', 1000);
    const { run } = fieldwork(server, transport);
    const first = server.clock.now;
    let row;
    for (let runs = 0; runs < 50; runs++) {
      await run();
      row = await server.app.db.selectFrom('outbox').selectAll().executeTakeFirstOrThrow();
      if (row.status === 'failed') break;
      server.clock.now = new Date(row.next_attempt_at);
    }
    expect([row!.status, row!.attempts]).toEqual(['failed', 12]);
    const hours = (server.clock.now.getTime() - first.getTime()) / 3600_000;
    expect(hours).toBeGreaterThan(20);
    expect(hours).toBeLessThan(21);
  });

  it('refuses to send when a field that reaches a header holds a newline', async () => {
    await server.survey('owb-2024', people, { calendar });
    await server.app.db.updateTable('invitees').set({ name: 'Jan\r\nBcc: everyone@example.com' }).where('id', '=', 1).execute();
    const { run, warnings } = fieldwork(server, transport);
    expect(await run()).toMatchObject({ sent: 1, failed: 1 });
    expect(warnings).toEqual(['not sent: name contains a newline or control character']);
    expect(smtp.received.map((r) => r.raw).join('')).not.toContain('everyone@example.com');
  });

  it('checks again at the moment of sending: who submitted after the reminder was queued gets no reminder', async () => {
    const invites = await server.survey('owb-2024', people, { calendar });
    const { run } = fieldwork(server, transport);
    await run();
    server.clock.now = new Date('2024-06-11T09:00:00+02:00');
    expect(await run({ sendLimit: 0 })).toMatchObject({ enqueued: { 'owb-2024/reminder1': 2 }, sent: 0 });
    const b = server.browser();
    await b.open(`/s/${invites[1]!.token}`);
    await b.submit({});
    await b.submit({ Q1: ['geen'] });
    while (b.pageId()) await b.submit(b.pageId() === 'H5' ? { Q15: 'goed' } : {});
    expect(await run()).toMatchObject({ sent: 1, skipped: 1 });
    const skipped = await server.app.db.selectFrom('outbox').selectAll().where('status', '=', 'skipped').executeTakeFirstOrThrow();
    expect([skipped.invitee_id, skipped.mailing_id, skipped.last_error]).toEqual([2, 'reminder1', 'invitee is submitted']);
  });

  // At 600 a minute the sender pauses between mails; at the highest rates it never does, and the
  // next mail, checked while the one before was on the wire, must still be checked again.
  it.each([600, 1_000_000])('stops a running batch when the survey is closed in the meantime (survey close), at %i mails a minute', async (ratePerMinute) => {
    const many = Array.from({ length: 6 }, (_, i) => ({ email: `raadslid${i}@gemeente.nl`, sample: { functie: 'raadslid' } }));
    await server.survey('owb-2024', many, { calendar, extra: { sending: { ratePerMinute, maxAttempts: 12 } } });
    const closing = afterMail(2, 'closes the survey after the second mail', async () => {
      const survey = await server.app.db.selectFrom('surveys').selectAll().executeTakeFirstOrThrow();
      await closeSurvey(server.app.db, server.app.secrets, survey, await server.app.questionnaires.byHash(survey.questionnaire_hash), server.clock.now);
    });
    expect(await fieldwork(server, closing).run()).toMatchObject({ sent: 2, skipped: 4 });
    expect(smtp.received).toHaveLength(2);
    const skipped = await server.app.db.selectFrom('outbox').select('last_error').where('status', '=', 'skipped').execute();
    expect(skipped.map((r) => r.last_error)).toEqual(Array(4).fill('the survey is closed'));
  });

  it('lets the server take a mail only once the outcome of the one before is on disk (at most one in flight)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'in-flight-')), 'db.sqlite');
    const onDisk = await testServer({ start: new Date('2024-06-03T09:00:00+02:00'), databasePath: path });
    const many = Array.from({ length: 5 }, (_, i) => ({ email: `raadslid${i}@gemeente.nl`, sample: { functie: 'raadslid' } }));
    await onDisk.survey('owb-2024', many, { calendar });
    // A second connection sees only what was committed: what a restart after a crash would find.
    const committed = new SQLite(path, { readonly: true });
    const sentBeforeEnd: number[] = [];
    const watching: MailTransport = {
      description: 'notes the committed outbox as each mail is ended',
      send: (mail, finish) =>
        transport.send(
          mail,
          (finish ?? Promise.resolve()).then(() => {
            sentBeforeEnd.push((committed.prepare("select count(*) as n from outbox where status = 'sent'").get() as { n: number }).n);
          }),
        ),
      close: () => {},
    };
    try {
      expect((await fieldwork(onDisk, watching).run()).sent).toBe(5);
      expect(sentBeforeEnd).toEqual([0, 1, 2, 3, 4]);
      expect(smtp.received).toHaveLength(5);
    } finally {
      committed.close();
      await onDisk.close();
    }
  });

  it('stops at once when an outcome cannot be written: the mail after it never ends, and the rest waits in line', async () => {
    const many = Array.from({ length: 6 }, (_, i) => ({ email: `raadslid${i}@gemeente.nl`, sample: { functie: 'raadslid' } }));
    await server.survey('owb-2024', many, { calendar, extra: { sending: { ratePerMinute: 1_000_000 } } });
    // The database refuses to record the second mail as sent, as a full or failing disk would.
    await sql`create trigger refuse_second before update of status on outbox when new.status = 'sent' and old.invitee_id = 2 begin select raise(abort, 'disk I/O error'); end`.execute(server.app.db);
    await expect(fieldwork(server, transport).run()).rejects.toThrow('disk I/O error');
    // The second mail was taken by the server (the one in flight); the third was not ended.
    expect(smtp.received.map((r) => r.envelopeTo[0])).toEqual(['raadslid0@gemeente.nl', 'raadslid1@gemeente.nl']);
    const rows = await server.app.db.selectFrom('outbox').select(['invitee_id', 'status', 'attempts']).orderBy('invitee_id').execute();
    expect(rows.map((r) => [r.invitee_id, r.status])).toEqual([
      [1, 'sent'],
      [2, 'sending'],
      [3, 'pending'],
      [4, 'pending'],
      [5, 'pending'],
      [6, 'pending'],
    ]);
  });

  it('lets mail go on while outcomes wait for the disk, but no more than UNSYNCED_OUTCOMES (what a power failure may repeat)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'unsynced-')), 'db.sqlite');
    const onDisk = await testServer({ start: new Date('2024-06-03T09:00:00+02:00'), databasePath: path });
    const many = Array.from({ length: 50 }, (_, i) => ({ email: `raadslid${i}@gemeente.nl`, sample: { functie: 'raadslid' } }));
    await onDisk.survey('owb-2024', many, { calendar, extra: { sending: { ratePerMinute: 1_000_000 } } });
    // The sender's own connection, whose syncs to disk are held back from the first mail on.
    let held = false;
    let released = false;
    const holding: (() => void)[] = [];
    const wal = walSync(`${path}-wal`);
    const senderDb = await openDatabase(path, { sync: () => (held ? new Promise<void>((r) => holding.push(r)).then(wal.sync) : wal.sync()), close: wal.close });
    smtp.beforeAccept = () => void (held = !released);
    const sender = fieldwork(onDisk, transport);
    sender.deps.db = senderDb;
    try {
      const run = sender.run();
      await vi.waitFor(() => expect(smtp.received).toHaveLength(UNSYNCED_OUTCOMES), { timeout: 10_000 });
      await new Promise((r) => setTimeout(r, 300));
      // The outcomes of these are committed, not on disk: the next mail waits.
      expect(smtp.received).toHaveLength(UNSYNCED_OUTCOMES);
      expect(holding.length).toBeGreaterThan(0);
      held = false;
      released = true;
      for (const release of holding) release();
      expect(await run).toMatchObject({ sent: 50 });
      expect(smtp.received).toHaveLength(50);
    } finally {
      await senderDb.destroy();
      await onDisk.close();
    }
  });

  it('freezes the questionnaire version with the first mail', async () => {
    await server.survey('owb-2024', people, { calendar });
    expect((await server.app.db.selectFrom('surveys').select('frozen_at').executeTakeFirstOrThrow()).frozen_at).toBeNull();
    await fieldwork(server, transport).run();
    expect((await server.app.db.selectFrom('surveys').select('frozen_at').executeTakeFirstOrThrow()).frozen_at).toBe('2024-06-03T07:00:00.000Z');
  });
});

describe('pacing', () => {
  const many = Array.from({ length: 6 }, (_, i) => ({ email: `raadslid${i}@gemeente.nl`, sample: { functie: 'raadslid' } }));
  /** A transport that accepts at once, so that only the sender's own pacing shows. */
  const instant: MailTransport = { description: 'instant', send: async () => {}, close: () => {} };

  async function pausesAt(ratePerMinute: number): Promise<number[]> {
    await server.survey('owb-2024', many, { calendar, extra: { sending: { ratePerMinute, maxAttempts: 6 } } });
    const sender = fieldwork(server, instant);
    const pauses: number[] = [];
    sender.deps.sleep = async (ms) => void pauses.push(ms);
    expect((await sender.run()).sent).toBe(6);
    return pauses;
  }

  it('spaces mails out to the configured rate', async () => {
    // 600 a minute: each mail starts 100 ms after the one before; preparing it took part of that.
    const pauses = await pausesAt(600);
    expect(pauses).toHaveLength(5);
    for (const ms of pauses) {
      expect(ms).toBeGreaterThan(50);
      expect(ms).toBeLessThanOrEqual(100);
    }
  });

  it('claims about ten seconds of mail at a time, so that no claim waits long enough to look left over from a crash', async () => {
    // 30 a minute: 5 at a time, and the next 5 claimed ahead. (It used to be 50: 100 seconds.)
    const twenty = Array.from({ length: 20 }, (_, i) => ({ email: `raadslid${i}@gemeente.nl`, sample: { functie: 'raadslid' } }));
    await server.survey('owb-2024', twenty, { calendar, extra: { sending: { ratePerMinute: 30, maxAttempts: 6 } } });
    const claimedAtSend: number[] = [];
    const counting: MailTransport = {
      description: 'counts the claimed rows',
      async send() {
        claimedAtSend.push(Number((await server.app.db.selectFrom('outbox').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'sending').executeTakeFirstOrThrow()).n));
      },
      close: () => {},
    };
    expect((await fieldwork(server, counting).run()).sent).toBe(20);
    expect(Math.max(...claimedAtSend)).toBeLessThanOrEqual(10);
  });

  it('does not pause at all when the rate is above what the sender can reach', async () => {
    // One mail a microsecond. (Timed with Date.now(), mails within the same millisecond seemed
    // early, and each pause of a microsecond waited a timer tick: a millisecond or more.)
    expect(await pausesAt(60_000_000)).toEqual([]);
  });
});

describe('the send window at the moment of sending', () => {
  const many = Array.from({ length: 6 }, (_, i) => ({ email: `raadslid${i}@gemeente.nl`, sample: { functie: 'raadslid' } }));
  const at = (local: string) => new Date(`${local}+02:00`);
  const officeHours = { ...calendar, sendWindow: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', until: '17:00' } };
  const outbox = () => server.app.db.selectFrom('outbox').select(['invitee_id', 'status', 'attempts', 'sent_at']).orderBy('invitee_id').execute();

  it('holds a retry that falls due in the evening until the next working morning', async () => {
    await server.survey('owb-2024', people, { calendar: officeHours });
    smtp.rejectTemporarily.set('j.jansen@gemeente-a.nl', 1);
    const { run } = fieldwork(server, transport);
    server.clock.now = at('2024-06-03T16:59:30');
    expect(await run()).toMatchObject({ sent: 1, retried: 1 });
    for (const evening of ['2024-06-03T17:00:30', '2024-06-03T23:00:00', '2024-06-04T08:59:59']) {
      server.clock.now = at(evening);
      expect(await run(), evening).toMatchObject({ sent: 0, retried: 0, waiting: { 'owb-2024': { due: 1, opensAt: at('2024-06-04T09:00:00') } } });
    }
    server.clock.now = at('2024-06-04T09:00:00');
    expect(await run()).toMatchObject({ sent: 1, waiting: {} });
    expect((await outbox())[0]).toEqual({ invitee_id: 1, status: 'sent', attempts: 2, sent_at: at('2024-06-04T09:00:00').toISOString() });
    expect(smtp.received.filter((r) => r.envelopeTo[0] === 'j.jansen@gemeente-a.nl')).toHaveLength(1);
  });

  it('sends nothing at the weekend that was due while the sender was down, and catches up on Monday morning', async () => {
    await server.survey('owb-2024', people, { calendar: officeHours });
    const { run } = fieldwork(server, transport);
    server.clock.now = at('2024-06-08T11:00:00'); // Saturday
    expect(await run()).toMatchObject({ sent: 0, enqueued: { 'owb-2024/invitation': 2 }, waiting: { 'owb-2024': { due: 2, opensAt: at('2024-06-10T09:00:00') } } });
    expect(smtp.received).toEqual([]);
    server.clock.now = at('2024-06-10T09:00:00');
    expect(await run()).toMatchObject({ sent: 2 });
  });

  it('stops a batch when the window closes; the rest goes out the next working morning and was not an attempt', async () => {
    await server.survey('owb-2024', many, { calendar: officeHours, extra: { sending: { ratePerMinute: 1, maxAttempts: 6 } } });
    const sender = fieldwork(server, transport);
    // Each pause between mails (a minute at this rate) passes on the simulated clock.
    sender.deps.sleep = async () => void (server.clock.now = new Date(server.clock.now.getTime() + 60_000));
    server.clock.now = at('2024-06-03T16:57:00');
    expect(await sender.run()).toMatchObject({ sent: 3, waiting: { 'owb-2024': { due: 3, opensAt: at('2024-06-04T09:00:00') } } });
    expect((await outbox()).map((r) => [r.status, r.attempts, r.sent_at?.slice(11, 16)])).toEqual([
      ['sent', 1, '14:57'],
      ['sent', 1, '14:58'],
      ['sent', 1, '14:59'],
      ['pending', 0, undefined],
      ['pending', 0, undefined],
      ['pending', 0, undefined],
    ]);
    server.clock.now = at('2024-06-04T09:00:00');
    expect(await sender.run()).toMatchObject({ sent: 3, waiting: {} });
    expect(smtp.received).toHaveLength(6);
    expect(new Set(smtp.received.map((r) => r.envelopeTo[0])).size).toBe(6);
  });
});

describe('when mail cannot go out at all', () => {
  const broken: [string, RegExp, () => Promise<{ out: MailTransport; fixed: () => MailTransport; done?: () => Promise<void> }>][] = [
    ['the mail server cannot be reached', /SMTP server 127\.0\.0\.1:1: .*ECONNREFUSED/, async () => ({ out: smtpTransport('smtp://127.0.0.1:1?ignoreTLS=true'), fixed: () => transport })],
    ['the server turns us away at the greeting (our address on a blocklist)', /554 5\.7\.1 your address is on a blocklist/, async () => {
      smtp.refuseConnections = true;
      return { out: transport, fixed: () => ((smtp.refuseConnections = false), transport) };
    }],
    ['the server refuses our sender address', /553 5\.7\.1 sender not allowed/, async () => {
      smtp.rejectSender = true;
      return { out: transport, fixed: () => ((smtp.rejectSender = false), transport) };
    }],
    ['a relay that wants a login refuses every recipient (554 5.7.1 Client host rejected)', /refuses to take mail from us .*Client host rejected.*check SMTP_URL/, async () => {
      smtp.refuseRecipients = { code: 554, text: '5.7.1 <to>: Client host rejected: Access denied' };
      return { out: transport, fixed: () => ((smtp.refuseRecipients = undefined), transport) };
    }],
    ['a relay that will not relay for us (550 Relaying denied, no enhanced code)', /refuses to take mail from us .*Relay access denied/, async () => {
      smtp.refuseRecipients = { code: 550, text: '<to>: Relay access denied' };
      return { out: transport, fixed: () => ((smtp.refuseRecipients = undefined), transport) };
    }],
    ['a relay that wants authentication (530)', /refuses to take mail from us .*Authentication required/, async () => {
      smtp.refuseRecipients = { code: 530, text: '5.7.0 Authentication required' };
      return { out: transport, fixed: () => ((smtp.refuseRecipients = undefined), transport) };
    }],
    ['the login is refused (a wrong password)', /535 5\.7\.8 authentication failed/, async () => {
      const secured = await startSmtp({ login: { user: 'bureau', pass: 'geheim' } });
      // A relay on this machine, without TLS: logging in in plain text is allowed on purpose.
      const at = (pass: string) => `${secured.url.replace('smtp://', `smtp://bureau:${pass}@`)}&allowPlaintextLogin=true`;
      const wrong = smtpTransport(at('fout'));
      const right = smtpTransport(at('geheim'));
      const closeServer = secured.close;
      // The afterEach hook closes this server (and these connections) instead of the plain one.
      await smtp.close();
      smtp = Object.assign(secured, { close: async () => (wrong.close(), right.close(), await closeServer()) });
      return { out: wrong, fixed: () => right };
    }],
  ];

  it.each(broken)('%s: nobody is marked bounced, no mail counts an attempt, and all of it goes out once that is fixed', async (_case, reason, breakIt) => {
    await server.survey('owb-2024', people, { calendar });
    const { out, fixed } = await breakIt();
    const failing = fieldwork(server, out);
    // An outage of a day, with the sender trying now and then: nothing may give up on the way.
    for (const hour of [0, 4, 8, 12, 16, 20]) {
      server.clock.now = new Date(new Date('2024-06-03T09:00:00+02:00').getTime() + hour * 3600_000);
      const report = await failing.run();
      expect(report).toMatchObject({ sent: 0, retried: 0, failed: 0, bounced: 0 });
      // Outside the send window the sender does not try at all.
      if (hour < 8) expect(report.unavailable).toMatch(reason);
    }
    const rows = await server.app.db.selectFrom('outbox').select(['status', 'attempts']).execute();
    expect(rows).toEqual([{ status: 'pending', attempts: 0 }, { status: 'pending', attempts: 0 }]);
    const states = await server.app.db.selectFrom('invitees').select('state').execute();
    expect(states.map((s) => s.state)).toEqual(['invited', 'invited']);

    server.clock.now = new Date('2024-06-04T09:00:00+02:00');
    const report = await fieldwork(server, fixed()).run();
    expect([report.sent, report.unavailable]).toEqual([2, undefined]);
    expect(smtp.received.map((r) => r.envelopeTo[0]).sort()).toEqual(['j.jansen@gemeente-a.nl', 'p.pieters@gemeente-b.nl']);
  });
  it('a template edited since survey create so that it no longer renders: its mail waits, none of it fails, other surveys go on, and all of it goes out once mended', async () => {
    await server.survey('owb-2024', people, { calendar });
    const other = { ...calendar, mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D', template: 'reminder1' }] };
    await server.survey('owb-2024', [{ email: 'c@gemeente-c.nl', sample: { functie: 'raadslid' } }], { id: 'owb-other', calendar: other });
    const edited = join(mkdtempSync(join(tmpdir(), 'templates-')), 'templates');
    cpSync(TEMPLATES_DIR, edited, { recursive: true });
    const file = join(edited, 'email', 'invitation.html.hbs');
    writeFileSync(file, readFileSync(file, 'utf8').replace('{{/if}}', ''));

    const report = await fieldwork(server, transport, new MailTemplates(edited)).run();
    expect(report).toMatchObject({ sent: 1, failed: 0, bounced: 0 });
    expect(report.unavailable).toBeUndefined();
    expect(report.unrenderable).toEqual({ 'owb-2024': expect.stringMatching(/^mailing invitation cannot be rendered: templates\/email\/invitation\.html\.hbs: Parse error on line \d+: .*Expecting/) });
    expect(smtp.received.map((r) => r.envelopeTo[0])).toEqual(['c@gemeente-c.nl']);
    const rows = await server.app.db.selectFrom('outbox').select(['status', 'attempts']).where('survey_id', '=', 'owb-2024').execute();
    expect(rows).toEqual([{ status: 'pending', attempts: 0 }, { status: 'pending', attempts: 0 }]);

    const mended = await fieldwork(server, transport).run();
    expect([mended.sent, mended.unrenderable]).toEqual([2, {}]);
    expect(smtp.received).toHaveLength(3);
  });
});

const numbered = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ email: `raadslid${i}@gemeente${i % 7}.nl`, name: i % 3 === 0 ? `Raadslid Één ${i}` : `Raadslid ${i}`, organisation: `Gemeente ${i % 7}`, sample: { functie: 'raadslid' } }));

// Mails are composed ahead, a claimed batch at a time, while the mail before is on the wire.
describe('mails composed ahead, a batch at a time', () => {
  it('sends a large run at full speed, every mail to its own invitee with their own link and code, once', async () => {
    const invites = await server.survey('owb-2024', numbered(260), { calendar, extra: { sending: { ratePerMinute: 1_000_000 } } });
    expect(await fieldwork(server, transport).run()).toMatchObject({ sent: 260, failed: 0 });
    expect(smtp.received).toHaveLength(260);
    const invite = new Map(invites.map((i) => [i.email, i]));
    for (const { envelopeTo, mail } of smtp.received) {
      expect(envelopeTo).toHaveLength(1);
      expect(mail.text).toContain(`https://enquete.test/s/${invite.get(envelopeTo[0]!)!.token}`);
      expect(mail.text).toContain(formatCode(invite.get(envelopeTo[0]!)!.code));
    }
    expect(new Set(smtp.received.map((r) => r.envelopeTo[0])).size).toBe(260);
    expect(new Set(smtp.received.map((r) => r.mail.messageId)).size).toBe(260);
  });

  it('does not send a mail composed before its address was corrected to the old address', async () => {
    await server.survey('owb-2024', numbered(6), { calendar, extra: { sending: { ratePerMinute: 1_000_000 } } });
    const correcting = afterMail(1, 'corrects the address of the fifth invitee after the first mail', async () => {
      const survey = (await getSurvey(server.app.db, 'owb-2024'))!;
      await correctAddress(server.app.db, survey, (await getInvitee(server.app.db, 5))!, 'nieuw@gemeente4.nl', server.clock.now);
    });
    expect(await fieldwork(server, correcting).run()).toMatchObject({ sent: 6, failed: 0, skipped: 0 });
    const to = smtp.received.map((r) => r.envelopeTo[0]);
    expect(to).toContain('nieuw@gemeente4.nl');
    expect(to).not.toContain('raadslid4@gemeente4.nl');
    expect(new Set(to).size).toBe(6);
    expect((await server.app.db.selectFrom('outbox').select(['status', 'attempts']).where('invitee_id', '=', 5).executeTakeFirstOrThrow())).toEqual({ status: 'sent', attempts: 1 });
  });
});
