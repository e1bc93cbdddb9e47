// kill -9 of the server while respondents submit pages and finish: after a restart on the same
// database, every acknowledged answer is there (at most the one in flight more), no response is
// duplicated, and PRAGMA integrity_check is ok. (The sender's crash test is
// tests/fieldwork/crash.test.ts: the same runFieldwork code as the server's sender.)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Respondent } from '../../scripts/bench/http-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'kill-server-'));
const env = { DATABASE_PATH: join(dir, 'db.sqlite'), TOKENS_FILE: join(dir, 'tokens.txt'), INVITEES: '30', SENDER_INTERVAL_SECONDS: '0', SERVER_SECRET: 'kill-test-secret-of-sufficient-length-0123456789' };
const children: ChildProcess[] = [];

function startServer(): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('../../scripts/bench/load-server.ts', import.meta.url).pathname, 'app'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('port ')) resolve(Number(line.slice(5)));
    });
  });
}

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

describe('kill -9 of the server', () => {
  it('loses no acknowledged answer and duplicates no response', async () => {
    let port = await startServer();
    const tokens = readFileSync(env.TOKENS_FILE, 'utf8').split('\n');
    const respondents = await Promise.all(tokens.map(async (token) => {
      const r = new Respondent(port, new Agent({ keepAlive: true, maxSockets: 1 }));
      await r.enter(token);
      return r;
    }));
    // Half of them move between two pages (a durable save each time); the others finish.
    const acknowledged = respondents.map((r) => r.version);
    const finished = respondents.map(() => false);
    let stop = false;
    const work = respondents.map(async (r, i) => {
      let onH1 = true;
      try {
        while (!stop) {
          if (i % 2 === 0) {
            const reply = await r.send('POST', onH1 ? '/q/p/H1' : '/q/p/H3', onH1 ? { _csrf: r.csrf, _version: String(r.version), _action: 'next', Q1: 'geen' } : { _csrf: r.csrf, _version: String(r.version), _action: 'previous' });
            if (reply.status !== 303) throw new Error(`answered ${reply.status}`);
            r.version++;
            acknowledged[i] = r.version;
            onH1 = !onH1;
          } else {
            // To the end: "geen" aggression, "goed" known, everything else left empty.
            let page = '/q/p/H1';
            while (!stop) {
              const form: Record<string, string> = { _csrf: r.csrf, _version: String(r.version), _action: 'next' };
              if (page === '/q/p/H1') form.Q1 = 'geen';
              if (page === '/q/p/H5') form.Q15 = 'goed';
              const reply = await r.send('POST', page, form);
              if (reply.status !== 303) throw new Error(`${page} answered ${reply.status}`);
              r.version++;
              acknowledged[i] = r.version;
              if (reply.location === '/q/done') {
                finished[i] = true;
                return;
              }
              page = reply.location!;
            }
          }
        }
      } catch {
        // The connection died with the server: that request was not acknowledged.
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    children[0]!.kill('SIGKILL');
    stop = true;
    await Promise.all(work);
    expect(acknowledged.reduce((a, b) => a + b, 0)).toBeGreaterThan(respondents.length * 3);

    // Restart on the same database and ask, as each respondent, where they are.
    port = await startServer();
    for (const [i, token] of tokens.entries()) {
      const r = new Respondent(port, new Agent({ keepAlive: true, maxSockets: 1 }));
      const open = await r.send('GET', `/s/${token}`);
      const page = await r.send('GET', open.location === '/q' ? '/q' : open.location!);
      const followed = page.status === 303 ? await r.send('GET', page.location!) : page;
      if (finished[i]) {
        expect(followed.body, `respondent ${i}`).toContain('U heeft deze vragenlijst al ingevuld');
        continue;
      }
      if (followed.body.includes('al ingevuld')) {
        // Finished in flight: the final page was stored but its answer never reached the client.
        continue;
      }
      r.readForm(followed.body);
      // Every acknowledged save is there; at most the one in flight more.
      expect(r.version, `respondent ${i}`).toBeGreaterThanOrEqual(acknowledged[i]!);
      expect(r.version, `respondent ${i}`).toBeLessThanOrEqual(acknowledged[i]! + 1);
    }

    const db = new Database(env.DATABASE_PATH, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const submitted = (db.prepare("select count(*) as n from invitees where state = 'submitted'").get() as { n: number }).n;
      const responses = (db.prepare('select count(*) as n from responses').get() as { n: number }).n;
      expect(responses).toBe(submitted);
      expect(submitted).toBeGreaterThanOrEqual(finished.filter(Boolean).length);
      expect(submitted).toBeLessThanOrEqual(finished.filter(Boolean).length + respondents.filter((_, i) => i % 2 === 1 && !finished[i]).length);
    } finally {
      db.close();
    }
  }, 120_000);
});
