// Creating a survey: the questionnaire text is checked, stored, and the survey frozen on it.
import type { Db } from '../db/connection.ts';
import { saveQuestionnaireVersion } from '../db/questionnaire-versions.ts';
import { insertSurvey } from '../db/surveys.ts';
import { formatProblem, loadQuestionnaire } from '../domain/questionnaire/index.ts';
import type { SurveySettings } from '../domain/survey/settings.ts';

export interface NewSurvey {
  id: string;
  title: string;
  questionnaireSource: string;
  settings: SurveySettings;
  opensAt: Date;
  closesAt: Date;
}

export async function createSurvey(db: Db, survey: NewSurvey, now: Date): Promise<void> {
  const loaded = loadQuestionnaire(survey.questionnaireSource);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => formatProblem('questionnaire', p)).join('\n'));
  for (const field of survey.settings.carry) {
    if (!loaded.questionnaire.sample.has(field)) throw new Error(`carried field "${field}" is not a sample field of questionnaire ${loaded.questionnaire.id}`);
  }
  if (survey.closesAt <= survey.opensAt) throw new Error('the survey must close after it opens');
  await db.transaction().execute(async (trx) => {
    const hash = await saveQuestionnaireVersion(trx, { id: loaded.questionnaire.id, version: loaded.questionnaire.version, source: survey.questionnaireSource }, now);
    await insertSurvey(trx, {
      id: survey.id,
      title: survey.title,
      questionnaire_hash: hash,
      definition: JSON.stringify(survey.settings),
      opens_at: survey.opensAt.toISOString(),
      closes_at: survey.closesAt.toISOString(),
      closed_at: null,
      created_at: now.toISOString(),
    });
  });
}
