import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatPath, loadQuestionnaire, type Problem } from '../../server/domain/questionnaire/index.ts';

/** A small valid questionnaire; each case below breaks it in one way. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
function base(): Json {
  return {
    id: 'test',
    version: '1',
    title: 'Test',
    sample: [{ id: 'functie', label: 'Functie', options: [{ code: 'burgemeester', label: 'Burgemeester' }, { code: 'raadslid', label: 'Raadslid' }] }],
    counting: { reached: 'Q1' },
    blocks: [
      {
        id: 'p1',
        items: [
          {
            id: 'Q1',
            type: 'multi',
            text: 'Welke vormen?',
            options: [
              { code: 'a', label: 'A' },
              { code: 'b', label: 'B' },
              { code: 'geen', label: 'Geen', exclusive: true },
            ],
          },
        ],
      },
      { id: 'p2', items: [{ id: 'Q2', type: 'single', text: 'Ja of nee?', options: [{ code: 'ja', label: 'Ja' }, { code: 'nee', label: 'Nee' }] }] },
      { id: 'p3', items: [{ id: 'Q3', type: 'open', text: 'Toelichting' }] },
    ],
    end: { text: 'Dank u wel.' },
  };
}

function problemsOf(q: Json | string): Problem[] {
  const result = loadQuestionnaire(typeof q === 'string' ? q : JSON.stringify(q));
  return result.ok ? [] : result.problems;
}

interface Case {
  name: string;
  breakIt: (q: Json) => void;
  expected: { path: string; message: string; column?: number }[];
}

const cases: Case[] = [
  {
    name: 'schema: a missing field, an unknown field and a wrong item type, all at once',
    breakIt: (q) => {
      delete q.end;
      q.blocks[0].items[0].tekst = 'typo';
      q.blocks[2].items[0].type = 'slider';
    },
    expected: [
      { path: '$.end', message: 'expected object' },
      { path: '$.blocks[0].items[0]', message: 'unknown field "tekst"' },
      { path: '$.blocks[2].items[0].type', message: 'unknown item type; the types are display, single, multi, grid' },
    ],
  },
  {
    name: 'schema: codes must be usable as variable names and not reserved words',
    breakIt: (q) => {
      q.blocks[0].items[0].options[0].code = 'a b';
      q.blocks[0].items[0].options[1].code = 'and';
    },
    expected: [
      { path: '$.blocks[0].items[0].options[0].code', message: 'a code starts with a letter' },
      { path: '$.blocks[0].items[0].options[1].code', message: 'reserved' },
    ],
  },
  {
    name: 'duplicate item codes',
    breakIt: (q) => {
      q.blocks[2].items[0].id = 'Q1';
    },
    expected: [{ path: '$.blocks[2].items[0].id', message: 'duplicate code "Q1": already used at $.blocks[0].items[0]' }],
  },
  {
    name: 'duplicate option codes within a question',
    breakIt: (q) => {
      q.blocks[1].items[0].options[1].code = 'ja';
    },
    expected: [{ path: '$.blocks[1].items[0].options[1].code', message: 'duplicate option code "ja"' }],
  },
  {
    name: 'duplicate grid rows',
    breakIt: (q) => {
      q.blocks[2].items.push({ id: 'G', type: 'grid', text: 'Stellingen', rows: [{ code: 'r', label: 'R' }, { code: 'r', label: 'R2' }], columns: [{ code: 'eens', label: 'Eens' }, { code: 'oneens', label: 'Oneens' }] });
    },
    expected: [{ path: '$.blocks[2].items[1].rows[1].code', message: 'duplicate row code "r"' }],
  },
  {
    name: 'reference to an unknown question',
    breakIt: (q) => {
      q.blocks[2].showIf = 'Q2 == ja or Q9 == ja';
    },
    expected: [{ path: '$.blocks[2].showIf', column: 13, message: 'unknown question or variable "Q9"' }],
  },
  {
    name: 'reference to an unknown option',
    breakIt: (q) => {
      q.blocks[2].items[0].showIf = 'Q1 has c';
    },
    expected: [{ path: '$.blocks[2].items[0].showIf', column: 8, message: 'Q1 has no option "c"; its options are: a, b, geen' }],
  },
  {
    name: 'reference to an unknown sample field',
    breakIt: (q) => {
      q.blocks[1].showIf = 'sample.gemeente == x';
    },
    expected: [{ path: '$.blocks[1].showIf', column: 8, message: 'unknown sample field "gemeente"' }],
  },
  {
    name: 'reference to a question on a later page',
    breakIt: (q) => {
      q.blocks[1].items[0].showIf = 'answered(Q3)';
    },
    expected: [{ path: '$.blocks[1].items[0].showIf', column: 10, message: '"Q3" is asked on a later page (block "p3")' }],
  },
  {
    name: 'reference to a question on the same page',
    breakIt: (q) => {
      q.blocks[0].items.push({ id: 'Q1b', type: 'open', text: 'Welke?', showIf: 'Q1 has a' });
    },
    expected: [{ path: '$.blocks[0].items[1].showIf', column: 1, message: '"Q1" is asked on this same page' }],
  },
  {
    name: 'piping an answer that is not given yet',
    breakIt: (q) => {
      q.blocks[1].items[0].text = 'U zei {Q3}. Ja of nee?';
    },
    expected: [{ path: '$.blocks[1].items[0].text', column: 8, message: '{Q3} shows an answer that is not given before this page' }],
  },
  {
    name: 'piping an unknown name',
    breakIt: (q) => {
      q.blocks[2].items[0].text = 'Toelichting bij {Q22}';
    },
    expected: [{ path: '$.blocks[2].items[0].text', column: 18, message: 'in {Q22}: unknown question or variable "Q22"' }],
  },
  {
    name: 'a type error in a condition',
    breakIt: (q) => {
      q.blocks[2].showIf = 'Q2 > 3';
    },
    expected: [{ path: '$.blocks[2].showIf', column: 4, message: 'cannot compare a single choice with a number' }],
  },
  {
    name: 'a question whose condition can never be true',
    breakIt: (q) => {
      q.blocks[2].items[0].showIf = 'Q2 == ja and Q2 == nee';
    },
    expected: [{ path: '$.blocks[2].items[0].showIf', message: '"Q3" can never be shown: the condition "Q2 == ja and Q2 == nee" can never be true' }],
  },
  {
    name: 'a page whose condition needs more options than can be combined (exclusive "geen")',
    breakIt: (q) => {
      q.blocks[1].showIf = 'count(Q1) >= 3';
    },
    expected: [{ path: '$.blocks[1].showIf', message: 'page "p2" can never be shown' }],
  },
  {
    name: 'a condition combining an exclusive option with another',
    breakIt: (q) => {
      q.blocks[1].showIf = 'Q1 has all [a, geen]';
    },
    expected: [{ path: '$.blocks[1].showIf', message: 'page "p2" can never be shown' }],
  },
  {
    name: 'an option whose condition can never be true',
    breakIt: (q) => {
      q.blocks[1].items[0].options[1].showIf = 'sample.functie == burgemeester and sample.functie == raadslid';
    },
    expected: [{ path: '$.blocks[1].items[0].options[1].showIf', message: 'option "nee" of "Q2" can never be shown' }],
  },
  {
    name: 'a condition that contradicts the routing of the question it uses',
    breakIt: (q) => {
      q.blocks[1].items[0].showIf = 'Q1 has geen';
      q.blocks[2].showIf = 'Q2 == ja and Q1 has a';
    },
    expected: [{ path: '$.blocks[2].showIf', message: 'page "p3" can never be shown' }],
  },
  {
    name: 'a question that can only be shown when its page is hidden',
    breakIt: (q) => {
      q.blocks[2].showIf = 'Q2 == ja';
      q.blocks[2].items[0].showIf = 'Q2 == nee';
    },
    expected: [{ path: '$.blocks[2].items[0].showIf', message: 'can never hold together with the condition of the page' }],
  },
  {
    name: 'a grid row that can never be shown',
    breakIt: (q) => {
      q.blocks[2].items.push({
        id: 'G',
        type: 'grid',
        text: 'Stellingen',
        rows: [{ code: 'r1', label: 'R1' }, { code: 'r2', label: 'R2', showIf: 'count(Q1) > 2' }],
        columns: [{ code: 'eens', label: 'Eens' }, { code: 'oneens', label: 'Oneens' }],
      });
    },
    expected: [{ path: '$.blocks[2].items[1].rows[1].showIf', message: 'row "r2" of "G" can never be shown' }],
  },
  {
    name: 'exclusive on a single choice',
    breakIt: (q) => {
      q.blocks[1].items[0].options[1].exclusive = true;
    },
    expected: [{ path: '$.blocks[1].items[0].options[1].exclusive', message: 'allows only one answer anyway' }],
  },
  {
    name: 'exclusive on a ranking',
    breakIt: (q) => {
      q.blocks[2].items.push({ id: 'R', type: 'ranking', text: 'Volgorde', pick: 1, options: [{ code: 'a', label: 'A' }, { code: 'b', label: 'B' }, { code: 'geen', label: 'Geen', exclusive: true }] });
    },
    expected: [{ path: '$.blocks[2].items[1].options[2].exclusive', message: '"R" is a ranking, which puts several options in order; exclusive applies to multiple choice (and grids with check boxes): leave "geen" out of the ranking' }],
  },
  {
    name: 'a multiple choice where every option is exclusive',
    breakIt: (q) => {
      q.blocks[0].items[0].options[0].exclusive = true;
      q.blocks[0].items[0].options[1].exclusive = true;
    },
    expected: [{ path: '$.blocks[0].items[0].options', message: 'every option of "Q1" is exclusive' }],
  },
  {
    name: 'more selections required than can be combined',
    breakIt: (q) => {
      q.blocks[0].items[0].minSelected = 3;
    },
    expected: [{ path: '$.blocks[0].items[0].minSelected', message: 'only 2 options can be combined' }],
  },
  {
    name: 'minSelected above maxSelected',
    breakIt: (q) => {
      q.blocks[0].items[0].minSelected = 2;
      q.blocks[0].items[0].maxSelected = 1;
    },
    expected: [{ path: '$.blocks[0].items[0].minSelected', message: 'minSelected (2) is above maxSelected (1)' }],
  },
  {
    name: 'a choice list filtered by earlier answers that can end up empty (optionsFrom)',
    breakIt: (q) => {
      q.blocks[1].items.push({ id: 'Q2b', type: 'single', text: 'Welke het meest?', optionsFrom: 'Q1' });
    },
    expected: [{ path: '$.blocks[1].items[1].optionsFrom', message: '"Q2b" can be reached with no options left to choose (for example when Q1' }],
  },
  {
    name: 'options filtered by conditions that can all be false',
    breakIt: (q) => {
      q.blocks[1].items[0].options[0].showIf = 'Q1 has a';
      q.blocks[1].items[0].options[1].showIf = 'Q1 has b';
    },
    expected: [{ path: '$.blocks[1].items[0].options', message: '"Q2" can be reached with no options left to choose' }],
  },
  {
    name: 'optionsFrom a question that is not a multiple choice',
    breakIt: (q) => {
      q.blocks[2].items.push({ id: 'Q4', type: 'single', text: 'Welke?', optionsFrom: 'Q2' });
    },
    expected: [{ path: '$.blocks[2].items[1].optionsFrom', message: '"Q2" is a single question; options can only come from a multiple choice' }],
  },
  {
    name: 'a ranking with more places than options',
    breakIt: (q) => {
      q.blocks[2].items.push({ id: 'R', type: 'ranking', pick: 3, text: 'Top 3', options: [{ code: 'x', label: 'X' }, { code: 'y', label: 'Y' }] });
    },
    expected: [{ path: '$.blocks[2].items[1].pick', message: 'pick is 3 but there are only 2 options to rank' }],
  },
  {
    name: 'a cycle among derived variables',
    breakIt: (q) => {
      q.derived = [
        { id: 'A', label: 'A', expr: 'B and Q1 has a' },
        { id: 'B', label: 'B', expr: 'C' },
        { id: 'C', label: 'C', expr: 'A' },
      ];
    },
    expected: [{ path: '$.derived[0]', message: 'derived variables form a cycle: A → B → C → A' }],
  },
  {
    name: 'a derived variable used before the answers it needs',
    breakIt: (q) => {
      q.derived = [{ id: 'TOELICHTING', label: 'T', expr: 'answered(Q3)' }];
      q.blocks[1].showIf = 'TOELICHTING';
    },
    expected: [{ path: '$.blocks[1].showIf', column: 1, message: 'derived variable "TOELICHTING" depends on answers from a later page' }],
  },
  {
    name: 'a counting rule that points nowhere',
    breakIt: (q) => {
      q.counting.reached = 'Q6';
    },
    expected: [{ path: '$.counting.reached', message: 'the counting rule points to "Q6", which is not an item' }],
  },
];

describe('survey check finds every kind of problem', () => {
  it('accepts the unbroken questionnaire', () => {
    expect(problemsOf(base())).toEqual([]);
  });

  it.each(cases)('$name', ({ breakIt, expected }) => {
    const q = base();
    breakIt(q);
    const found = problemsOf(q).map((p) => ({ path: formatPath(p.path), column: p.column, message: p.message }));
    expect(found.length).toBeGreaterThanOrEqual(expected.length);
    for (const e of expected) {
      expect(found).toContainEqual(expect.objectContaining({ path: e.path, message: expect.stringContaining(e.message), ...(e.column !== undefined ? { column: e.column } : {}) }));
    }
  });

  it('reports a wrong derived expression once, not again in every expression that uses it', () => {
    const q = base();
    q.derived = [
      { id: 'BEIDE', label: 'Beide', expr: 'Q1 has any [a, c]' },
      { id: 'NOG', label: 'Nog', expr: 'BEIDE and Q1 has b' },
    ];
    q.blocks[2].showIf = 'BEIDE';
    q.blocks[2].items[0].showIf = 'Q1 has d or NOG';
    expect(problemsOf(q).map((p) => [formatPath(p.path), p.message.split(';')[0]])).toEqual([
      ['$.derived[0].expr', 'Q1 has no option "c"'],
      // A mistake of its own in an expression that uses it is still reported.
      ['$.blocks[2].items[0].showIf', 'Q1 has no option "d"'],
    ]);
  });

  it('gives a hint for a choice list that can end up empty that does mend it', () => {
    const q = base();
    // count(Q1) >= 1 also holds when only "geen" was ticked, which is not passed on.
    q.blocks[1].items.push({ id: 'Q2b', type: 'single', text: 'Welke het meest?', optionsFrom: 'Q1', showIf: 'count(Q1) >= 1' });
    const [problem] = problemsOf(q);
    expect(problem!.message).toMatch(/show it only when one of the options it passes on was ticked: "Q1 has any \[a, b\]"$/);
    q.blocks[1].items[1].showIf = 'Q1 has any [a, b]';
    expect(problemsOf(q)).toEqual([]);
  });

  it('reports a JSON syntax error with its line and column', () => {
    const problems = problemsOf('{\n  "id": "x",\n  "version": 1,,\n}');
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/^not valid JSON at line 3, column 16/);
  });

  it('reports all problems of a file, not just the first', () => {
    const q = base();
    q.blocks[1].showIf = 'Q9 == ja';
    q.blocks[2].showIf = 'Q1 has c';
    q.counting.reached = 'Q6';
    expect(problemsOf(q).length).toBe(3);
  });
});

describe('conditions written to break the tools', () => {
  const reported = (showIf: string) => {
    const q = base();
    q.blocks[1].showIf = showIf;
    return problemsOf(q).map((p) => ({ path: formatPath(p.path), message: p.message, column: p.column }));
  };

  it('10,000 nested brackets: a clear problem with its path and column, not a stack overflow', () => {
    const deep = `${'('.repeat(10_000)}Q1 has a${')'.repeat(10_000)}`;
    expect(reported(deep)).toEqual([{ path: '$.blocks[1].showIf', message: 'the condition nests more than 50 levels deep (brackets, calls, lists, "not", "-"); write it more simply', column: 51 }]);
  });

  it.each([
    ['not', `${'not '.repeat(10_000)}Q1 has a`],
    ['unary minus', `count(Q1) > ${'-'.repeat(10_000)}1`],
    ['calls', `${'count('.repeat(10_000)}Q1${')'.repeat(10_000)} > 0`],
    ['lists', `Q1 has any ${'['.repeat(10_000)}a${']'.repeat(10_000)}`],
  ])('10,000 levels of %s: a clear problem', (_kind, condition) => {
    const problems = reported(condition);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/nests more than 50 levels deep/);
  });

  it.each([
    ['or', Array(10_000).fill('Q1 has a').join(' or ')],
    ['and', Array(10_000).fill('Q1 has a').join(' and ')],
    ['+', `${Array(10_000).fill('count(Q1)').join(' + ')} > 1`],
  ])('10,000 terms chained by %s: a clear problem', (_op, condition) => {
    const problems = reported(condition);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toBe('the condition chains more than 1000 operators (and, or, +, -, *, /); split it, for instance into derived variables');
  });

  it('50 levels of brackets, and 1,000 operators in a row, are still fine', () => {
    expect(reported(`${'('.repeat(50)}Q1 has a${')'.repeat(50)}`)).toEqual([]);
    expect(reported(Array(1001).fill('Q1 has a').join(' or '))).toEqual([]);
  });
});

describe('the reference questionnaires', () => {
  const dir = new URL('../../questionnaires/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'schema.json');

  it('are all three there', () => {
    expect(files.sort()).toEqual(['monitor-2020-pa.json', 'monitor-2024-agressie.json', 'owb-2024.json']);
  });

  it.each(files)('%s passes the checker', (file) => {
    const result = loadQuestionnaire(readFileSync(new URL(file, dir), 'utf8'));
    expect(result.ok ? [] : result.problems.map((p) => `${formatPath(p.path)}: ${p.message}`)).toEqual([]);
  });
});

describe('the checker never stays silent', () => {
  /** Twelve multiple choices that the routing of what follows depends on: too many to search through. */
  function wide(): Json {
    const many = Array.from({ length: 12 }, (_, i) => ({
      id: `M${i}`,
      type: 'multi',
      text: `Vraag ${i}`,
      options: ['a', 'b', 'c', 'd', 'e'].map((code) => ({ code, label: code.toUpperCase() })),
    }));
    const routing = many.map((m) => `${m.id} has any [a, b]`).join(' or ');
    const frequency = ['nooit', 'soms', 'vaak'].map((code) => ({ code, label: code }));
    return {
      id: 'wide',
      version: '1',
      title: 'Breed',
      counting: { reached: 'M0' },
      blocks: [
        { id: 'p1', items: many },
        {
          id: 'p2',
          items: [
            { id: 'G', type: 'grid', showIf: routing, text: 'Hoe vaak?', rows: ['r1', 'r2', 'r3', 'r4'].map((code) => ({ code, label: code })), columns: frequency },
            { id: 'S', type: 'scale', showIf: routing, text: 'Hoe ernstig?', min: 1, max: 7 },
          ],
        },
        { id: 'p2b', items: [{ id: 'N', type: 'number', showIf: `(${routing}) and S < 3`, text: 'Hoeveel?', min: 0, max: 50 }] },
        { id: 'p3', showIf: 'any G > nooit and S > 5 and N < 0', items: [{ id: 'X', type: 'open', text: 'Toelichting' }] },
      ],
      end: { text: 'Dank' },
    };
  }

  it('decides a contradiction among three questions exactly, however many questions their routing reads', () => {
    // N is at least 0: the page can never be shown. The full search runs out of its budget on the
    // routing; the search over just G, S and N decides it.
    expect(problemsOf(wide()).map((p) => [formatPath(p.path), p.message.split(':')[0]])).toEqual([['$.blocks[3].showIf', 'page "p3" can never be shown']]);
  });

  it('decides a page made unreachable by two contradicting derived variables', () => {
    const q = base();
    q.derived = [
      { id: 'JA', label: 'Ja', expr: 'Q2 == ja' },
      { id: 'NEE', label: 'Nee', expr: 'Q2 == nee' },
    ];
    q.blocks[2].showIf = 'JA and NEE';
    expect(problemsOf(q).map((p) => formatPath(p.path))).toEqual(['$.blocks[2].showIf']);
  });

  it('says so, with where, when it cannot decide, and counts what it decided', () => {
    const q = wide();
    // Impossible only through the routing of N (shown only when S < 3), which the search over
    // just the questions the condition reads sets aside: undecided, and said.
    q.blocks[3].showIf = 'S > 5 and answered(N)';
    const result = loadQuestionnaire(JSON.stringify(q, null, 2));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.warnings.map((w) => [formatPath(w.path), w.line, w.message])).toEqual([
      ['$.blocks[3].showIf', expect.any(Number), 'could not decide whether page "p3" can be shown: the search ran out of its budget (its condition depends on many questions); run survey simulate to see it shown'],
    ]);
    expect(result.decided).toBeGreaterThan(0);
  });

  it('decides every condition of the reference questionnaires', () => {
    for (const name of ['owb-2024', 'monitor-2024-agressie', 'monitor-2020-pa']) {
      const result = loadQuestionnaire(readFileSync(new URL(`../../questionnaires/${name}.json`, import.meta.url), 'utf8'));
      expect(result.ok && result.warnings, name).toEqual([]);
    }
  });
});
