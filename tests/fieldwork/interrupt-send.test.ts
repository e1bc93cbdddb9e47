// Ctrl-C during `survey send`: the run ends after the mail in flight, says so, and every mail not
// sent stays queued for the next run, not counted as an attempt.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../scripts/cli/main.ts';
import { openDatabase } from '../../server/db/connection.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

const root = new URL('../../', import.meta.url).pathname;
let smtp: TestSmtp;
afterAll(() => smtp.close());

describe('Ctrl-C during survey send', () => {
  it('stops after the mail in flight and keeps the rest queued', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'interrupt-'));
    smtp = await startSmtp();
    const env = { DATABASE_PATH: join(dir, 'db.sqlite'), SERVER_SECRET: 'interrupt-test-secret-of-sufficient-length', SMTP_URL: smtp.url };
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const definition = join(dir, 'survey.json');
    writeFileSync(
      definition,
      JSON.stringify({
        id: 'paced',
        title: 'Paced',
        questionnaire: join(root, 'questionnaires/owb-2024.json'),
        sample: { strata: ['functie'] },
        calendar: {
          opens: `${yesterday}T00:00`,
          sendWindow: { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '00:00', until: '24:00' },
          mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }],
        },
        mail: { from: 'Onderzoek <onderzoek@bureau.test>', organisation: 'Bureau' },
        // A mail every ten seconds: the 30 would take five minutes.
        sending: { ratePerMinute: 6 },
      }),
    );
    const frame = join(dir, 'frame.csv');
    writeFileSync(frame, ['email;functie', ...Array.from({ length: 30 }, (_, i) => `p${i}@gemeente.test;raadslid`)].join('\n'));
    const quiet = { out: () => {}, err: () => {} };
    expect(await main(['node', 'survey', 'import', definition, frame], quiet, env)).toBe(0);

    const child = spawn(process.execPath, ['scripts/survey.js', 'send', 'paced'], { cwd: root, env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    while (smtp.received.length < 1) await new Promise((r) => setTimeout(r, 10));
    // In the pause before the second mail, which the stop cuts short.
    await new Promise((r) => setTimeout(r, 300));
    const interrupted = performance.now();
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(performance.now() - interrupted).toBeLessThan(5000);

    const db = await openDatabase(env.DATABASE_PATH);
    const rows = await db.selectFrom('outbox').select(['status', 'attempts']).execute();
    await db.destroy();
    const sent = rows.filter((r) => r.status === 'sent').length;
    expect(sent).toBe(smtp.received.length);
    expect(sent).toBe(1);
    expect(rows.filter((r) => r.status !== 'sent')).toEqual(Array(30 - sent).fill({ status: 'pending', attempts: 0 }));
    expect(stderr).toContain('stopping after the mail in flight');
    expect(stderr).toContain(`stopped: ${30 - sent} due mails wait for the next run`);
  });
});
