// Compiles a questionnaire definition (JSON that passed the zod schema) into the model the rest
// of the platform uses: every condition parsed and type-checked once, every reference resolved,
// and every problem reported with its JSON path (and column inside an expression).

import { z } from 'zod';
import { bindExpression, ExpressionError, type Bound, type BoundExpression } from '../expression/index.ts';
import type { Scope, SymbolInfo, ValueType } from '../expression/types.ts';
import type { PathSegment, Problem } from './problems.ts';
import {
  Item,
  QuestionnaireSchema,
  type BlockDef,
  type DerivedDef,
  type ItemDef,
  type OptionDef,
  type QuestionnaireDef,
  type SampleFieldDef,
  type TextValue,
} from './schema.ts';

export interface CompiledOption {
  def: OptionDef;
  code: string;
  showIf?: BoundExpression;
}

/** A grid row, a split part or a text box. */
export interface CompiledMember {
  code: string;
  label: TextValue;
  showIf?: BoundExpression;
}

export interface CompiledRule {
  assert: BoundExpression;
  message: TextValue;
}

export interface CompiledItem {
  def: ItemDef;
  id: string;
  type: ItemDef['type'];
  block: CompiledBlock;
  path: PathSegment[];
  showIf?: BoundExpression;
  /** Own options (choice, ranking) or the columns of a grid. */
  options: CompiledOption[];
  /** Earlier multiple-choice question whose ticked options are offered first. */
  optionsFrom?: CompiledItem;
  /** Grid rows, split parts or text boxes. */
  members: CompiledMember[];
  rules: CompiledRule[];
  required: boolean;
  /** The type conditions see; undefined for display items. */
  valueType?: ValueType;
}

export interface CompiledBlock {
  def: BlockDef;
  id: string;
  index: number;
  showIf?: BoundExpression;
  items: CompiledItem[];
}

export interface CompiledDerived {
  def: DerivedDef;
  id: string;
  type: ValueType;
  expr?: BoundExpression;
  cases?: { when: BoundExpression; value: string; label: TextValue }[];
}

export interface CompiledSampleField {
  def: SampleFieldDef;
  id: string;
  options: CompiledMember[];
  type: ValueType;
}

export interface Questionnaire {
  def: QuestionnaireDef;
  id: string;
  version: string;
  languages: string[];
  blocks: CompiledBlock[];
  /** Every item by id, in questionnaire order. */
  items: Map<string, CompiledItem>;
  /** The items that take an answer (everything but display texts), in order. */
  questions: CompiledItem[];
  derived: Map<string, CompiledDerived>;
  sample: Map<string, CompiledSampleField>;
  /** Piped values by their source text inside braces, e.g. "Q3" or "sample.functie". */
  /** Piped names by the text between the braces: what to show, and the text when it has no value. */
  pipes: Map<string, Pipe>;
  countingItem: CompiledItem;
}

export type CompileResult = { ok: true; questionnaire: Questionnaire; problems: Problem[] } | { ok: false; problems: Problem[] };

/** `{Q3}` and `{sample.functie}` inside texts. */
export const PIPE_PATTERN = /\{([^{}]+)\}/g;

/** A piped value: `{Q7}`, or `{Q7|geen}` with a text for when Q7 has no answer. */
export interface Pipe {
  tree: Bound;
  fallback?: string;
}

/** The name and the fallback text of what stands between a pipe's braces. */
export function splitPipe(inner: string): { name: string; fallback?: string } {
  const bar = inner.indexOf('|');
  return bar < 0 ? { name: inner.trim() } : { name: inner.slice(0, bar).trim(), fallback: inner.slice(bar + 1).trim() };
}

export function zodProblems(error: z.ZodError): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    // A union of several item types reports every member; the discriminated union already names the type.
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const best = issue.errors.reduce((a, b) => (a.length <= b.length ? a : b));
      for (const inner of best) problems.push({ path: [...issue.path, ...inner.path] as PathSegment[], message: plainZodMessage(inner) });
      continue;
    }
    problems.push({ path: issue.path as PathSegment[], message: plainZodMessage(issue) });
  }
  return problems;
}

const ITEM_TYPES = Item.options.map((o) => o.shape.type.value);

function plainZodMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union' && issue.path[issue.path.length - 1] === 'type') {
    return `unknown item type; the types are ${ITEM_TYPES.join(', ')}`;
  }
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_union':
      return 'this value does not match any allowed form';
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return issue.message.startsWith('Invalid input: expected') ? `expected ${issue.expected}` : issue.message;
    default:
      return issue.message;
  }
}

function textsOf(item: ItemDef): [PathSegment[], TextValue][] {
  const texts: [PathSegment[], TextValue][] = [[['text'], item.text]];
  if (item.help) texts.push([['help'], item.help]);
  if ('options' in item && item.options) item.options.forEach((o, i) => texts.push([['options', i, 'label'], o.label]));
  if (item.type === 'grid') {
    item.rows.forEach((r, i) => texts.push([['rows', i, 'label'], r.label]));
    item.columns.forEach((c, i) => texts.push([['columns', i, 'label'], c.label]));
  }
  if (item.type === 'scale') {
    if (item.minLabel) texts.push([['minLabel'], item.minLabel]);
    if (item.maxLabel) texts.push([['maxLabel'], item.maxLabel]);
  }
  if ('rules' in item && item.rules) item.rules.forEach((r, i) => texts.push([['rules', i, 'message'], r.message]));
  return texts;
}

function textVariants(text: TextValue): string[] {
  return typeof text === 'string' ? [text] : Object.values(text);
}

function choiceType(options: readonly { code: string; nonSubstantive?: boolean | undefined }[]): ValueType {
  return { kind: 'choice', codes: options.map((o) => o.code), ordered: options.filter((o) => !o.nonSubstantive).map((o) => o.code) };
}

export function compileQuestionnaire(input: unknown): CompileResult {
  const parsed = QuestionnaireSchema.safeParse(input);
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error) };
  const def = parsed.data;
  const problems: Problem[] = [];
  const problem = (path: PathSegment[], message: string, column?: number): void => {
    problems.push(column === undefined ? { path, message } : { path, message, column });
  };

  // ---- Symbols: ids, duplicate codes, value types -------------------------------------------
  const seenIds = new Map<string, string>();
  const claimId = (id: string, path: PathSegment[]): void => {
    const earlier = seenIds.get(id);
    if (earlier) problem([...path, 'id'], `duplicate code "${id}": already used at ${earlier}`);
    else seenIds.set(id, `$.${path.map((s) => (typeof s === 'number' ? `[${s}]` : s)).join('.').replace(/\.\[/g, '[')}`);
  };
  const uniqueCodes = (list: readonly { code: string }[], path: PathSegment[], what: string): void => {
    const seen = new Set<string>();
    list.forEach((entry, i) => {
      if (seen.has(entry.code)) problem([...path, i, 'code'], `duplicate ${what} code "${entry.code}"`);
      seen.add(entry.code);
    });
  };

  const sample = new Map<string, CompiledSampleField>();
  (def.sample ?? []).forEach((field, i) => {
    if (sample.has(field.id)) problem(['sample', i, 'id'], `duplicate sample field "${field.id}"`);
    if (field.options) uniqueCodes(field.options, ['sample', i, 'options'], 'value');
    const options = (field.options ?? []).map((o) => ({ code: o.code, label: o.label }));
    sample.set(field.id, { def: field, id: field.id, options, type: field.options ? choiceType(field.options) : { kind: 'text' } });
  });

  const blocks: CompiledBlock[] = [];
  const items = new Map<string, CompiledItem>();
  def.blocks.forEach((blockDef, b) => {
    claimId(blockDef.id, ['blocks', b]);
    const block: CompiledBlock = { def: blockDef, id: blockDef.id, index: b, items: [] };
    blocks.push(block);
    blockDef.items.forEach((itemDef, i) => {
      const path: PathSegment[] = ['blocks', b, 'items', i];
      claimId(itemDef.id, path);
      const item: CompiledItem = {
        def: itemDef,
        id: itemDef.id,
        type: itemDef.type,
        block,
        path,
        options: [],
        members: [],
        rules: [],
        required: itemDef.type !== 'display' && (itemDef.required ?? def.required ?? false),
      };
      switch (itemDef.type) {
        case 'single':
        case 'multi':
        case 'ranking':
          item.options = (itemDef.options ?? []).map((o) => ({ def: o, code: o.code }));
          uniqueCodes(item.options, [...path, 'options'], 'option');
          break;
        case 'grid':
          item.options = itemDef.columns.map((o) => ({ def: o, code: o.code }));
          item.members = itemDef.rows.map((r) => ({ code: r.code, label: r.label }));
          uniqueCodes(itemDef.columns, [...path, 'columns'], 'column');
          uniqueCodes(itemDef.rows, [...path, 'rows'], 'row');
          break;
        case 'scale':
          item.options = (itemDef.extra ?? []).map((o) => ({ def: o, code: o.code }));
          uniqueCodes(item.options, [...path, 'extra'], 'option');
          break;
        case 'open':
          item.members = (itemDef.boxes ?? []).map((m) => ({ code: m.code, label: m.label }));
          uniqueCodes(item.members, [...path, 'boxes'], 'box');
          break;
        case 'split':
          item.members = itemDef.parts.map((m) => ({ code: m.code, label: m.label }));
          uniqueCodes(item.members, [...path, 'parts'], 'part');
          break;
        default:
          break;
      }
      if (!items.has(item.id)) items.set(item.id, item);
      block.items.push(item);
    });
  });

  const derivedDefs = new Map<string, { def: DerivedDef; index: number }>();
  (def.derived ?? []).forEach((d, i) => {
    claimId(d.id, ['derived', i]);
    if (!derivedDefs.has(d.id)) derivedDefs.set(d.id, { def: d, index: i });
  });

  // Types of questions (optionsFrom needs the source question, which comes earlier).
  for (const item of items.values()) {
    const d = item.def;
    const path = item.path;
    if ((d.type === 'single' || d.type === 'multi') && d.optionsFrom !== undefined) {
      const source = items.get(d.optionsFrom);
      if (!source) problem([...path, 'optionsFrom'], `unknown question "${d.optionsFrom}"`);
      else if (source.type !== 'multi') problem([...path, 'optionsFrom'], `"${d.optionsFrom}" is ${source.type === 'display' ? 'a display text' : `a ${source.type} question`}; options can only come from a multiple choice`);
      else if (source.block.index >= item.block.index) problem([...path, 'optionsFrom'], `"${d.optionsFrom}" is not on an earlier page; options can only come from answers given before this page`);
      else item.optionsFrom = source;
    }
    if ((d.type === 'single' || d.type === 'multi') && !d.optionsFrom && (d.options ?? []).length === 0) {
      problem([...path, 'options'], 'a choice question needs "options" or "optionsFrom"');
    }
    switch (d.type) {
      case 'display':
        break;
      case 'single':
      case 'multi': {
        const inherited = item.optionsFrom ? inheritedOptions(item.optionsFrom) : [];
        const all = [...inherited, ...item.options.map((o) => o.def)];
        const codes = all.map((o) => o.code);
        const clash = inherited.find((o) => item.options.some((own) => own.code === o.code));
        if (clash) problem([...path, 'options'], `option "${clash.code}" is also offered through optionsFrom "${item.optionsFrom!.id}"`);
        item.valueType = d.type === 'single' ? choiceType(all) : { kind: 'set', codes };
        break;
      }
      case 'grid': {
        const column = choiceType(d.columns);
        item.valueType = {
          kind: 'record',
          members: d.rows.map((r) => r.code),
          member: d.multiple ? { kind: 'set', codes: column.kind === 'choice' ? column.codes : [] } : column,
          noun: 'row',
        };
        break;
      }
      case 'scale':
        item.valueType = { kind: 'scale', min: d.min, max: d.max, codes: (d.extra ?? []).map((o) => o.code) };
        if (d.min >= d.max) problem([...path, 'max'], `max (${d.max}) must be greater than min (${d.min})`);
        break;
      case 'open':
        item.valueType = d.boxes ? { kind: 'record', members: d.boxes.map((b) => b.code), member: { kind: 'text' }, noun: 'box' } : { kind: 'text' };
        break;
      case 'number':
        item.valueType = { kind: 'number' };
        if (d.min !== undefined && d.max !== undefined && d.min > d.max) problem([...path, 'max'], `max (${d.max}) is below min (${d.min})`);
        break;
      case 'split':
        item.valueType = { kind: 'record', members: d.parts.map((p) => p.code), member: { kind: 'number' }, noun: 'part' };
        if (d.min !== undefined && d.max !== undefined && d.min > d.max) problem([...path, 'max'], `max (${d.max}) is below min (${d.min})`);
        break;
      case 'ranking':
        item.valueType = { kind: 'ranking', codes: d.options.map((o) => o.code) };
        if (d.pick > d.options.length) problem([...path, 'pick'], `pick is ${d.pick} but there are only ${d.options.length} options to rank`);
        break;
      case 'date':
        item.valueType = { kind: 'date' };
        if (d.min && d.max && d.min > d.max) problem([...path, 'max'], `max (${d.max}) is before min (${d.min})`);
        break;
    }
  }

  // ---- Derived variables: typed lazily so they may use each other (cycles reported below) ------
  const derived = new Map<string, CompiledDerived>();
  const binding = new Set<string>();
  const derivedType = (id: string): ValueType => {
    const done = derived.get(id);
    if (done) return done.type;
    const entry = derivedDefs.get(id)!;
    if ('cases' in entry.def) return choiceType(uniqueValues(entry.def.cases));
    if (binding.has(id)) return { kind: 'bool' }; // a cycle; reported by findCycles
    binding.add(id);
    compileDerived(id);
    binding.delete(id);
    return derived.get(id)?.type ?? { kind: 'bool' };
  };

  const scope: Scope = {
    resolve(name: string): SymbolInfo | undefined {
      const item = items.get(name);
      if (item?.valueType) {
        const otherCodes = item.options.filter((o) => o.def.other).map((o) => o.code);
        return otherCodes.length > 0 ? { type: item.valueType, otherCodes } : { type: item.valueType };
      }
      if (derivedDefs.has(name)) return { type: derivedType(name) };
      return undefined;
    },
    resolveSample(name: string): SymbolInfo | undefined {
      const field = sample.get(name);
      return field ? { type: field.type } : undefined;
    },
    names: () => [...[...items.values()].filter((i) => i.valueType).map((i) => i.id), ...derivedDefs.keys()],
    sampleNames: () => [...sample.keys()],
  };

  // Derived variables whose expression could not be bound: reported once, where they are wrong.
  // Their type is a guess, so what goes wrong in an expression that uses one follows from that
  // first problem and is not reported again.
  const broken = new Set<string>();
  const usesBroken = (source: string): boolean => [...broken].some((name) => new RegExp(`(^|[^A-Za-z0-9_.])${name}($|[^A-Za-z0-9_])`).test(source));
  const bind = (source: string, path: PathSegment[], expect: 'bool' | 'bool-or-number' = 'bool'): BoundExpression | undefined => {
    try {
      return bindExpression(source, scope, expect);
    } catch (e) {
      if (e instanceof ExpressionError) {
        // A type error (the guess was wrong) is a follow-on; a wrong code or name is not.
        const followOn = usesBroken(source) && /needs a (true\/false|number)|must be true or false|cannot compare|but this is/.test(e.message);
        if (!followOn) problem(path, e.message, e.column);
        return undefined;
      }
      throw e;
    }
  };

  function compileDerived(id: string): void {
    const { def: d, index } = derivedDefs.get(id)!;
    const path: PathSegment[] = ['derived', index];
    if ('expr' in d) {
      const expr = bind(d.expr, [...path, 'expr'], 'bool-or-number');
      if (!expr) broken.add(id);
      const type: ValueType = expr?.type.kind === 'bool' ? { kind: 'bool' } : { kind: 'number' };
      derived.set(id, expr ? { def: d, id, type, expr } : { def: d, id, type });
    } else {
      uniqueLabels(d.cases, path);
      const cases: CompiledDerived['cases'] = [];
      d.cases.forEach((c, i) => {
        const when = bind(c.when, [...path, 'cases', i, 'when']);
        if (when) cases.push({ when, value: c.value, label: c.label });
      });
      derived.set(id, { def: d, id, type: choiceType(uniqueValues(d.cases)), cases });
    }
  }
  const uniqueLabels = (cases: readonly { value: string; label: TextValue }[], path: PathSegment[]): void => {
    const labels = new Map<string, string>();
    cases.forEach((c, i) => {
      const label = JSON.stringify(c.label);
      const earlier = labels.get(c.value);
      if (earlier !== undefined && earlier !== label) problem([...path, 'cases', i, 'label'], `value "${c.value}" has a different label in an earlier case`);
      labels.set(c.value, label);
    });
  };
  for (const id of derivedDefs.keys()) if (!derived.has(id)) compileDerived(id);

  // ---- Positions: the page on which a value becomes known -----------------------------------
  const derivedPosition = new Map<string, number>();
  const positionOf = (name: string, visiting = new Set<string>()): number => {
    if (name.startsWith('sample.')) return -1;
    const item = items.get(name);
    if (item) return item.block.index;
    const known = derivedPosition.get(name);
    if (known !== undefined) return known;
    const d = derived.get(name);
    if (!d || visiting.has(name)) return -1;
    visiting.add(name);
    const refs = [...(d.expr?.references ?? []), ...(d.cases ?? []).flatMap((c) => c.when.references)];
    const pos = Math.max(-1, ...refs.map((r) => positionOf(r.name, visiting)));
    visiting.delete(name);
    derivedPosition.set(name, pos);
    return pos;
  };

  /** Conditions on a page may use only what earlier pages (or the sample) made known. */
  const checkOrder = (expr: BoundExpression | undefined, path: PathSegment[], page: number, samePageAllowed = false): void => {
    if (!expr) return;
    for (const ref of expr.references) {
      const pos = positionOf(ref.name);
      if (pos < page || (samePageAllowed && pos === page)) continue;
      const what = items.has(ref.name) ? `"${ref.name}" is asked on ${pos === page ? 'this same page' : 'a later page'}` : `derived variable "${ref.name}" depends on answers from ${pos === page ? 'this same page' : 'a later page'}`;
      problem(path, `${what} (block "${blocks[pos]!.id}"); a condition can only use answers from earlier pages`, ref.column);
    }
  };

  // ---- Conditions, rules and piped texts ------------------------------------------------------
  const pipes = new Map<string, Pipe>();
  const checkPipes = (text: TextValue | undefined, path: PathSegment[], page: number): void => {
    if (text === undefined) return;
    for (const variant of textVariants(text)) {
      for (const match of variant.matchAll(PIPE_PATTERN)) {
        const { name: source, fallback } = splitPipe(match[1]!);
        const column = (match.index ?? 0) + 2 + (match[1]!.length - match[1]!.trimStart().length);
        let bound: BoundExpression;
        try {
          bound = bindPipe(source, scope);
        } catch (e) {
          if (!(e instanceof ExpressionError)) throw e;
          problem(path, `in {${source}}: ${e.message}`, column + e.column - 1);
          continue;
        }
        for (const ref of bound.references) {
          const pos = positionOf(ref.name);
          if (pos >= page) problem(path, `{${source}} shows an answer that is not given before this page`, column);
        }
        if (bound.tree.k === 'answered') pipes.set(match[1]!.trim(), { tree: bound.tree.of, ...(fallback !== undefined && { fallback }) });
      }
    }
  };

  for (const block of blocks) {
    const b = block.index;
    if (block.def.showIf) {
      block.showIf = bind(block.def.showIf, ['blocks', b, 'showIf']);
      checkOrder(block.showIf, ['blocks', b, 'showIf'], b);
    }
    checkPipes(block.def.title, ['blocks', b, 'title'], b);
    for (const item of block.items) {
      const d = item.def;
      if (d.showIf) {
        item.showIf = bind(d.showIf, [...item.path, 'showIf']);
        checkOrder(item.showIf, [...item.path, 'showIf'], b);
      }
      const optionKey = d.type === 'grid' ? 'columns' : d.type === 'scale' ? 'extra' : 'options';
      item.options.forEach((option, i) => {
        if (option.def.showIf) {
          const path = [...item.path, optionKey, i, 'showIf'];
          const bound = bind(option.def.showIf, path);
          checkOrder(bound, path, b);
          if (bound) option.showIf = bound;
        }
      });
      if (d.type === 'grid') {
        d.rows.forEach((row, i) => {
          if (row.showIf) {
            const path = [...item.path, 'rows', i, 'showIf'];
            const bound = bind(row.showIf, path);
            checkOrder(bound, path, b);
            if (bound) item.members[i]!.showIf = bound;
          }
        });
      }
      if (d.type !== 'display' && d.rules) {
        d.rules.forEach((rule, i) => {
          const path = [...item.path, 'rules', i, 'assert'];
          const assert = bind(rule.assert, path);
          checkOrder(assert, path, b, true);
          if (assert) item.rules.push({ assert, message: rule.message });
        });
      }
      for (const [suffix, text] of textsOf(d)) checkPipes(text, [...item.path, ...suffix], b);
    }
  }
  checkPipes(def.end.text, ['end', 'text'], blocks.length);

  for (const cycle of findCycles(derived)) {
    const first = derivedDefs.get(cycle[0]!)!;
    problem(['derived', first.index], `derived variables form a cycle: ${[...cycle, cycle[0]].join(' → ')}`);
  }

  const countingItem = items.get(def.counting.reached);
  if (!countingItem) problem(['counting', 'reached'], `the counting rule points to "${def.counting.reached}", which is not an item of this questionnaire`);

  if (problems.length > 0 || !countingItem) return { ok: false, problems };
  return {
    ok: true,
    problems,
    questionnaire: {
      def,
      id: def.id,
      version: def.version,
      languages: def.languages ?? ['nl'],
      blocks,
      items,
      questions: [...items.values()].filter((i) => i.type !== 'display'),
      derived,
      sample,
      pipes,
      countingItem,
    },
  };
}

/** The options a question with optionsFrom inherits: the source's substantive, combinable ones. */
export function inheritedOptions(source: CompiledItem): OptionDef[] {
  return source.options.filter((o) => !o.def.exclusive && !o.def.nonSubstantive).map((o) => {
    const { showIf: _showIf, other: _other, ...rest } = o.def;
    return rest;
  });
}

function uniqueValues(cases: readonly { value: string }[]): { code: string }[] {
  return [...new Set(cases.map((c) => c.value))].map((code) => ({ code }));
}

/** Binds a piped name; error columns are relative to the name. */
function bindPipe(source: string, scope: Scope): BoundExpression {
  // A piped value is a plain reference: a question, a derived variable, a sample field, a grid
  // row or split part, or the text of an "other" option.
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(source)) {
    throw new ExpressionError('only a name can be piped, e.g. {Q3}, {Q8.anders} or {sample.functie}', 1);
  }
  const prefix = 'answered(';
  try {
    return bindExpression(`${prefix}${source})`, scope, 'bool');
  } catch (e) {
    if (e instanceof ExpressionError) throw new ExpressionError(e.message, Math.max(1, e.column - prefix.length));
    throw e;
  }
}

function findCycles(derived: Map<string, CompiledDerived>): string[][] {
  const edges = new Map<string, string[]>();
  for (const [id, d] of derived) {
    const refs = [...(d.expr?.references ?? []), ...(d.cases ?? []).flatMap((c) => c.when.references)];
    edges.set(id, refs.map((r) => r.name).filter((n) => derived.has(n)));
  }
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): void => {
    state.set(id, 'visiting');
    stack.push(id);
    for (const next of edges.get(id) ?? []) {
      if (state.get(next) === 'visiting') cycles.push(stack.slice(stack.indexOf(next)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of edges.keys()) if (!state.has(id)) visit(id);
  return cycles;
}
