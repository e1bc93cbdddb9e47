// The view model of a questionnaire page: what each template needs, computed from the domain
// (what is shown, piped texts, visible options) and the form values (what the respondent chose
// or typed). Templates only print it.

import Handlebars from 'handlebars';
import type { Environment } from '../../domain/expression/index.ts';
import {
  renderText,
  shownItems,
  validationMessage,
  visibleMembers,
  visibleOptions,
  type CompiledBlock,
  type CompiledItem,
  type Questionnaire,
  type TextValue,
  type ValidationError,
} from '../../domain/questionnaire/index.ts';
import type { UiText } from '../../i18n/ui.ts';
import type { FormValues } from '../../domain/questionnaire/form-values.ts';

export interface PageContext {
  q: Questionnaire;
  block: CompiledBlock;
  env: Environment;
  form: FormValues;
  errors: ValidationError[];
  lang: string;
  ui: UiText;
  /** The questions to show, when not those the page's routing shows (the preview of a page jumped to). */
  items?: CompiledItem[];
}

const escape = (s: string): string => Handlebars.Utils.escapeExpression(s);

/** Author texts allow **bold** and line breaks; everything else is escaped (piped answers too). */
/** Stands in for "*" in piped values while the author's markup is read (a private-use character). */
const LITERAL_STAR = '\uE000';

/** Keeps a piped value literal in richText: a respondent's **x** is shown as typed, not bold. */
export const literalPiped = (value: string): string => value.replaceAll('*', LITERAL_STAR);

/** The author's text as HTML: escaped, **bold**, line breaks; what literalPiped marked stays as typed. */
export function richText(s: string): Handlebars.SafeString {
  return new Handlebars.SafeString(
    escape(s)
      .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
      .replace(/\n/g, '<br>')
      .replaceAll(LITERAL_STAR, '*'),
  );
}

const inputId = (...parts: string[]): string => ['q', ...parts].join('-').replace(/[^A-Za-z0-9_-]/g, '_');

export function buildItems(ctx: PageContext) {
  const text = (t: TextValue | undefined): Handlebars.SafeString | undefined => (t === undefined ? undefined : richText(renderText(ctx.q, t, ctx.lang, ctx.env, literalPiped)));
  const plain = (t: TextValue | undefined): string | undefined => (t === undefined ? undefined : renderText(ctx.q, t, ctx.lang, ctx.env));
  const values = (name: string): string[] => ctx.form[name] ?? [];
  const value = (name: string): string => values(name)[0] ?? '';
  const errorFor = (field: string): string | undefined => {
    const e = ctx.errors.find((x) => x.field === field);
    return e ? validationMessage(e, ctx.lang, ctx.q.items.get(field.split('.')[0]!)?.type, plainIn(ctx)) : undefined;
  };

  return (ctx.items ?? shownItems(ctx.block, ctx.env)).map((item) => {
    const d = item.def;
    const base = {
      id: item.id,
      partial: `item-${d.type}`,
      text: text(d.text),
      help: text(d.help),
      helpId: d.help ? inputId(item.id, 'help') : undefined,
      required: item.required,
      error: errorFor(item.id),
      errorId: inputId(item.id, 'error'),
      fieldId: inputId(item.id),
    };
    const option = (o: { code: string; def: CompiledItem['options'][number]['def'] }, name: string, type: 'radio' | 'checkbox') => ({
      code: o.code,
      name,
      type,
      id: inputId(name, o.code),
      label: text(o.def.label),
      help: text(o.def.help),
      checked: values(name).includes(o.code),
      exclusive: o.def.exclusive === true,
      other: o.def.other
        ? { name: `${item.id}.${o.code}`, id: inputId(item.id, o.code, 'text'), value: value(`${item.id}.${o.code}`), error: errorFor(`${item.id}.${o.code}`), errorId: inputId(item.id, o.code, 'error') }
        : undefined,
    });
    switch (d.type) {
      case 'display':
        return base;
      case 'single':
      case 'multi': {
        const options = visibleOptions(item, ctx.env).map((o) => option(o, item.id, d.type === 'single' ? 'radio' : 'checkbox'));
        return { ...base, options, firstInputId: options[0]?.id };
      }
      case 'scale': {
        const points = [];
        for (let n = d.min; n <= d.max; n++) points.push({ value: String(n), id: inputId(item.id, String(n)), checked: value(item.id) === String(n) });
        const extras = visibleOptions(item, ctx.env).map((o) => option(o, item.id, 'radio'));
        return { ...base, points, extras, minLabel: plain(d.minLabel), maxLabel: plain(d.maxLabel), hasEnds: d.minLabel !== undefined || d.maxLabel !== undefined, firstInputId: points[0]?.id };
      }
      case 'grid': {
        const columns = visibleOptions(item, ctx.env);
        const rows = visibleMembers(item, ctx.env).map((row) => {
          const name = `${item.id}.${row.code}`;
          return {
            label: text(row.label),
            labelId: inputId(item.id, row.code, 'label'),
            error: errorFor(name),
            errorId: inputId(item.id, row.code, 'error'),
            // "Don't know" and its kind stand apart from the scale, in their own column.
            cells: columns.map((c) => ({ ...option(c, name, d.multiple ? 'checkbox' : 'radio'), apart: c.def.nonSubstantive === true })),
          };
        });
        return { ...base, columns: columns.map((c) => ({ label: text(c.def.label), apart: c.def.nonSubstantive === true })), rows, firstInputId: rows[0]?.cells[0]?.id };
      }
      case 'open': {
        const maxLength = d.maxLength ?? (d.multiline ? 2000 : 200);
        if (d.boxes) {
          const boxes = item.members.map((b) => ({ name: `${item.id}.${b.code}`, id: inputId(item.id, b.code), label: text(b.label), value: value(`${item.id}.${b.code}`), error: errorFor(`${item.id}.${b.code}`), errorId: inputId(item.id, b.code, 'error') }));
          return { ...base, boxes, maxLength, firstInputId: boxes[0]?.id };
        }
        return { ...base, name: item.id, value: value(item.id), multiline: d.multiline === true, maxLength, firstInputId: base.fieldId };
      }
      case 'number':
        return { ...base, name: item.id, value: value(item.id), unit: plain(d.unit), min: d.min, max: d.max, decimals: d.decimals === true, firstInputId: base.fieldId };
      case 'split': {
        const parts = item.members.map((p) => ({ name: `${item.id}.${p.code}`, id: inputId(item.id, p.code), label: text(p.label), value: value(`${item.id}.${p.code}`), error: errorFor(`${item.id}.${p.code}`), errorId: inputId(item.id, p.code, 'error') }));
        return { ...base, parts, firstInputId: parts[0]?.id };
      }
      case 'ranking': {
        const places = Array.from({ length: d.pick }, (_, i) => String(i + 1));
        const options = visibleOptions(item, ctx.env).map((o) => {
          const name = `${item.id}.${o.code}`;
          const chosen = value(name);
          return { id: inputId(item.id, o.code), name, label: text(o.def.label), places: places.map((p) => ({ value: p, selected: chosen === p })) };
        });
        return { ...base, options, rankingHelp: ctx.ui.rankingHelp, firstInputId: options[0]?.id };
      }
      case 'date':
        return { ...base, name: item.id, value: value(item.id), min: d.min, max: d.max, firstInputId: base.fieldId };
    }
  });
}

/** Links from the error summary to the input each error is about. */
/** An author's text with its pipes filled in, as plain text (error messages are not rich text). */
const plainIn = (ctx: PageContext) => (t: TextValue) => renderText(ctx.q, t, ctx.lang, ctx.env);

export function errorSummary(ctx: PageContext, items: ReturnType<typeof buildItems>) {
  const anchor = (field: string): string => {
    const [itemId, member] = field.split('.') as [string, string | undefined];
    const item = ctx.q.items.get(itemId);
    if (!member || !item) return (items.find((i) => i.id === itemId) as { firstInputId?: string } | undefined)?.firstInputId ?? inputId(itemId);
    if (item.type === 'grid') return inputId(field, visibleOptions(item, ctx.env)[0]?.code ?? ''); // the row's first cell
    if (item.options.some((o) => o.code === member && o.def.other)) return inputId(itemId, member, 'text');
    return inputId(itemId, member); // a text box or a split part
  };
  // Each line says which question (or grid row) it is about, then what is wrong: the summary is
  // read before the page, often far from the question.
  const about = (field: string): string | undefined => {
    const [itemId, member] = field.split('.') as [string, string | undefined];
    const item = ctx.q.items.get(itemId);
    if (!item || item.def.type === 'display') return undefined;
    const row = member && item.type === 'grid' ? item.members.find((m) => m.code === member) : undefined;
    const text = row ? renderText(ctx.q, row.label, ctx.lang, ctx.env) : item.def.text ? renderText(ctx.q, item.def.text, ctx.lang, ctx.env) : undefined;
    if (!text) return undefined;
    const line = text.replace(/\*\*/g, '').replace(/\s+/g, ' ').trim();
    if (line.length <= 70) return line;
    // Cut at a word boundary.
    const cut = line.slice(0, 70);
    return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), 40)).trimEnd()}…`;
  };
  return ctx.errors.map((e) => {
    const message = validationMessage(e, ctx.lang, ctx.q.items.get(e.field.split('.')[0]!)?.type, plainIn(ctx));
    const question = about(e.field);
    return { href: `#${anchor(e.field)}`, question, message };
  });
}
