// What respondents do (opened, started, reached the counting rule, submitted) reaches the ledger
// late and in batches, never in the same commit as their answers (docs/anonymity.md, "No commit
// ties a person to an answer").
//
// A save writes the answer side only (the draft; at submit the response and its submission
// record). What it means for the ledger waits here, in memory, in a group: the survey, the strata
// carried onto responses, and the furthest thing the person did. A group is written once it holds
// at least k people (the survey's reporting.minCell, at least MIN_BATCH), in a transaction of its
// own, in random order, after which the WAL is emptied (checkpoint). So whoever reads the files
// can relate a response to a batch of k people who submitted with the same carried strata, never
// to one of them; and a draft to k people who started. A group that does not fill up waits until
// it does, or until the survey closes (closeSurvey writes everything, then rebuilds the file).
//
// Nothing of this is written anywhere before its batch, so a crash loses it: at start, and at
// close, the ledger is brought up to date from the answer side (reconcile), which needs the server
// secret to relate a draft or submission to an invitee. Only "opened" without a saved page is lost
// that way.

import { committedAlone, checkpoint, type Db } from '../db/connection.ts';
import { listDrafts } from '../db/drafts.ts';
import { applyRespondentMarks, inviteesThatMayLag, type RespondentMarks } from '../db/invitees.ts';
import { submissionKeys } from '../db/submissions.ts';
import { listOpenSurveys, type SurveyRow } from '../db/surveys.ts';
import { shuffle } from '../domain/analysis/shuffle.ts';
import type { Questionnaire } from '../domain/questionnaire/index.ts';
import { carriedStrata } from '../domain/survey/definition.ts';
import type { Secrets } from '../security/secrets.ts';
import { draftKeyFor, submissionKeyOf } from './invitations.ts';
import type { QuestionnaireRegistry } from './questionnaire-registry.ts';
import { definitionOf } from './surveys.ts';

export type RespondentEvent = keyof RespondentMarks;
const EVENTS: readonly RespondentEvent[] = ['opened', 'started', 'counted', 'submitted'];

/** The smallest batch, whatever a survey's minCell says: one person in a batch is that person. */
export const MIN_BATCH = 5;

/** Who did what, as a save knows it. */
export interface Actor {
  inviteeId: number;
  survey: SurveyRow;
  sample: Readonly<Record<string, string>>;
}

interface Pending {
  inviteeId: number;
  surveyId: string;
  strata: string;
  marks: RespondentMarks;
  /** The group it waits in: survey, carried strata and the furthest event. */
  group: string;
  /** The batch size its survey asks for. */
  k: number;
}

export interface LedgerLog {
  error(details: object, message: string): void;
}

export class LedgerMarks {
  readonly #db: Db;
  readonly #log: LedgerLog | undefined;
  readonly #pending = new Map<number, Pending>();
  readonly #groups = new Map<string, Set<number>>();
  readonly #batch: number | undefined;
  #flushing: Promise<void> | undefined;
  #flushAgain = false;

  /** `options.batch`: one batch size for every survey instead of theirs (tests see the ledger at once with 1). */
  constructor(db: Db, options: { log?: LedgerLog; batch?: number } = {}) {
    this.#db = db;
    this.#log = options.log;
    this.#batch = options.batch;
  }

  /**
   * Notes what someone did, for a later batch (the date of each event is kept). Resolves at once,
   * or, when this completes a batch, once the batch is written: the request that completes it
   * waits, so that a flood of saves cannot outrun the ledger.
   */
  note(actor: Actor, event: RespondentEvent, on: string): Promise<void> {
    const definition = definitionOf(actor.survey);
    const previous = this.#pending.get(actor.inviteeId);
    const marks: RespondentMarks = { ...previous?.marks };
    marks[event] ??= on;
    const strata = JSON.stringify(carriedStrata(definition, actor.sample));
    return this.#put({ inviteeId: actor.inviteeId, surveyId: actor.survey.id, strata, marks, group: '', k: this.batchSize(actor.survey) });
  }

  /** How many people of a group the ledger learns about at once, for a survey. */
  batchSize(survey: SurveyRow): number {
    return this.#batch ?? Math.max(MIN_BATCH, definitionOf(survey).reporting.minCell);
  }

  /** How many people's marks wait for their batch, for a survey (the dashboard says so). */
  waiting(surveyId: string): number {
    let n = 0;
    for (const p of this.#pending.values()) if (p.surveyId === surveyId) n++;
    return n;
  }

  /** Forgets a survey's waiting marks: its close wrote them (closeSurvey). */
  forget(surveyId: string): void {
    for (const p of [...this.#pending.values()]) if (p.surveyId === surveyId) this.#take(p);
  }

  /**
   * Writes every group that holds k people or more; the rest keep waiting. Resolves once written
   * (a flush under way is followed by another if more became ready meanwhile).
   */
  flush(): Promise<void> {
    if (this.#flushing) {
      this.#flushAgain = true;
      return this.#flushing;
    }
    this.#flushing = (async () => {
      try {
        do {
          this.#flushAgain = false;
          const batch: Pending[] = [];
          for (const ids of [...this.#groups.values()]) {
            const members = [...ids].map((id) => this.#pending.get(id)!);
            if (members.length >= members[0]!.k) batch.push(...members);
          }
          if (batch.length === 0) break;
          for (const p of batch) this.#take(p);
          try {
            await writeMarks(this.#db, batch);
          } catch (e) {
            // Nothing of the batch was written: it waits again, with what was noted meanwhile
            // (each event keeps its first date).
            for (const p of batch) {
              const meanwhile = this.#pending.get(p.inviteeId);
              void this.#put({ ...p, marks: { ...meanwhile?.marks, ...p.marks } });
            }
            this.#log?.error({ err: e }, 'the ledger could not record a batch of respondents; it is tried again with the next');
            return;
          }
        } while (this.#flushAgain);
      } finally {
        this.#flushing = undefined;
      }
    })();
    return this.#flushing;
  }

  /**
   * After a start: what the answer side holds and the ledger does not know yet (it was waiting in
   * memory when the process stopped), noted again to wait for its batch like anything else.
   */
  async reconcile(secrets: Secrets, questionnaires: QuestionnaireRegistry, today: string): Promise<void> {
    for (const survey of await listOpenSurveys(this.#db)) {
      const countingPage = (await questionnaires.byHash(survey.questionnaire_hash)).countingItem.block.index;
      for (const lag of await lagging(this.#db, secrets, survey, countingPage, today)) {
        for (const event of EVENTS) if (lag.marks[event]) await this.note({ inviteeId: lag.inviteeId, survey, sample: lag.sample }, event, lag.marks[event]);
      }
    }
  }

  #put(p: Pending): Promise<void> {
    const previous = this.#pending.get(p.inviteeId);
    if (previous) this.#take(previous);
    const furthest = EVENTS.filter((e) => p.marks[e] !== undefined).pop()!;
    p.group = `${p.surveyId}\u0000${p.strata}\u0000${furthest}`;
    this.#pending.set(p.inviteeId, p);
    let ids = this.#groups.get(p.group);
    if (!ids) this.#groups.set(p.group, (ids = new Set()));
    ids.add(p.inviteeId);
    return ids.size >= p.k ? this.flush() : Promise.resolve();
  }

  #take(p: Pending): void {
    this.#pending.delete(p.inviteeId);
    const ids = this.#groups.get(p.group);
    ids?.delete(p.inviteeId);
    if (ids?.size === 0) this.#groups.delete(p.group);
  }
}

/** Writes marks in random order, in a WAL commit of their own, and then empties the WAL. */
async function writeMarks(db: Db, batch: readonly { inviteeId: number; marks: RespondentMarks }[]): Promise<void> {
  const order = [...batch];
  shuffle(order);
  await committedAlone(db)
    .transaction()
    .execute(async (trx) => {
      for (const p of order) await applyRespondentMarks(trx, p.inviteeId, p.marks);
    });
  await checkpoint(db);
}

interface Lagging {
  inviteeId: number;
  sample: Record<string, string>;
  marks: RespondentMarks;
}

/**
 * What the answer side of a survey says that its ledger does not: who started (a draft), reached
 * the counting rule (a draft that far) or submitted (a submission record). Dated `today`: the day
 * it happened was never written down.
 */
async function lagging(db: Db, secrets: Secrets, survey: SurveyRow, countingPage: number, today: string): Promise<Lagging[]> {
  const drafts = new Map((await listDrafts(db, survey.id)).map((d) => [d.key, d.furthest_page]));
  const submitted = await submissionKeys(db, survey.id);
  if (drafts.size === 0 && submitted.size === 0) return [];
  const found: Lagging[] = [];
  for (const invitee of await inviteesThatMayLag(db, survey.id)) {
    // A code this secret cannot read (a copy opened with another secret) relates to nothing here.
    const draftKey = secrets.decrypt('code-storage', invitee.code_sealed) === undefined ? undefined : draftKeyFor(secrets, invitee);
    if (draftKey === undefined) continue;
    const marks: RespondentMarks = {};
    const furthest = drafts.get(draftKey);
    if (submitted.has(submissionKeyOf(secrets, draftKey))) marks.submitted = today;
    else if (furthest !== undefined) {
      if (invitee.started_on === null) marks.started = today;
      if (furthest >= countingPage && invitee.counted_on === null) marks.counted = today;
    }
    if (Object.keys(marks).length > 0) found.push({ inviteeId: invitee.id, sample: JSON.parse(invitee.sample) as Record<string, string>, marks });
  }
  return found;
}

/**
 * At close: brings the survey's ledger up to date from its answer side, all at once (the file is
 * rebuilt right after, so no batch size is needed to hide anyone in it).
 */
export async function recordLaggingMarks(db: Db, secrets: Secrets, survey: SurveyRow, questionnaire: Questionnaire, today: string): Promise<number> {
  const found = await lagging(db, secrets, survey, questionnaire.countingItem.block.index, today);
  if (found.length > 0) await writeMarks(db, found);
  return found.length;
}
