import { readFileSync } from 'node:fs';
import { loadQuestionnaire, type Questionnaire } from '../../server/domain/questionnaire/index.ts';

/** Loads one of the reference questionnaires in questionnaires/ (fails loudly if it has problems). */
export function referenceQuestionnaire(name: 'owb-2024' | 'monitor-2024-agressie' | 'monitor-2020-pa'): Questionnaire {
  const text = readFileSync(new URL(`../../questionnaires/${name}.json`, import.meta.url), 'utf8');
  const result = loadQuestionnaire(text);
  if (!result.ok) throw new Error(`${name}: ${JSON.stringify(result.problems)}`);
  return result.questionnaire;
}

/** Compiles an inline questionnaire for a test. */
export function inlineQuestionnaire(json: unknown): Questionnaire {
  const result = loadQuestionnaire(JSON.stringify(json));
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  return result.questionnaire;
}
