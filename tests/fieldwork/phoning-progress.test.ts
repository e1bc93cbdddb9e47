// How phoning goes, per stratum (the dashboard's phoning table): who is left to call, what the
// last call brought, whose call back is due, and who responded after being called. Calls are
// recorded over several days on a simulated clock; responses come in through the respondent pages.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findInviteeByEmail } from '../../server/db/invitees.ts';
import { getSurvey } from '../../server/db/surveys.ts';
import type { CallOutcome } from '../../server/db/schema.ts';
import { buildDashboard } from '../../server/usecases/dashboard.ts';
import { phoningProgress, recordCall, type Call } from '../../server/usecases/phoning.ts';
import { testServer, type TestServer } from '../helpers/app.ts';

let server: TestServer;
const at = (local: string) => new Date(`${local}+02:00`);

// Eight raadsleden with a number, one without; three wethouders with a number.
const people = [
  ...Array.from({ length: 9 }, (_, i) => ({ email: `r${i}@x.nl`, phone: i < 8 ? `06-1234567${i}` : null, sample: { functie: 'raadslid' } })),
  ...Array.from({ length: 3 }, (_, i) => ({ email: `w${i}@x.nl`, phone: `070-765432${i}`, sample: { functie: 'wethouder' } })),
];
let invites: { token: string }[];

beforeEach(async () => {
  server = await testServer({ start: at('2024-06-03T09:00:00') });
  invites = await server.survey('owb-2024', people, { strata: ['functie'] });
});
afterEach(() => server.close());

async function call(email: string, outcome: CallOutcome, more: Omit<Call, 'outcome'> = {}) {
  const survey = (await getSurvey(server.app.db, 'owb-2024'))!;
  const invitee = (await findInviteeByEmail(server.app.db, survey.id, email))!;
  await recordCall(server.app.db, survey, invitee, { outcome, ...more }, server.clock.now);
}

async function respond(index: number) {
  const b = server.browser();
  await b.open(`/s/${invites[index]!.token}`);
  while (b.pageId()) await b.submit(b.pageId() === 'H1' ? { Q1: ['geen'] } : b.pageId() === 'H5' ? { Q15: 'goed' } : {});
}

const progress = async () => phoningProgress(server.app.db, (await getSurvey(server.app.db, 'owb-2024'))!, server.clock.now);
const none = { 'no-answer': 0, 'call-back': 0, 'will-respond': 0, 'wrong-number': 0, refused: 0, 'not-eligible': 0 };

describe('phoning progress', () => {
  it('is nothing to show until the first call is recorded', async () => {
    expect(await progress()).toBeUndefined();
    const survey = (await getSurvey(server.app.db, 'owb-2024'))!;
    expect((await buildDashboard(server.app.db, survey, server.clock.now)).phoning).toBeUndefined();
  });

  it('counts per stratum who is left to call, what the last call brought, due call backs and responses after a call', async () => {
    // r0 responded before anyone called: not to call, not called.
    await respond(0);
    server.clock.now = at('2024-06-12T10:00:00');
    await call('r1@x.nl', 'no-answer');
    await call('r2@x.nl', 'no-answer');
    await call('r3@x.nl', 'call-back', { callBackOn: '2024-06-14' });
    await call('r4@x.nl', 'will-respond');
    await call('r5@x.nl', 'will-respond');
    await call('r6@x.nl', 'wrong-number');
    await call('w0@x.nl', 'refused');
    await call('w1@x.nl', 'not-eligible');
    // The next days: r1 is reached on the second try and promises; r4 and r1 respond.
    server.clock.now = at('2024-06-13T10:00:00');
    await call('r1@x.nl', 'will-respond');
    await respond(4);
    server.clock.now = at('2024-06-14T11:00:00');
    await respond(1);

    const rows = await progress();
    expect(rows).toEqual([
      {
        stratum: { functie: 'raadslid' },
        kind: 'stratum',
        // r7 (a number, never called); r8 has no number; r0 responded.
        toCall: 1,
        called: 6,
        lastCall: { ...none, 'no-answer': 1, 'call-back': 1, 'will-respond': 3, 'wrong-number': 1 },
        // r3's call back, asked for the 14th, is due today.
        callBackDue: 1,
        respondedSince: 2,
      },
      { stratum: { functie: 'wethouder' }, kind: 'stratum', toCall: 1, called: 2, lastCall: { ...none, refused: 1, 'not-eligible': 1 }, callBackDue: 0, respondedSince: 0 },
      { stratum: {}, kind: 'total', toCall: 2, called: 8, lastCall: { ...none, 'no-answer': 1, 'call-back': 1, 'will-respond': 3, 'wrong-number': 1, refused: 1, 'not-eligible': 1 }, callBackDue: 1, respondedSince: 2 },
    ]);
  });

  it('no longer counts a call back as due once that person responded, nor before its day', async () => {
    server.clock.now = at('2024-06-12T10:00:00');
    await call('r1@x.nl', 'call-back', { callBackOn: '2024-06-13' });
    await call('r2@x.nl', 'no-answer', { callBackOn: '2024-06-13' });
    expect((await progress())!.at(-1)!.callBackDue).toBe(0);
    server.clock.now = at('2024-06-13T08:00:00');
    expect((await progress())!.at(-1)!.callBackDue).toBe(2);
    await respond(2);
    expect((await progress())!.at(-1)).toMatchObject({ callBackDue: 1, respondedSince: 1 });
  });
});
