// Composing mails ahead, in batches, on the sender's thread or on a worker thread: the worker
// composes exactly the mail the sender's thread would, a large run at a high rate goes through
// it with every mail to its own invitee, and a mail composed before its invitee's address was
// corrected does not go to the old address.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getInvitee } from '../../server/db/invitees.ts';
import { getSurvey } from '../../server/db/surveys.ts';
import { composeHere, type MailCompositor, type MailRun } from '../../server/mail/compose.ts';
import { composeOnWorker } from '../../server/mail/compose-worker.ts';
import { MailTemplates } from '../../server/mail/render.ts';
import { smtpTransport, type MailTransport } from '../../server/mail/transport.ts';
import { correctAddress } from '../../server/usecases/delivery-problems.ts';
import { planOf } from '../../server/usecases/fieldwork.ts';
import { TEMPLATES_DIR } from '../../server/usecases/surveys.ts';
import { testServer, type TestServer } from '../helpers/app.ts';
import { fieldwork } from '../helpers/fieldwork.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

let server: TestServer;
let smtp: TestSmtp;
let transport: MailTransport;
let worker: MailCompositor | undefined;
beforeEach(async () => {
  server = await testServer({ start: new Date('2024-06-03T09:00:00+02:00') });
  smtp = await startSmtp();
  transport = smtpTransport(smtp.url);
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  transport.close();
  await smtp.close();
  await server.close();
});

const calendar = { opens: '2024-06-03T09:00', closes: '2024-07-09', mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }] };
const people = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ email: `raadslid${i}@gemeente${i % 7}.nl`, name: i % 3 === 0 ? `Raadslid Één ${i}` : `Raadslid ${i}`, organisation: `Gemeente ${i % 7}`, sample: { functie: 'raadslid' } }));
// The MIME boundary is random per thread; everything else is the same.
const sameBoundary = (raw: Buffer) => raw.toString('utf8').replace(/----=_enquete_[0-9a-f]+_[0-9a-z]+/g, '----=_boundary');

describe('composing mails on a worker thread', () => {
  it('composes exactly the mail the sender thread composes', async () => {
    await server.survey('owb-2024', people(12), { calendar });
    const survey = (await getSurvey(server.app.db, 'owb-2024'))!;
    const { definition, plan } = planOf(survey);
    const run: MailRun = { surveyId: survey.id, definition, mailings: plan.mailings, closesAt: plan.closesAt, publicUrl: 'https://enquete.test' };
    const invitees = await server.app.db.selectFrom('invitees').selectAll().orderBy('id').execute();
    const items = invitees.map((invitee) => ({ outboxMailingId: invitee.id % 2 ? 'invitation' : 'invitation~2', invitee }));
    const templates = new MailTemplates(TEMPLATES_DIR);
    worker = composeOnWorker(server.app.secrets, templates);
    const now = server.clock.now;
    const here = await composeHere(server.app.secrets, templates).compose(run, items, now);
    const there = await worker.compose(run, items, now);
    expect(there).toHaveLength(12);
    for (const [i, composed] of there.entries()) {
      const expected = here[i]!;
      if (!('mail' in composed) || !('mail' in expected)) throw new Error(`mail ${i} was not composed`);
      expect(Buffer.isBuffer(composed.mail.message.raw)).toBe(true);
      expect(sameBoundary(composed.mail.message.raw)).toBe(sameBoundary(expected.mail.message.raw));
      expect({ ...composed.mail, message: undefined }).toEqual({ ...expected.mail, message: undefined });
      expect(composed.mail.message.envelope).toEqual(expected.mail.message.envelope);
    }
    // A copy sent again has a Message-ID of its own.
    expect(new Set(there.map((c) => ('mail' in c ? c.mail.rendered.messageId : ''))).size).toBe(12);
  });

  it('sends a large run at a high rate through the worker, every mail to its own invitee with their own link', async () => {
    const invites = await server.survey('owb-2024', people(260), { calendar, extra: { sending: { ratePerMinute: 1_000_000 } } });
    const sender = fieldwork(server, transport);
    let composedThere = 0;
    const made = composeOnWorker(server.app.secrets, sender.deps.templates);
    worker = made;
    sender.deps.composeWorker = () => ({
      get ready() {
        return made.ready;
      },
      compose: (run, items, now) => ((composedThere += items.length), made.compose(run, items, now)),
      close: () => made.close(),
    });
    // The run composes here until the worker has started: let it start first.
    while (!made.ready) await new Promise((r) => setTimeout(r, 20));
    expect(await sender.run()).toMatchObject({ sent: 260, failed: 0 });
    expect(composedThere).toBeGreaterThanOrEqual(200);
    expect(smtp.received).toHaveLength(260);
    const tokenOf = new Map(invites.map((i) => [i.email, i.token]));
    for (const { envelopeTo, mail } of smtp.received) {
      expect(envelopeTo).toHaveLength(1);
      expect(mail.text).toContain(`https://enquete.test/s/${tokenOf.get(envelopeTo[0]!)}`);
    }
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
