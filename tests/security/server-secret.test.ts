// The server and every command refuse a server secret other than the one the database was set up
// with: with another one, codes already mailed would stop opening the questionnaire, and a
// command run from a shell without the server's SERVER_SECRET would seal codes no server reads.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/connection.ts';
import { SecretMismatchError } from '../../server/usecases/server-secret.ts';
import { cli } from '../helpers/cli.ts';
import { testServer } from '../helpers/app.ts';

const definition = new URL('../../questionnaires/surveys/owb-2024.json', import.meta.url).pathname;
const SECRET = 'the-secret-the-database-was-set-up-with-0123456789';
let dir: string;
let env: NodeJS.ProcessEnv;
const survey = cli(() => env);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'server-secret-'));
  env = { DATABASE_PATH: join(dir, 'db.sqlite'), SERVER_SECRET: SECRET, MAIL_DIR: join(dir, 'mail') };
  const frame = join(dir, 'frame.csv');
  writeFileSync(frame, 'email;functie\nb1@x.nl;burgemeester\nr1@x.nl;raadslid\n');
  expect((await survey('import', definition, frame)).code).toBe(0);
});

const countRows = async (table: 'invitees' | 'outbox') => {
  const db = await openDatabase(env.DATABASE_PATH!);
  try {
    return Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  } finally {
    await db.destroy();
  }
};

describe('a server secret other than the one the database was set up with', () => {
  it('is refused by every command before it changes anything, saying where the secret came from', async () => {
    env = { ...env, SERVER_SECRET: 'another-secret-than-the-one-of-the-database-012345' };
    const frame = join(dir, 'more.csv');
    writeFileSync(frame, 'email;functie\nw1@x.nl;wethouder\n');
    for (const args of [['import', 'owb-2024', frame], ['send', 'owb-2024'], ['status', 'owb-2024']]) {
      const run = await survey(...args);
      expect(run.code).toBe(1);
      expect(run.err).toEqual([expect.stringMatching(/db\.sqlite: the server secret \(SERVER_SECRET\) is not the one this database was set up with: codes already sent would not open the questionnaire/)]);
    }
    expect([await countRows('invitees'), await countRows('outbox')]).toEqual([2, 0]);
  });

  it('is refused when a shell without SERVER_SECRET would make itself a new secret file', async () => {
    const { SERVER_SECRET: _, ...withoutSecret } = env;
    env = withoutSecret;
    const run = await survey('send', 'owb-2024');
    expect(run.code).toBe(1);
    expect(run.err[0]).toContain(`the server secret (the file ${join(dir, 'secret')}, just created because SERVER_SECRET was not set) is not the one this database was set up with`);
    expect(existsSync(join(dir, 'mail'))).toBe(false);
  });

  it('is refused by the server at start', async () => {
    await expect(testServer({ databasePath: env.DATABASE_PATH!, secret: 'another-secret-than-the-one-of-the-database-012345' })).rejects.toThrow(SecretMismatchError);
    const server = await testServer({ databasePath: env.DATABASE_PATH!, secret: SECRET });
    await server.close();
  });

  it('is recognised in a database from before the check value, by one of its sealed codes', async () => {
    const db = await openDatabase(env.DATABASE_PATH!);
    await db.deleteFrom('settings').execute();
    await db.destroy();
    await expect(testServer({ databasePath: env.DATABASE_PATH!, secret: 'another-secret-than-the-one-of-the-database-012345' })).rejects.toThrow(SecretMismatchError);
    // The right secret is accepted, and recorded for next time.
    expect((await survey('status', 'owb-2024')).code).toBe(0);
    const again = await openDatabase(env.DATABASE_PATH!);
    expect(await again.selectFrom('settings').select('key').execute()).toEqual([{ key: 'server_secret_check' }]);
    await again.destroy();
  });
});
