// kill -9 of the server while its own sender is delivering invitations, at the worst moment: the
// SMTP server has the mail but has not yet answered 250. After a restart every invitee gets the
// invitation, nobody twice except the one mail in flight, and the outbox ends all sent.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

const INVITEES = 120;
const dir = mkdtempSync(join(tmpdir(), 'kill-sender-'));
let smtp: TestSmtp;
const children: ChildProcess[] = [];

function startServer(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('../../scripts/bench/load-server.ts', import.meta.url).pathname, 'app'], {
    env: {
      ...process.env,
      DATABASE_PATH: join(dir, 'db.sqlite'),
      TOKENS_FILE: join(dir, 'tokens.txt'),
      INVITEES: String(INVITEES),
      SERVER_SECRET: 'kill-sender-secret-of-sufficient-length-0123456789',
      SMTP_URL: smtp.url,
      SENDER_INTERVAL_SECONDS: '1',
      SENDER_STALE_CLAIM_SECONDS: '2',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`server exited with ${code ?? signal}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('port ')) resolve(child);
    });
  });
}

const until = async (what: string, done: () => boolean, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

beforeAll(async () => {
  smtp = await startSmtp();
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await smtp.close();
});

describe('kill -9 of the server while it sends', () => {
  it('loses no mailing and sends none twice except the one in flight', async () => {
    let killed = false;
    const first = await startServer();
    // The 40th mail is on the server but not acknowledged when the process dies.
    smtp.beforeAccept = (received) => {
      if (!killed && received.length === 40) {
        killed = true;
        first.kill('SIGKILL');
      }
    };
    await until('the kill', () => killed);
    await until('the process to end', () => first.signalCode !== null || first.exitCode !== null);
    const atKill = smtp.received.length;
    expect(atKill).toBeLessThan(INVITEES);

    await startServer();
    await until('every invitee reached', () => new Set(smtp.received.flatMap((r) => r.envelopeTo)).size === INVITEES);
    // Give a duplicate beyond the one in flight the time to show up.
    await new Promise((r) => setTimeout(r, 3000));

    const perRecipient = new Map<string, number>();
    for (const r of smtp.received) for (const to of r.envelopeTo) perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
    const twice = [...perRecipient].filter(([, n]) => n > 1);
    expect(perRecipient.size).toBe(INVITEES);
    // Exactly the mail in flight: the SMTP server had it, the killed sender never heard 250.
    expect(twice.map(([, n]) => n)).toEqual([2]);
    // A resent mail keeps its Message-ID, so mail clients show it once.
    for (const [to] of twice) {
      const ids = smtp.received.filter((r) => r.envelopeTo.includes(to)).map((r) => r.mail.messageId);
      expect(new Set(ids).size).toBe(1);
    }

    const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const statuses = db.prepare('select status, count(*) as n from outbox group by status').all();
      expect(statuses).toEqual([{ status: 'sent', n: INVITEES }]);
    } finally {
      db.close();
    }
  }, 120_000);
});
