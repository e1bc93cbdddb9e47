// The condition language: parse once at load, bind against the questionnaire, evaluate anywhere.
export { ExpressionError, KEYWORDS, parse, tokenize, type Syntax } from './syntax.ts';
export { bindExpression, type Bound, type BoundExpression, type Reference } from './bind.ts';
export { evaluate, test, isAnswered, type Environment } from './evaluate.ts';
export { describeType, codesOf, type Scope, type SymbolInfo, type Value, type ValueType } from './types.ts';
