// Runs the survey CLI in-process with its own environment, capturing what it prints.
import { main } from '../../scripts/cli/main.ts';

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
