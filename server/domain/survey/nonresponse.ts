// The telephone non-response survey (seed-monitor-2020 F7): a few questions an interviewer asks
// those who would not take part, to see whether the response is selective ("14 procent van hen
// heeft te maken gehad met agressie; dit cijfer is lager dan in het hoofdonderzoek"). Here: what
// an interviewer typed is read into answers, and answers are counted per question.

import type { SurveyDefinition } from './definition.ts';

export type NonResponseQuestions = NonNullable<SurveyDefinition['nonResponse']>['questions'];

/** Question id -> option code. */
export type NonResponseAnswers = Record<string, string>;

/**
 * Reads `QUESTION=option` pairs as an interviewer types them. Every question must be answered
 * exactly once (an option such as "wil niet zeggen" is for who does not answer): a comparison with
 * the main survey needs the same base for each question. Each problem names the pair and what
 * would have been right.
 */
export function parseNonResponseAnswers(questions: NonResponseQuestions, pairs: readonly string[]): { ok: true; answers: NonResponseAnswers } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const answers: NonResponseAnswers = {};
  // Questions named at all, rightly or not: one problem each is enough.
  const named = new Set<string>();
  const ids = questions.map((q) => q.id).join(', ');
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const id = eq < 0 ? pair : pair.slice(0, eq).trim();
    const code = eq < 0 ? '' : pair.slice(eq + 1).trim();
    const question = questions.find((q) => q.id === id);
    if (!question) {
      problems.push(eq < 0 ? `"${pair}": write QUESTION=option, e.g. ${questions[0]!.id}=${questions[0]!.options[0]!.code}` : `"${pair}": there is no question ${id} (${ids})`);
      continue;
    }
    if (named.has(id)) {
      problems.push(`"${pair}": ${id} is answered twice`);
      continue;
    }
    named.add(id);
    if (!question.options.some((o) => o.code === code)) {
      problems.push(`"${pair}": ${id} has no option "${code}" (${question.options.map((o) => `${o.code}: ${o.label}`).join('; ')})`);
      continue;
    }
    answers[id] = code;
  }
  for (const q of questions) {
    if (!named.has(q.id)) problems.push(`${q.id} is not answered: ${q.text}`);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, answers };
}

export interface NonResponseSummary {
  /** Interviews recorded. */
  n: number;
  questions: {
    id: string;
    text: string;
    options: { code: string; label: string; n: number; share: number | undefined }[];
  }[];
}

/** How often each option was answered, as a count and a share of the interviews. */
export function summarizeNonResponse(questions: NonResponseQuestions, interviews: readonly NonResponseAnswers[]): NonResponseSummary {
  const n = interviews.length;
  return {
    n,
    questions: questions.map((q) => ({
      id: q.id,
      text: q.text,
      options: q.options.map((o) => {
        const count = interviews.filter((a) => a[q.id] === o.code).length;
        return { code: o.code, label: o.label, n: count, share: n > 0 ? count / n : undefined };
      }),
    })),
  };
}
