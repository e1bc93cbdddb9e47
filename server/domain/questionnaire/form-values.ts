// Between HTML form fields and answers, for the page flow (usecases/page-flow.ts) and the pages
// that show them. Field names: the item id (single, multi, scale, open, number, date),
// `<item>.<row>` (grid), `<item>.<box|part>` (boxes, split), `<item>.<option>` (the text of an
// "other" option, or the place of an option in a ranking).
//
// Pages are re-rendered from form values, not from answers, so that after an error the
// respondent sees exactly what they typed, including a number that was not a number.

import type { Value } from '../expression/index.ts';
import type { CompiledItem } from './model.ts';
import type { Answers } from './runtime.ts';
import type { ValidationError } from './validate.ts';

export type FormValues = Record<string, string[]>;

/** A parsed urlencoded body as plain string lists; anything else is ignored. */
export function bodyToForm(body: unknown): FormValues {
  const form: FormValues = {};
  if (body === null || typeof body !== 'object') return form;
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    const list = Array.isArray(value) ? value : [value];
    form[key] = list.filter((v): v is string => typeof v === 'string');
  }
  return form;
}

const first = (form: FormValues, name: string): string => (form[name]?.[0] ?? '').trim();

/**
 * A typed text as the answer holds it. A one-line box (an input) cannot hold a line break or a
 * control character in a browser, so whatever client sends one gets a space instead (NUL and its
 * kin go); a text area keeps its line breaks, as \n.
 */
export function typedText(text: string, multiline: boolean): string {
  const breaks = /\r\n|[\r\n\u0085\u2028\u2029\v\f]/g;
  const cleaned = (multiline ? text.replace(breaks, '\n') : text.replace(breaks, ' ').replace(/\t/g, ' ')).replace(/[\u0000-\u0008\u000e-\u001f\u007f]/g, '');
  return cleaned.trim();
}
const typed = (form: FormValues, name: string, multiline: boolean): string => typedText(first(form, name), multiline);

function parseNumber(raw: string): number | string | null {
  if (raw === '') return null;
  const normalized = raw.replace(/\s/g, '').replace(',', '.');
  const n = /^[-+]?(\d+\.?\d*|\.\d+)$/.test(normalized) ? Number(normalized) : Number.NaN;
  return Number.isFinite(n) ? n : raw;
}

/** Accepts 2024-06-03 (date inputs) and 3-6-2024 or 03/06/2024 (typed by hand). */
function parseDate(raw: string): string | null {
  if (raw === '') return null;
  const dmy = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/.exec(raw);
  if (dmy) return `${dmy[3]}-${dmy[2]!.padStart(2, '0')}-${dmy[1]!.padStart(2, '0')}`;
  return raw;
}

export function formToAnswers(items: CompiledItem[], form: FormValues): { answers: Answers; errors: ValidationError[] } {
  const answers: Answers = {};
  const errors: ValidationError[] = [];
  const set = (key: string, value: Value | undefined): void => {
    if (value !== null && value !== undefined && value !== '') answers[key] = value;
  };
  for (const item of items) {
    const id = item.id;
    const d = item.def;
    switch (d.type) {
      case 'display':
        break;
      case 'single':
        set(id, first(form, id));
        break;
      case 'multi': {
        const ticked = (form[id] ?? []).filter((v) => v !== '');
        if (ticked.length > 0) answers[id] = ticked;
        break;
      }
      case 'grid': {
        const record: Record<string, Value> = {};
        for (const row of item.members) {
          const values = (form[`${id}.${row.code}`] ?? []).filter((v) => v !== '');
          if (values.length === 0) continue;
          record[row.code] = d.multiple ? values : values[0]!;
        }
        if (Object.keys(record).length > 0) answers[id] = record;
        break;
      }
      case 'scale': {
        const raw = first(form, id);
        set(id, /^-?\d+$/.test(raw) ? Number(raw) : raw);
        break;
      }
      case 'open':
        if (d.boxes) {
          const record: Record<string, Value> = {};
          for (const box of item.members) {
            const text = typed(form, `${id}.${box.code}`, false);
            if (text !== '') record[box.code] = text;
          }
          if (Object.keys(record).length > 0) answers[id] = record;
        } else {
          set(id, typed(form, id, d.multiline === true));
        }
        break;
      case 'number':
        set(id, parseNumber(first(form, id)));
        break;
      case 'split': {
        const parts = item.members.map((p) => [p.code, parseNumber(first(form, `${id}.${p.code}`))] as const);
        if (parts.some(([, v]) => v !== null)) answers[id] = Object.fromEntries(parts);
        break;
      }
      case 'ranking': {
        const places = item.options
          .map((o) => ({ code: o.code, place: Number(first(form, `${id}.${o.code}`)) }))
          .filter((p) => Number.isInteger(p.place) && p.place > 0);
        if (places.length === 0) break;
        if (new Set(places.map((p) => p.place)).size !== places.length) {
          errors.push({ field: id, code: 'rankingDuplicate' });
          break;
        }
        answers[id] = places.sort((a, b) => a.place - b.place).map((p) => p.code);
        break;
      }
      case 'date':
        set(id, parseDate(first(form, id)));
        break;
    }
    for (const option of item.options) {
      if (option.def.other) set(`${id}.${option.code}`, typed(form, `${id}.${option.code}`, false));
    }
  }
  return { answers, errors };
}

export function answersToForm(items: CompiledItem[], answers: Answers): FormValues {
  const form: FormValues = {};
  const put = (name: string, value: Value | undefined): void => {
    if (value === null || value === undefined) return;
    form[name] = Array.isArray(value) ? value.map(String) : [String(value)];
  };
  for (const item of items) {
    const id = item.id;
    const value = answers[id];
    const record = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, Value>) : undefined;
    switch (item.type) {
      case 'grid':
      case 'split':
        for (const m of item.members) put(`${id}.${m.code}`, record?.[m.code]);
        break;
      case 'open':
        if (record) for (const m of item.members) put(`${id}.${m.code}`, record[m.code]);
        else put(id, value);
        break;
      case 'ranking':
        if (Array.isArray(value)) value.forEach((code, i) => put(`${id}.${code}`, i + 1));
        break;
      case 'number':
        put(id, typeof value === 'number' ? String(value).replace('.', ',') : value);
        break;
      default:
        put(id, value);
    }
    for (const option of item.options) if (option.def.other) put(`${id}.${option.code}`, answers[`${id}.${option.code}`]);
  }
  return form;
}
