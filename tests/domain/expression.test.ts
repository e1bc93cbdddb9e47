import { describe, expect, it } from 'vitest';
import { bindExpression, evaluate, ExpressionError, parse, test as holds, type Scope, type SymbolInfo, type Value, type ValueType } from '../../server/domain/expression/index.ts';

// A scope like a small questionnaire: the binder only needs names and types.
const frequency: ValueType = { kind: 'choice', codes: ['nooit', 'eenmalig', 'vaak', 'weet_niet'], ordered: ['nooit', 'eenmalig', 'vaak'] };
const symbols: Record<string, SymbolInfo> = {
  Q1: { type: { kind: 'set', codes: ['verbaal', 'fysiek', 'anders', 'geen'] }, otherCodes: ['anders'] },
  Q2: { type: { kind: 'choice', codes: ['ja', 'nee', 'weet_niet'], ordered: ['ja', 'nee'] } },
  Q5: { type: { kind: 'record', members: ['verbaal', 'fysiek'], member: frequency, noun: 'row' } },
  Q6: { type: { kind: 'record', members: ['offline', 'online'], member: { kind: 'number' }, noun: 'part' } },
  Q7: { type: { kind: 'scale', min: 1, max: 7, codes: ['weet_niet'] } },
  Q8: { type: { kind: 'number' } },
  Q9: { type: { kind: 'text' } },
  Q10: { type: { kind: 'date' } },
  Q11: { type: { kind: 'ranking', codes: ['maatwerk', 'snelheid', 'deskundigheid'] } },
  VICTIM: { type: { kind: 'bool' } },
};
const sample: Record<string, SymbolInfo> = {
  functie: { type: { kind: 'choice', codes: ['burgemeester', 'raadslid'], ordered: ['burgemeester', 'raadslid'] } },
};
const scope: Scope = {
  resolve: (name) => symbols[name],
  resolveSample: (name) => sample[name],
  names: () => Object.keys(symbols),
  sampleNames: () => Object.keys(sample),
};

const answers: Record<string, Value> = {
  Q1: ['verbaal', 'anders'],
  'Q1.anders': 'via de krant',
  Q2: 'nee',
  Q5: { verbaal: 'vaak', fysiek: 'nooit' },
  Q6: { offline: 2, online: 3 },
  Q7: 5,
  Q8: 10,
  Q9: 'hallo',
  Q10: '2024-06-03',
  Q11: ['snelheid', 'maatwerk', 'deskundigheid'],
  VICTIM: true,
  'sample.functie': 'burgemeester',
};
const env = { get: (key: string): Value => answers[key] ?? null };
// As callers do: a condition is tested (null counts as false); a number is evaluated.
const run = (source: string, values = env): Value => {
  const bound = bindExpression(source, scope, 'bool-or-number');
  return bound.type.kind === 'bool' ? holds(bound.tree, values) : evaluate(bound.tree, values);
};

describe('evaluating conditions', () => {
  it.each([
    // comparisons on choices, by code and by scale order
    ['Q2 == nee', true],
    ['Q2 != nee', false],
    ["Q2 == 'nee'", true],
    ['Q2 < nee', false],
    ['Q2 > ja', true],
    ['Q2 >= nee', true],
    ['Q2 <= ja', false],
    ['Q2 in [ja, nee]', true],
    ['Q2 in [ja, weet_niet]', false],
    // multiple choice
    ['Q1 has verbaal', true],
    ['Q1 has geen', false],
    ['Q1 has any [fysiek, geen]', false],
    ['Q1 has any [fysiek, anders]', true],
    ['Q1 has all [verbaal, anders]', true],
    ['Q1 has all [verbaal, fysiek]', false],
    ['count(Q1) == 2', true],
    // the free text of an "other" option
    ["Q1.anders == 'via de krant'", true],
    // grid rows, ordered, and quantifiers over rows
    ['Q5.verbaal > nooit', true],
    ['Q5.fysiek > nooit', false],
    ['any Q5 > nooit', true],
    ['all Q5 > nooit', false],
    ['all Q5 != weet_niet', true],
    ['count(Q5) == 2', true],
    // splits and arithmetic
    ['sum(Q6) == 5', true],
    ['Q6.online / sum(Q6) > 0.5', true],
    ['Q6.offline * 2 - 1 == 3', true],
    ['-Q8 + 15 == 5', true],
    ['Q8 - Q7 == 5', true],
    // scales: numbers and non-substantive codes
    ['Q7 >= 5', true],
    ['Q7 == weet_niet', false],
    ['Q7 in [5, 6, 7]', true],
    // numbers, texts, dates
    ['Q8 >= 10 and Q8 < 11', true],
    ['Q8 in [1, 2]', false],
    ["Q9 == 'hallo'", true],
    ["Q9 in ['hallo', 'dag']", true],
    ["Q10 >= '2024-06-01'", true],
    ["Q10 < '2024-06-01'", false],
    // rankings: has, position, count
    ['Q11 has maatwerk', true],
    ['Q11.snelheid == 1', true],
    ['Q11.deskundigheid <= 2', false],
    ['count(Q11) == 3', true],
    // derived variables and sample fields
    ['VICTIM', true],
    ['not VICTIM', false],
    ['sample.functie == burgemeester', true],
    ['sample.functie in [raadslid]', false],
    // logic and precedence: not binds tighter than and, and tighter than or
    ['true or false and false', true],
    ['(true or false) and false', false],
    ['not Q2 == ja and Q1 has verbaal', true],
    ['not (Q2 == nee or false)', false],
    ['answered(Q2)', true],
    ['answered(Q1)', true],
  ] as const)('%s is %s', (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  it.each([
    // Missing answers: every comparison is false except !=, count is 0, arithmetic gives nothing.
    ['Q2 == ja', false],
    ['Q2 != ja', true],
    ['Q2 > ja', false],
    ['Q2 in [ja, nee]', false],
    ['Q1 has verbaal', false],
    ['Q1 has any [verbaal, fysiek]', false],
    ['count(Q1) == 0', true],
    ['any Q5 > nooit', false],
    ['all Q5 == nooit', false],
    ['sum(Q6) >= 0', false],
    ['Q8 + 1 > 0', false],
    ['Q6.online / Q8 > 0', false],
    ['answered(Q2)', false],
    ['VICTIM', false],
    ['sample.functie == burgemeester', false],
  ] as const)('with nothing answered, %s is %s', (source, expected) => {
    expect(run(source, { get: () => null })).toBe(expected);
  });

  it('divides by zero into no value rather than Infinity', () => {
    expect(run('Q8 / 0')).toBe(null);
  });
});

describe('parse errors name the column', () => {
  it.each([
    ['', 'the condition is empty', 1],
    ['Q1 = ja', 'use == to compare', 4],
    ['Q1 && Q2', 'use "and" / "or"', 4],
    ['!Q1', 'use "not"', 1],
    ['Q1 == ja Q2', 'did you forget "and" or "or"?', 10],
    ['(Q1 == ja', 'expected ")"', 10],
    ["Q9 == 'open", 'unterminated text', 7],
    ['Q1 has any verbaal', 'expected a list', 12],
    ['Q1 has any [verbaal', 'expected "]"', 20],
    ['Q2 in []', 'the list is empty', 7],
    ['Q2 ==', 'ends too early', 6],
    ['Q2 == ja and', 'ends too early', 13],
    ['3abc > 1', 'not a number', 1],
    ['Q2 == #', 'unexpected character "#"', 7],
    ['any Q5', '"any" must be followed by a grid and a comparison', 1],
    ['Q5. > 1', 'expected a name after "."', 5],
    ['and Q1', '"and" cannot stand here', 1],
    ['count(Q1', 'expected ")" to close count(', 9],
  ] as const)('%j: %s (column %i)', (source, message, column) => {
    try {
      parse(source);
      expect.unreachable('should not parse');
    } catch (e) {
      expect(e).toBeInstanceOf(ExpressionError);
      expect((e as ExpressionError).message).toContain(message);
      expect((e as ExpressionError).column).toBe(column);
    }
  });
});

describe('binding errors name what is wrong and where', () => {
  it.each([
    ['Q99 == ja', 'unknown question or variable "Q99"', 1],
    ['q2 == ja', 'did you mean "Q2"?', 1],
    ['Q2 == misschien', 'Q2 has no option "misschien"', 7],
    ['Q2 == Ja', 'did you mean "ja"?', 7],
    ['Q1 has fietsen', 'Q1 has no option "fietsen"', 8],
    ['Q1 has any [verbaal, fietsen]', 'Q1 has no option "fietsen"', 22],
    ['Q1 == verbaal', 'holds several answers: use "has"', 4],
    ['Q2 has ja', '"has" needs a multiple choice or a ranking', 4],
    ['Q2 > weet_niet', 'non-substantive option and has no place in the order', 6],
    ['Q7 > weet_niet', 'is not on the scale', 6],
    ['Q5 > nooit', 'compare one row (e.g. Q5.verbaal) or use "any"/"all"', 4],
    ['Q5.psychisch > nooit', 'Q5 has no row "psychisch"', 4],
    ['Q5.verbaal > zelden', 'Q5.verbaal has no option "zelden"', 14],
    ['any Q2 == ja', '"any" applies to a grid', 8],
    ['Q1.verbaal == x', 'only options with a free text', 4],
    ['Q8.deel > 1', 'has no parts to select with "."', 4],
    ['Q11.snel == 1', 'Q11 has no option "snel"', 5],
    ['sample.gemeente == x', 'unknown sample field "gemeente"', 8],
    ['sample == x', 'write a sample field as sample.<field>', 1],
    ['Q9 > 3', 'cannot compare a text with a number', 4],
    ["Q10 > '3 juni'", "write a date as 'YYYY-MM-DD'", 7],
    ['Q8 + VICTIM > 1', '"+" needs a number', 6],
    ['Q8 and VICTIM', '"and" needs a true/false condition', 1],
    ['VICTIM == ja', 'VICTIM is true or false, not one of several codes: write VICTIM (or not VICTIM), or VICTIM == true / VICTIM == false', 11],
    ['not Q8', '"not" needs a true/false condition', 5],
    ['Q2 in [1, 2]', 'expected an option code of Q2', 8],
    ['Q8 in [ja]', 'the list must hold a numbers', 8],
    ['Q1 in [verbaal]', '"in" needs a single choice, a number or a text', 4],
    ['[1, 2]', 'a list can only follow', 1],
    ['avg(Q8) > 1', 'unknown function "avg"', 1],
    ['count(Q1, Q2) > 1', 'takes exactly one question', 1],
    ['count(Q2) > 1', 'count() needs a multiple choice, ranking or grid', 1],
    ['sum(Q5) > 1', 'sum() needs a group of numbers', 1],
  ] as const)('%s: %s (column %i)', (source, message, column) => {
    try {
      bindExpression(source, scope, 'bool');
      expect.unreachable('should not bind');
    } catch (e) {
      expect(e).toBeInstanceOf(ExpressionError);
      expect((e as ExpressionError).message).toContain(message);
      expect((e as ExpressionError).column).toBe(column);
    }
  });

  it('requires a condition to be true or false', () => {
    expect(() => bindExpression('Q8 + 1', scope, 'bool')).toThrow('a condition must be true or false');
    expect(bindExpression('Q8 + 1', scope, 'bool-or-number').type.kind).toBe('number');
    expect(() => bindExpression('Q9', scope, 'bool-or-number')).toThrow('must give true/false or a number');
  });

  it('records every reference with its column, for the order check', () => {
    const bound = bindExpression('Q2 == ja and sample.functie == raadslid or VICTIM', scope, 'bool');
    expect(bound.references).toEqual([
      { name: 'Q2', sample: false, column: 1 },
      { name: 'sample.functie', sample: true, column: 14 },
      { name: 'VICTIM', sample: false, column: 44 },
    ]);
  });
});
