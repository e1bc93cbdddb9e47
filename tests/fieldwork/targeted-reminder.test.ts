// A reminder for part of the sample: the raadsleden lag behind, so the bureau plans a third
// reminder for them alone. It reaches exactly the non-responders of that stratum; the schedule's
// dry run and the dashboard count and name it the same way; a mistake in it is named at create.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MailTransport } from '../../server/mail/transport.ts';
import { formatPath } from '../../server/domain/questionnaire/problems.ts';
import { buildDashboard } from '../../server/usecases/dashboard.ts';
import { checkDefinition } from '../../server/usecases/surveys.ts';
import { getSurvey } from '../../server/db/surveys.ts';
import { questionnairesDir, testDefinition, testServer, type TestServer } from '../helpers/app.ts';
import { fieldwork } from '../helpers/fieldwork.ts';

const mailings = [
  { id: 'invitation', kind: 'invitation', at: 'P0D' },
  { id: 'reminder1', kind: 'reminder', at: 'P7D' },
  { id: 'reminder2', kind: 'reminder', at: 'P14D', only: { functie: ['raadslid', 'statenlid'] } },
];
const people = [
  { email: 'b1@x.nl', sample: { functie: 'burgemeester' } },
  { email: 'b2@x.nl', sample: { functie: 'burgemeester' } },
  { email: 'r1@x.nl', sample: { functie: 'raadslid' } },
  { email: 'r2@x.nl', sample: { functie: 'raadslid' } },
  { email: 'r3@x.nl', sample: { functie: 'raadslid' } },
  { email: 's1@x.nl', sample: { functie: 'statenlid' } },
];

let server: TestServer;
const sent: { to: string }[] = [];
const transport: MailTransport = {
  description: 'memory',
  async send(mail, finish) {
    await finish;
    sent.push({ to: mail.rendered.to.address });
  },
  close: () => {},
};

beforeEach(async () => {
  sent.length = 0;
  server = await testServer({ start: new Date('2024-06-03T09:00:00+02:00') });
});
afterEach(() => server.close());

describe('a reminder for part of the sample', () => {
  it('reaches only the non-responders of the strata it names, and says so in the dry run and on the dashboard', async () => {
    await server.survey('owb-2024', people, { strata: ['functie'], carry: ['functie'], calendar: { mailings } });
    const { run } = fieldwork(server, transport);
    await run();
    expect(sent).toHaveLength(6);
    // r1 responds (marked submitted here: the route is tested elsewhere), b1 does not.
    await server.app.db.updateTable('invitees').set({ state: 'submitted', submitted_on: '2024-06-04' }).where('email', '=', 'r1@x.nl').execute();

    server.clock.now = new Date('2024-06-10T10:00:00+02:00');
    sent.length = 0;
    await run();
    expect(sent.map((s) => s.to).sort()).toEqual(['b1@x.nl', 'b2@x.nl', 'r2@x.nl', 'r3@x.nl', 's1@x.nl']);

    // Before reminder2 is due: the dashboard names its part of the sample and counts who it would reach.
    const survey = (await getSurvey(server.app.db, 'owb-2024'))!;
    const dashboard = await buildDashboard(server.app.db, survey, server.clock.now);
    const reminder2 = dashboard.mailings.find((m) => m.id === 'reminder2')!;
    expect([reminder2.only, reminder2.reach]).toEqual([{ functie: ['raadslid', 'statenlid'] }, 3]);

    server.clock.now = new Date('2024-06-17T10:00:00+02:00');
    sent.length = 0;
    await run();
    expect(sent.map((s) => s.to).sort()).toEqual(['r2@x.nl', 'r3@x.nl', 's1@x.nl']);
    // Nobody else was queued for it.
    const queued = await server.app.db.selectFrom('outbox').select('invitee_id').where('mailing_id', '=', 'reminder2').execute();
    expect(queued).toHaveLength(3);
  });

  it('names a mistake in it with its JSON path', () => {
    const check = (mailing: object) => {
      const result = checkDefinition(testDefinition('owb-2024', { strata: ['functie'], calendar: { mailings: [mailings[0], mailing] } }), questionnairesDir);
      return result.ok ? [] : result.problems.map((p) => `${formatPath(p.path)}: ${p.message}`);
    };
    expect(check({ id: 'reminder1', kind: 'reminder', at: 'P7D', only: { functie: ['raadslid'] } })).toEqual([]);
    expect(check({ id: 'reminder1', kind: 'reminder', at: 'P7D', only: { rol: ['raadslid'] } })).toEqual(['$.calendar.mailings[1].only.rol: "rol" is not a sample field (functie)']);
    expect(check({ id: 'reminder1', kind: 'reminder', at: 'P7D', only: { functie: ['raadsheer'] } })[0]).toMatch(/^\$\.calendar\.mailings\[1\]\.only\.functie\[0\]: "raadsheer" is not a value of functie \(burgemeester, .*raadslid/);
    expect(check({ id: 'reminder1', kind: 'reminder', at: 'P7D', only: {} })).toEqual(['$.calendar.mailings[1].only: name at least one sample field, e.g. {"functie": ["raadslid"]}, or leave "only" out']);
    expect(check({ id: 'reminder1', kind: 'reminder', at: 'P7D', only: { functie: [] } })[0]).toMatch(/^\$\.calendar\.mailings\[1\]\.only\.functie: /);
    const invitation = checkDefinition(testDefinition('owb-2024', { strata: ['functie'], calendar: { mailings: [{ ...mailings[0], only: { functie: ['raadslid'] } }] } }), questionnairesDir);
    expect(invitation.ok ? [] : invitation.problems.map((p) => `${formatPath(p.path)}: ${p.message}`)).toEqual(['$.calendar.mailings[0].only: only a reminder can go to part of the sample: the invitation goes to everyone invited']);
  });
});
