// Compiled questionnaires by the hash of the exact text a survey is frozen on. Compiling happens
// once per version; a survey keeps using its version even when the file in questionnaires/ changes.

import type { Db } from '../db/connection.ts';
import { getQuestionnaireSource } from '../db/questionnaire-versions.ts';
import { formatProblem, loadQuestionnaire, type Questionnaire } from '../domain/questionnaire/index.ts';

export class QuestionnaireRegistry {
  private readonly compiled = new Map<string, Questionnaire>();

  constructor(private readonly db: Db) {}

  async byHash(hash: string): Promise<Questionnaire> {
    const cached = this.compiled.get(hash);
    if (cached) return cached;
    const source = await getQuestionnaireSource(this.db, hash);
    if (source === undefined) throw new Error(`questionnaire version ${hash} is not in the database`);
    const result = loadQuestionnaire(source);
    if (!result.ok) throw new Error(result.problems.map((p) => formatProblem(`questionnaire ${hash.slice(0, 12)}`, p)).join('\n'));
    this.compiled.set(hash, result.questionnaire);
    return result.questionnaire;
  }
}
