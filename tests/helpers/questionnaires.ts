import { readFileSync } from 'node:fs';
import { loadQuestionnaire, type Questionnaire } from '../../server/domain/questionnaire/index.ts';

type ReferenceName = 'owb-2024' | 'monitor-2024-agressie' | 'monitor-2020-pa';
const loaded = new Map<ReferenceName, Questionnaire>();

/**
 * Loads one of the reference questionnaires in questionnaires/ (fails loudly if it has problems).
 * Kept once per test file: loading runs the whole checker, which for the Monitor takes a noticeable
 * fraction of a second, and walkers ask for it on every page.
 */
export function referenceQuestionnaire(name: ReferenceName): Questionnaire {
  let questionnaire = loaded.get(name);
  if (!questionnaire) loaded.set(name, (questionnaire = loadReference(name)));
  return questionnaire;
}

function loadReference(name: ReferenceName): Questionnaire {
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
