// The `survey` command line. Each command lives in its own module and returns an exit code.
import { Command, InvalidArgumentError } from 'commander';
import { checkCommand } from './check.ts';
import { processOutput, type Output } from './output.ts';
import { simulateCommand } from './simulate.ts';

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

export async function main(argv: string[], io: Output = processOutput): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('survey')
    .description('Questionnaires and fieldwork for research bureaus.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('check')
    .description('check questionnaire files: schema, references, routing, reachability')
    .argument('<file...>', 'questionnaire JSON files')
    .action((files: string[]) => {
      exitCode = checkCommand(files, io);
    });

  program
    .command('simulate')
    .description('walk random respondents through a questionnaire and report coverage')
    .argument('<file>', 'questionnaire JSON file')
    .option('-n, --respondents <n>', 'number of simulated respondents', positiveInteger, 1000)
    .option('-s, --seed <s>', 'random seed (same seed, same walk)', integer, 1)
    .action((file: string, options: { respondents: number; seed: number }) => {
      exitCode = simulateCommand(file, options, io);
    });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    if (typeof code === 'number') return code === 0 ? 0 : 2;
    throw e;
  }
  return exitCode;
}
