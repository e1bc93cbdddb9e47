// `survey simulate <file> [--respondents N] [--seed S]`: walk random respondents, print coverage.
import { formatProblem, simulate } from '../../server/domain/questionnaire/index.ts';
import type { Output } from './output.ts';
import { questionnaireOrSay } from './questionnaire-file.ts';

export function simulateCommand(file: string, options: { respondents: number; seed: number }, io: Output): number {
  const questionnaire = questionnaireOrSay(file, io, 'simulate');
  if (!questionnaire) return 1;
  const report = simulate(questionnaire, options);
  io.out(
    `${file}: ${report.respondents} simulated respondents (seed ${options.seed}): ${report.completed} completed, ` +
      `${report.brokenOff} broke off, ${report.counted} counted as a response`,
  );
  io.out('');
  const width = Math.max(...report.coverage.map((e) => e.depth * 2 + e.key.length), 10) + 2;
  io.out(`${'shown'.padStart(width + 8)}  chosen`);
  for (const e of report.coverage) {
    const name = ' '.repeat(e.depth * 2) + (e.kind === 'block' ? `[${e.key}]` : e.depth === 2 ? e.key.slice(e.key.indexOf('.') + 1) : e.key);
    const chosen = e.chosen !== undefined ? String(e.chosen).padStart(8) : '';
    io.out(`${name.padEnd(width)}${String(e.shown).padStart(8)}${chosen}${e.shown === 0 ? '  << never shown' : ''}`);
  }
  io.out('');
  let failed = false;
  if (report.neverShown.length > 0) {
    failed = true;
    io.err(`never shown (${report.neverShown.length}): ${report.neverShown.map((e) => `${e.kind} ${e.key}`).join(', ')}`);
  } else {
    io.out('every page, item, option and row was shown at least once');
  }
  const tried = report.constrained.filter((c) => c.tried > 0);
  if (tried.length > 0) {
    io.out('');
    io.out('checks and numbers of answers: simulated respondents who could satisfy them');
    for (const c of tried) io.out(`  ${c.item.padEnd(12)} ${String(c.valid).padStart(6)} of ${String(c.tried).padEnd(6)}${c.valid === 0 ? '  << nobody' : ''}`);
  }
  for (const c of tried.filter((x) => x.valid === 0)) {
    failed = true;
    io.err(formatProblem(file, { path: [], message: `no simulated respondent could answer "${c.item}" validly (${c.tried} tried): ${c.failures.map((f) => `${f.reason} (${f.respondents})`).join('; ')}; a check no one can satisfy?` }));
  }
  for (const s of report.stuck) {
    failed = true;
    io.err(formatProblem(file, { path: [], message: `"${s.item}" is required but ${s.respondents} simulated respondents could not answer it validly: ${s.example}` }));
  }
  return failed ? 1 : 0;
}
