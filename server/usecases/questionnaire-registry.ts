// Compiled questionnaires by the hash of the exact text a survey is frozen on. Compiling happens
// once per version; a survey keeps using its version even when the file in questionnaires/ changes.

import type { Db } from '../db/connection.ts';
import { getQuestionnaireSource } from '../db/questionnaire-versions.ts';
import { formatProblem, loadQuestionnaire, type Questionnaire } from '../domain/questionnaire/index.ts';

export class QuestionnaireRegistry {
  /**
   * Promises, not results: when a morning's first respondents arrive together, they all wait for
   * one compilation instead of each compiling the questionnaire (measured: scripts/bench/load.ts).
   */
  private readonly compiled = new Map<string, Promise<Questionnaire>>();

  constructor(private readonly db: Db) {}

  byHash(hash: string): Promise<Questionnaire> {
    let compiled = this.compiled.get(hash);
    if (!compiled) {
      compiled = this.compile(hash);
      this.compiled.set(hash, compiled);
      // A failure is not cached: the next request tries again.
      compiled.catch(() => this.compiled.delete(hash));
    }
    return compiled;
  }

  private async compile(hash: string): Promise<Questionnaire> {
    const source = await getQuestionnaireSource(this.db, hash);
    if (source === undefined) throw new Error(`questionnaire version ${hash} is not in the database`);
    const result = loadQuestionnaire(source);
    if (!result.ok) throw new Error(result.problems.map((p) => formatProblem(`questionnaire ${hash.slice(0, 12)}`, p)).join('\n'));
    return result.questionnaire;
  }
}
