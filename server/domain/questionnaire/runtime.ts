// What a respondent sees, given their answers so far: which pages, items, options and rows are
// shown, which stale answers are dropped, and how texts read with piped values. The server,
// the simulator, the checker and the export all use these functions, so they agree by design.

import { evaluate, isAnswered, test, type Environment, type Value } from '../expression/index.ts';
import type { Bound } from '../expression/bind.ts';
import type { CompiledBlock, CompiledDerived, CompiledItem, CompiledMember, Questionnaire } from './model.ts';
import { inheritedOptions } from './model.ts';
import type { OptionDef, TextValue } from './schema.ts';

/** Answers by item id; the free text of an "other" option is stored under `<item>.<code>`. */
export type Answers = { [key: string]: Value };
/** Sample fields of the invitee by field id (codes as in the sample frame). */
export type SampleValues = { [field: string]: string };

export interface VisibleOption {
  code: string;
  def: OptionDef;
}

export function environment(q: Questionnaire, answers: Answers, sample: SampleValues): Environment {
  const cache = new Map<string, Value>();
  const env: Environment = {
    get(key: string): Value {
      if (key.startsWith('sample.')) return sample[key.slice(7)] ?? null;
      if (Object.hasOwn(answers, key)) return answers[key] ?? null;
      const d = q.derived.get(key);
      if (!d) return null;
      if (!cache.has(key)) cache.set(key, derivedValue(d, env));
      return cache.get(key)!;
    },
  };
  return env;
}

export function derivedValue(d: CompiledDerived, env: Environment): Value {
  if (d.expr) {
    const v = evaluate(d.expr.tree, env);
    return d.type.kind === 'bool' ? v === true : typeof v === 'number' ? v : null;
  }
  for (const c of d.cases ?? []) if (test(c.when.tree, env)) return c.value;
  return null;
}

const holds = (condition: { tree: Bound } | undefined, env: Environment): boolean => !condition || test(condition.tree, env);

export function visibleOptions(item: CompiledItem, env: Environment): VisibleOption[] {
  const visible: VisibleOption[] = [];
  if (item.optionsFrom) {
    const ticked = env.get(item.optionsFrom.id);
    if (Array.isArray(ticked)) {
      for (const def of inheritedOptions(item.optionsFrom)) if (ticked.includes(def.code)) visible.push({ code: def.code, def });
    }
  }
  for (const o of item.options) if (holds(o.showIf, env)) visible.push({ code: o.code, def: o.def });
  return visible;
}

export function visibleMembers(item: CompiledItem, env: Environment): CompiledMember[] {
  return item.members.filter((m) => holds(m.showIf, env));
}

/** Whether the item itself is shown on its page (its block's condition aside). */
export function itemShown(item: CompiledItem, env: Environment): boolean {
  if (!holds(item.showIf, env)) return false;
  // A choice with nothing left to choose, or a grid without rows, cannot be asked.
  if (item.type === 'single' || item.type === 'multi' || item.type === 'ranking') return visibleOptions(item, env).length > 0;
  if (item.type === 'grid') return visibleMembers(item, env).length > 0;
  return true;
}

export function shownItems(block: CompiledBlock, env: Environment): CompiledItem[] {
  if (!holds(block.showIf, env)) return [];
  return block.items.filter((item) => itemShown(item, env));
}

/**
 * A page is shown when its condition holds and it has something to answer; a page of texts only
 * (an introduction) is shown when one of its texts is.
 */
export function blockShown(block: CompiledBlock, env: Environment): boolean {
  const shown = shownItems(block, env);
  const hasQuestions = block.items.some((i) => i.type !== 'display');
  return hasQuestions ? shown.some((i) => i.type !== 'display') : shown.length > 0;
}

/** The pages this respondent gets, in order, given the answers so far. */
export function shownBlocks(q: Questionnaire, answers: Answers, sample: SampleValues): CompiledBlock[] {
  const env = environment(q, answers, sample);
  return q.blocks.filter((b) => blockShown(b, env));
}

/**
 * Drops every answer the routing no longer asks for: items on hidden pages, hidden items, hidden
 * options, rows and "other" texts. Conditions only look back, so one pass in page order settles it.
 */
export function prune(q: Questionnaire, answers: Answers, sample: SampleValues): Answers {
  const kept: Answers = {};
  for (const block of q.blocks) {
    const env = environment(q, kept, sample);
    if (!holds(block.showIf, env)) continue;
    for (const item of block.items) {
      if (item.type === 'display' || !itemShown(item, env)) continue;
      const value = answers[item.id];
      if (value === undefined || value === null) continue;
      const cleaned = keepVisible(item, value, env);
      if (!isAnswered(cleaned)) continue;
      kept[item.id] = cleaned;
      for (const option of item.options) {
        const key = `${item.id}.${option.code}`;
        const selected = cleaned === option.code || (Array.isArray(cleaned) && cleaned.includes(option.code));
        if (option.def.other && selected && typeof answers[key] === 'string') kept[key] = answers[key]!;
      }
    }
  }
  return kept;
}

function keepVisible(item: CompiledItem, value: Value, env: Environment): Value {
  switch (item.type) {
    case 'single': {
      const codes = visibleOptions(item, env).map((o) => o.code);
      return typeof value === 'string' && codes.includes(value) ? value : null;
    }
    case 'multi':
    case 'ranking': {
      const codes = visibleOptions(item, env).map((o) => o.code);
      return Array.isArray(value) ? value.filter((c) => codes.includes(c)) : null;
    }
    case 'grid': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
      const columns = visibleOptions(item, env).map((o) => o.code);
      const record: { [row: string]: Value } = {};
      for (const row of visibleMembers(item, env)) {
        const cell = (value as { [row: string]: Value })[row.code];
        if (typeof cell === 'string' && columns.includes(cell)) record[row.code] = cell;
        else if (Array.isArray(cell)) {
          const kept = cell.filter((c) => columns.includes(c));
          if (kept.length > 0) record[row.code] = kept;
        }
      }
      return record;
    }
    default:
      return value;
  }
}

// ---- Texts ----------------------------------------------------------------------------------

/** An ISO date (2025-03-15) as people write it: 15 maart 2025 (15 March 2025). */
export function dateText(iso: string, lang: string): string {
  const d = new Date(`${iso}T12:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(iso) || Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'nl-NL', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(d);
}

export function textIn(text: TextValue, lang: string): string {
  if (typeof text === 'string') return text;
  return text[lang] ?? text.nl;
}

const WORDS: { [lang: string]: { and: string; yes: string; no: string } } = {
  nl: { and: 'en', yes: 'ja', no: 'nee' },
  en: { and: 'and', yes: 'yes', no: 'no' },
};

function joinList(parts: string[], lang: string): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} ${(WORDS[lang] ?? WORDS.nl!).and} ${parts[parts.length - 1]}`;
}

/** The label of an option code as the respondent saw it (own options, inherited ones, scale extras). */
export function optionLabel(item: CompiledItem, code: string, lang: string): string {
  const own = item.options.find((o) => o.code === code);
  if (own) return textIn(own.def.label, lang);
  const inherited = item.optionsFrom?.options.find((o) => o.code === code);
  return inherited ? textIn(inherited.def.label, lang) : code;
}

/** Resolves a text in a language and fills in piped values such as {Q3} or {sample.functie}. */
/**
 * The text with its pipes filled in. `piped` transforms each value piped in (an answer, a sample
 * field) before it is placed: what a respondent typed is data, and a page that renders markup in
 * the author's text passes a function that keeps it from being read as markup.
 */
export function renderText(q: Questionnaire, text: TextValue, lang: string, env: Environment, piped: (value: string) => string = (value) => value): string {
  const raw = textIn(text, lang);
  return raw.replace(/\{([^{}]+)\}/g, (whole, inner: string) => {
    const pipe = q.pipes.get(inner.trim());
    if (!pipe) return whole;
    const value = formatPiped(q, pipe.tree, env, lang);
    // The author's text for an unanswered (optional) question, rather than a gap: "(op )".
    return value === '' && pipe.fallback !== undefined ? pipe.fallback : piped(value);
  });
}

function formatPiped(q: Questionnaire, tree: Bound, env: Environment, lang: string): string {
  const value = evaluate(tree, env);
  if (value === null) return '';
  const words = WORDS[lang] ?? WORDS.nl!;
  if (typeof value === 'boolean') return value ? words.yes : words.no;
  if (typeof value === 'number') return value.toLocaleString(lang === 'en' ? 'en-GB' : 'nl-NL');
  // Find what the value is an answer to, so codes read as their labels.
  const key = tree.k === 'ref' ? tree.key : tree.k === 'member' && tree.of.k === 'ref' ? tree.of.key : undefined;
  const item = key ? q.items.get(key) : undefined;
  const label = (code: string): string => {
    if (item) return optionLabel(item, code, lang);
    if (key?.startsWith('sample.')) {
      const option = q.sample.get(key.slice(7))?.options.find((o) => o.code === code);
      return option ? textIn(option.label, lang) : code;
    }
    const d = key ? q.derived.get(key) : undefined;
    const c = d?.cases?.find((x) => x.value === code);
    return c ? textIn(c.label, lang) : code;
  };
  // Free texts read as they are, dates as people write them; codes read as their labels (label()
  // keeps unknowns).
  if (typeof value === 'string') return item?.type === 'open' ? value : item?.type === 'date' ? dateText(value, lang) : label(value);
  if (Array.isArray(value)) return joinList(value.map(label), lang);
  return joinList(Object.values(value).filter(isAnswered).map((v) => (Array.isArray(v) ? v.map(label).join(', ') : String(v))), lang);
}
