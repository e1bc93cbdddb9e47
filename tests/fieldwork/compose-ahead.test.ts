// Mails are composed ahead, a claimed batch at a time, while the mail before is on the wire: a
// large run at full speed still gives every invitee their own mail, once, and a mail composed
// before its invitee's address was corrected does not go to the old address.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getInvitee } from '../../server/db/invitees.ts';
import { getSurvey } from '../../server/db/surveys.ts';
import { smtpTransport, type MailTransport } from '../../server/mail/transport.ts';
import { correctAddress } from '../../server/usecases/delivery-problems.ts';
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

const calendar = { opens: '2024-06-03T09:00', closes: '2024-07-09', mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }] };
const people = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ email: `raadslid${i}@gemeente${i % 7}.nl`, name: i % 3 === 0 ? `Raadslid Één ${i}` : `Raadslid ${i}`, organisation: `Gemeente ${i % 7}`, sample: { functie: 'raadslid' } }));

describe('mails composed ahead, a batch at a time', () => {
  it('sends a large run at full speed, every mail to its own invitee with their own link and code, once', async () => {
    const invites = await server.survey('owb-2024', people(260), { calendar, extra: { sending: { ratePerMinute: 1_000_000 } } });
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
    await server.survey('owb-2024', people(6), { calendar, extra: { sending: { ratePerMinute: 1_000_000 } } });
    let sent = 0;
    const correcting: MailTransport = {
      description: 'corrects the address of the fifth invitee after the first mail',
      async send(mail, finish) {
        await transport.send(mail, finish);
        if (++sent === 1) {
          const survey = (await getSurvey(server.app.db, 'owb-2024'))!;
          await correctAddress(server.app.db, survey, (await getInvitee(server.app.db, 5))!, 'nieuw@gemeente4.nl', server.clock.now);
        }
      },
      close: () => {},
    };
    expect(await fieldwork(server, correcting).run()).toMatchObject({ sent: 6, failed: 0, skipped: 0 });
    const to = smtp.received.map((r) => r.envelopeTo[0]);
    expect(to).toContain('nieuw@gemeente4.nl');
    expect(to).not.toContain('raadslid4@gemeente4.nl');
    expect(new Set(to).size).toBe(6);
    expect((await server.app.db.selectFrom('outbox').select(['status', 'attempts']).where('invitee_id', '=', 5).executeTakeFirstOrThrow())).toEqual({ status: 'sent', attempts: 1 });
  });
});
