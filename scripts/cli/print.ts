// `survey print <file> [--out x.html] [--lang en]`: the questionnaire on paper, for the client to
// sign off before anyone is invited; open the HTML in a browser and print it (or save as PDF).
import { writeFileSync } from 'node:fs';
import { questionnaireOnPaper } from '../../server/usecases/paper.ts';
import type { Output } from './output.ts';
import { questionnaireOrSay } from './questionnaire-file.ts';

export function printCommand(file: string, options: { out?: string; lang: string }, io: Output): number {
  if (options.lang !== 'nl' && options.lang !== 'en') {
    io.err(`--lang ${options.lang}: the paper version is written in nl or en`);
    return 2;
  }
  const questionnaire = questionnaireOrSay(file, io, 'print');
  if (!questionnaire) return 1;
  const html = questionnaireOnPaper(questionnaire, options.lang);
  if (options.out === undefined) {
    io.out(html.trimEnd());
    return 0;
  }
  try {
    writeFileSync(options.out, html);
  } catch (e) {
    io.err(`${options.out}: cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    return 1;
  }
  io.out(`${options.out}: ${questionnaire.id} ${questionnaire.version} on paper; open it in a browser and print it, or save it as PDF`);
  return 0;
}
