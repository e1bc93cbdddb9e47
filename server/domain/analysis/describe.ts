// Routing conditions in words, for the codebook: "asked when Q1 is "Ja" and sample functie is
// "Burgemeester"". Codes read as their labels; anything unusual falls back to the source text.

import type { Bound } from '../expression/bind.ts';
import type { Value } from '../expression/types.ts';
import { optionLabel, textIn, type Questionnaire } from '../questionnaire/index.ts';

const CMP: Record<string, string> = { '==': 'is', '!=': 'is not', '<': 'is below', '<=': 'is at most', '>': 'is above', '>=': 'is at least' };

export function describeCondition(q: Questionnaire, tree: Bound, lang = 'nl'): string {
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
    return v === null ? 'empty' : String(v);
  };
  const words = (b: Bound): string => {
    switch (b.k) {
      case 'const':
        return value(b.value, undefined);
      case 'ref':
        return b.key.startsWith('sample.') ? `sample ${b.key.slice(7)}` : b.key;
      case 'member':
        return `${words(b.of)}.${b.member}`;
      case 'rank':
        return `the rank of "${labelFor(keyOf(b.of), b.code)}" in ${words(b.of)}`;
      case 'not':
        return `not (${words(b.operand)})`;
      case 'and':
      case 'or': {
        const side = (x: Bound): string => ((x.k === 'and' || x.k === 'or') && x.k !== b.k ? `(${words(x)})` : words(x));
        return `${side(b.left)} ${b.k} ${side(b.right)}`;
      }
      case 'cmp': {
        const key = keyOf(b.left);
        const right = b.right.k === 'const' ? value(b.right.value, key) : words(b.right);
        return `${b.quantifier ? `${b.quantifier} of ` : ''}${words(b.left)} ${CMP[b.op]} ${right}`;
      }
      case 'has': {
        const key = keyOf(b.left);
        const codes = b.codes.map((c) => `"${labelFor(key, c)}"`);
        if (codes.length === 1) return `${words(b.left)} includes ${codes[0]}`;
        return `${words(b.left)} includes ${b.mode === 'all' ? 'all' : 'any'} of ${codes.join(', ')}`;
      }
      case 'in':
        return `${words(b.left)} is one of ${b.values.map((v) => value(v, keyOf(b.left))).join(', ')}`;
      case 'arith':
        return `${words(b.left)} ${b.op} ${words(b.right)}`;
      case 'neg':
        return `-${words(b.operand)}`;
      case 'count':
        return `the number of answers in ${words(b.of)}`;
      case 'sum':
        return `the sum of ${words(b.of)}`;
      case 'answered':
        return `${words(b.of)} is answered`;
    }
  };
  return words(tree);
}
