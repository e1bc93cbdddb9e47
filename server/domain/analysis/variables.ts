// The export's variables: stable names from question and option codes, coded values, value
// labels, and distinct missing-value codes. One function lists the variables of a questionnaire,
// another codes one response into a row; the CSV, the codebook, the SPSS syntax and the topline
// all read these, so they agree by design.
//
// Coding:
//   single / grid cell   the option's position in the question (1, 2, ...), as labelled
//   multi                one 0/1 variable per option (Q6_a)
//   ranking              one variable per option: its place (1..N) or 0 when not chosen
//   scale                the number itself; extra answers beside the scale get codes above max
//   number, split        the number (split: one variable per part)
//   open, date, strata   text ("anders, namelijk" texts: Q6_anders_text)
//   derived              numbers, 1/0 for true/false, case positions for case lists
// Missing values (all negative, so SPSS can declare LOWEST THRU -1):
//   -1 not asked (routed away)   -2 no answer   -3 not reached (break-off)
//   -9, -8, ... non-substantive options such as "weet niet", in the order the question lists them

import { environment, itemShown, inheritedOptions, textIn, visibleMembers, visibleOptions, type Answers, type CompiledBlock, type CompiledItem, type OptionDef, type Questionnaire, type TextValue } from '../questionnaire/index.ts';
import { derivedValue } from '../questionnaire/runtime.ts';
import { test as evaluateCondition, type Environment, type Value } from '../expression/index.ts';
import type { BoundExpression } from '../expression/bind.ts';
import { describeCondition, pipesInWords } from './describe.ts';

export const NOT_ASKED = -1;
export const NO_ANSWER = -2;
export const NOT_REACHED = -3;
/** The first non-substantive option of a question is coded -9, the next -8, and so on. */
export const FIRST_NON_SUBSTANTIVE = -9;

const MISSING_LABELS: Record<string, Record<number, string>> = {
  nl: { [NOT_ASKED]: 'niet gevraagd (routing)', [NO_ANSWER]: 'geen antwoord', [NOT_REACHED]: 'niet bereikt (afgebroken)' },
  en: { [NOT_ASKED]: 'not asked (routed away)', [NO_ANSWER]: 'no answer', [NOT_REACHED]: 'not reached (break-off)' },
};

export type Cell = number | string | null;

export interface ValueLabel {
  value: number;
  label: string;
  /** A missing-value code (negative). */
  missing?: boolean;
}

export interface Variable {
  name: string;
  label: string;
  kind: 'numeric' | 'text';
  /** Decimals a numeric variable may hold. */
  decimals: number;
  values: ValueLabel[];
  source: 'status' | 'stratum' | 'weight' | 'question' | 'other-text' | 'derived';
  /** The question (or derived variable) the variable comes from. */
  item?: string;
  /** Question type, for the codebook. */
  type?: string;
  /** When the question is asked, in words (page and question conditions). */
  asked?: string;
  /** For choice questions: the option or row this variable stands for. */
  member?: string;
}

/** One response as the export sees it. */
export interface ResponseRecord {
  answers: Answers;
  strata: Record<string, string>;
  status: 'complete' | 'partial';
  /** Partial responses: the first page never submitted. */
  reachedPage: number | null;
}

export class ExportError extends Error {}

interface Plan {
  variable: Variable;
  code: (r: Context) => Cell;
}

interface Context {
  record: ResponseRecord;
  env: Environment;
  /** Whether the item's page was reached, and whether the item was shown. */
  state: (item: CompiledItem) => 'reached' | 'not-reached' | 'not-asked';
}

export interface ExportSchema {
  variables: Variable[];
  code: (record: ResponseRecord, weight: number | null) => Cell[];
}

/** Every option of a choice question with its code value (position, or negative if non-substantive). */
export function codedOptions(item: CompiledItem): { code: string; def: OptionDef; value: number }[] {
  const all: OptionDef[] = [...(item.optionsFrom ? inheritedOptions(item.optionsFrom) : []), ...item.options.map((o) => o.def)];
  let position = 0;
  let nonSubstantive = FIRST_NON_SUBSTANTIVE;
  const scaleBase = item.def.type === 'scale' ? item.def.max : 0;
  return all.map((def) => ({ code: def.code, def, value: def.nonSubstantive ? nonSubstantive++ : scaleBase + ++position }));
}

export function exportSchema(q: Questionnaire, options: { carry: readonly string[]; weighted: boolean; lang?: string }): ExportSchema {
  const lang = options.lang ?? 'nl';
  const text = (t: TextValue): string => plain(pipesInWords(q, textIn(t, lang), lang));
  const missing = MISSING_LABELS[lang] ?? MISSING_LABELS.nl!;
  const missingLabels = (codes: number[]): ValueLabel[] => codes.map((value) => ({ value, label: missing[value]!, missing: true }));
  const STANDARD = [NOT_ASKED, NO_ANSWER, NOT_REACHED];
  const plans: Plan[] = [];

  plans.push({
    variable: { name: 'status', label: lang === 'en' ? 'Response status' : 'Status van de respons', kind: 'numeric', decimals: 0, values: [{ value: 1, label: lang === 'en' ? 'complete' : 'volledig' }, { value: 2, label: lang === 'en' ? 'partial' : 'gedeeltelijk' }], source: 'status' },
    code: (c) => (c.record.status === 'complete' ? 1 : 2),
  });
  if (options.weighted) {
    plans.push({ variable: { name: 'weight', label: lang === 'en' ? 'Weight (post-stratification)' : 'Weegfactor (poststratificatie)', kind: 'numeric', decimals: 6, values: [], source: 'weight' }, code: () => null });
  }
  for (const field of options.carry) {
    const def = q.sample.get(field);
    plans.push({
      variable: { name: field, label: def ? text(def.def.label) : field, kind: 'text', decimals: 0, values: [], source: 'stratum' },
      code: (c) => c.record.strata[field] ?? null,
    });
  }

  /** When a variable was asked, in words: the page's and question's conditions, and the option's or row's own. */
  const conditionWords = (item: CompiledItem, own?: BoundExpression): string | undefined => {
    const parts = [item.block.showIf, item.showIf, own].filter((c) => c !== undefined).map((c) => describeCondition(q, c.tree, lang));
    if (item.optionsFrom) parts.push(lang === 'en' ? `${item.optionsFrom.id} has an answer (options are those ticked there)` : `${item.optionsFrom.id} is beantwoord (de antwoorden zijn die daar zijn aangekruist)`);
    return parts.length > 0 ? parts.join(lang === 'en' ? ' and ' : ' en ') : undefined;
  };

  for (const item of q.questions) {
    const base = { source: 'question' as const, item: item.id, type: item.type, asked: conditionWords(item) };
    const question = text(item.def.text);
    const d = item.def;
    // Codes the whole question's state: not reached, not asked, no answer; else undefined.
    const gate = (c: Context): number | undefined => {
      const state = c.state(item);
      if (state === 'not-reached') return NOT_REACHED;
      if (state === 'not-asked') return NOT_ASKED;
      const v = c.record.answers[item.id];
      return v === undefined || v === null ? NO_ANSWER : undefined;
    };
    const answer = (c: Context): Value => c.record.answers[item.id] ?? null;
    const numeric = (name: string, label: string, values: ValueLabel[], code: (c: Context) => Cell, extra: Partial<Variable> = {}): void => {
      plans.push({ variable: { ...base, name, label, kind: 'numeric', decimals: 0, values: [...values, ...missingLabels(STANDARD)], ...extra }, code });
    };
    const textVar = (name: string, label: string, code: (c: Context) => Cell, extra: Partial<Variable> = {}): void => {
      plans.push({ variable: { ...base, name, label, kind: 'text', decimals: 0, values: [], ...extra }, code });
    };
    const otherTexts = (): void => {
      for (const o of codedOptions(item).filter((o) => o.def.other)) {
        textVar(`${item.id}_${o.code}_text`, `${question}: ${text(o.def.label)}`, (c) => {
          const v = c.record.answers[`${item.id}.${o.code}`];
          return typeof v === 'string' ? v : null;
        }, { source: 'other-text', member: o.code });
      }
    };
    const optionValueLabels = (): ValueLabel[] => codedOptions(item).map((o) => ({ value: o.value, label: text(o.def.label), ...(o.def.nonSubstantive ? { missing: true } : {}) }));

    switch (d.type) {
      case 'single': {
        const coded = codedOptions(item);
        numeric(item.id, question, optionValueLabels(), (c) => gate(c) ?? coded.find((o) => o.code === answer(c))?.value ?? NO_ANSWER);
        otherTexts();
        break;
      }
      case 'multi':
      case 'ranking': {
        const isRanking = d.type === 'ranking';
        for (const o of codedOptions(item)) {
          const labels: ValueLabel[] = isRanking
            ? [{ value: 0, label: lang === 'en' ? 'not chosen' : 'niet gekozen' }, ...Array.from({ length: d.pick }, (_, i) => ({ value: i + 1, label: lang === 'en' ? `place ${i + 1}` : `plaats ${i + 1}` }))]
            : [{ value: 0, label: lang === 'en' ? 'not ticked' : 'niet aangekruist' }, { value: 1, label: lang === 'en' ? 'ticked' : 'aangekruist' }];
          numeric(`${item.id}_${o.code}`, `${question}: ${text(o.def.label)}`, labels, (c) => {
            const gated = gate(c);
            if (gated !== undefined) return gated;
            if (!visibleOptions(item, c.env).some((v) => v.code === o.code)) return NOT_ASKED;
            const picked = answer(c);
            const at = Array.isArray(picked) ? picked.indexOf(o.code) : -1;
            return isRanking ? at + 1 : at >= 0 ? 1 : 0;
          }, { member: o.code, asked: conditionWords(item, item.options.find((x) => x.code === o.code)?.showIf) });
        }
        otherTexts();
        break;
      }
      case 'grid': {
        const columns = codedOptions(item);
        for (const row of item.members) {
          const cellOf = (c: Context): Value | undefined => {
            const v = answer(c);
            return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as { [k: string]: Value })[row.code] : undefined;
          };
          const rowState = (c: Context): number | undefined => {
            const gated = gate(c);
            if (gated === NOT_REACHED || gated === NOT_ASKED) return gated;
            if (!visibleMembers(item, c.env).some((m) => m.code === row.code)) return NOT_ASKED;
            const v = cellOf(c);
            return v === undefined || v === null || (Array.isArray(v) && v.length === 0) ? NO_ANSWER : undefined;
          };
          if (d.multiple) {
            for (const col of columns) {
              numeric(`${item.id}_${row.code}_${col.code}`, `${question}: ${text(row.label)}: ${text(col.def.label)}`, [{ value: 0, label: lang === 'en' ? 'not ticked' : 'niet aangekruist' }, { value: 1, label: lang === 'en' ? 'ticked' : 'aangekruist' }], (c) => {
                const state = rowState(c);
                if (state !== undefined) return state;
                const v = cellOf(c);
                return Array.isArray(v) && v.includes(col.code) ? 1 : 0;
              }, { member: `${row.code}.${col.code}`, asked: conditionWords(item, row.showIf) });
            }
          } else {
            numeric(`${item.id}_${row.code}`, `${question}: ${text(row.label)}`, optionValueLabels(), (c) => rowState(c) ?? columns.find((o) => o.code === cellOf(c))?.value ?? NO_ANSWER, { member: row.code, asked: conditionWords(item, row.showIf) });
          }
        }
        break;
      }
      case 'scale': {
        const extras = codedOptions(item);
        const ends: ValueLabel[] = [];
        if (d.minLabel) ends.push({ value: d.min, label: text(d.minLabel) });
        if (d.maxLabel) ends.push({ value: d.max, label: text(d.maxLabel) });
        numeric(item.id, question, [...ends, ...optionValueLabels()], (c) => {
          const gated = gate(c);
          if (gated !== undefined) return gated;
          const v = answer(c);
          return typeof v === 'number' ? v : (extras.find((o) => o.code === v)?.value ?? NO_ANSWER);
        });
        break;
      }
      case 'number':
        if (d.min === undefined || d.min < 0) {
          // The answer itself may be negative, so missing codes would collide with answers:
          // every kind of missing is left empty (system-missing) instead.
          plans.push({ variable: { ...base, name: item.id, label: question, kind: 'numeric', decimals: d.decimals ? 4 : 0, values: [] }, code: (c) => (gate(c) === undefined && typeof answer(c) === 'number' ? (answer(c) as number) : null) });
        } else {
          numeric(item.id, question, [], (c) => gate(c) ?? (typeof answer(c) === 'number' ? (answer(c) as number) : NO_ANSWER), { decimals: d.decimals ? 4 : 0 });
        }
        break;
      case 'split':
        for (const part of item.members) {
          numeric(`${item.id}_${part.code}`, `${question}: ${text(part.label)}`, [], (c) => {
            const gated = gate(c);
            if (gated !== undefined) return gated;
            const v = (answer(c) as { [k: string]: Value })[part.code];
            return typeof v === 'number' ? v : NO_ANSWER;
          }, { member: part.code, decimals: d.decimals ? 4 : 0 });
        }
        break;
      case 'open':
        if (item.members.length > 0) {
          for (const box of item.members) {
            textVar(`${item.id}_${box.code}`, `${question}: ${text(box.label)}`, (c) => {
              const v = answer(c);
              const s = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as { [k: string]: Value })[box.code] : null;
              return typeof s === 'string' ? s : null;
            }, { member: box.code });
          }
        } else {
          textVar(item.id, question, (c) => (typeof answer(c) === 'string' ? (answer(c) as string) : null));
        }
        break;
      case 'date':
        textVar(item.id, question, (c) => (typeof answer(c) === 'string' ? (answer(c) as string) : null));
        break;
    }
  }

  for (const d of q.derived.values()) {
    const label = d.def.label ? text(d.def.label) : d.id;
    const cases = d.cases ? [...new Set(d.cases.map((c) => c.value))] : undefined;
    const values: ValueLabel[] = cases
      ? cases.map((value, i) => ({ value: i + 1, label: text(d.cases!.find((c) => c.value === value)!.label) }))
      : d.type.kind === 'bool'
        ? [{ value: 0, label: lang === 'en' ? 'no' : 'nee' }, { value: 1, label: lang === 'en' ? 'yes' : 'ja' }]
        : [];
    plans.push({
      variable: { name: d.id, label, kind: 'numeric', decimals: d.type.kind === 'number' ? 4 : 0, values, source: 'derived', item: d.id, type: 'derived' },
      code: (c) => {
        const v = derivedValue(d, c.env);
        if (cases) return typeof v === 'string' ? cases.indexOf(v) + 1 : null;
        if (typeof v === 'boolean') return v ? 1 : 0;
        return typeof v === 'number' && Number.isFinite(v) ? v : null;
      },
    });
  }

  const seen = new Map<string, Variable>();
  for (const { variable } of plans) {
    const earlier = seen.get(variable.name);
    if (earlier) throw new ExportError(`two variables would be called "${variable.name}" (${describeSource(earlier)} and ${describeSource(variable)}); rename one of the codes`);
    seen.set(variable.name, variable);
  }

  const weightIndex = plans.findIndex((p) => p.variable.source === 'weight');
  return {
    variables: plans.map((p) => p.variable),
    code(record, weight) {
      const env = environment(q, record.answers, record.strata);
      const blockShown = new Map<CompiledBlock, boolean>();
      const state = (item: CompiledItem): 'reached' | 'not-reached' | 'not-asked' => {
        if (record.reachedPage !== null && item.block.index >= record.reachedPage) return 'not-reached';
        if (!blockShown.has(item.block)) blockShown.set(item.block, !item.block.showIf || evaluateCondition(item.block.showIf.tree, env));
        return blockShown.get(item.block) && itemShown(item, env) ? 'reached' : 'not-asked';
      };
      const context: Context = { record, env, state };
      const row = plans.map((p) => p.code(context));
      if (weightIndex >= 0) row[weightIndex] = weight;
      return row;
    },
  };
}

function describeSource(v: Variable): string {
  return v.member ? `${v.item} / ${v.member}` : (v.item ?? v.source);
}

/** Labels are one line: question texts may span several. */
function plain(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
