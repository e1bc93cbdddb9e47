// The simulator walks random respondents through a questionnaire, answering every shown question
// validly (sometimes "weet niet", sometimes skipping what is optional, sometimes breaking off),
// routed by the same functions the server uses. It reports how often every page, item, option
// and row was shown, so an author sees before fieldwork whether every route can be taken.

import type { Value } from '../expression/index.ts';
import type { CompiledItem, Questionnaire } from './model.ts';
import { environment, shownItems, blockShown, visibleMembers, visibleOptions, type Answers, type SampleValues, type VisibleOption } from './runtime.ts';
import { validateQuestion, type ValidationError } from './validate.ts';
import { validationMessage } from './messages.ts';

export interface SimulationOptions {
  respondents: number;
  seed: number;
  /** Chance to stop on any page (default 0.01). */
  breakOffRate?: number;
  /** Chance to leave an optional question unanswered (default 0.05). */
  skipRate?: number;
  /** Receives each simulated respondent's final answers, e.g. to build synthetic response data. */
  onRespondent?: (respondent: { answers: Answers; sample: SampleValues; completed: boolean; counted: boolean }) => void;
}

export interface CoverageEntry {
  /** `block`, `item`, `option` or `row` */
  kind: 'block' | 'item' | 'option' | 'row';
  /** `H1`, `Q1`, `Q1.geen`, `Q5.verbaal` */
  key: string;
  /** Depth for indented printing: block 0, item 1, option/row 2. */
  depth: number;
  shown: number;
  /** For options: how often it was chosen. */
  chosen?: number;
}

export interface SimulationReport {
  respondents: number;
  completed: number;
  counted: number;
  brokenOff: number;
  coverage: CoverageEntry[];
  /** Items, options and rows never shown to anyone. */
  neverShown: CoverageEntry[];
  /** Questions the simulator could not answer validly although they are required. */
  stuck: { item: string; respondents: number; example: string }[];
  /**
   * Questions with checks (rules) or a minimum or maximum number of answers: how many simulated
   * respondents tried to answer them, how many could do so validly, and what stopped the others.
   * A question nobody could answer validly has a check no one can satisfy.
   */
  constrained: { item: string; tried: number; valid: number; failures: { reason: string; respondents: number }[] }[];
}

/** Whether a question has more to satisfy than being answered: rules, or a number of answers. */
function isConstrained(item: CompiledItem): boolean {
  const d = item.def;
  return item.rules.length > 0 || (d.type === 'multi' && (d.minSelected !== undefined || d.maxSelected !== undefined));
}

/** An error as the author reads it: which field, and the message a respondent would get. */
function reasonOf(e: ValidationError): string {
  return `${e.field}: ${validationMessage(e, 'nl')}`;
}

/** A small, fast, seedable generator (mulberry32): the same seed gives the same walk. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function simulate(q: Questionnaire, options: SimulationOptions): SimulationReport {
  const random = seededRandom(options.seed);
  const breakOffRate = options.breakOffRate ?? 0.01;
  const skipRate = options.skipRate ?? 0.05;
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

  // Coverage counters in questionnaire order.
  const entries = new Map<string, CoverageEntry>();
  const entry = (kind: CoverageEntry['kind'], key: string, depth: number): CoverageEntry => {
    const id = `${kind}:${key}`;
    let e = entries.get(id);
    if (!e) {
      e = kind === 'option' ? { kind, key, depth, shown: 0, chosen: 0 } : { kind, key, depth, shown: 0 };
      entries.set(id, e);
    }
    return e;
  };
  for (const block of q.blocks) {
    entry('block', block.id, 0);
    for (const item of block.items) {
      entry('item', item.id, 1);
      for (const m of item.type === 'grid' ? item.members : []) entry('row', `${item.id}.${m.code}`, 2);
      const own = item.options.map((o) => o.code);
      const inherited = item.optionsFrom ? item.optionsFrom.options.filter((o) => !o.def.exclusive && !o.def.nonSubstantive).map((o) => o.code) : [];
      for (const code of [...inherited, ...own]) entry('option', `${item.id}.${code}`, 2);
    }
  }

  const stuck = new Map<string, { respondents: number; example: string }>();
  const constrained = new Map<string, { tried: number; valid: number; failures: Map<string, number> }>();
  for (const item of q.items.values()) if (isConstrained(item)) constrained.set(item.id, { tried: 0, valid: 0, failures: new Map() });
  let completed = 0;
  let counted = 0;
  let brokenOff = 0;
  const countingPage = q.countingItem.block.index;

  for (let r = 0; r < options.respondents; r++) {
    const sample = randomSample(q, pick);
    let answers: Answers = {};
    let reached = -1;
    let finished = true;
    for (const block of q.blocks) {
      const env = environment(q, answers, sample);
      if (!blockShown(block, env)) continue;
      reached = block.index;
      entry('block', block.id, 0).shown++;
      const items = shownItems(block, env);
      for (const item of items) {
        entry('item', item.id, 1).shown++;
        for (const o of visibleOptions(item, env)) entry('option', `${item.id}.${o.code}`, 2).shown++;
        if (item.type === 'grid') for (const m of visibleMembers(item, env)) entry('row', `${item.id}.${m.code}`, 2).shown++;
      }
      if (random() < breakOffRate) {
        finished = false;
        brokenOff++;
        break;
      }
      const page: Answers = {};
      for (const item of items) {
        if (item.type === 'display') continue;
        let errors: ValidationError[] = [];
        let skipped = false;
        for (let attempt = 0; attempt < 40; attempt++) {
          clearItem(page, item);
          if (!item.required && random() < skipRate) {
            skipped = true;
            break;
          }
          Object.assign(page, answerFor(item, env, random, int, pick));
          const after = environment(q, { ...answers, ...page }, sample);
          errors = validateQuestion(item, page, env, after);
          if (errors.length === 0) break;
        }
        const stats = constrained.get(item.id);
        if (stats && !skipped) {
          stats.tried++;
          if (errors.length === 0) stats.valid++;
          for (const reason of new Set(errors.map(reasonOf))) stats.failures.set(reason, (stats.failures.get(reason) ?? 0) + 1);
        }
        if (errors.length > 0) {
          clearItem(page, item);
          if (item.required) {
            const s = stuck.get(item.id) ?? { respondents: 0, example: errors.map(reasonOf).join('; ') };
            s.respondents++;
            stuck.set(item.id, s);
          }
        }
        const chosen = page[item.id];
        for (const code of chosenCodes(chosen)) {
          const e = entries.get(`option:${item.id}.${code}`);
          if (e) e.chosen!++;
        }
      }
      // The server prunes answers after every page; simulated respondents never go back, and
      // they only answer what is shown, so pruning would change nothing (a test checks this).
      answers = { ...answers, ...page };
    }
    if (finished) completed++;
    if (reached >= countingPage) counted++;
    options.onRespondent?.({ answers, sample, completed: finished, counted: reached >= countingPage });
  }

  const coverage = [...entries.values()];
  return {
    respondents: options.respondents,
    completed,
    counted,
    brokenOff,
    coverage,
    neverShown: coverage.filter((e) => e.shown === 0),
    stuck: [...stuck].map(([item, s]) => ({ item, ...s })),
    constrained: [...constrained].map(([item, c]) => ({
      item,
      tried: c.tried,
      valid: c.valid,
      failures: [...c.failures].map(([reason, respondents]) => ({ reason, respondents })).sort((a, b) => b.respondents - a.respondents),
    })),
  };
}

function randomSample(q: Questionnaire, pick: <T>(list: readonly T[]) => T): SampleValues {
  const sample: SampleValues = {};
  for (const field of q.sample.values()) {
    sample[field.id] = field.options.length > 0 ? pick(field.options).code : `${field.id} 1`;
  }
  return sample;
}

function clearItem(page: Answers, item: CompiledItem): void {
  for (const key of Object.keys(page)) if (key === item.id || key.startsWith(`${item.id}.`)) delete page[key];
}

function chosenCodes(v: Value | undefined): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return [...v];
  if (v && typeof v === 'object') return Object.values(v).flatMap((c) => (typeof c === 'string' ? [c] : Array.isArray(c) ? [...c] : []));
  return [];
}

function answerFor(
  item: CompiledItem,
  env: ReturnType<typeof environment>,
  random: () => number,
  int: (lo: number, hi: number) => number,
  pick: <T>(list: readonly T[]) => T,
): Answers {
  const d = item.def;
  const options = visibleOptions(item, env);
  const out: Answers = {};
  const otherTexts = (codes: readonly string[]): void => {
    for (const o of options) if (o.def.other && codes.includes(o.code)) out[`${item.id}.${o.code}`] = `anders ${int(1, 99)}`;
  };
  const chooseSeveral = (opts: readonly VisibleOption[], min = 1, max = Infinity): string[] => {
    const exclusive = opts.filter((o) => o.def.exclusive);
    const free = opts.filter((o) => !o.def.exclusive);
    if (exclusive.length > 0 && (free.length === 0 || random() < 0.25)) return [pick(exclusive).code];
    let chosen = free.filter(() => random() < 0.4).map((o) => o.code);
    while (chosen.length < Math.min(min, free.length)) {
      const extra = pick(free).code;
      if (!chosen.includes(extra)) chosen.push(extra);
    }
    if (chosen.length > max) chosen = chosen.slice(0, max);
    return chosen;
  };
  switch (d.type) {
    case 'display':
      break;
    case 'single': {
      const code = pick(options).code;
      out[item.id] = code;
      otherTexts([code]);
      break;
    }
    case 'multi': {
      const codes = chooseSeveral(options, d.minSelected ?? 1, d.maxSelected);
      out[item.id] = codes;
      otherTexts(codes);
      break;
    }
    case 'grid': {
      const record: { [row: string]: Value } = {};
      for (const row of visibleMembers(item, env)) {
        if (!item.required && random() < 0.03) continue;
        record[row.code] = d.multiple ? chooseSeveral(options) : pick(options).code;
      }
      if (Object.keys(record).length > 0) out[item.id] = record;
      break;
    }
    case 'scale':
      out[item.id] = options.length > 0 && random() < 0.1 ? pick(options).code : int(d.min, d.max);
      break;
    case 'open':
      out[item.id] = d.boxes
        ? Object.fromEntries(d.boxes.map((b, i) => [b.code, `woord ${i + 1}`]))
        : d.multiline
          ? `antwoord ${int(1, 999)}\nop een tweede regel`
          : `antwoord ${int(1, 999)}`;
      break;
    case 'number': {
      const lo = d.min ?? 0;
      const hi = d.max ?? lo + 20;
      out[item.id] = int(Math.ceil(lo), Math.floor(hi));
      break;
    }
    case 'split': {
      const lo = d.min ?? 0;
      const hi = Math.min(d.max ?? lo + 5, lo + 5);
      out[item.id] = Object.fromEntries(d.parts.map((p) => [p.code, int(lo, hi)]));
      break;
    }
    case 'ranking': {
      const codes = options.map((o) => o.code);
      for (let i = codes.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [codes[i], codes[j]] = [codes[j]!, codes[i]!];
      }
      out[item.id] = codes.slice(0, Math.min(d.pick, codes.length));
      break;
    }
    case 'date': {
      const lo = Date.parse(`${d.min ?? '2024-01-01'}T00:00:00Z`);
      const hi = Date.parse(`${d.max ?? '2024-12-31'}T00:00:00Z`);
      out[item.id] = new Date(lo + Math.floor(random() * ((hi - lo) / 864e5 + 1)) * 864e5).toISOString().slice(0, 10);
      break;
    }
  }
  return out;
}
