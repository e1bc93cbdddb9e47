// Previewing a questionnaire as respondents will see it, before anyone is invited: any stored
// version, with sample values the author chooses, page by page or straight to any page, and beside
// each page and question why it is shown, in Dutch. Nothing is written: the answers so far travel
// with the page (PreviewState), never to drafts, responses or the ledger.

import { describeCondition } from '../domain/analysis/describe.ts';
import { environment, itemShown, prune, shownBlocks, type Answers, type CompiledBlock, type CompiledItem, type Questionnaire, type SampleValues } from '../domain/questionnaire/index.ts';
import { answersToForm, type FormValues } from '../domain/questionnaire/form-values.ts';
import { answersOutside, progressAt, readPostedPage, type PageView } from './page-flow.ts';

export interface PreviewState {
  answers: Answers;
  sample: SampleValues;
}

export interface PreviewPage {
  view: PageView;
  /** Why the page is shown ("Q1 is "Ja""), when it has a condition. */
  pageWhy?: string;
  /** Per question with a condition: why it is shown. */
  why: Record<string, string>;
  /** Questions of the page that these answers leave out, and when they would be shown. */
  hidden: { id: string; why: string }[];
  /** Whether the page is on the route these answers and sample values take. */
  onRoute: boolean;
  /** The ids of the pages on that route. */
  route: string[];
}

/** The state as it travels in a link or form field (base64url JSON); a broken one starts afresh. */
export function encodeState(state: PreviewState): string {
  return Buffer.from(JSON.stringify({ a: state.answers, s: state.sample })).toString('base64url');
}

export function decodeState(text: string | undefined): PreviewState {
  try {
    const { a, s } = JSON.parse(Buffer.from(text ?? '', 'base64url').toString('utf8')) as { a?: unknown; s?: unknown };
    const record = (v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {});
    return { answers: record(a) as Answers, sample: Object.fromEntries(Object.entries(record(s)).filter(([, v]) => typeof v === 'string')) as SampleValues };
  } catch {
    return { answers: {}, sample: {} };
  }
}

/**
 * The questions of a page these answers show, by their own conditions only: a page the author
 * jumped to is shown whatever its own condition (the banner says when respondents get it).
 */
export function previewItems(block: CompiledBlock, env: ReturnType<typeof environment>): CompiledItem[] {
  return block.items.filter((item) => itemShown(item, env));
}

/** A page of the preview, filled in with the answers given so far. */
export function previewPage(q: Questionnaire, state: PreviewState, pageId: string, form?: FormValues, errors: PageView['errors'] = []): PreviewPage | undefined {
  const block = q.blocks.find((b) => b.id === pageId);
  if (!block) return undefined;
  const route = shownBlocks(q, state.answers, state.sample);
  const before = answersOutside(q, block, state.answers);
  const env = environment(q, before, state.sample);
  const items = previewItems(block, env);
  const why: Record<string, string> = {};
  const hidden: PreviewPage['hidden'] = [];
  for (const item of block.items) {
    if (!item.showIf) continue;
    const words = describeCondition(q, item.showIf.tree);
    if (items.includes(item)) why[item.id] = words;
    else hidden.push({ id: item.id, why: words });
  }
  return {
    // A page off the route is still shown (the author jumped to it), with its place among all pages.
    view: { block, pages: route.includes(block) ? route : q.blocks, before, form: form ?? answersToForm(items, state.answers), errors, version: 0, progress: progressAt(block, q.blocks) },
    ...(block.showIf && { pageWhy: describeCondition(q, block.showIf.tree) }),
    why,
    hidden,
    onRoute: route.includes(block),
    route: route.map((b) => b.id),
  };
}

export type PreviewStep = { kind: 'invalid'; page: PreviewPage } | { kind: 'go'; state: PreviewState; pageId: string | undefined };

/** A posted preview page: on to the page the answers route to (undefined: the end), or back, or shown again with what is wrong. */
export function previewSubmit(q: Questionnaire, state: PreviewState, pageId: string, form: FormValues, action: 'next' | 'previous'): PreviewStep | undefined {
  const block = q.blocks.find((b) => b.id === pageId);
  if (!block) return undefined;
  const before = answersOutside(q, block, state.answers);
  const { answers: posted, errors } = readPostedPage(q, block, previewItems(block, environment(q, before, state.sample)), form, before, state.sample);
  if (errors.length > 0 && action === 'next') return { kind: 'invalid', page: previewPage(q, state, pageId, form, errors)! };
  const answers = errors.length > 0 ? state.answers : prune(q, { ...before, ...posted }, state.sample);
  const route = shownBlocks(q, answers, state.sample);
  const next = action === 'next' ? route.find((p) => p.index > block.index) : [...route].reverse().find((p) => p.index < block.index);
  return { kind: 'go', state: { answers, sample: state.sample }, pageId: next?.id ?? (action === 'previous' ? block.id : undefined) };
}
