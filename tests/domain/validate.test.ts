import { describe, expect, it } from 'vitest';
import { validatePage, validationMessage, type Answers } from '../../server/domain/questionnaire/index.ts';
import { inlineQuestionnaire } from '../helpers/questionnaires.ts';

const agree = [
  { code: 'eens', label: 'Eens' },
  { code: 'oneens', label: 'Oneens' },
  { code: 'weet_niet', label: 'Weet niet', nonSubstantive: true },
];
const q = inlineQuestionnaire({
  id: 'kinds',
  version: '1',
  title: 'Alle soorten vragen',
  counting: { reached: 'freq' },
  blocks: [
    {
      id: 'before',
      items: [
        {
          id: 'freq',
          type: 'single',
          text: 'Hoe vaak?',
          options: [
            { code: 'nooit', label: 'Nooit' },
            { code: 'eenmalig', label: 'Eenmalig' },
            { code: 'vaker', label: 'Vaker' },
          ],
        },
      ],
    },
    {
      id: 'page',
      items: [
        { id: 'single', type: 'single', required: true, text: 'Eén', options: [{ code: 'ja', label: 'Ja' }, { code: 'anders', label: 'Anders', other: true }] },
        {
          id: 'multi',
          type: 'multi',
          text: 'Meer',
          maxSelected: 2,
          options: [
            { code: 'a', label: 'A' },
            { code: 'b', label: 'B' },
            { code: 'c', label: 'C' },
            { code: 'hidden', label: 'Alleen bij vaker', showIf: 'freq == vaker' },
            { code: 'geen', label: 'Geen', exclusive: true },
          ],
        },
        { id: 'grid', type: 'grid', required: true, text: 'Stellingen', rows: [{ code: 'r1', label: 'R1' }, { code: 'r2', label: 'R2' }], columns: agree },
        {
          id: 'checks',
          type: 'grid',
          multiple: true,
          text: 'Per groep',
          rows: [{ code: 'r1', label: 'R1' }],
          columns: [{ code: 'x', label: 'X' }, { code: 'y', label: 'Y' }, { code: 'nee', label: 'Nee', exclusive: true }],
        },
        { id: 'grade', type: 'scale', min: 1, max: 10, minLabel: 'Slecht', maxLabel: 'Uitstekend', text: 'Rapportcijfer', extra: [{ code: 'weet_niet', label: 'Weet niet', nonSubstantive: true }] },
        { id: 'short', type: 'open', text: 'Kort', maxLength: 5 },
        { id: 'words', type: 'open', text: 'Drie woorden', boxes: [{ code: 'w1', label: '1' }, { code: 'w2', label: '2' }], maxLength: 4 },
        { id: 'count', type: 'number', text: 'Aantal', min: 0, max: 100 },
        {
          id: 'split',
          type: 'split',
          text: 'Offline en online',
          parts: [{ code: 'offline', label: 'Offline' }, { code: 'online', label: 'Online' }],
          rules: [{ assert: 'freq != eenmalig or sum(split) == 1', message: 'Samen moet dit 1 zijn.' }],
        },
        { id: 'rank', type: 'ranking', pick: 2, text: 'Top 2', options: [{ code: 'p', label: 'P' }, { code: 'q', label: 'Q' }, { code: 'r', label: 'R' }] },
        { id: 'when', type: 'date', text: 'Wanneer?', min: '2024-01-01', max: '2024-12-31' },
      ],
    },
  ],
  end: { text: 'Dank' },
});

const page = q.blocks[1]!;
const valid: Answers = { single: 'ja', grid: { r1: 'eens', r2: 'weet_niet' } };
const check = (extra: Answers, previous: Answers = { freq: 'nooit' }) =>
  validatePage(q, page, { ...valid, ...extra }, previous, {}).map((e) => ({ field: e.field, code: e.code, ...(e.params ? { params: e.params } : {}) }));

describe('validating a page', () => {
  it('accepts a page with only the required answers', () => {
    expect(check({})).toEqual([]);
  });

  it.each([
    ['a full, valid page', { multi: ['a', 'b'], checks: { r1: ['x', 'y'] }, grade: 10, short: 'kort', words: { w1: 'een', w2: 'twee' }, count: 0, split: { offline: 2, online: 0 }, rank: ['q', 'p'], when: '2024-06-03' }],
    ['an "other" option with its text', { single: 'anders', 'single.anders': 'iets anders' }],
    ['"weet niet" beside a scale', { grade: 'weet_niet' }],
    ['an exclusive option alone', { multi: ['geen'] }],
    ['an exclusive column alone in a checkbox grid row', { checks: { r1: ['nee'] } }],
  ] as const)('accepts %s', (_name, extra) => {
    expect(check(extra as Answers)).toEqual([]);
  });

  it.each([
    ['a missing required answer', { single: null }, { field: 'single', code: 'required' }],
    ['a missing row of a required grid', { grid: { r1: 'eens' } }, { field: 'grid.r2', code: 'requiredRow' }],
    ['a required grid left empty (error on its first row)', { grid: null }, { field: 'grid.r1', code: 'required' }],
    ['an option that does not exist', { single: 'misschien' }, { field: 'single', code: 'invalidOption' }],
    ['an option hidden by routing', { multi: ['hidden'] }, { field: 'multi', code: 'invalidOption' }],
    ['an unknown grid row', { grid: { r1: 'eens', r2: 'eens', r3: 'eens' } }, { field: 'grid', code: 'invalidOption' }],
    ['an unknown grid column', { grid: { r1: 'eens', r2: 'misschien' } }, { field: 'grid.r2', code: 'invalidOption' }],
    ['an exclusive option combined', { multi: ['a', 'geen'] }, { field: 'multi', code: 'exclusive', params: { option: 'geen' } }],
    ['an exclusive column combined', { checks: { r1: ['x', 'nee'] } }, { field: 'checks.r1', code: 'exclusive', params: { option: 'nee' } }],
    ['too many options', { multi: ['a', 'b', 'c'] }, { field: 'multi', code: 'maxSelected', params: { max: 2 } }],
    ['the same option twice', { multi: ['a', 'a'] }, { field: 'multi', code: 'invalidOption' }],
    ['"other" without its text', { single: 'anders', 'single.anders': '  ' }, { field: 'single.anders', code: 'otherTextMissing', params: { option: 'anders' } }],
    ['a text that is too long', { short: 'te lang' }, { field: 'short', code: 'tooLong', params: { max: 5 } }],
    ['a box that is too long', { words: { w1: 'veel te lang' } }, { field: 'words.w1', code: 'tooLong', params: { max: 4 } }],
    ['a scale point below the scale', { grade: 0 }, { field: 'grade', code: 'belowMin', params: { min: 1 } }],
    ['a scale point above the scale', { grade: 11 }, { field: 'grade', code: 'aboveMax', params: { max: 10 } }],
    ['half a scale point', { grade: 7.5 }, { field: 'grade', code: 'notWhole' }],
    ['a number below min', { count: -1 }, { field: 'count', code: 'belowMin', params: { min: 0 } }],
    ['a number above max', { count: 101 }, { field: 'count', code: 'aboveMax', params: { max: 100 } }],
    ['a decimal where a whole number is asked', { count: 1.5 }, { field: 'count', code: 'notWhole' }],
    ['text where a number is asked', { count: 'tien' }, { field: 'count', code: 'notANumber' }],
    ['a split with a part missing', { split: { offline: 1 } }, { field: 'split.online', code: 'required' }],
    ['a negative part', { split: { offline: -1, online: 0 } }, { field: 'split.offline', code: 'belowMin', params: { min: 0 } }],
    ['a ranking with too few places', { rank: ['p'] }, { field: 'rank', code: 'rankingCount', params: { count: 2 } }],
    ['a ranking with a duplicate', { rank: ['p', 'p'] }, { field: 'rank', code: 'rankingDuplicate' }],
    ['an impossible date', { when: '2024-02-30' }, { field: 'when', code: 'invalidDate' }],
    ['a date before min', { when: '2023-12-31' }, { field: 'when', code: 'dateBefore', params: { min: '2024-01-01' } }],
    ['a date after max', { when: '2025-01-01' }, { field: 'when', code: 'dateAfter', params: { max: '2024-12-31' } }],
  ] as const)('rejects %s', (_name, extra, error) => {
    expect(check(extra as Answers)).toEqual([error]);
  });

  it('checks a split against an earlier answer with the author\'s rule and message', () => {
    const split = { split: { offline: 1, online: 1 } };
    expect(check(split, { freq: 'vaker' })).toEqual([]);
    const errors = validatePage(q, page, { ...valid, ...split }, { freq: 'eenmalig' }, {});
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ field: 'split', code: 'rule' });
    expect(validationMessage(errors[0]!, 'nl')).toBe('Samen moet dit 1 zijn.');
  });

  it('offers an option when its condition holds', () => {
    expect(check({ multi: ['hidden'] }, { freq: 'vaker' })).toEqual([]);
  });

  it('explains errors in Dutch by default and in English on request', () => {
    const [error] = validatePage(q, page, { ...valid, multi: ['a', 'b', 'c'] }, {}, {});
    expect(validationMessage(error!, 'nl')).toBe('Kies ten hoogste 2 antwoorden.');
    expect(validationMessage(error!, 'en')).toBe('Please choose at most 2 answers.');
    expect(validationMessage(error!, 'fy')).toBe('Kies ten hoogste 2 antwoorden.');
  });

  it('says what is missing for the kind of question, and writes dates as people do', () => {
    const required = { field: 'x', code: 'required' } as const;
    expect(validationMessage(required, 'nl', 'single')).toBe('Kies een antwoord.');
    expect(validationMessage(required, 'nl', 'multi')).toBe('Kies een of meer antwoorden.');
    expect(validationMessage(required, 'nl', 'date')).toBe('Vul een datum in, bijvoorbeeld 15-3-2024.');
    expect(validationMessage(required, 'en', 'open')).toBe('Please enter your answer.');
    expect(validationMessage(required, 'nl')).toBe('Beantwoord deze vraag.');
    const [before] = validatePage(q, page, { ...valid, when: '2023-12-31' }, {}, {});
    expect(validationMessage(before!, 'nl', 'date')).toBe('Vul een datum in vanaf 1 januari 2024.');
    expect(validationMessage(before!, 'en', 'date')).toBe('Please enter a date from 1 January 2024.');
    const [after] = validatePage(q, page, { ...valid, when: '2025-01-01' }, {}, {});
    expect(validationMessage(after!, 'nl', 'date')).toBe('Vul een datum in tot en met 31 december 2024.');
  });
});
