// The ledger's batches (server/usecases/ledger-marks.ts) as the server runs them: what respondents
// do reaches the ledger in groups of k per survey, carried stratum and furthest event; a batch the
// database refuses waits and is written with the next, nothing lost.
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { testServer, type TestServer } from '../helpers/app.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const ledger = async (s: TestServer) => (await s.app.db.selectFrom('invitees').select(['email', 'state', 'opened_on', 'started_on']).orderBy('id').execute()).map((r) => [r.email.split('@')[0], r.state, r.opened_on !== null, r.started_on !== null]);

describe('the ledger learns what respondents do in batches', () => {
  it('of k (5) per carried stratum: four mayors opening tell it nothing, the fifth tells it all five', async () => {
    server = await testServer({ batchedLedger: true });
    const people = [...Array.from({ length: 5 }, (_, i) => ({ email: `b${i}@x.nl`, sample: { functie: 'burgemeester' } })), { email: 'r0@x.nl', sample: { functie: 'raadslid' } }];
    const invites = await server.survey('owb-2024', people, { carry: ['functie'] });
    for (const i of [0, 1, 2, 3, 5]) await server.browser().open(`/s/${invites[i]!.token}`);
    expect((await ledger(server)).filter((r) => r[2])).toEqual([]);
    await server.browser().open(`/s/${invites[4]!.token}`);
    expect(await ledger(server)).toEqual([
      ['b0', 'invited', true, false],
      ['b1', 'invited', true, false],
      ['b2', 'invited', true, false],
      ['b3', 'invited', true, false],
      ['b4', 'invited', true, false],
      // Another carried stratum waits for its own four more.
      ['r0', 'invited', false, false],
    ]);
  });

  it('keeps a batch the database refuses, and writes it with the next once it can', async () => {
    server = await testServer({ batchedLedger: true });
    const invites = await server.survey('owb-2024', Array.from({ length: 6 }, (_, i) => ({ email: `b${i}@x.nl`, sample: { functie: 'burgemeester' } })), { carry: ['functie'] });
    await sql`create trigger refuse before update on invitees begin select raise(abort, 'the disk says no'); end`.execute(server.app.db);
    for (let i = 0; i < 5; i++) await server.browser().open(`/s/${invites[i]!.token}`);
    expect(server.logs.join('')).toContain('the ledger could not record a batch of respondents');
    expect((await ledger(server)).filter((r) => r[2])).toEqual([]);
    expect(server.app.ledgerMarks.waiting('owb-2024')).toBe(5);
    await sql`drop trigger refuse`.execute(server.app.db);
    await server.browser().open(`/s/${invites[5]!.token}`);
    expect((await ledger(server)).filter((r) => r[2])).toHaveLength(6);
    expect(server.app.ledgerMarks.waiting('owb-2024')).toBe(0);
  });
});
