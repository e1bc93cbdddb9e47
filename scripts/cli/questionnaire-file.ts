import { readFileSync } from 'node:fs';
import { loadQuestionnaire, type LoadResult } from '../../server/domain/questionnaire/index.ts';

/** Reads and loads a questionnaire file; an unreadable file is reported like any other problem. */
export function loadQuestionnaireFile(file: string): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
    return { ok: false, problems: [{ path: [], message: `cannot read the file: ${reason}` }] };
  }
  return loadQuestionnaire(text);
}
