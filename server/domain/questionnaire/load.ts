// Turning questionnaire JSON text into a checked model. Pure: the caller reads the file.

import { checkQuestionnaire } from './check.ts';
import { compileQuestionnaire, type Questionnaire } from './model.ts';
import type { Problem } from './problems.ts';
import { jsonLines, lineOf } from './json-lines.ts';

/**
 * A loaded questionnaire, or its problems. `warnings`: conditions whose reachability the checker
 * could not decide (survey check prints them; they do not stop anything); `decided`: how many it did.
 */
export type LoadResult = { ok: true; questionnaire: Questionnaire; warnings: Problem[]; decided: number } | { ok: false; problems: Problem[]; warnings?: Problem[]; decided?: number };

/** Parses JSON, reporting a syntax error with its line and column. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; problem: Problem } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    const message = (e as Error).message;
    const at = /position (\d+)/.exec(message);
    let where = '';
    if (at) {
      const offset = Number(at[1]);
      const before = text.slice(0, offset).split('\n');
      where = ` at line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
    }
    const reason = message.replace(/ in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)$/, '');
    return { ok: false, problem: { path: [], message: `not valid JSON${where}: ${reason}` } };
  }
}

/** Parses, compiles and statically checks a questionnaire; every problem is reported. */
/** The problems, each with the line of the file its path points into. */
function withLines(text: string, problems: Problem[]): Problem[] {
  const lines = jsonLines(text);
  return problems.map((p) => ({ ...p, line: lineOf(lines, p.path) }));
}

export function loadQuestionnaire(text: string): LoadResult {
  const json = parseJson(text);
  if (!json.ok) return { ok: false, problems: [json.problem] };
  const compiled = compileQuestionnaire(json.value);
  if (!compiled.ok) return { ok: false, problems: withLines(text, compiled.problems) };
  const { problems, undecided, decided } = checkQuestionnaire(compiled.questionnaire);
  const warnings = withLines(text, undecided);
  return problems.length > 0 ? { ok: false, problems: withLines(text, problems), warnings, decided } : { ok: true, questionnaire: compiled.questionnaire, warnings, decided };
}
