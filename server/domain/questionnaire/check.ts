// Static checks on a compiled questionnaire, beyond what compiling already rejects (schema,
// duplicates, unknown or later references, type errors, cycles, counting rule):
//
// - reachability: every page, item, option and grid row with a condition must be showable;
// - empty choice lists: a choice must never be shown with nothing left to choose;
// - exclusivity: exclusive options and selection limits must leave a valid answer.
//
// Reachability is decided by a witness search: a depth-first walk over the questions a condition
// depends on (in page order, each answered only in ways the routing allows), trying the values
// that matter for the conditions (the codes and numbers they mention, plus boundary values). If
// no combination makes the condition true, it can never be true. The search has a budget. When it
// runs out, the search is tried again over only the questions the condition itself reads, each
// free to take any value (their own routing set aside): if even then nothing makes it true, it
// can never be true. Small contradictions (a grid row, a scale and a number) are decided so even
// in a questionnaire of hundreds of questions. What is still undecided is said as a warning, never
// passed over in silence.

import { test, type Value, type Environment } from '../expression/index.ts';
import type { BoundExpression } from '../expression/bind.ts';
import type { CompiledBlock, CompiledItem, Questionnaire } from './model.ts';
import { inheritedOptions } from './model.ts';
import type { PathSegment, Problem } from './problems.ts';
import { environment, visibleMembers, visibleOptions, type Answers, type SampleValues } from './runtime.ts';

const LEAF_BUDGET = 20_000;

type Goal = (env: Environment) => boolean;
type Witness = { found: true; answers: Answers; sample: SampleValues; considered: string[] } | { found: false; exhausted: boolean };

export interface CheckReport {
  problems: Problem[];
  /** Conditions whose reachability could not be decided within the budget, as warnings. */
  undecided: Problem[];
  /** How many conditions (of pages, questions, options, rows, and choice lists) were decided. */
  decided: number;
}

export function checkQuestionnaire(q: Questionnaire): CheckReport {
  const problems: Problem[] = [];
  const undecided: Problem[] = [];
  let decided = 0;
  const search = new WitnessSearch(q);
  const holds = (c: BoundExpression | undefined, env: Environment): boolean => !c || test(c.tree, env);

  const unreachable = (path: PathSegment[], what: string, conditions: (BoundExpression | undefined)[]): boolean => {
    const own = conditions[conditions.length - 1];
    if (!own) return false;
    const given = conditions.filter((c): c is BoundExpression => !!c);
    const goal = (env: Environment) => conditions.every((c) => holds(c, env));
    const result = search.find(given, goal);
    if (result.found) {
      decided++;
      return false;
    }
    if (result.exhausted) {
      const relaxed = search.find(given, goal, [], true);
      if (relaxed.found || relaxed.exhausted) {
        undecided.push({ path, message: `could not decide whether ${what} can be shown: the search ran out of its budget (its condition depends on many questions); run survey simulate to see it shown` });
        return false;
      }
    }
    decided++;
    const alone = conditions.length > 1 && search.find([own], (env) => holds(own, env)).found;
    problems.push({
      path,
      message: alone
        ? `${what} can never be shown: its condition "${own.source}" can never hold together with the condition of the page or question it belongs to`
        : `${what} can never be shown: the condition "${own.source}" can never be true, given the answers the questions it uses allow`,
    });
    return true;
  };

  for (const block of q.blocks) {
    const blockPath: PathSegment[] = ['blocks', block.index];
    if (unreachable([...blockPath, 'showIf'], `page "${block.id}"`, [block.showIf])) continue;
    for (const item of block.items) {
      if (unreachable([...item.path, 'showIf'], `"${item.id}"`, [block.showIf, item.showIf])) continue;
      const optionKey = item.type === 'grid' ? 'columns' : item.type === 'scale' ? 'extra' : 'options';
      item.options.forEach((option, i) => {
        unreachable([...item.path, optionKey, i, 'showIf'], `option "${option.code}" of "${item.id}"`, [block.showIf, item.showIf, option.showIf]);
      });
      if (item.type === 'grid') {
        item.members.forEach((row, i) => {
          unreachable([...item.path, 'rows', i, 'showIf'], `row "${row.code}" of "${item.id}"`, [block.showIf, item.showIf, row.showIf]);
        });
      }
      const empty = emptyChoiceList(q, search, block, item);
      if (empty === 'undecided') undecided.push({ path: choiceListPath(item), message: `could not decide whether "${item.id}" can be shown with nothing left to choose: the search ran out of its budget; run survey simulate` });
      else {
        if (empty !== 'unfiltered') decided++;
        problems.push(...(empty === 'unfiltered' ? [] : empty));
      }
      problems.push(...exclusivity(item));
    }
  }
  return { problems, undecided, decided };
}

/** Where a choice list is defined: its optionsFrom, its rows (a grid) or its options. */
const choiceListPath = (item: CompiledItem): PathSegment[] => [...item.path, item.optionsFrom ? 'optionsFrom' : item.type === 'grid' ? 'rows' : 'options'];

/** Problems of a filtered choice list that can end up empty; 'unfiltered': nothing to decide. */
function emptyChoiceList(q: Questionnaire, search: WitnessSearch, block: CompiledBlock, item: CompiledItem): Problem[] | 'unfiltered' | 'undecided' {
  const filtered = item.optionsFrom !== undefined || item.options.some((o) => o.showIf) || item.members.some((m) => m.showIf);
  if (!filtered || (item.type !== 'single' && item.type !== 'multi' && item.type !== 'ranking' && item.type !== 'grid')) return 'unfiltered';
  const conditions = [block.showIf, item.showIf, ...item.options.map((o) => o.showIf), ...item.members.map((m) => m.showIf)].filter(
    (c): c is BoundExpression => !!c,
  );
  const extra = item.optionsFrom ? [item.optionsFrom.id] : [];
  const shownButEmpty: Goal = (env) => {
    if ((block.showIf && !test(block.showIf.tree, env)) || (item.showIf && !test(item.showIf.tree, env))) return false;
    return item.type === 'grid' ? visibleMembers(item, env).length === 0 : visibleOptions(item, env).length === 0;
  };
  const result = search.find(conditions, shownButEmpty, extra);
  if (!result.found) {
    if (!result.exhausted) return [];
    // Nothing found before the budget ran out: if nothing is found even with the routing of the
    // questions it reads set aside, there is nothing.
    const relaxed = search.find(conditions, shownButEmpty, extra, true);
    return relaxed.found || relaxed.exhausted ? 'undecided' : [];
  }
  const what = item.type === 'grid' ? 'no rows' : 'no options';
  const example = describeWitness(q, result.answers, result.sample, result.considered);
  // Only the options of the source that are passed on count: its exclusive and non-substantive
  // ones ("geen", "weet niet") are not offered again, so count(Q) >= 1 would not do.
  const passedOn = item.optionsFrom ? inheritedOptions(item.optionsFrom).map((o) => o.code) : [];
  const hint = item.optionsFrom ? `; show it only when one of the options it passes on was ticked: "${item.optionsFrom.id} has any [${passedOn.join(', ')}]"` : '';
  return [{ path: choiceListPath(item), message: `"${item.id}" can be reached with ${what} left to choose${example ? ` (for example when ${example})` : ''}${hint}` }];
}

function exclusivity(item: CompiledItem): Problem[] {
  const d = item.def;
  const problems: Problem[] = [];
  const optionKey = d.type === 'grid' ? 'columns' : d.type === 'scale' ? 'extra' : 'options';
  const multiple = d.type === 'multi' || (d.type === 'grid' && d.multiple === true);
  item.options.forEach((o, i) => {
    if (o.def.exclusive && !multiple) {
      const message =
        d.type === 'ranking'
          ? `option "${o.code}" is marked exclusive, but "${item.id}" is a ranking, which puts several options in order; exclusive applies to multiple choice (and grids with check boxes): leave "${o.code}" out of the ranking, or ask it as a question of its own before it`
          : `option "${o.code}" is marked exclusive, but "${item.id}" allows only one answer anyway; exclusive applies to multiple choice (and grids with check boxes)`;
      problems.push({ path: [...item.path, optionKey, i, 'exclusive'], message });
    }
  });
  if (d.type === 'multi') {
    const free = [...(item.optionsFrom ? inheritedOptions(item.optionsFrom) : []), ...item.options.map((o) => o.def)].filter((o) => !o.exclusive);
    if (free.length === 0) {
      problems.push({ path: [...item.path, 'options'], message: `every option of "${item.id}" is exclusive, so only one can ever be ticked: make it a single choice` });
    }
    if (d.minSelected !== undefined && d.maxSelected !== undefined && d.minSelected > d.maxSelected) {
      problems.push({ path: [...item.path, 'minSelected'], message: `minSelected (${d.minSelected}) is above maxSelected (${d.maxSelected}): no answer is valid` });
    }
    if (d.minSelected !== undefined && d.minSelected > free.length && free.length > 0 && !item.optionsFrom) {
      problems.push({ path: [...item.path, 'minSelected'], message: `minSelected is ${d.minSelected}, but only ${free.length} options can be combined (the others are exclusive): no answer but an exclusive one is valid` });
    }
    if (d.maxSelected !== undefined && d.maxSelected < 1) {
      problems.push({ path: [...item.path, 'maxSelected'], message: 'maxSelected must allow at least one answer' });
    }
  }
  return problems;
}

function describeWitness(q: Questionnaire, answers: Answers, sample: SampleValues, considered: string[]): string {
  const parts: string[] = [];
  for (const [field, value] of Object.entries(sample)) if (q.sample.get(field)?.options.length) parts.push(`sample.${field} = ${value}`);
  for (const id of considered) {
    const v = answers[id];
    parts.push(`${id} ${v === undefined || v === null ? 'is not answered' : `= ${JSON.stringify(v).replace(/"/g, '')}`}`);
  }
  return parts.join(', ');
}

/** Depth-first search for answers (consistent with the routing) that make a goal true. */
class WitnessSearch {
  private readonly mentionedCodes = new Map<string, Set<string>>();
  private readonly numbers = new Set<number>();

  constructor(private readonly q: Questionnaire) {
    const all: BoundExpression[] = [];
    for (const block of q.blocks) {
      if (block.showIf) all.push(block.showIf);
      for (const item of block.items) {
        if (item.showIf) all.push(item.showIf);
        for (const o of item.options) if (o.showIf) all.push(o.showIf);
        for (const m of item.members) if (m.showIf) all.push(m.showIf);
        for (const r of item.rules) all.push(r.assert);
      }
    }
    for (const d of q.derived.values()) {
      if (d.expr) all.push(d.expr);
      for (const c of d.cases ?? []) all.push(c.when);
    }
    for (const e of all) {
      for (const m of e.mentionedCodes) {
        const owner = m.name.split('.')[0]!;
        const set = this.mentionedCodes.get(owner) ?? new Set();
        set.add(m.code);
        this.mentionedCodes.set(owner, set);
      }
      for (const n of e.mentionedNumbers) this.numbers.add(n);
    }
  }

  /**
   * A combination of answers that makes `goal` true. `relaxed`: over only the questions the
   * conditions read, each free to be answered any way or not at all (their routing set aside): a
   * larger space, so finding nothing there proves there is nothing.
   */
  find(conditions: BoundExpression[], goal: Goal, extraQuestions: string[] = [], relaxed = false): Witness {
    const { questions, sampleFields } = this.dependencies(conditions, extraQuestions, relaxed);
    let leaves = 0;
    let exhausted = false;
    const answers: Answers = {};
    const sample: SampleValues = {};

    const assignSample = (i: number): boolean => {
      if (i === sampleFields.length) return assignQuestion(0);
      const field = this.q.sample.get(sampleFields[i]!)!;
      for (const value of field.options.length > 0 ? field.options.map((o) => o.code) : ['x']) {
        sample[field.id] = value;
        if (assignSample(i + 1)) return true;
        if (exhausted) return false;
      }
      delete sample[field.id];
      return false;
    };
    const assignQuestion = (i: number): boolean => {
      if (i === questions.length) {
        if (++leaves > LEAF_BUDGET) {
          exhausted = true;
          return false;
        }
        return goal(environment(this.q, answers, sample));
      }
      const item = questions[i]!;
      for (const value of this.candidates(item, environment(this.q, answers, sample), relaxed)) {
        if (value === null) delete answers[item.id];
        else answers[item.id] = value;
        if (assignQuestion(i + 1)) return true;
        if (exhausted) return false;
      }
      delete answers[item.id];
      return false;
    };
    return assignSample(0)
      ? { found: true, answers: { ...answers }, sample: { ...sample }, considered: questions.map((item) => item.id) }
      : { found: false, exhausted };
  }

  /** The questions and sample fields a set of conditions depends on, with their own routing. */
  private dependencies(conditions: BoundExpression[], extraQuestions: string[], relaxed = false): { questions: CompiledItem[]; sampleFields: string[] } {
    const questions = new Set<string>();
    const sampleFields = new Set<string>();
    const seenDerived = new Set<string>();
    const visitExpr = (e: BoundExpression | undefined): void => {
      for (const ref of e?.references ?? []) visitName(ref.name);
    };
    const visitName = (name: string): void => {
      if (name.startsWith('sample.')) {
        sampleFields.add(name.slice(7));
        return;
      }
      const item = this.q.items.get(name);
      if (item) {
        if (questions.has(name)) return;
        questions.add(name);
        if (relaxed) return;
        visitExpr(item.block.showIf);
        visitExpr(item.showIf);
        for (const o of item.options) visitExpr(o.showIf);
        for (const m of item.members) visitExpr(m.showIf);
        if (item.optionsFrom) visitName(item.optionsFrom.id);
        return;
      }
      const d = this.q.derived.get(name);
      if (d && !seenDerived.has(name)) {
        seenDerived.add(name);
        visitExpr(d.expr);
        for (const c of d.cases ?? []) visitExpr(c.when);
      }
    };
    conditions.forEach(visitExpr);
    extraQuestions.forEach(visitName);
    const ordered = this.q.questions.filter((item) => questions.has(item.id));
    return { questions: ordered, sampleFields: [...sampleFields] };
  }

  /** The values worth trying for a question, given the answers before it; null = not answered. */
  private candidates(item: CompiledItem, env: Environment, relaxed = false): Value[] {
    const shown = relaxed || ((!item.block.showIf || test(item.block.showIf.tree, env)) && (!item.showIf || test(item.showIf.tree, env)));
    if (!shown) return [null];
    const d = item.def;
    const mentioned = this.mentionedCodes.get(item.id) ?? new Set<string>();
    const numbers = [...this.numbers].flatMap((n) => [n - 1, n, n + 1]);
    // Relaxed: every option, also those whose condition the questions set aside would decide.
    const options = relaxed ? [...(item.optionsFrom ? inheritedOptions(item.optionsFrom).map((def) => ({ code: def.code, def })) : []), ...item.options.map((o) => ({ code: o.code, def: o.def }))] : visibleOptions(item, env);
    // A required question that is shown is always answered by anyone who gets past it; relaxed,
    // any question may also be left unanswered (not shown).
    const values: Value[] = item.required && !relaxed ? [] : [null];
    switch (d.type) {
      case 'display':
        return [null];
      case 'single':
        values.push(...options.map((o) => o.code));
        break;
      case 'multi':
        values.push(...subsetCandidates(options.filter((o) => !o.def.exclusive).map((o) => o.code), options.filter((o) => o.def.exclusive).map((o) => o.code), mentioned));
        break;
      case 'ranking': {
        const codes = options.map((o) => o.code);
        const n = Math.min(d.pick, codes.length);
        codes.forEach((first) => values.push([first, ...codes.filter((c) => c !== first)].slice(0, n)));
        break;
      }
      case 'grid': {
        const rows = (relaxed ? item.members : visibleMembers(item, env)).map((r) => r.code);
        const columns = options.map((o) => o.code);
        if (columns.length === 0 || rows.length === 0) break;
        const perCell: Value[] = d.multiple
          ? subsetCandidates(options.filter((o) => !o.def.exclusive).map((o) => o.code), options.filter((o) => o.def.exclusive).map((o) => o.code), mentioned).slice(0, 6)
          : [...new Set([...columns.filter((c) => mentioned.has(c)), columns[0]!, columns[columns.length - 1]!])];
        const product = Math.pow(perCell.length + 1, rows.length);
        if (product <= 2048) {
          let records: { [row: string]: Value }[] = [{}];
          for (const row of rows) records = records.flatMap((r) => [r, ...perCell.map((c) => ({ ...r, [row]: c }))]);
          values.push(...records.filter((r) => Object.keys(r).length > 0));
        } else {
          for (const c of perCell) {
            values.push(Object.fromEntries(rows.map((row) => [row, c])));
            for (const row of rows) values.push({ [row]: c });
          }
        }
        break;
      }
      case 'scale':
        values.push(...new Set([d.min, d.max, ...numbers].filter((n) => Number.isInteger(n) && n >= d.min && n <= d.max)), ...options.map((o) => o.code));
        break;
      case 'number': {
        const lo = d.min ?? -Infinity;
        const hi = d.max ?? Infinity;
        values.push(...new Set([0, ...(Number.isFinite(lo) ? [lo] : []), ...(Number.isFinite(hi) ? [hi] : []), ...numbers].filter((n) => n >= lo && n <= hi)));
        break;
      }
      case 'split': {
        const lo = d.min ?? 0;
        const perPart = [...new Set([lo, lo + 1, ...numbers].filter((n) => n >= lo && (d.max === undefined || n <= d.max)))].slice(0, 6);
        let records: { [part: string]: Value }[] = [{}];
        for (const part of item.members) records = records.flatMap((r) => perPart.map((n) => ({ ...r, [part.code]: n })));
        values.push(...records.slice(0, 512));
        break;
      }
      case 'open':
        values.push(d.boxes ? Object.fromEntries(d.boxes.map((b) => [b.code, 'x'])) : 'x');
        break;
      case 'date':
        values.push(d.min ?? '2000-01-01', d.max ?? '2099-12-31');
        break;
    }
    // Nothing valid to give (e.g. no options left): the question stays unanswered.
    return values.length > 0 ? values : [null];
  }
}

/** Subsets of a multiple choice worth trying: each exclusive option alone, subsets of the
 * mentioned options (with and without one other), and prefixes of every length (for counts). */
function subsetCandidates(free: string[], exclusive: string[], mentioned: ReadonlySet<string>): string[][] {
  const seen = new Map<string, string[]>();
  const add = (codes: string[]): void => {
    if (codes.length === 0) return;
    const key = [...codes].sort().join(',');
    if (!seen.has(key)) seen.set(key, codes);
  };
  exclusive.forEach((e) => add([e]));
  const named = free.filter((c) => mentioned.has(c)).slice(0, 8);
  const unnamed = free.filter((c) => !mentioned.has(c));
  for (let mask = 1; mask < 1 << named.length; mask++) {
    const subset = named.filter((_, i) => mask & (1 << i));
    add(subset);
    if (unnamed[0]) add([...subset, unnamed[0]]);
  }
  for (let n = 1; n <= free.length; n++) add(free.slice(0, n));
  for (let n = 1; n <= unnamed.length; n++) add(unnamed.slice(0, n));
  free.forEach((c) => add([c]));
  return [...seen.values()];
}
