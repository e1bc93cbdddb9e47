// Routing conditions in words, for the codebook and the questionnaire on paper: "Q1 is "Ja" en
// steekproefveld functie is "Burgemeester"", in Dutch (the report's language) or English. Codes
// read as their labels.

import type { Bound } from '../expression/bind.ts';
import type { Value } from '../expression/types.ts';
import { optionLabel, PIPE_PATTERN, splitPipe, textIn, type Questionnaire } from '../questionnaire/index.ts';

const WORDS = {
  nl: {
    cmp: { '==': 'is', '!=': 'is niet', '<': 'is kleiner dan', '<=': 'is ten hoogste', '>': 'is groter dan', '>=': 'is ten minste' } as Record<string, string>,
    and: 'en',
    or: 'of',
    not: 'niet',
    empty: 'leeg',
    sample: 'steekproefveld',
    rank: (code: string, of: string) => `de plaats van ${code} in ${of}`,
    quantifier: { any: 'een van', all: 'alle' },
    includes: 'bevat',
    includesAny: 'bevat een van',
    includesAll: 'bevat alle van',
    oneOf: 'is een van',
    count: 'het aantal antwoorden bij',
    sum: 'de som van',
    answered: 'is beantwoord',
  },
  en: {
    cmp: { '==': 'is', '!=': 'is not', '<': 'is below', '<=': 'is at most', '>': 'is above', '>=': 'is at least' } as Record<string, string>,
    and: 'and',
    or: 'or',
    not: 'not',
    empty: 'empty',
    sample: 'sample',
    rank: (code: string, of: string) => `the rank of ${code} in ${of}`,
    quantifier: { any: 'any of', all: 'all of' },
    includes: 'includes',
    includesAny: 'includes any of',
    includesAll: 'includes all of',
    oneOf: 'is one of',
    count: 'the number of answers in',
    sum: 'the sum of',
    answered: 'is answered',
  },
};

export function describeCondition(q: Questionnaire, tree: Bound, lang = 'nl'): string {
  const w = lang === 'en' ? WORDS.en : WORDS.nl;
  const labelFor = (key: string | undefined, code: string): string => {
    if (!key) return code;
    const item = q.items.get(key);
    if (item) return optionLabel(item, code, lang);
    if (key.startsWith('sample.')) {
      const option = q.sample.get(key.slice(7))?.options.find((o) => o.code === code);
      return option ? textIn(option.label, lang) : code;
    }
    const c = q.derived.get(key)?.cases?.find((x) => x.value === code);
    return c ? textIn(c.label, lang) : code;
  };
  const keyOf = (b: Bound): string | undefined => (b.k === 'ref' ? b.key : b.k === 'member' ? keyOf(b.of) : undefined);
  const value = (v: Value, key: string | undefined): string => {
    if (typeof v === 'string') return `"${labelFor(key, v)}"`;
    if (Array.isArray(v)) return v.map((c) => `"${labelFor(key, c)}"`).join(', ');
    return v === null ? w.empty : String(v);
  };
  const words = (b: Bound): string => {
    switch (b.k) {
      case 'const':
        return value(b.value, undefined);
      case 'ref':
        return b.key.startsWith('sample.') ? `${w.sample} ${b.key.slice(7)}` : b.key;
      case 'member':
        return `${words(b.of)}.${b.member}`;
      case 'rank':
        return w.rank(`"${labelFor(keyOf(b.of), b.code)}"`, words(b.of));
      case 'not':
        return `${w.not} (${words(b.operand)})`;
      case 'and':
      case 'or': {
        const side = (x: Bound): string => ((x.k === 'and' || x.k === 'or') && x.k !== b.k ? `(${words(x)})` : words(x));
        return `${side(b.left)} ${w[b.k]} ${side(b.right)}`;
      }
      case 'cmp': {
        const key = keyOf(b.left);
        const right = b.right.k === 'const' ? value(b.right.value, key) : words(b.right);
        return `${b.quantifier ? `${w.quantifier[b.quantifier]} ` : ''}${words(b.left)} ${w.cmp[b.op]} ${right}`;
      }
      case 'has': {
        const key = keyOf(b.left);
        const codes = b.codes.map((c) => `"${labelFor(key, c)}"`);
        if (codes.length === 1) return `${words(b.left)} ${w.includes} ${codes[0]}`;
        return `${words(b.left)} ${b.mode === 'all' ? w.includesAll : w.includesAny} ${codes.join(', ')}`;
      }
      case 'in':
        return `${words(b.left)} ${w.oneOf} ${b.values.map((v) => value(v, keyOf(b.left))).join(', ')}`;
      case 'arith':
        return `${words(b.left)} ${b.op} ${words(b.right)}`;
      case 'neg':
        return `-${words(b.operand)}`;
      case 'count':
        return `${w.count} ${words(b.of)}`;
      case 'sum':
        return `${w.sum} ${words(b.of)}`;
      case 'answered':
        return `${words(b.of)} ${w.answered}`;
    }
  };
  return words(tree);
}

/**
 * A text with its pipes shown as what they stand for, for documents about the questionnaire (the
 * codebook, the paper version): "[antwoord op Q6]", "[functie uit de steekproef]", "[TYPE]", with
 * the fallback text of an unanswered one; the author's **bold** left out.
 */
export function pipesInWords(q: Questionnaire, text: string, lang = 'nl'): string {
  const en = lang === 'en';
  return text.replaceAll('**', '').replace(PIPE_PATTERN, (whole, inner: string) => {
    if (!q.pipes.has(inner.trim())) return whole;
    const { name, fallback } = splitPipe(inner);
    const shown = q.derived.has(name) ? `[${name}]` : name.startsWith('sample.') ? `[${name.slice(7)} ${en ? 'from the sample' : 'uit de steekproef'}]` : `[${en ? 'answer to' : 'antwoord op'} ${name}]`;
    return fallback ? `${shown}${en ? ' or, without an answer: ' : ' of, zonder antwoord: '}"${fallback}"` : shown;
  });
}
