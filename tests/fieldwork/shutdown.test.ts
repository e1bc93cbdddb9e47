// Stopping the server while its sender is in the middle of a long, paced batch: the shutdown
// waits for the mail in flight only, and the rest stays in line for after the restart.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/connection.ts';
import { testServer, type TestServer } from '../helpers/app.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

const databasePath = join(mkdtempSync(join(tmpdir(), 'shutdown-')), 'db.sqlite');
let smtp: TestSmtp;
let server: TestServer;
beforeAll(async () => {
  smtp = await startSmtp();
  server = await testServer({ databasePath, mail: { smtpUrl: smtp.url, dir: '/nonexistent', senderIntervalMs: 50 } });
});
afterAll(() => smtp.close());

describe('stopping the server during a batch', () => {
  it('ends the batch after the mail in flight instead of sending all of it first; the rest waits in line', async () => {
    const people = Array.from({ length: 20 }, (_, i) => ({ email: `raadslid${i}@gemeente.nl`, sample: { functie: 'raadslid' } }));
    // One mail every 2 seconds: the whole batch would take 40 seconds.
    // The stop comes while the second mail is on the wire, before the server has answered it:
    // the sender learns of it only once that mail is done, on its way to the pause.
    let stopped: Promise<number> | undefined;
    smtp.beforeAccept = (received) => {
      if (received.length !== 2 || stopped) return;
      const started = performance.now();
      stopped = server.close().then(() => performance.now() - started);
    };
    await server.survey('owb-2024', people, { extra: { sending: { ratePerMinute: 30 } } });
    while (!stopped) await new Promise((r) => setTimeout(r, 20));
    // Not even the pause before the next mail is waited for.
    expect(await stopped).toBeLessThan(1000);

    const db = await openDatabase(databasePath);
    const rows = await db.selectFrom('outbox').select(['status', 'attempts']).execute();
    await db.destroy();
    const sent = rows.filter((r) => r.status === 'sent');
    expect(sent.length).toBe(smtp.received.length);
    expect(sent.length).toBeLessThan(5);
    expect(rows.filter((r) => r.status !== 'sent')).toEqual(Array(20 - sent.length).fill({ status: 'pending', attempts: 0 }));
  });
});
