// The binder turns a syntax tree into a typed, evaluable tree: it resolves names against the
// questionnaire (questions, derived variables, sample fields, option codes), checks types and
// records every reference so the checker can verify order ("no reference to a later page").

import { ExpressionError, parse, type ArithOp, type CompareOp, type Syntax } from './syntax.ts';
import { codesOf, describeType, type Scope, type SymbolInfo, type Value, type ValueType } from './types.ts';

export type Bound =
  | { k: 'const'; value: Value }
  /** A stored value: a question, derived variable (`VICTIM`), sample field (`sample.functie`)
   * or the free text of an "other" option (`Q8.anders`). */
  | { k: 'ref'; key: string }
  | { k: 'member'; of: Bound; member: string }
  | { k: 'rank'; of: Bound; code: string }
  | { k: 'not'; operand: Bound }
  | { k: 'and' | 'or'; left: Bound; right: Bound }
  | { k: 'cmp'; op: CompareOp; left: Bound; right: Bound; order?: readonly string[]; quantifier?: 'any' | 'all' }
  | { k: 'has'; mode: 'one' | 'any' | 'all'; left: Bound; codes: readonly string[] }
  | { k: 'in'; left: Bound; values: readonly Value[] }
  | { k: 'arith'; op: ArithOp; left: Bound; right: Bound }
  | { k: 'neg'; operand: Bound }
  | { k: 'count' | 'sum' | 'answered'; of: Bound };

/** A name the expression refers to, with where it appears. */
export interface Reference {
  /** Question or derived id, or `sample.<field>`. */
  name: string;
  sample: boolean;
  column: number;
}

/** One code an expression mentions, per question: used by the checker to search witnesses. */
export interface MentionedCode {
  name: string;
  code: string;
}

export interface BoundExpression {
  source: string;
  tree: Bound;
  type: ValueType;
  references: Reference[];
  mentionedCodes: MentionedCode[];
  mentionedNumbers: number[];
}

interface Typed {
  tree: Bound;
  type: ValueType;
  /** The referenced name when the node is a plain reference (for code lists). */
  name?: string;
}

const BOOL: ValueType = { kind: 'bool' };
const NUMBER: ValueType = { kind: 'number' };
const TEXT: ValueType = { kind: 'text' };
const FUNCTIONS = ['count', 'sum', 'answered'] as const;

function suggestion(name: string, candidates: readonly string[]): string {
  const lower = name.toLowerCase();
  // Only suggest near misses: a one-letter code is not a typo of another one-letter code.
  const maxDistance = Math.min(2, Math.floor(name.length / 3));
  const close = candidates.find((c) => c.toLowerCase() === lower) ?? candidates.find((c) => editDistance(c.toLowerCase(), lower) <= maxDistance);
  return close ? ` (did you mean "${close}"?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

function listCodes(codes: readonly string[]): string {
  return codes.length > 12 ? `${codes.slice(0, 12).join(', ')}, …` : codes.join(', ');
}

/**
 * Parses and binds `source`. `expect` is the type the context needs ('bool' for showIf and
 * rules, 'any' for derived expressions that may be numbers). Throws ExpressionError.
 */
export function bindExpression(source: string, scope: Scope, expect: 'bool' | 'bool-or-number'): BoundExpression {
  const syntax = parse(source);
  const references: Reference[] = [];
  const mentionedCodes: MentionedCode[] = [];
  const mentionedNumbers: number[] = [];

  function resolveRef(node: Syntax & { kind: 'name' }): Typed {
    const symbol = scope.resolve(node.name);
    if (!symbol) {
      if (node.name === 'sample') {
        throw new ExpressionError('write a sample field as sample.<field>, e.g. sample.functie', node.column);
      }
      throw new ExpressionError(`unknown question or variable "${node.name}"${suggestion(node.name, scope.names())}`, node.column);
    }
    references.push({ name: node.name, sample: false, column: node.column });
    return { tree: { k: 'ref', key: node.name }, type: symbol.type, name: node.name };
  }

  function bindMember(node: Syntax & { kind: 'member' }): Typed {
    if (node.object.kind === 'name' && node.object.name === 'sample' && !scope.resolve('sample')) {
      const field: SymbolInfo | undefined = scope.resolveSample(node.member);
      if (!field) {
        throw new ExpressionError(
          `unknown sample field "${node.member}"${suggestion(node.member, scope.sampleNames())}; declare it under "sample"`,
          node.memberColumn,
        );
      }
      const key = `sample.${node.member}`;
      references.push({ name: key, sample: true, column: node.column });
      return { tree: { k: 'ref', key }, type: field.type, name: key };
    }
    const object = bindValue(node.object);
    const t = object.type;
    if (t.kind === 'record') {
      if (!t.members.includes(node.member)) {
        throw new ExpressionError(
          `${object.name ?? 'this value'} has no ${t.noun} "${node.member}"${suggestion(node.member, t.members)}; its ${t.noun}s are: ${listCodes(t.members)}`,
          node.memberColumn,
        );
      }
      return { tree: { k: 'member', of: object.tree, member: node.member }, type: t.member, name: `${object.name}.${node.member}` };
    }
    if (t.kind === 'ranking') {
      if (!t.codes.includes(node.member)) {
        throw new ExpressionError(`${object.name} has no option "${node.member}"${suggestion(node.member, t.codes)}`, node.memberColumn);
      }
      mentionedCodes.push({ name: object.name!, code: node.member });
      return { tree: { k: 'rank', of: object.tree, code: node.member }, type: NUMBER };
    }
    if ((t.kind === 'choice' || t.kind === 'set') && object.name) {
      const symbol = scope.resolve(object.name);
      if (symbol?.otherCodes?.includes(node.member)) {
        return { tree: { k: 'ref', key: `${object.name}.${node.member}` }, type: TEXT };
      }
      throw new ExpressionError(
        `${object.name}.${node.member}: only options with a free text ("other": true) can be read this way`,
        node.memberColumn,
      );
    }
    throw new ExpressionError(`${describeType(t)} has no parts to select with "."`, node.memberColumn);
  }

  /** Binds a node that must denote a value (not a bare option code). */
  function bindValue(node: Syntax): Typed {
    switch (node.kind) {
      case 'number':
        mentionedNumbers.push(node.value);
        return { tree: { k: 'const', value: node.value }, type: NUMBER };
      case 'string':
        return { tree: { k: 'const', value: node.value }, type: TEXT };
      case 'bool':
        return { tree: { k: 'const', value: node.value }, type: BOOL };
      case 'name':
        return resolveRef(node);
      case 'member':
        return bindMember(node);
      case 'list':
        throw new ExpressionError('a list can only follow "in", "has any" or "has all"', node.column);
      case 'not': {
        const operand = bindBool(node.operand, '"not"');
        return { tree: { k: 'not', operand }, type: BOOL };
      }
      case 'logic':
        return {
          tree: { k: node.op, left: bindBool(node.left, `"${node.op}"`), right: bindBool(node.right, `"${node.op}"`) },
          type: BOOL,
        };
      case 'neg':
        return { tree: { k: 'neg', operand: bindNumber(node.operand, 'minus') }, type: NUMBER };
      case 'arith':
        return {
          tree: { k: 'arith', op: node.op, left: bindNumber(node.left, `"${node.op}"`), right: bindNumber(node.right, `"${node.op}"`) },
          type: NUMBER,
        };
      case 'compare':
        return bindCompare(node);
      case 'has':
        return bindHas(node);
      case 'in':
        return bindIn(node);
      case 'call':
        return bindCall(node);
    }
  }

  function bindBool(node: Syntax, what: string): Bound {
    const typed = bindValue(node);
    if (typed.type.kind !== 'bool') {
      throw new ExpressionError(`${what} needs a true/false condition, but this is ${describeType(typed.type)}`, node.column);
    }
    return typed.tree;
  }

  function bindNumber(node: Syntax, what: string): Bound {
    const typed = bindValue(node);
    if (typed.type.kind !== 'number' && typed.type.kind !== 'scale') {
      throw new ExpressionError(`${what} needs a number, but this is ${describeType(typed.type)}`, node.column);
    }
    return typed.tree;
  }

  /** An option code of `owner`: a bare name or a quoted text. */
  function bindCode(node: Syntax, owner: Typed, codes: readonly string[]): string {
    let code: string;
    if (node.kind === 'name') code = node.name;
    else if (node.kind === 'string') code = node.value;
    else throw new ExpressionError(`expected an option code of ${owner.name ?? 'the value on the left'}`, node.column);
    if (!codes.includes(code)) {
      throw new ExpressionError(
        `${owner.name ?? 'the value on the left'} has no option "${code}"${suggestion(code, codes)}; its options are: ${listCodes(codes)}`,
        node.column,
      );
    }
    if (owner.name) mentionedCodes.push({ name: owner.name, code });
    return code;
  }

  function bindCompare(node: Syntax & { kind: 'compare' }): Typed {
    let left = bindValue(node.left);
    if (node.quantifier) {
      if (left.type.kind !== 'record') {
        throw new ExpressionError(`"${node.quantifier}" applies to a grid or a group of parts, not to ${describeType(left.type)}`, node.column);
      }
      left = { tree: left.tree, type: left.type.member, name: left.name };
    }
    const t = left.type;
    const ordering = node.op !== '==' && node.op !== '!=';
    const codes = codesOf(t);
    const withQuantifier = (tree: Bound & { k: 'cmp' }): Typed => {
      if (node.quantifier) tree.quantifier = node.quantifier;
      return { tree, type: BOOL };
    };

    // Comparing with an option code: `Q1 == ja`, `Q5.verbaal > nooit`, `Q12 == weet_niet`.
    const rightIsCode =
      codes !== undefined &&
      (node.right.kind === 'string' || (node.right.kind === 'name' && (codes.includes(node.right.name) || !scope.resolve(node.right.name))));
    if (rightIsCode && (t.kind === 'choice' || t.kind === 'scale')) {
      const code = bindCode(node.right, left, codes);
      if (ordering) {
        if (t.kind === 'scale') {
          throw new ExpressionError(`"${code}" is not on the scale; only == and != can compare with it`, node.right.column);
        }
        if (!t.ordered.includes(code)) {
          throw new ExpressionError(`"${code}" is a non-substantive option and has no place in the order; use == or !=`, node.right.column);
        }
        return withQuantifier({ k: 'cmp', op: node.op, left: left.tree, right: { k: 'const', value: code }, order: t.ordered });
      }
      return withQuantifier({ k: 'cmp', op: node.op, left: left.tree, right: { k: 'const', value: code } });
    }
    if (t.kind === 'set' || t.kind === 'ranking') {
      throw new ExpressionError(
        `${left.name ?? 'a multiple choice'} holds several answers: use "has", "has any [...]" or count(${left.name ?? '…'})`,
        node.column,
      );
    }
    if (t.kind === 'record') {
      throw new ExpressionError(`compare one ${t.noun} (e.g. ${left.name}.${t.members[0]}) or use "any"/"all"`, node.column);
    }
    // `VICTIM == ja` on a true/false variable: "ja" is no name here, and no code either.
    if (t.kind === 'bool' && (node.right.kind === 'name' || node.right.kind === 'string') && !(node.right.kind === 'name' && scope.resolve(node.right.name))) {
      const name = left.name ?? 'this condition';
      throw new ExpressionError(`${name} is true or false, not one of several codes: write ${name} (or not ${name}), or ${name} == true / ${name} == false`, node.right.column);
    }
    const right = bindValue(node.right);
    const r = right.type;
    const numeric = (x: ValueType): boolean => x.kind === 'number' || x.kind === 'scale';
    if (numeric(t) && numeric(r)) return withQuantifier({ k: 'cmp', op: node.op, left: left.tree, right: right.tree });
    if (t.kind === 'date' && (r.kind === 'date' || (r.kind === 'text' && right.tree.k === 'const'))) {
      if (right.tree.k === 'const' && !/^\d{4}-\d{2}-\d{2}$/.test(String(right.tree.value))) {
        throw new ExpressionError('write a date as \'YYYY-MM-DD\'', node.right.column);
      }
      return withQuantifier({ k: 'cmp', op: node.op, left: left.tree, right: right.tree });
    }
    if (!ordering) {
      const same =
        t.kind === r.kind &&
        (t.kind !== 'choice' || (r.kind === 'choice' && t.codes.join() === r.codes.join()));
      if (same) return withQuantifier({ k: 'cmp', op: node.op, left: left.tree, right: right.tree });
    }
    throw new ExpressionError(`cannot compare ${describeType(t)} with ${describeType(r)} using ${node.op}`, node.column);
  }

  function bindHas(node: Syntax & { kind: 'has' }): Typed {
    const left = bindValue(node.left);
    const t = left.type;
    if (t.kind !== 'set' && t.kind !== 'ranking') {
      const hint = t.kind === 'choice' ? ' (for a single choice use == or "in [...]")' : '';
      throw new ExpressionError(`"has" needs a multiple choice or a ranking, but this is ${describeType(t)}${hint}`, node.column);
    }
    const items = node.right.kind === 'list' ? node.right.items : [node.right];
    const codes = items.map((item) => bindCode(item, left, t.codes));
    return { tree: { k: 'has', mode: node.mode, left: left.tree, codes }, type: BOOL };
  }

  function bindIn(node: Syntax & { kind: 'in' }): Typed {
    const left = bindValue(node.left);
    const t = left.type;
    const items = (node.right as Syntax & { kind: 'list' }).items;
    const codes = codesOf(t);
    if (t.kind === 'choice' || t.kind === 'scale') {
      const values: Value[] = items.map((item) => {
        if (t.kind === 'scale' && item.kind === 'number') {
          mentionedNumbers.push(item.value);
          return item.value;
        }
        return bindCode(item, left, codes!);
      });
      return { tree: { k: 'in', left: left.tree, values }, type: BOOL };
    }
    if (t.kind === 'number' || t.kind === 'text') {
      const values: Value[] = items.map((item) => {
        if (t.kind === 'number' && item.kind === 'number') {
          mentionedNumbers.push(item.value);
          return item.value;
        }
        if (t.kind === 'text' && item.kind === 'string') return item.value;
        throw new ExpressionError(`the list must hold ${describeType(t)}s`, item.column);
      });
      return { tree: { k: 'in', left: left.tree, values }, type: BOOL };
    }
    throw new ExpressionError(`"in" needs a single choice, a number or a text, but this is ${describeType(t)}`, node.column);
  }

  function bindCall(node: Syntax & { kind: 'call' }): Typed {
    if (!(FUNCTIONS as readonly string[]).includes(node.name)) {
      throw new ExpressionError(`unknown function "${node.name}"; the functions are ${FUNCTIONS.join(', ')}`, node.column);
    }
    if (node.args.length !== 1) {
      throw new ExpressionError(`${node.name}() takes exactly one question`, node.column);
    }
    const arg = bindValue(node.args[0]!);
    const t = arg.type;
    switch (node.name) {
      case 'count':
        if (t.kind !== 'set' && t.kind !== 'ranking' && t.kind !== 'record') {
          throw new ExpressionError(`count() needs a multiple choice, ranking or grid, but this is ${describeType(t)}`, node.column);
        }
        return { tree: { k: 'count', of: arg.tree }, type: NUMBER };
      case 'sum':
        if (t.kind !== 'record' || t.member.kind !== 'number') {
          throw new ExpressionError(`sum() needs a group of numbers (a split), but this is ${describeType(t)}`, node.column);
        }
        return { tree: { k: 'sum', of: arg.tree }, type: NUMBER };
      default:
        return { tree: { k: 'answered', of: arg.tree }, type: BOOL };
    }
  }

  const typed = bindValue(syntax);
  const kind = typed.type.kind;
  if (expect === 'bool' && kind !== 'bool') {
    throw new ExpressionError(`a condition must be true or false, but this is ${describeType(typed.type)}`, syntax.column);
  }
  if (expect === 'bool-or-number' && kind !== 'bool' && kind !== 'number' && kind !== 'scale') {
    throw new ExpressionError(`a derived expression must give true/false or a number, not ${describeType(typed.type)}`, syntax.column);
  }
  return { source, tree: typed.tree, type: typed.type, references, mentionedCodes, mentionedNumbers };
}
