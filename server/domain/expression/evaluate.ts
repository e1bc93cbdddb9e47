// The evaluator: pure, total (never throws on answers), and the only place that decides what a
// condition means. Rendering, validation, pruning, simulation and export all call it.
//
// Missing values: a question that was not asked or not answered is null. Every comparison with
// null is false, except != which is exactly "not ==" and therefore true. count() of nothing is 0.

import type { Bound } from './bind.ts';
import type { Value } from './types.ts';

/** Supplies stored values by key: `Q1`, `VICTIM`, `sample.functie`, `Q8.anders`. */
export interface Environment {
  get(key: string): Value;
}

function isRecord(v: Value): v is { readonly [member: string]: Value } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function equal(a: Value, b: Value): boolean {
  if (a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b) || isRecord(a) || isRecord(b)) return false;
  return a === b;
}

function compare(op: string, a: Value, b: Value, order?: readonly string[]): boolean {
  if (op === '==') return equal(a, b);
  if (op === '!=') return !equal(a, b);
  let x: number | string;
  let y: number | string;
  if (order) {
    x = order.indexOf(a as string);
    y = order.indexOf(b as string);
    if (x < 0 || y < 0) return false;
  } else if (typeof a === 'number' && typeof b === 'number') {
    x = a;
    y = b;
  } else if (typeof a === 'string' && typeof b === 'string') {
    x = a;
    y = b;
  } else {
    return false;
  }
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

function asNumber(v: Value): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function isAnswered(v: Value): boolean {
  if (v === null || v === undefined || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isRecord(v)) return Object.values(v).some(isAnswered);
  return true;
}

export function evaluate(tree: Bound, env: Environment): Value {
  switch (tree.k) {
    case 'const':
      return tree.value;
    case 'ref':
      return env.get(tree.key) ?? null;
    case 'member': {
      const v = evaluate(tree.of, env);
      return isRecord(v) ? (v[tree.member] ?? null) : null;
    }
    case 'rank': {
      const v = evaluate(tree.of, env);
      if (!Array.isArray(v)) return null;
      const i = v.indexOf(tree.code);
      return i < 0 ? null : i + 1;
    }
    case 'not':
      return !test(tree.operand, env);
    case 'and':
      return test(tree.left, env) && test(tree.right, env);
    case 'or':
      return test(tree.left, env) || test(tree.right, env);
    case 'cmp': {
      const right = evaluate(tree.right, env);
      if (tree.quantifier) {
        const left = evaluate(tree.left, env);
        const members = isRecord(left) ? Object.values(left).filter(isAnswered) : [];
        const holds = (m: Value): boolean => compare(tree.op, m, right, tree.order);
        return tree.quantifier === 'any' ? members.some(holds) : members.length > 0 && members.every(holds);
      }
      return compare(tree.op, evaluate(tree.left, env), right, tree.order);
    }
    case 'has': {
      const v = evaluate(tree.left, env);
      if (!Array.isArray(v)) return false;
      if (tree.mode === 'all') return tree.codes.every((c) => v.includes(c));
      return tree.codes.some((c) => v.includes(c));
    }
    case 'in': {
      const v = evaluate(tree.left, env);
      return tree.values.some((x) => equal(v, x));
    }
    case 'arith': {
      const a = asNumber(evaluate(tree.left, env));
      const b = asNumber(evaluate(tree.right, env));
      if (a === null || b === null) return null;
      switch (tree.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        default:
          return b === 0 ? null : a / b;
      }
    }
    case 'neg': {
      const a = asNumber(evaluate(tree.operand, env));
      return a === null ? null : -a;
    }
    case 'count': {
      const v = evaluate(tree.of, env);
      if (Array.isArray(v)) return v.length;
      if (isRecord(v)) return Object.values(v).filter(isAnswered).length;
      return 0;
    }
    case 'sum': {
      const v = evaluate(tree.of, env);
      if (!isRecord(v)) return null;
      const numbers = Object.values(v).map(asNumber).filter((n): n is number => n !== null);
      return numbers.length === 0 ? null : numbers.reduce((s, n) => s + n, 0);
    }
    case 'answered':
      return isAnswered(evaluate(tree.of, env));
  }
}

/** Evaluates a condition: anything but `true` (including null) counts as false. */
export function test(tree: Bound, env: Environment): boolean {
  return evaluate(tree, env) === true;
}
