import { readFileSync } from 'node:fs';
import { loadQuestionnaire, type LoadResult } from '../../server/domain/questionnaire/index.ts';

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
