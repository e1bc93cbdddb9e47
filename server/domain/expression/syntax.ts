// Lexer and parser for the condition language. Produces an untyped syntax tree whose nodes
// carry the column (1-based) where they start, so that every later error can point at it.
// See docs/questionnaire-format.md for the language as authors see it.

export class ExpressionError extends Error {
  constructor(
    message: string,
    /** 1-based column inside the expression text. */
    readonly column: number,
  ) {
    super(message);
  }
}

export const KEYWORDS = ['and', 'or', 'not', 'has', 'any', 'all', 'in', 'true', 'false'] as const;
const keywordSet: ReadonlySet<string> = new Set(KEYWORDS);

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type ArithOp = '+' | '-' | '*' | '/';

type TokenKind = 'ident' | 'keyword' | 'number' | 'string' | 'op' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  column: number;
}

export type Syntax =
  | { kind: 'number'; value: number; column: number }
  | { kind: 'string'; value: string; column: number }
  | { kind: 'bool'; value: boolean; column: number }
  /** A bare name: a question, a derived variable, `sample.<field>`, or an option code. */
  | { kind: 'name'; name: string; column: number }
  | { kind: 'member'; object: Syntax; member: string; column: number; memberColumn: number }
  | { kind: 'list'; items: Syntax[]; column: number }
  | { kind: 'not'; operand: Syntax; column: number }
  | { kind: 'neg'; operand: Syntax; column: number }
  | { kind: 'logic'; op: 'and' | 'or'; left: Syntax; right: Syntax; column: number }
  | { kind: 'compare'; op: CompareOp; left: Syntax; right: Syntax; quantifier?: 'any' | 'all'; column: number }
  | { kind: 'has'; mode: 'one' | 'any' | 'all'; left: Syntax; right: Syntax; column: number }
  | { kind: 'in'; left: Syntax; right: Syntax; column: number }
  | { kind: 'arith'; op: ArithOp; left: Syntax; right: Syntax; column: number }
  | { kind: 'call'; name: string; args: Syntax[]; column: number };

const TWO_CHAR_OPS = ['==', '!=', '<=', '>='];
const ONE_CHAR_OPS = '<>+-*/()[],.';

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    const column = i + 1;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < source.length && /[A-Za-z0-9_]/.test(source[j]!)) j++;
      const text = source.slice(i, j);
      tokens.push({ kind: keywordSet.has(text) ? 'keyword' : 'ident', text, column });
      i = j;
      continue;
    }
    if (/[0-9]/.test(ch)) {
      let j = i + 1;
      while (j < source.length && /[0-9]/.test(source[j]!)) j++;
      if (source[j] === '.' && /[0-9]/.test(source[j + 1] ?? '')) {
        j++;
        while (j < source.length && /[0-9]/.test(source[j]!)) j++;
      }
      if (/[A-Za-z_]/.test(source[j] ?? '')) {
        throw new ExpressionError(`"${source.slice(i, j + 1)}…" is not a number; codes must start with a letter`, column);
      }
      tokens.push({ kind: 'number', text: source.slice(i, j), column });
      i = j;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const end = source.indexOf(ch, i + 1);
      if (end < 0) throw new ExpressionError(`unterminated text: the quote ${ch} is never closed`, column);
      tokens.push({ kind: 'string', text: source.slice(i + 1, end), column });
      i = end + 1;
      continue;
    }
    const two = source.slice(i, i + 2);
    if (TWO_CHAR_OPS.includes(two)) {
      tokens.push({ kind: 'op', text: two, column });
      i += 2;
      continue;
    }
    if (ch === '=') throw new ExpressionError('use == to compare (a single = is not an operator)', column);
    if (ch === '&' || ch === '|') throw new ExpressionError(`use "and" / "or" instead of ${ch}${ch}`, column);
    if (ch === '!') throw new ExpressionError('use "not" instead of !', column);
    if (ONE_CHAR_OPS.includes(ch)) {
      tokens.push({ kind: 'op', text: ch, column });
      i++;
      continue;
    }
    throw new ExpressionError(`unexpected character "${ch}"`, column);
  }
  tokens.push({ kind: 'end', text: '', column: source.length + 1 });
  return tokens;
}

const COMPARE_OPS: ReadonlySet<string> = new Set(['==', '!=', '<', '<=', '>', '>=']);

/**
 * How deeply a condition may nest (brackets, function calls, lists, "not", unary minus). Real
 * conditions nest a few levels; without a limit a hostile or generated file of thousands of
 * brackets would overflow the stack of the parser, the binder and the evaluator, which all recurse.
 */
export const MAX_NESTING = 50;

/**
 * How many operators (and, or, +, -, *, /) one condition may chain. A chain is a tree as deep as
 * it is long, which the binder and the evaluator walk recursively; real conditions have a few
 * dozen at most.
 */
export const MAX_OPERATORS = 1000;

/** Parses a whole expression; throws ExpressionError with the column of the first problem. */
export function parse(source: string): Syntax {
  if (source.trim() === '') throw new ExpressionError('the condition is empty', 1);
  const tokens = tokenize(source);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const next = (): Token => tokens[pos++]!;
  const isOp = (text: string): boolean => peek().kind === 'op' && peek().text === text;
  const isKeyword = (text: string): boolean => peek().kind === 'keyword' && peek().text === text;
  const describe = (t: Token): string => (t.kind === 'end' ? 'the end of the condition' : `"${t.text}"`);
  const expectOp = (text: string, what: string): void => {
    if (!isOp(text)) throw new ExpressionError(`expected ${what} but found ${describe(peek())}`, peek().column);
    pos++;
  };
  let depth = 0;
  let operators = 0;
  /** The operator token just read, counted against MAX_OPERATORS. */
  const operator = (t: Token): Token => {
    if (++operators > MAX_OPERATORS) throw new ExpressionError(`the condition chains more than ${MAX_OPERATORS} operators (and, or, +, -, *, /); split it, for instance into derived variables`, t.column);
    return t;
  };
  /** Parses one level deeper (inside brackets, a call, a list, after "not" or "-"). */
  const nested = <T>(column: number, parseInner: () => T): T => {
    if (++depth > MAX_NESTING) throw new ExpressionError(`the condition nests more than ${MAX_NESTING} levels deep (brackets, calls, lists, "not", "-"); write it more simply`, column);
    try {
      return parseInner();
    } finally {
      depth--;
    }
  };

  function orExpr(): Syntax {
    let left = andExpr();
    while (isKeyword('or')) {
      const t = operator(next());
      left = { kind: 'logic', op: 'or', left, right: andExpr(), column: t.column };
    }
    return left;
  }
  function andExpr(): Syntax {
    let left = notExpr();
    while (isKeyword('and')) {
      const t = operator(next());
      left = { kind: 'logic', op: 'and', left, right: notExpr(), column: t.column };
    }
    return left;
  }
  function notExpr(): Syntax {
    if (isKeyword('not')) {
      const t = next();
      return { kind: 'not', operand: nested(t.column, notExpr), column: t.column };
    }
    return comparison();
  }
  function comparison(): Syntax {
    let quantifier: 'any' | 'all' | undefined;
    const start = peek();
    if (isKeyword('any') || isKeyword('all')) {
      quantifier = next().text as 'any' | 'all';
    }
    const left = additive();
    const t = peek();
    if (t.kind === 'op' && COMPARE_OPS.has(t.text)) {
      next();
      const right = additive();
      const node: Syntax = { kind: 'compare', op: t.text as CompareOp, left, right, column: t.column };
      if (quantifier) node.quantifier = quantifier;
      return node;
    }
    if (quantifier) {
      throw new ExpressionError(`"${quantifier}" must be followed by a grid and a comparison, e.g. "${quantifier} Q5 > nooit"`, start.column);
    }
    if (isKeyword('has')) {
      next();
      let mode: 'one' | 'any' | 'all' = 'one';
      if (isKeyword('any') || isKeyword('all')) mode = next().text as 'any' | 'all';
      const right = mode === 'one' ? additive() : list();
      return { kind: 'has', mode, left, right, column: t.column };
    }
    if (isKeyword('in')) {
      next();
      return { kind: 'in', left, right: list(), column: t.column };
    }
    return left;
  }
  function list(): Syntax {
    const t = peek();
    return nested(t.column, () => listItems(t));
  }
  function listItems(t: Token): Syntax {
    expectOp('[', 'a list such as [a, b]');
    const items: Syntax[] = [];
    if (!isOp(']')) {
      items.push(additive());
      while (isOp(',')) {
        next();
        items.push(additive());
      }
    }
    expectOp(']', '"]" to close the list');
    if (items.length === 0) throw new ExpressionError('the list is empty', t.column);
    return { kind: 'list', items, column: t.column };
  }
  function additive(): Syntax {
    let left = multiplicative();
    while (isOp('+') || isOp('-')) {
      const t = operator(next());
      left = { kind: 'arith', op: t.text as ArithOp, left, right: multiplicative(), column: t.column };
    }
    return left;
  }
  function multiplicative(): Syntax {
    let left = unary();
    while (isOp('*') || isOp('/')) {
      const t = operator(next());
      left = { kind: 'arith', op: t.text as ArithOp, left, right: unary(), column: t.column };
    }
    return left;
  }
  function unary(): Syntax {
    if (isOp('-')) {
      const t = next();
      return { kind: 'neg', operand: nested(t.column, unary), column: t.column };
    }
    return postfix();
  }
  function postfix(): Syntax {
    let node = primary();
    while (isOp('.')) {
      next();
      const m = peek();
      if (m.kind !== 'ident' && m.kind !== 'keyword') {
        throw new ExpressionError(`expected a name after "." but found ${describe(m)}`, m.column);
      }
      next();
      node = { kind: 'member', object: node, member: m.text, column: node.column, memberColumn: m.column };
    }
    return node;
  }
  function primary(): Syntax {
    const t = peek();
    switch (t.kind) {
      case 'number':
        next();
        return { kind: 'number', value: Number(t.text), column: t.column };
      case 'string':
        next();
        return { kind: 'string', value: t.text, column: t.column };
      case 'keyword':
        if (t.text === 'true' || t.text === 'false') {
          next();
          return { kind: 'bool', value: t.text === 'true', column: t.column };
        }
        throw new ExpressionError(`"${t.text}" cannot stand here`, t.column);
      case 'ident': {
        next();
        if (isOp('(')) {
          next();
          const args: Syntax[] = [];
          nested(t.column, () => {
            if (!isOp(')')) {
              args.push(orExpr());
              while (isOp(',')) {
                next();
                args.push(orExpr());
              }
            }
          });
          expectOp(')', `")" to close ${t.text}(`);
          return { kind: 'call', name: t.text, args, column: t.column };
        }
        return { kind: 'name', name: t.text, column: t.column };
      }
      case 'op':
        if (t.text === '(') {
          next();
          const inner = nested(t.column, orExpr);
          expectOp(')', '")"');
          return inner;
        }
        if (t.text === '[') return list();
        throw new ExpressionError(`unexpected ${describe(t)}`, t.column);
      case 'end':
        throw new ExpressionError('the condition ends too early', t.column);
    }
  }

  const tree = orExpr();
  if (peek().kind !== 'end') {
    throw new ExpressionError(`unexpected ${describe(peek())}; did you forget "and" or "or"?`, peek().column);
  }
  return tree;
}
