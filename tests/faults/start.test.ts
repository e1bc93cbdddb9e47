// Starting the server in the ways a machine does it: three at once on an empty database (a
// service manager restarting, two instances on one host), and on a data folder it cannot write.
// Each says what is wrong in a sentence, or starts; none dies halfway with a stack trace.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

const main = new URL('../../server/main.ts', import.meta.url).pathname;

/** Starts server/main.ts; resolves once it listens (its port) or exits (its code and what it said). */
function start(env: NodeJS.ProcessEnv): Promise<{ listening: boolean; output: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', main], { env: { ...process.env, PORT: '0', SENDER_INTERVAL_SECONDS: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve) => {
    const stop = () => child.kill('SIGKILL');
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      if (line.includes('Server listening')) resolve({ listening: true, output, stop });
    });
    child.once('exit', () => resolve({ listening: false, output, stop }));
  });
}

describe('starting the server', () => {
  it('three at once on an empty database: all of them start, with one demo survey between them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-race-'));
    const env = { DATABASE_PATH: join(dir, 'enquete.sqlite'), SERVER_SECRET: 'start-race-secret-of-sufficient-length-012', MAIL_DIR: join(dir, 'mail') };
    const servers = await Promise.all([start(env), start(env), start(env)]);
    for (const s of servers) s.stop();
    expect(servers.map((s) => (s.listening ? 'listening' : s.output))).toEqual(['listening', 'listening', 'listening']);
    const db = new Database(env.DATABASE_PATH, { readonly: true });
    expect(db.prepare('select id from surveys').all()).toEqual([{ id: 'demo-owb-2024' }]);
    expect((db.prepare('select count(*) n from invitees').get() as { n: number }).n).toBe(6);
    db.close();
  }, 60_000);

  it.each([
    // A file where the data folder should be: what even root cannot write through (the tests run as root).
    ['the data folder is a file', (dir: string) => (writeFileSync(join(dir, 'data'), 'not a folder'), { DATABASE_PATH: join(dir, 'data', 'enquete.sqlite') })],
    ['the database is a folder', (dir: string) => (mkdirSync(join(dir, 'data', 'enquete.sqlite'), { recursive: true }), { DATABASE_PATH: join(dir, 'data', 'enquete.sqlite') })],
  ])('when %s: says so in a sentence that names the path, without a stack trace', async (_case, arrange) => {
    const dir = mkdtempSync(join(tmpdir(), 'start-unwritable-'));
    const result = await start({ ...arrange(dir), SERVER_SECRET: 'start-unwritable-secret-of-sufficient-length', MAIL_DIR: join(dir, 'mail') });
    expect(result.listening).toBe(false);
    expect(result.output).toContain(join(dir, 'data'));
    expect(result.output).toMatch(/cannot/);
    expect(result.output).not.toMatch(/\n\s+at /);
  });

  it('without SERVER_SECRET, on a data folder where the secret cannot be written: says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-nosecret-'));
    writeFileSync(join(dir, 'data'), 'not a folder');
    const result = await start({ DATABASE_PATH: join(dir, 'data', 'enquete.sqlite'), SERVER_SECRET: '', MAIL_DIR: join(dir, 'mail') });
    expect(result.listening).toBe(false);
    expect(result.output).toMatch(/secret/);
    expect(result.output).not.toMatch(/\n\s+at /);
  });
});
