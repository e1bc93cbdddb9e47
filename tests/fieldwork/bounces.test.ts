// Bounces that come back later (docs/fieldwork.md, "Bounces"): with BOUNCE_ADDRESS every mail has
// a return path of its own; reports sent to it, by SMTP to the server's endpoint or read from a
// saved mailbox, mark the invitee bounced (hard), or are counted (soft, refused). The whole loop
// through real Postfix relays is in tests/mail/postfix.test.ts.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findInviteeByEmail } from '../../server/db/invitees.ts';
import { insertSubmission } from '../../server/db/submissions.ts';
import { submissionKeyFor } from '../../server/usecases/invitations.ts';
import { returnPaths } from '../../server/mail/return-path.ts';
import { smtpTransport, type MailTransport } from '../../server/mail/transport.ts';
import { bounceSummary } from '../../server/usecases/bounces.ts';
import { testServer, type TestServer } from '../helpers/app.ts';
import { cli } from '../helpers/cli.ts';
import { fieldwork } from '../helpers/fieldwork.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

const SECRET = 'test-secret-that-is-long-enough-for-hkdf-0123456789';
const people = ['a@gemeente-a.test', 'gone@gemeente-b.test', 'full@gemeente-b.test'].map((email) => ({ email, sample: {} }));
const calendar = {
  opens: '2024-06-03T09:00',
  closes: '2024-07-09',
  mailings: [
    { id: 'invitation', kind: 'invitation', at: 'P0D' },
    { id: 'reminder1', kind: 'reminder', at: '2024-06-11' },
  ],
};

/** A real Postfix report (tests/fixtures/bounces) about the mail with this Message-ID, to this address. */
function postfixReport(file: string, about: { messageId: string; to: string; returnPath: string }): Buffer {
  const text = readFileSync(new URL(`../fixtures/bounces/${file}`, import.meta.url), 'utf8');
  return Buffer.from(
    text
      .replace(/<orig-[^>]+>|<m1-go@bureau\.test>/g, about.messageId)
      .replace(/(gone|spam|full)@dest\.test/g, about.to)
      .replace(/bounces\+abc-123@bounces\.test/g, about.returnPath),
  );
}

let dir: string;
let smtp: TestSmtp;
let transport: MailTransport;
let server: TestServer;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bounces-'));
  smtp = await startSmtp();
  transport = smtpTransport(smtp.url);
  server = await testServer({
    databasePath: join(dir, 'db.sqlite'),
    secret: SECRET,
    mail: { smtpUrl: smtp.url, dir: join(dir, 'mail'), senderIntervalMs: 0, bounces: { address: 'bounces@bounce.bureau.test', listen: { host: '127.0.0.1', port: 0 } } },
  });
});
afterEach(async () => {
  transport.close();
  await server.close();
  await smtp.close();
});

async function sendInvitations() {
  await server.survey('owb-2024', people, { calendar });
  const { deps, run } = fieldwork(server, transport);
  deps.returnPaths = server.app.returnPaths;
  expect((await run()).sent).toBe(3);
  return run;
}

/** Delivers a report to the server's SMTP endpoint, as the bounce domain's MX would. */
async function deliverReport(to: string, raw: Buffer): Promise<void> {
  const client = nodemailer.createTransport({ host: '127.0.0.1', port: server.app.bounceListenerPort!, secure: false, ignoreTLS: true });
  try {
    await client.sendMail({ envelope: { from: 'MAILER-DAEMON@relay.test', to: [to] }, raw });
  } finally {
    client.close();
  }
}

const mailTo = (address: string) => {
  const r = smtp.received.find((m) => m.envelopeTo[0] === address)!;
  return { returnPath: r.envelopeFrom, messageId: r.mail.messageId!, to: address };
};

describe('a return path per mail', () => {
  it('sends every mail with a return path of its own that names its outbox row, not the person, and that nobody can forge', async () => {
    await sendInvitations();
    const paths = smtp.received.map((r) => r.envelopeFrom);
    expect(new Set(paths).size).toBe(3);
    for (const path of paths) {
      expect(path).toMatch(/^bounces\+[0-9a-z]+-[0-9a-f]{16}@bounce\.bureau\.test$/);
      // Classic VERP would write the recipient in: bounces+gone=gemeente-b.test@…
      expect(path).not.toMatch(/gone|full|gemeente/);
    }
    // The From header stays the bureau's; only the envelope changes.
    expect(smtp.received[0]!.mail.from!.value[0]!.address).toBe('onderzoek@bureau.test');
    const rp = server.app.returnPaths!;
    const ids = paths.map((p) => rp.outboxOf(p));
    expect(ids.every((id) => typeof id === 'number')).toBe(true);
    // Another row's number with this tag, a changed tag, another secret: not ours.
    const [local, domain] = paths[0]!.split('@') as [string, string];
    const tag = local.split('-')[1]!;
    expect(rp.outboxOf(`bounces+${(ids[0]! + 1).toString(36)}-${tag}@${domain}`)).toBeUndefined();
    expect(rp.outboxOf(`${local.slice(0, -1)}${local.endsWith('0') ? '1' : '0'}@${domain}`)).toBeUndefined();
    const other = returnPaths({ hmac: () => 'AAAAAAAAAAAAAAAAAAAAAA' } as never, 'bounces@bounce.bureau.test');
    expect(other.outboxOf(paths[0]!)).toBeUndefined();
    // Case folded by a relay: still ours.
    expect(rp.outboxOf(paths[0]!.toUpperCase())).toBe(ids[0]);
  });

  it('says so at start when the port for reports cannot be used', async () => {
    const port = server.app.bounceListenerPort!;
    await expect(testServer({ mail: { smtpUrl: undefined, dir: join(dir, 'mail2'), senderIntervalMs: 0, bounces: { address: 'bounces@bounce.bureau.test', listen: { host: '127.0.0.1', port } } } })).rejects.toThrow(
      `BOUNCE_SMTP_PORT: cannot receive delivery reports on 127.0.0.1:${port}: something else listens there`,
    );
  });

  it('refuses a BOUNCE_ADDRESS that is not a plain address', () => {
    expect(() => returnPaths(server.app.secrets, 'bounces+x@bureau.test')).toThrow(/BOUNCE_ADDRESS.*no "\+"/);
    expect(() => returnPaths(server.app.secrets, 'not an address')).toThrow(/BOUNCE_ADDRESS/);
  });
});

describe('reports received by SMTP', () => {
  it('marks the invitee bounced on a hard bounce: no reminder, the mail given up on; a report received twice counts once', async () => {
    const run = await sendInvitations();
    const gone = mailTo('gone@gemeente-b.test');
    await deliverReport(gone.returnPath, postfixReport('postfix-failed-5.1.1.eml', gone));
    await deliverReport(gone.returnPath, postfixReport('postfix-failed-5.1.1.eml', gone));

    const invitee = (await findInviteeByEmail(server.app.db, 'owb-2024', 'gone@gemeente-b.test'))!;
    expect(invitee.state).toBe('bounced');
    const outbox = await server.app.db.selectFrom('outbox').selectAll().where('invitee_id', '=', invitee.id).executeTakeFirstOrThrow();
    expect(outbox.status).toBe('failed');
    expect(outbox.last_error).toMatch(/^bounced after the relay took it: 550 5\.1\.1 <gone@gemeente-b\.test>: Recipient address rejected/);
    const summary = await bounceSummary(server.app.db, 'owb-2024');
    expect(summary.invitees).toEqual({ hard: 1, soft: 0, refused: 0 });
    expect(summary.reports).toHaveLength(1);
    expect(server.logs.join('')).toMatch(/"kind":"hard","status":"5.1.1","msg":"bounce recorded"/);
    expect(server.logs.join('')).not.toContain('gone@gemeente-b.test');

    // The reminder goes to the two others only.
    server.clock.now = new Date('2024-06-11T09:00:00+02:00');
    smtp.received.length = 0;
    expect((await run()).sent).toBe(2);
    expect(smtp.received.map((r) => r.envelopeTo[0]).sort()).toEqual(['a@gemeente-a.test', 'full@gemeente-b.test']);
  });

  it('leaves someone who submitted meanwhile submitted: a late hard bounce is counted, not marked', async () => {
    await sendInvitations();
    const gone = mailTo('gone@gemeente-b.test');
    const invitee = (await findInviteeByEmail(server.app.db, 'owb-2024', 'gone@gemeente-b.test'))!;
    // The answer side knows at once; the ledger learns it in a later batch.
    await insertSubmission(server.app.db, submissionKeyFor(server.app.secrets, invitee), 'owb-2024');
    await deliverReport(gone.returnPath, postfixReport('postfix-failed-5.1.1.eml', gone));
    expect((await findInviteeByEmail(server.app.db, 'owb-2024', 'gone@gemeente-b.test'))!.state).toBe('invited');
    expect((await bounceSummary(server.app.db, 'owb-2024')).invitees.hard).toBe(1);
  });

  it('counts a delay and a refusal without marking anyone bounced, and leaves a delayed mail sent', async () => {
    await sendInvitations();
    const full = mailTo('full@gemeente-b.test');
    await deliverReport(full.returnPath, postfixReport('postfix-delayed-4.2.2.eml', full));
    const a = mailTo('a@gemeente-a.test');
    await deliverReport(a.returnPath, postfixReport('postfix-failed-5.7.1.eml', a));
    const summary = await bounceSummary(server.app.db, 'owb-2024');
    expect(summary.invitees).toEqual({ hard: 0, soft: 1, refused: 1 });
    expect(summary.groups.map((g) => [g.kind, g.domain, g.status])).toEqual(
      expect.arrayContaining([
        ['soft', 'gemeente-b.test', '4.2.2'],
        ['refused', 'gemeente-a.test', '5.7.1'],
      ]),
    );
    for (const email of ['full@gemeente-b.test', 'a@gemeente-a.test']) expect((await findInviteeByEmail(server.app.db, 'owb-2024', email))!.state).toBe('invited');
    const status = async (email: string) => {
      const id = (await findInviteeByEmail(server.app.db, 'owb-2024', email))!.id;
      return (await server.app.db.selectFrom('outbox').select('status').where('invitee_id', '=', id).executeTakeFirstOrThrow()).status;
    };
    expect(await status('full@gemeente-b.test')).toBe('sent');
    // Refused: not delivered, so given up on; survey retry --domain sends it again once mended.
    expect(await status('a@gemeente-a.test')).toBe('failed');
  });

  it('takes mail only for its return paths: anything else is refused at RCPT TO, and a forged tag too', async () => {
    await sendInvitations();
    const gone = mailTo('gone@gemeente-b.test');
    const forged = gone.returnPath.replace(/-([0-9a-f]{16})@/, (_m, tag: string) => `-${tag.slice(0, 15)}${tag.endsWith('0') ? '1' : '0'}@`);
    for (const to of ['someone@example.test', 'bounces+1-0000000000000000@bounce.bureau.test', forged]) {
      await expect(deliverReport(to, postfixReport('postfix-failed-5.1.1.eml', gone))).rejects.toThrow(/550/);
    }
    expect((await findInviteeByEmail(server.app.db, 'owb-2024', 'gone@gemeente-b.test'))!.state).toBe('invited');
  });

  it('ignores an out-of-office reply to the return path', async () => {
    await sendInvitations();
    const a = mailTo('a@gemeente-a.test');
    await deliverReport(a.returnPath, readFileSync(new URL('../fixtures/bounces/out-of-office.eml', import.meta.url)));
    expect((await bounceSummary(server.app.db, 'owb-2024')).reports).toEqual([]);
    expect(server.logs.join('')).toMatch(/automatic reply.*mail to the bounce address ignored/);
  });
});

describe('reports saved from a mailbox (survey read-bounces) and survey bounces', () => {
  it('matches reports in a Maildir folder and an mbox file by the Message-ID they quote, and lists them per kind and domain', async () => {
    await sendInvitations();
    const gone = mailTo('gone@gemeente-b.test');
    const full = mailTo('full@gemeente-b.test');
    // Saved from the From address's mailbox: no return path of ours to go by.
    const maildir = join(dir, 'Maildir');
    mkdirSync(join(maildir, 'cur'), { recursive: true });
    writeFileSync(join(maildir, 'cur', '1.eml'), postfixReport('postfix-failed-5.1.1.eml', { ...gone, returnPath: 'onderzoek@bureau.test' }));
    writeFileSync(join(maildir, 'cur', '2.eml'), readFileSync(new URL('../fixtures/bounces/out-of-office.eml', import.meta.url)));
    const mbox = join(dir, 'bounces.mbox');
    writeFileSync(mbox, `From MAILER-DAEMON Tue Dec  8 09:00:00 2026\n${postfixReport('postfix-delayed-4.2.2.eml', { ...full, returnPath: 'onderzoek@bureau.test' }).toString().replace(/\r\n/g, '\n')}\n`);
    await server.close();

    const env = { DATABASE_PATH: join(dir, 'db.sqlite'), SERVER_SECRET: SECRET, MAIL_DIR: join(dir, 'mail') };
    const survey = cli(() => env);
    const read = await survey('read-bounces', maildir, mbox);
    expect(read.err).toEqual([]);
    expect(read.code).toBe(0);
    expect(read.out.at(-1)).toBe('recorded 1 hard, 1 soft, 0 refused; 1 ignored (see above); see survey bounces <survey>');
    expect(read.out.join('\n')).toMatch(/2\.eml: ignored: an automatic reply/);
    // Read again: the same reports, counted once.
    expect((await survey('read-bounces', maildir, mbox)).out.at(-1)).toMatch(/^recorded 0 hard, 0 soft/);

    const shown = await survey('bounces', 'owb-2024');
    expect(shown.code).toBe(0);
    expect(shown.out.join('\n')).toMatch(/ 1 {2}hard \(address dead: marked bounced\)/);
    expect(shown.out.join('\n')).toMatch(/1 {2}soft {5}invitation {2}gemeente-b\.test {2}4\.2\.2/);
    expect(shown.out.join('\n')).not.toContain('gone@gemeente-b.test');
    const listed = await survey('bounces', 'owb-2024', '--list');
    expect(listed.out.join('\n')).toMatch(/hard {5}invitation {2}5\.1\.1 {2}gone@gemeente-b\.test {2}550 5\.1\.1/);
    server = await testServer({ databasePath: env.DATABASE_PATH, secret: SECRET });
  });
});
