// The SMTP transport's `finish`: the sender transmits the next mail while the outcome of the one
// before is written to disk, and only the end of the message, the moment the server takes it,
// waits for that. If the write fails, the mail must never reach anyone.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isRefusalOfSender, MailUnavailableError, smtpTransport, type MailTransport } from '../../server/mail/transport.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { outgoing } from '../helpers/mail.ts';

function gate() {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

let smtp: TestSmtp;
let transport: MailTransport;
beforeAll(async () => {
  smtp = await startSmtp();
  transport = smtpTransport(smtp.url);
});
afterAll(async () => {
  transport.close();
  await smtp.close();
});

describe('a mail sent with finish', () => {
  it('is taken by the server only once finish resolves, with its content intact', async () => {
    const started = smtp.dataStarted;
    const finish = gate();
    const sending = transport.send(outgoing('wacht@gemeente.test'), finish.promise);
    await vi.waitFor(() => expect(smtp.dataStarted).toBe(started + 1));
    // All of the message is on the server's side, but not its end.
    await new Promise((r) => setTimeout(r, 50));
    expect(smtp.received).toHaveLength(0);
    finish.open();
    await sending;
    expect(smtp.received.map((r) => r.envelopeTo)).toEqual([['wacht@gemeente.test']]);
    expect(smtp.received[0]!.mail.text).toBe('Beste Jan,\n.\nregel met alleen een punt hierboven\n');
  });

  it('is abandoned unfinished when finish rejects: never delivered, and the next mail goes out whole', async () => {
    const before = smtp.received.length;
    const started = smtp.dataStarted;
    const finish = gate();
    const sending = transport.send(outgoing('nooit@gemeente.test'), finish.promise);
    await vi.waitFor(() => expect(smtp.dataStarted).toBe(started + 1));
    finish.fail(new Error('database is full'));
    await expect(sending).rejects.toThrow('database is full');

    await transport.send(outgoing('daarna@gemeente.test'));
    await new Promise((r) => setTimeout(r, 50));
    const delivered = smtp.received.slice(before);
    expect(delivered.map((r) => r.envelopeTo)).toEqual([['daarna@gemeente.test']]);
    expect(delivered[0]!.raw).not.toContain('nooit@gemeente.test');
  });

  it('reports the reason finish failed even when the server refused the mail before its end', async () => {
    smtp.rejectPermanently.add('onbekend@gemeente.test');
    const finish = gate();
    const sending = transport.send(outgoing('onbekend@gemeente.test'), finish.promise);
    finish.fail(new Error('disk I/O error'));
    await expect(sending).rejects.toThrow('disk I/O error');
  });
});

describe('a refused recipient: the recipient at fault, or the relay refusing us', () => {
  const refusal = (responseCode: number, text: string) => Object.assign(new Error(`${responseCode} ${text}`), { responseCode, command: 'RCPT TO' });
  it.each([
    [550, '5.1.1 <a@x.nl>: Recipient address rejected: User unknown in virtual mailbox table', false],
    [552, '5.2.2 <a@x.nl>: mailbox full', false],
    [550, 'Requested action not taken: mailbox unavailable', false],
    [554, '5.7.1 <a@x.nl>: Client host rejected: Access denied', true],
    [554, '5.7.1 <a@x.nl>: Relay access denied', true],
    [550, '<a@x.nl>: Relay access denied', true],
    [550, 'relaying not permitted', true],
    [530, '5.7.0 Authentication required', true],
    [553, '5.1.8 <onderzoek@bureau.test>: Sender address rejected: Domain not found', true],
  ])('%i %s: about us: %s', (code, text, aboutUs) => {
    expect(isRefusalOfSender(refusal(code, text))).toBe(aboutUs);
  });
});

describe('a relay that is busy (421) before it took any mail', () => {
  it('is connected to again after a pause, and the mail goes out; after three tries the run stops with the reason', async () => {
    const busy = await startSmtp();
    try {
      busy.busyFor = 2;
      const patient = smtpTransport(busy.url, { reconnectAfter421Ms: [10, 20, 40] });
      await patient.send(outgoing('een@gemeente.test'));
      expect(busy.received.map((r) => r.envelopeTo)).toEqual([['een@gemeente.test']]);
      patient.close();
      busy.busyFor = 10;
      const giving = smtpTransport(busy.url, { reconnectAfter421Ms: [10, 20, 40] });
      await expect(giving.send(outgoing('twee@gemeente.test'))).rejects.toThrow(MailUnavailableError);
      await expect(giving.send(outgoing('twee@gemeente.test'))).rejects.toThrow(/421/);
      expect(busy.busyFor).toBeLessThan(10 - 3);
      giving.close();
    } finally {
      await busy.close();
    }
  });
});
