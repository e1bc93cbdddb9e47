import { readFileSync } from 'node:fs';
import { formatProblem, loadQuestionnaire, type LoadResult, type Questionnaire } from '../../server/domain/questionnaire/index.ts';
import type { Output } from './output.ts';

export type FileResult = LoadResult | { ok: 'skipped'; reason: string };

/** The generated questionnaires/schema.json sits beside the questionnaires; `check *.json` skips it. */
function isJsonSchemaDocument(text: string): boolean {
  return /^\s*\{\s*"\$schema"\s*:\s*"https?:\/\/json-schema\.org\//.test(text);
}

/** Reads and loads a questionnaire file; an unreadable file is reported like any other problem. */
export function loadQuestionnaireFile(file: string): FileResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
    return { ok: false, problems: [{ path: [], message: `cannot read the file: ${reason}` }] };
  }
  if (isJsonSchemaDocument(text)) return { ok: 'skipped', reason: 'a JSON Schema, not a questionnaire' };
  return loadQuestionnaire(text);
}

/** The questionnaire of a file, or undefined after saying why there is none (for `doing` it). */
export function questionnaireOrSay(file: string, io: Output, doing: string): Questionnaire | undefined {
  const loaded = loadQuestionnaireFile(file);
  if (loaded.ok === 'skipped') {
    io.err(`${file}: ${loaded.reason}; nothing to ${doing}`);
    return undefined;
  }
  if (!loaded.ok) {
    for (const p of loaded.problems) io.err(formatProblem(file, p));
    io.err('fix these problems first (survey check shows them too)');
    return undefined;
  }
  return loaded.questionnaire;
}
