// The page flow of a questionnaire, as the respondent's browser drives it: which page to show,
// and what a posted page does (save and go on, go back, stop for now, finish, or show it again
// with what is wrong). Free of HTTP: the routes turn a request into these calls and an outcome
// into a page or a redirect (routes/respondent/index.ts).
//
// A posted page carries the draft version it was shown with. An older version is normal when this
// same session saved since: the browser's Back (also from its back/forward cache), a double click,
// a replayed POST. Then the page is saved over what is stored, as any other. Only when someone
// else saved meanwhile (another device, or a session started later) is it a conflict: the page is
// shown as it now stands, with a calm word why.

import { environment, shownItems, validatePage, type Answers, type CompiledBlock, type CompiledItem, type Questionnaire, type SampleValues, type ValidationError } from '../domain/questionnaire/index.ts';
import { answersToForm, formToAnswers, type FormValues } from '../domain/questionnaire/form-values.ts';
import type { Db } from '../db/connection.ts';
import type { Secrets } from '../security/secrets.ts';
import { draftVersion, mayVisit, pagesOf, savePage, situationOf, type Respondent } from './answering.ts';
import type { LedgerMarks } from './ledger-marks.ts';

/** A page to show: which one, among which, and the form as it is to be filled in. */
export interface PageView {
  block: CompiledBlock;
  pages: CompiledBlock[];
  /** The answers of the other pages, for texts that pipe them and for routing within the page. */
  before: Answers;
  /** What the fields hold: the stored answers, or what was posted (to show a mistake as typed). */
  form: FormValues;
  errors: ValidationError[];
  /** A word above the page: it was saved elsewhere meanwhile (conflict), or carried over a sign-in again. */
  notice?: 'conflictNotice' | 'reenteredNotice';
  /** The draft version the form is for. */
  version: number;
  /** How far along, 0-100 (progressAt). */
  progress: number;
}

/**
 * How far along a page is, in percent: its place among all pages of the questionnaire, whatever
 * the route. So it only grows as the respondent goes on (a skipped part makes it leap ahead) and
 * its whole never changes, where "page 2 of 8", then "4 of 12" did as routing learned more.
 */
export function progressAt(block: CompiledBlock, all: readonly CompiledBlock[]): number {
  return Math.round((100 * block.index) / all.length);
}

export type PageAction = 'next' | 'previous' | 'later';

export interface PostedPage {
  form: FormValues;
  version: number;
  action: PageAction;
}

export type PageOutcome =
  /** Not a page this respondent can answer now (closed, completed, not on their route): where they are instead. */
  | { kind: 'elsewhere' }
  /** Something on the page is wrong and the respondent wanted to go on: shown again, as posted. */
  | { kind: 'invalid'; view: PageView }
  /** Someone else saved this questionnaire since the page was shown: the page as it now stands. */
  | { kind: 'conflict'; view: PageView }
  /** Saved; the version now stored is this session's (see ownVersion). */
  | { kind: 'saved'; next: CompiledBlock; version: number }
  /** Saved, and the respondent stops for now ("later"), to resume on this page. */
  | { kind: 'stopped'; version: number }
  /** The last page: the answers are a response now. */
  | { kind: 'finished' };

export interface PageFlowDeps {
  db: Db;
  secrets: Secrets;
  marks: LedgerMarks;
}

const itemOf = (key: string) => key.split('.')[0]!;
const isOn = (q: Questionnaire, block: CompiledBlock, key: string) => q.items.get(itemOf(key))?.block === block;

/** Answers of the other pages: everything except what this page holds. */
export function answersOutside(q: Questionnaire, block: CompiledBlock, answers: Answers): Answers {
  return Object.fromEntries(Object.entries(answers).filter(([key]) => !isOn(q, block, key)));
}

const answersBefore = (r: Respondent, block: CompiledBlock): Answers => answersOutside(r.questionnaire, block, r.answers);

/**
 * The answers a posted page holds, and what is wrong with them: a field that could not be read
 * (a number that is no number), and what validation finds in the rest. `items`: the questions
 * the page showed. The page flow and the preview read a posted page alike.
 */
export function readPostedPage(q: Questionnaire, block: CompiledBlock, items: CompiledItem[], form: FormValues, before: Answers, sample: SampleValues): { answers: Answers; errors: ValidationError[] } {
  const parsed = formToAnswers(items, form);
  const unparsable = new Set(parsed.errors.map((e) => e.field));
  return { answers: parsed.answers, errors: [...parsed.errors, ...validatePage(q, block, parsed.answers, before, sample).filter((e) => !unparsable.has(e.field))] };
}

/** Whether `answers` are exactly what is stored for this page. */
function storedOn(r: Respondent, block: CompiledBlock, answers: Answers): boolean {
  const canonical = (entries: [string, unknown][]) => JSON.stringify(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return canonical(Object.entries(r.answers).filter(([key]) => isOn(r.questionnaire, block, key))) === canonical(Object.entries(answers));
}

/** The page as stored, or undefined when the respondent cannot be on it now. */
function visitable(r: Respondent, pageId: string, now: Date): { block: CompiledBlock; pages: CompiledBlock[] } | undefined {
  if (situationOf(r, now) !== 'answering') return undefined;
  const block = r.questionnaire.blocks.find((b) => b.id === pageId);
  const pages = pagesOf(r);
  return block && mayVisit(r, block, pages) ? { block, pages } : undefined;
}

function storedView(r: Respondent, block: CompiledBlock, pages: CompiledBlock[]): PageView {
  const before = answersBefore(r, block);
  const items = shownItems(block, environment(r.questionnaire, before, r.sample));
  return { block, pages, before, form: answersToForm(items, r.answers), errors: [], version: draftVersion(r), progress: progressAt(block, r.questionnaire.blocks) };
}

/** The page to show for `pageId`, filled in with what is stored. */
export function pageToShow(r: Respondent, pageId: string, now: Date): { kind: 'show'; view: PageView } | { kind: 'elsewhere' } {
  const at = visitable(r, pageId, now);
  return at ? { kind: 'show', view: storedView(r, at.block, at.pages) } : { kind: 'elsewhere' };
}

/**
 * A page posted again after the person signed in anew (their session ran out while it was open):
 * shown as posted, not saved, to be checked and sent on.
 */
export function carriedPage(r: Respondent, pageId: string, form: FormValues, now: Date): { kind: 'show'; view: PageView } | { kind: 'elsewhere' } {
  const at = visitable(r, pageId, now);
  if (!at) return { kind: 'elsewhere' };
  return { kind: 'show', view: { ...storedView(r, at.block, at.pages), form, notice: 'reenteredNotice' } };
}

/**
 * What a posted page does. `ownVersion`: the draft version this session last saved (undefined
 * when it saved nothing yet); `reload` reads the respondent again after a save lost a race.
 */
export async function submitPage(deps: PageFlowDeps, r: Respondent, pageId: string, posted: PostedPage, ownVersion: number | undefined, now: Date, reload: () => Promise<Respondent | undefined>): Promise<PageOutcome> {
  const at = visitable(r, pageId, now);
  if (!at) return { kind: 'elsewhere' };
  const { block, pages } = at;
  const direction = posted.action === 'previous' ? 'previous' : posted.action === 'later' ? 'stay' : 'next';
  const before = answersBefore(r, block);
  const items = shownItems(block, environment(r.questionnaire, before, r.sample));
  const read = readPostedPage(r.questionnaire, block, items, posted.form, before, r.sample);
  const { errors } = read;
  let pageAnswers = read.answers;
  if (errors.length > 0) {
    if (direction === 'next') return { kind: 'invalid', view: { block, pages, before, form: posted.form, errors, version: posted.version, progress: progressAt(block, r.questionnaire.blocks) } };
    // Going back or stopping never loses anything: valid answers are saved, an invalid one keeps its old value.
    const invalid = new Set(errors.map((e) => itemOf(e.field)));
    pageAnswers = Object.fromEntries(Object.entries(pageAnswers).filter(([key]) => !invalid.has(itemOf(key))));
    for (const [key, value] of Object.entries(r.answers)) if (invalid.has(itemOf(key))) pageAnswers[key] = value;
  }

  const current = draftVersion(r);
  if (posted.version !== current) {
    // Older than what is stored. If this session stored the latest version, the page came from its
    // own history (Back, a double click): it is saved over it like any page. Otherwise someone
    // else saved since; a post that holds what is stored anyway changes nothing.
    if (ownVersion !== current) {
      if (storedOn(r, block, pageAnswers)) return { kind: 'elsewhere' };
      return { kind: 'conflict', view: { ...storedView(r, block, pages), notice: 'conflictNotice' } };
    }
  }
  const outcome = await savePage(deps.db, deps.secrets, deps.marks, r, block, pageAnswers, current, direction, now);
  switch (outcome.kind) {
    case 'finished':
      return { kind: 'finished' };
    case 'saved':
      return direction === 'stay' ? { kind: 'stopped', version: current + 1 } : { kind: 'saved', next: outcome.next, version: current + 1 };
    case 'stale': {
      // Another save of this draft won the race (the other click of a double click, another
      // device): where the respondent is now, or, if what they posted differs, the page as it now stands.
      const now2 = await reload();
      if (!now2) return { kind: 'elsewhere' };
      const again = visitable(now2, pageId, now);
      if (!again || storedOn(now2, block, pageAnswers)) return { kind: 'elsewhere' };
      return { kind: 'conflict', view: { ...storedView(now2, again.block, again.pages), notice: 'conflictNotice' } };
    }
  }
}
