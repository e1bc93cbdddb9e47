// Runs the survey CLI in-process with its own environment, capturing what it prints.
import { main } from '../../scripts/cli/main.ts';

export interface CliRun {
  code: number;
  out: string[];
  err: string[];
}

export function cli(env: () => NodeJS.ProcessEnv) {
  return async (...args: string[]): Promise<CliRun> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['node', 'survey', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) }, env());
    return { code, out, err };
  };
}
