// `survey check <file...>`: exit 0 when every file is valid, else print every problem.
import { formatProblem } from '../../server/domain/questionnaire/index.ts';
import type { Output } from './output.ts';
import { loadQuestionnaireFile } from './questionnaire-file.ts';

export function checkCommand(files: string[], io: Output): number {
  let problemCount = 0;
  let badFiles = 0;
  for (const file of files) {
    const result = loadQuestionnaireFile(file);
    if (result.ok === 'skipped') {
      io.out(`${file}: skipped (${result.reason})`);
      continue;
    }
    // Never silent: what the checker could not decide is said, with where (it stops nothing).
    for (const w of result.warnings ?? []) io.err(formatProblem(file, { ...w, message: `warning: ${w.message}` }));
    if (result.ok) {
      const q = result.questionnaire;
      const undecided = result.warnings.length > 0 ? `, ${result.warnings.length} undecided (see the warnings)` : '';
      io.out(`${file}: ok (${q.id} version ${q.version}: ${q.blocks.length} pages, ${q.questions.length} questions; ${result.decided} conditions decided${undecided})`);
      continue;
    }
    badFiles++;
    problemCount += result.problems.length;
    for (const p of result.problems) io.err(formatProblem(file, p));
  }
  if (problemCount > 0) {
    io.err(`${problemCount} problem${problemCount === 1 ? '' : 's'} in ${badFiles} of ${files.length} file${files.length === 1 ? '' : 's'}`);
    return 1;
  }
  return 0;
}
