// kill -9 of `survey send` in the middle of a batch, at the worst moment: the SMTP server has the
// mail but the sender has not heard "250 OK". After a restart no mailing is lost, and the only
// mailing sent twice is that one, which the restarted sender logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../scripts/cli/main.ts';
import { openDatabase } from '../../server/db/connection.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

const root = new URL('../../', import.meta.url).pathname;
const INVITEES = 40;
const KILL_AT = 15;
let dir: string;
let env: NodeJS.ProcessEnv;
let smtp: TestSmtp;
let secondRun: { code: number | null; stdout: string; stderr: string };

function run(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ['scripts/survey.js', ...args], { cwd: root, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crash-'));
  smtp = await startSmtp();
  env = { DATABASE_PATH: join(dir, 'db.sqlite'), SERVER_SECRET: 'crash-test-secret-of-sufficient-length-0123', SMTP_URL: smtp.url };
  const today = new Date().toISOString().slice(0, 10);
  const definition = join(dir, 'survey.json');
  writeFileSync(
    definition,
    JSON.stringify({
      id: 'crash',
      title: 'Crash test',
      questionnaire: join(root, 'questionnaires/owb-2024.json'),
      sample: { strata: ['functie'] },
      calendar: {
        opens: `${today}T00:00`,
        closes: 'P35D',
        sendWindow: { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '00:00', until: '24:00' },
        mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }],
      },
      mail: { from: 'Onderzoek <onderzoek@bureau.test>', organisation: 'Bureau' },
      sending: { ratePerMinute: 100000 },
    }),
  );
  const frame = join(dir, 'frame.csv');
  writeFileSync(frame, ['email;functie', ...Array.from({ length: INVITEES }, (_, i) => `p${i}@gemeente.test;raadslid`)].join('\n'));
  const quiet = { out: () => {}, err: () => {} };
  expect(await main(['node', 'survey', 'create', definition], quiet, env)).toBe(0);
  expect(await main(['node', 'survey', 'import', 'crash', frame], quiet, env)).toBe(0);

  // First run: killed with SIGKILL while the SMTP server holds mail number KILL_AT unanswered.
  const first = run(['send', 'crash']);
  smtp.beforeAccept = async (received) => {
    if (received.length === KILL_AT) {
      first.child.kill('SIGKILL');
      await first.done;
    }
  };
  const killed = await first.done;
  expect(killed.code, killed.stderr).toBeNull();
  smtp.beforeAccept = () => {};

  // Restart: the interrupted row is sent again at once (the killed sender is known to be gone).
  secondRun = await run(['send', 'crash', '--interrupted-after', '0']).done;
}, 120_000);

afterAll(async () => {
  await smtp.close();
});

describe('a sender killed in the middle of a batch', () => {
  it('loses no mailing: after the restart every invitee has the invitation', () => {
    const addresses = new Set(smtp.received.map((r) => r.envelopeTo[0]));
    expect(addresses.size).toBe(INVITEES);
  });

  it('sends no mailing twice except the one in flight, and logs that one', () => {
    const counts = new Map<string, number>();
    for (const r of smtp.received) counts.set(r.envelopeTo[0]!, (counts.get(r.envelopeTo[0]!) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1);
    expect(twice).toEqual([[smtp.received[KILL_AT - 1]!.envelopeTo[0], 2]]);
    expect(smtp.received).toHaveLength(INVITEES + 1);
    expect(secondRun.code).toBe(0);
    expect(secondRun.stderr).toMatch(/\d+ mails were claimed by a sender that stopped; they are sent now\. At most one of them was being transmitted/);
    expect(secondRun.stdout).toContain(`sent ${INVITEES - KILL_AT + 1}`);
    // The duplicate carries the same Message-ID, so mail clients can fold it.
    const ids = smtp.received.filter((r) => r.envelopeTo[0] === twice[0]![0]).map((r) => r.mail.messageId);
    expect(new Set(ids).size).toBe(1);
  });

  it('leaves a consistent database', async () => {
    const db = await openDatabase(env.DATABASE_PATH!);
    const { rows } = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
    const statuses = await db.selectFrom('outbox').select('status').execute();
    await db.destroy();
    expect(rows).toEqual([{ integrity_check: 'ok' }]);
    expect(statuses.every((s) => s.status === 'sent')).toBe(true);
    expect(statuses).toHaveLength(INVITEES);
  });
});
