// Validation of the answers submitted on one page, exactly as the server accepts them. Errors are
// codes with parameters, so the respondent reads them in their own language (see messages.ts).

import { isAnswered, test, type Environment, type Value } from '../expression/index.ts';
import type { CompiledBlock, CompiledItem, Questionnaire } from './model.ts';
import { environment, shownItems, visibleMembers, visibleOptions, type Answers, type SampleValues } from './runtime.ts';
import type { TextValue } from './schema.ts';

export type ValidationCode =
  | 'required'
  | 'requiredRow'
  | 'invalidOption'
  | 'exclusive'
  | 'minSelected'
  | 'maxSelected'
  | 'otherTextMissing'
  | 'tooLong'
  | 'notANumber'
  | 'notWhole'
  | 'belowMin'
  | 'aboveMax'
  | 'invalidDate'
  | 'dateBefore'
  | 'dateAfter'
  | 'rankingCount'
  | 'rankingDuplicate'
  | 'rule';

export interface ValidationError {
  /** The item id, or `<item>.<row|part|box|option>` for a part of it. */
  field: string;
  code: ValidationCode;
  params?: { [name: string]: string | number };
  /** The author's message, for failed rules. */
  message?: TextValue;
}

export const DEFAULT_MAX_LENGTH = { short: 200, long: 2000 } as const;

function isRecord(v: Value): v is { readonly [k: string]: Value } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const isIsoDate = (s: string): boolean => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
};

/**
 * Validates the answers given on `block`. `previous` holds the answers of earlier pages; the
 * page's own answers are in `submitted`. Returns every error; an empty list means accepted.
 */
export function validatePage(
  q: Questionnaire,
  block: CompiledBlock,
  submitted: Answers,
  previous: Answers,
  sample: SampleValues,
): ValidationError[] {
  const before = environment(q, previous, sample);
  const after = environment(q, { ...previous, ...submitted }, sample);
  return shownItems(block, before).flatMap((item) => validateQuestion(item, submitted, before, after));
}

/**
 * Validates one shown question: its own constraints first, then (if those hold and it is
 * answered) the author's rules. `before` sees earlier pages; `after` also this page's answers.
 */
export function validateQuestion(item: CompiledItem, submitted: Answers, before: Environment, after: Environment): ValidationError[] {
  if (item.type === 'display') return [];
  const errors = validateItem(item, submitted, before);
  if (errors.length > 0 || !isAnswered(submitted[item.id] ?? null)) return errors;
  return item.rules.filter((rule) => !test(rule.assert.tree, after)).map((rule) => ({ field: item.id, code: 'rule', message: rule.message }));
}

function validateItem(item: CompiledItem, answers: Answers, env: Environment): ValidationError[] {
  const value = answers[item.id] ?? null;
  const errors: ValidationError[] = [];
  const fail = (code: ValidationCode, params?: ValidationError['params'], field = item.id): ValidationError[] => {
    errors.push(params ? { field, code, params } : { field, code });
    return errors;
  };
  const d = item.def;
  if (!isAnswered(value)) {
    if (item.required) {
      if (d.type === 'grid' || d.type === 'split' || (d.type === 'open' && d.boxes)) {
        // Point at the first part so the error summary links to a real field.
        const first = d.type === 'grid' ? visibleMembers(item, env)[0] : item.members[0];
        return fail('required', undefined, first ? `${item.id}.${first.code}` : item.id);
      }
      return fail('required');
    }
    return errors;
  }
  const options = visibleOptions(item, env);
  const optionCodes = options.map((o) => o.code);
  const checkOtherText = (codes: readonly string[]): void => {
    for (const o of options) {
      if (!o.def.other || !codes.includes(o.code)) continue;
      const text = answers[`${item.id}.${o.code}`];
      if (typeof text !== 'string' || text.trim() === '') fail('otherTextMissing', { option: o.code }, `${item.id}.${o.code}`);
      else if (text.length > DEFAULT_MAX_LENGTH.short) fail('tooLong', { max: DEFAULT_MAX_LENGTH.short }, `${item.id}.${o.code}`);
    }
  };
  const checkNumber = (v: Value, field: string, min: number | undefined, max: number | undefined, decimals: boolean | undefined): void => {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail('notANumber', undefined, field);
    else if (!decimals && !Number.isInteger(v)) fail('notWhole', undefined, field);
    else if (min !== undefined && v < min) fail('belowMin', { min }, field);
    else if (max !== undefined && v > max) fail('aboveMax', { max }, field);
  };

  switch (d.type) {
    case 'display':
      return errors;
    case 'single':
      if (typeof value !== 'string' || !optionCodes.includes(value)) return fail('invalidOption');
      checkOtherText([value]);
      return errors;
    case 'multi': {
      if (!Array.isArray(value) || value.some((c) => !optionCodes.includes(c)) || new Set(value).size !== value.length) return fail('invalidOption');
      const exclusive = options.find((o) => o.def.exclusive && value.includes(o.code));
      if (exclusive && value.length > 1) return fail('exclusive', { option: exclusive.code });
      if (!exclusive && d.minSelected !== undefined && value.length < d.minSelected) return fail('minSelected', { min: d.minSelected });
      if (d.maxSelected !== undefined && value.length > d.maxSelected) return fail('maxSelected', { max: d.maxSelected });
      checkOtherText(value);
      return errors;
    }
    case 'grid': {
      if (!isRecord(value)) return fail('invalidOption');
      const rows = visibleMembers(item, env);
      const rowCodes = rows.map((r) => r.code);
      if (Object.keys(value).some((k) => !rowCodes.includes(k))) return fail('invalidOption');
      for (const row of rows) {
        const field = `${item.id}.${row.code}`;
        const cell = value[row.code] ?? null;
        if (!isAnswered(cell)) {
          if (item.required) fail('requiredRow', undefined, field);
          continue;
        }
        if (d.multiple) {
          if (!Array.isArray(cell) || cell.some((c) => !optionCodes.includes(c))) fail('invalidOption', undefined, field);
          else {
            const exclusive = options.find((o) => o.def.exclusive && cell.includes(o.code));
            if (exclusive && cell.length > 1) fail('exclusive', { option: exclusive.code }, field);
          }
        } else if (typeof cell !== 'string' || !optionCodes.includes(cell)) fail('invalidOption', undefined, field);
      }
      return errors;
    }
    case 'scale':
      if (typeof value === 'string') {
        if (!optionCodes.includes(value)) fail('invalidOption');
        return errors;
      }
      checkNumber(value, item.id, d.min, d.max, false);
      return errors;
    case 'open': {
      const max = d.maxLength ?? (d.multiline ? DEFAULT_MAX_LENGTH.long : DEFAULT_MAX_LENGTH.short);
      if (d.boxes) {
        if (!isRecord(value)) return fail('invalidOption');
        for (const box of item.members) {
          const text = value[box.code];
          if (text === undefined || text === null) continue;
          if (typeof text !== 'string') fail('invalidOption', undefined, `${item.id}.${box.code}`);
          else if (text.length > max) fail('tooLong', { max }, `${item.id}.${box.code}`);
        }
        return errors;
      }
      if (typeof value !== 'string') return fail('invalidOption');
      if (value.length > max) fail('tooLong', { max });
      return errors;
    }
    case 'number':
      checkNumber(value, item.id, d.min, d.max, d.decimals);
      return errors;
    case 'split': {
      if (!isRecord(value)) return fail('invalidOption');
      for (const part of item.members) {
        const v = value[part.code] ?? null;
        const field = `${item.id}.${part.code}`;
        // A split is answered as a whole: every part gets a number (0 when none).
        if (v === null) fail('required', undefined, field);
        else checkNumber(v, field, d.min ?? 0, d.max, d.decimals);
      }
      return errors;
    }
    case 'ranking': {
      if (!Array.isArray(value) || value.some((c) => !optionCodes.includes(c))) return fail('invalidOption');
      if (new Set(value).size !== value.length) return fail('rankingDuplicate');
      const needed = Math.min(d.pick, optionCodes.length);
      if (value.length !== needed) return fail('rankingCount', { count: needed });
      return errors;
    }
    case 'date':
      if (typeof value !== 'string' || !isIsoDate(value)) return fail('invalidDate');
      if (d.min && value < d.min) return fail('dateBefore', { min: d.min });
      if (d.max && value > d.max) return fail('dateAfter', { max: d.max });
      return errors;
  }
}
