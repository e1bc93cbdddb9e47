// The questionnaire on paper: the whole questionnaire as a document a client signs off before
// anyone is invited (survey print). Numbered questions with every option, row and part, what kind
// of answer each takes, routing in words ("Alleen als Q1 bevat ..."), checks, piped texts shown
// as what they stand for, help texts and the counting rule. In Dutch, or English.

import { textIn, type CompiledItem, type Questionnaire } from '../questionnaire/index.ts';
import type { TextValue } from '../questionnaire/schema.ts';
import { describeCondition, pipesInWords } from './describe.ts';

export interface PaperOption {
  code: string;
  label: string;
  notes: string[];
  onlyIf?: string;
}

export interface PaperItem {
  /** 1, 2, …: questions only (texts are not numbered). */
  number?: number;
  id: string;
  /** What kind of answer it takes, in words ("Eén antwoord", "Schaal 1-7"). */
  kind: string;
  text: string;
  help?: string;
  required: boolean;
  onlyIf?: string;
  options: PaperOption[];
  /** Grid rows, split parts, text boxes. */
  members: PaperOption[];
  checks: string[];
}

export interface PaperPage {
  number: number;
  id: string;
  title?: string;
  onlyIf?: string;
  items: PaperItem[];
}

export interface PaperDocument {
  lang: string;
  title: string;
  id: string;
  version: string;
  pages: PaperPage[];
  counting: string;
  end: string;
  /** How many conditions the document words (pages, questions, options, rows). */
  conditions: number;
}

const WORDS = {
  nl: {
    single: 'Eén antwoord',
    multi: 'Meer antwoorden mogelijk',
    atLeast: (n: number) => `ten minste ${n}`,
    atMost: (n: number) => `ten hoogste ${n}`,
    grid: 'Per rij één antwoord',
    gridMultiple: 'Per rij meer antwoorden mogelijk',
    scale: (min: number, max: number) => `Schaal ${min}-${max}`,
    open: 'Open antwoord',
    openLong: 'Open antwoord, meerdere regels',
    openBoxes: 'Open antwoord in vakjes',
    number: 'Getal',
    decimals: 'decimalen toegestaan',
    from: (v: string) => `vanaf ${v}`,
    to: (v: string) => `tot en met ${v}`,
    date: 'Datum',
    split: 'Aantal per onderdeel',
    ranking: (n: number) => `Rangorde: de ${n} belangrijkste op volgorde`,
    display: 'Tekst',
    exclusive: 'sluit andere antwoorden uit',
    other: 'met een tekstvak "namelijk"',
    nonSubstantive: 'geen inhoudelijk antwoord',
    optionsFrom: (id: string) => `De antwoorden zijn die bij ${id} zijn aangekruist`,
    check: (message: string, condition: string) => `Controle: ${condition}; anders de melding "${message}"`,
    counting: (id: string) => `Een respondent telt als respons zodra de pagina met ${id} is bereikt.`,
  },
  en: {
    single: 'One answer',
    multi: 'More than one answer possible',
    atLeast: (n: number) => `at least ${n}`,
    atMost: (n: number) => `at most ${n}`,
    grid: 'One answer per row',
    gridMultiple: 'More than one answer per row',
    scale: (min: number, max: number) => `Scale ${min}-${max}`,
    open: 'Open answer',
    openLong: 'Open answer, several lines',
    openBoxes: 'Open answer in boxes',
    number: 'Number',
    decimals: 'decimals allowed',
    from: (v: string) => `from ${v}`,
    to: (v: string) => `up to ${v}`,
    date: 'Date',
    split: 'A number per part',
    ranking: (n: number) => `Ranking: the ${n} most important in order`,
    display: 'Text',
    exclusive: 'excludes other answers',
    other: 'with a text box "namely"',
    nonSubstantive: 'not a substantive answer',
    optionsFrom: (id: string) => `The answers are those ticked at ${id}`,
    check: (message: string, condition: string) => `Check: ${condition}; otherwise the message "${message}"`,
    counting: (id: string) => `A respondent counts as a response once the page with ${id} is reached.`,
  },
};

export function paperVersion(q: Questionnaire, lang = 'nl'): PaperDocument {
  const w = lang === 'en' ? WORDS.en : WORDS.nl;
  let conditions = 0;
  const words = (c: { tree: Parameters<typeof describeCondition>[1] } | undefined): string | undefined => {
    if (!c) return undefined;
    conditions++;
    return describeCondition(q, c.tree, lang);
  };
  // Pipes read as what they stand for: [antwoord op Q6], with the fallback text if there is one.
  const text = (t: TextValue | undefined): string => (t === undefined ? '' : pipesInWords(q, textIn(t, lang), lang));
  const kindOf = (item: CompiledItem): string => {
    const d = item.def;
    switch (d.type) {
      case 'display':
        return w.display;
      case 'single':
        return w.single;
      case 'multi': {
        const limits = [d.minSelected ? w.atLeast(d.minSelected) : undefined, d.maxSelected ? w.atMost(d.maxSelected) : undefined].filter(Boolean);
        return limits.length > 0 ? `${w.multi} (${limits.join(', ')})` : w.multi;
      }
      case 'grid':
        return d.multiple ? w.gridMultiple : w.grid;
      case 'scale': {
        const ends = [d.minLabel ? `${d.min} = ${text(d.minLabel)}` : undefined, d.maxLabel ? `${d.max} = ${text(d.maxLabel)}` : undefined].filter(Boolean);
        return ends.length > 0 ? `${w.scale(d.min, d.max)} (${ends.join(', ')})` : w.scale(d.min, d.max);
      }
      case 'open':
        return d.boxes ? w.openBoxes : d.multiline ? w.openLong : w.open;
      case 'number': {
        const limits = [d.min !== undefined ? w.from(String(d.min)) : undefined, d.max !== undefined ? w.to(String(d.max)) : undefined, d.decimals ? w.decimals : undefined].filter(Boolean);
        const unit = d.unit ? ` (${text(d.unit)})` : '';
        return limits.length > 0 ? `${w.number}${unit}, ${limits.join(', ')}` : `${w.number}${unit}`;
      }
      case 'date': {
        const limits = [d.min ? w.from(d.min) : undefined, d.max ? w.to(d.max) : undefined].filter(Boolean);
        return limits.length > 0 ? `${w.date}, ${limits.join(', ')}` : w.date;
      }
      case 'split':
        return w.split;
      case 'ranking':
        return w.ranking(d.pick);
    }
  };

  let number = 0;
  const pages: PaperPage[] = q.blocks.map((block) => ({
    number: block.index + 1,
    id: block.id,
    ...(block.def.title !== undefined && { title: text(block.def.title) }),
    ...(block.showIf && { onlyIf: words(block.showIf) }),
    items: block.items.map((item): PaperItem => {
      const options = item.options.map((o) => ({
        code: o.code,
        label: text(o.def.label),
        notes: [o.def.exclusive && w.exclusive, o.def.other && w.other, o.def.nonSubstantive && w.nonSubstantive].filter((n): n is string => typeof n === 'string'),
        ...(o.showIf && { onlyIf: words(o.showIf) }),
      }));
      if (item.optionsFrom) options.unshift({ code: '', label: w.optionsFrom(item.optionsFrom.id), notes: [] });
      return {
        ...(item.type !== 'display' && { number: ++number }),
        id: item.id,
        kind: kindOf(item),
        text: text(item.def.text),
        ...(item.def.help !== undefined && { help: text(item.def.help) }),
        required: item.required,
        ...(item.showIf && { onlyIf: words(item.showIf) }),
        options,
        members: item.members.map((m) => ({ code: m.code, label: text(m.label), notes: [], ...(m.showIf && { onlyIf: words(m.showIf) }) })),
        checks: item.rules.map((r) => w.check(text(r.message), describeCondition(q, r.assert.tree, lang))),
      };
    }),
  }));
  return {
    lang,
    title: text(q.def.title),
    id: q.id,
    version: q.version,
    pages,
    counting: w.counting(q.countingItem.id),
    end: text(q.def.end.text),
    conditions,
  };
}
