// Runs the survey CLI in-process with its own environment, capturing what it prints.
import { main } from '../../scripts/cli/main.ts';
import { openDatabase, type Db } from '../../server/db/connection.ts';

export interface CliRun {
  code: number;
  out: string[];
  err: string[];
}

/** `secret` answers a password prompt, as a user typing it would. */
export function cli(env: () => NodeJS.ProcessEnv, secret?: () => string) {
  return async (...args: string[]): Promise<CliRun> => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), ...(secret ? { readSecret: async () => secret() } : {}) };
    const code = await main(['node', 'survey', ...args], io, env());
    return { code, out, err };
  };
}

/** Opens the database the commands use (between runs, as a second process would), runs fn, closes it. */
export async function withDatabase<T>(path: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDatabase(path);
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}
