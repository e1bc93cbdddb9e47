// Creating and updating a survey from its definition. The questionnaire text is stored with the
// survey; from the first mail on (frozen_at) it can no longer change: a changed questionnaire
// becomes a new version in a new survey.

import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Db } from '../db/connection.ts';
import { hashQuestionnaire, saveQuestionnaireVersion } from '../db/questionnaire-versions.ts';
import { mailingOf, outboxCounts } from '../db/outbox.ts';
import { hasAnswers } from '../db/responses.ts';
import { getSurvey, insertSurvey, updateSurvey, type SurveyRow } from '../db/surveys.ts';
import { loadQuestionnaire, type Problem, type Questionnaire } from '../domain/questionnaire/index.ts';
import type { Plan } from '../domain/survey/calendar.ts';
import { parseAddress } from '../domain/survey/addresses.ts';
import { checkSurveyDefinition, type SurveyDefinition } from '../domain/survey/definition.ts';
import { previewArgs } from '../mail/preview.ts';
import { MailTemplates } from '../mail/render.ts';

// fileURLToPath, not URL.pathname: a checkout path with a space (or other escaped characters) stays intact.
export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates', import.meta.url));

export interface CheckedSurvey {
  definition: SurveyDefinition;
  questionnaire: Questionnaire;
  questionnaireSource: string;
  plan: Plan;
}

export type CheckResult = { ok: true; survey: CheckedSurvey } | { ok: false; problems: Problem[] };

export function emailTemplateExists(name: string, templatesDir = TEMPLATES_DIR): boolean {
  return ['html', 'txt'].every((ext) => existsSync(join(templatesDir, 'email', `${name}.${ext}.hbs`)));
}

/** Checks a definition; its questionnaire path is resolved against `baseDir`. */
export function checkDefinition(input: unknown, baseDir: string, templatesDir = TEMPLATES_DIR): CheckResult {
  let source = '';
  const result = checkSurveyDefinition(
    input,
    (path) => {
      try {
        source = readFileSync(resolve(baseDir, path), 'utf8');
      } catch {
        return { ok: false, problems: [{ path: [], message: `cannot read ${resolve(baseDir, path)}` }] };
      }
      return loadQuestionnaire(source);
    },
    (name) => emailTemplateExists(name, templatesDir),
  );
  if (!result.ok) return result;
  const problems = templateProblems(result.definition, result.plan, templatesDir);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, survey: { definition: result.definition, questionnaire: result.questionnaire, questionnaireSource: source, plan: result.plan } };
}

/**
 * Each mailing's templates and subject, rendered for the sample invitee of a preview: what would
 * otherwise fail at the moment of sending, or send thousands of mails with a blank where a
 * misspelt merge field was, or without a way in or out.
 */
function templateProblems(definition: SurveyDefinition, plan: Plan, templatesDir: string): Problem[] {
  const templates = new MailTemplates(templatesDir);
  return plan.mailings.flatMap((mailing) => {
    const i = definition.calendar.mailings.findIndex((m) => m.id === mailing.id);
    const field = (part: 'template' | 'subject') => (part === 'subject' ? 'subject' : definition.calendar.mailings[i]!.template ? 'template' : 'id');
    return templates.check(previewArgs(definition, plan, mailing)).map((p) => ({ path: ['calendar', 'mailings', i, field(p.part)], message: p.message }));
  });
}

export function loadDefinitionFile(file: string, templatesDir = TEMPLATES_DIR): CheckResult {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return { ok: false, problems: [{ path: [], message: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `not valid JSON: ${(e as Error).message}` }] };
  }
  return checkDefinition(json, dirname(resolve(file)), templatesDir);
}

export class SurveyError extends Error {}

/** Creates the survey, or updates it while that is allowed. */
export async function saveSurvey(db: Db, survey: CheckedSurvey, now: Date): Promise<'created' | 'updated'> {
  const { definition, questionnaire, plan } = survey;
  const existing = await getSurvey(db, definition.id);
  if (existing && existing.questionnaire_hash !== hashQuestionnaire(survey.questionnaireSource)) {
    // Frozen from the first mail or the first answer, whichever came first: answers given to one
    // wording must not be read as answers to another.
    const since = existing.frozen_at ? `the first mail (${existing.frozen_at})` : (await hasAnswers(db, existing.id)) ? 'the first answer' : undefined;
    if (since) throw new SurveyError(`survey ${definition.id} is frozen on its questionnaire since ${since}; a changed questionnaire needs a new version and a new survey`);
  }
  if (existing?.purged_at) throw new SurveyError(`survey ${definition.id} was purged after fieldwork and cannot change`);
  if (existing) {
    await checkMailingsKept(db, existing, plan);
    await checkNonResponseKept(db, existing, definition);
  }
  return db.transaction().execute(async (trx) => {
    const hash = await saveQuestionnaireVersion(trx, { id: questionnaire.id, version: questionnaire.version, source: survey.questionnaireSource }, now);
    const row = {
      title: definition.title,
      questionnaire_hash: hash,
      definition: JSON.stringify(definition),
      opens_at: plan.opensAt.toISOString(),
      closes_at: plan.closesAt.toISOString(),
    };
    if (existing) {
      await updateSurvey(trx, definition.id, row);
      return 'updated' as const;
    }
    await insertSurvey(trx, { id: definition.id, ...row, closed_at: null, created_at: now.toISOString(), frozen_at: null, purged_at: null });
    return 'created' as const;
  });
}

/**
 * The outbox knows a mailing by its id: a mailing that was queued or sent keeps its id and kind,
 * or a renamed invitation would go to everyone a second time and reminders would find no
 * invitation that went out. Its time, template and subject may still change.
 */
async function checkMailingsKept(db: Db, existing: SurveyRow, plan: Plan): Promise<void> {
  const surveyId = existing.id;
  const queued = new Map<string, number>();
  for (const { mailing_id, n } of await outboxCounts(db, surveyId)) {
    const { mailingId } = mailingOf(mailing_id);
    queued.set(mailingId, (queued.get(mailingId) ?? 0) + n);
  }
  const before = new Map(definitionOf(existing).calendar.mailings.map((m) => [m.id, m.kind]));
  for (const [id, n] of queued) {
    const kept = plan.mailings.find((m) => m.id === id);
    if (kept && kept.kind === before.get(id)) continue;
    throw new SurveyError(
      `survey ${surveyId}: mailing "${id}" is already queued or sent for ${n} invitee${n === 1 ? '' : 's'}, so it must keep its id and kind (${before.get(id) ?? 'unknown'}); ` +
        `${kept ? 'it changed kind' : 'it is missing from the definition'}. Its time, template and subject may change.`,
    );
  }
}

/**
 * Non-response answers are stored as question ids and option codes: once recorded, each question
 * and option answered stays in the definition (its text and label may still change), or the
 * export could no longer read them.
 */
async function checkNonResponseKept(db: Db, existing: SurveyRow, definition: SurveyDefinition): Promise<void> {
  const rows = await db.selectFrom('nonresponse_answers').select('answers').where('survey_id', '=', existing.id).execute();
  const used = new Map<string, Set<string>>();
  for (const row of rows) {
    for (const [question, code] of Object.entries(JSON.parse(row.answers) as Record<string, string>)) {
      if (!used.has(question)) used.set(question, new Set());
      used.get(question)!.add(code);
    }
  }
  for (const [id, codes] of used) {
    const question = definition.nonResponse?.questions.find((q) => q.id === id);
    const missing = question ? [...codes].filter((c) => !question.options.some((o) => o.code === c)) : [];
    if (question && missing.length === 0) continue;
    throw new SurveyError(
      `survey ${existing.id}: the non-response interviews recorded so far (${rows.length}) answered ${question ? missing.map((c) => `${id}=${c}`).join(', ') : id}, so ${question ? (missing.length === 1 ? 'that option stays' : 'those options stay') : 'the question stays'} in nonResponse. Texts and labels may change; questions and options may be added.`,
    );
  }
}

// Parsed definitions by their JSON text: every page a respondent opens or submits needs the
// survey's definition, and parsing it each time was a measurable part of a request. Frozen, as
// every caller shares the same object.
const parsedDefinitions = new Map<string, SurveyDefinition>();

export function definitionOf(survey: SurveyRow): SurveyDefinition {
  let definition = parsedDefinitions.get(survey.definition);
  if (!definition) {
    if (parsedDefinitions.size >= 100) parsedDefinitions.clear();
    definition = deepFreeze(JSON.parse(survey.definition) as SurveyDefinition);
    parsedDefinitions.set(survey.definition, definition);
  }
  return definition;
}

/**
 * Whom a respondent can write to with a question about the survey (is this genuine, my code does
 * not work, I want to be taken off the list): the reply address of its mail, else the sender, and
 * the organisation that runs it.
 */
export function contactOf(survey: SurveyRow): { organisation: string; email: string } {
  const { mail } = definitionOf(survey);
  return { organisation: mail.organisation, email: parseAddress(mail.replyTo ?? mail.from).address };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
