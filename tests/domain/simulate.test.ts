import { describe, expect, it } from 'vitest';
import { prune, simulate, validatePage, type Answers } from '../../server/domain/questionnaire/index.ts';
import { inlineQuestionnaire, referenceQuestionnaire } from '../helpers/questionnaires.ts';

const small = inlineQuestionnaire({
  id: 'small',
  version: '1',
  title: 'Klein',
  counting: { reached: 'Q2' },
  blocks: [
    { id: 'p1', items: [{ id: 'Q1', type: 'single', required: true, text: 'Ja?', options: [{ code: 'ja', label: 'Ja' }, { code: 'nee', label: 'Nee' }] }] },
    { id: 'p2', items: [{ id: 'Q2', type: 'open', text: 'Waarom?' }] },
    { id: 'p3', showIf: 'Q1 == ja', items: [{ id: 'Q3', type: 'number', text: 'Hoeveel?', min: 0, max: 10 }] },
  ],
  end: { text: 'Dank' },
});

describe('the simulator', () => {
  it('is deterministic for a seed', () => {
    const a = simulate(small, { respondents: 300, seed: 42 });
    const b = simulate(small, { respondents: 300, seed: 42 });
    const c = simulate(small, { respondents: 300, seed: 43 });
    expect(a).toEqual(b);
    expect(c.coverage).not.toEqual(a.coverage);
  });

  it('routes like the server: a conditional page is shown only to those who qualify', () => {
    const report = simulate(small, { respondents: 1000, seed: 1, breakOffRate: 0 });
    const shown = (key: string) => report.coverage.find((e) => e.key === key)!.shown;
    const chosenJa = report.coverage.find((e) => e.key === 'Q1.ja')!.chosen!;
    expect(shown('p1')).toBe(1000);
    expect(shown('p3')).toBe(chosenJa);
    expect(chosenJa).toBeGreaterThan(400);
    expect(chosenJa).toBeLessThan(600);
    expect(report.completed).toBe(1000);
    expect(report.counted).toBe(1000);
  });

  it('counts break-offs, and responses by the counting rule', () => {
    const report = simulate(small, { respondents: 50, seed: 3, breakOffRate: 1 });
    expect(report.brokenOff).toBe(50);
    expect(report.completed).toBe(0);
    // Everyone stopped on the first page, before the page holding Q2: nobody counts.
    expect(report.counted).toBe(0);
    expect(report.neverShown.map((e) => e.key)).toEqual(['p2', 'Q2', 'p3', 'Q3']);
  });

  it('reports a required question nobody can answer validly', () => {
    const impossible = inlineQuestionnaire({
      id: 'impossible',
      version: '1',
      title: 'Onmogelijk',
      counting: { reached: 'Q1' },
      blocks: [{ id: 'p1', items: [{ id: 'Q1', type: 'number', required: true, text: 'Getal', min: 0, max: 10, rules: [{ assert: 'Q1 > 10', message: 'Kan niet' }] }] }],
      end: { text: 'Dank' },
    });
    const report = simulate(impossible, { respondents: 5, seed: 1, breakOffRate: 0 });
    expect(report.stuck).toEqual([{ item: 'Q1', respondents: 5, example: 'Q1: Kan niet' }]);
    expect(report.constrained).toEqual([{ item: 'Q1', tried: 5, valid: 0, failures: [{ reason: 'Q1: Kan niet', respondents: 5 }] }]);
  });

  it('reports an optional question with a check no respondent can satisfy, and how often a hard one was satisfied', () => {
    const q = inlineQuestionnaire({
      id: 'checks',
      version: '1',
      title: 'Controles',
      counting: { reached: 'aantal' },
      blocks: [
        { id: 'p1', items: [{ id: 'aantal', type: 'number', text: 'Hoe vaak?', min: 0, max: 20 }] },
        {
          id: 'p2',
          items: [
            { id: 'nooit', type: 'number', required: false, text: 'Kan niet', min: 0, max: 5, rules: [{ assert: 'nooit > 5', message: 'Meer dan vijf' }] },
            { id: 'delen', type: 'split', text: 'Online en offline', parts: [{ code: 'on', label: 'On' }, { code: 'off', label: 'Off' }], max: 20, rules: [{ assert: 'sum(delen) == aantal', message: 'Samen {aantal}' }] },
          ],
        },
      ],
      end: { text: 'Dank' },
    });
    const report = simulate(q, { respondents: 300, seed: 4, breakOffRate: 0, skipRate: 0 });
    const nooit = report.constrained.find((c) => c.item === 'nooit')!;
    expect([nooit.tried, nooit.valid]).toEqual([300, 0]);
    expect(nooit.failures).toEqual([{ reason: 'nooit: Meer dan vijf', respondents: 300 }]);
    // The sum must equal an earlier answer: random answers rarely hit it, and the report says how rarely.
    const delen = report.constrained.find((c) => c.item === 'delen')!;
    expect(delen.tried).toBe(300);
    expect(delen.valid).toBeGreaterThan(0);
    expect(delen.valid).toBeLessThan(300);
  });

  it('gives answers the server would keep as they are: valid, and nothing that routing drops', () => {
    const q = referenceQuestionnaire('monitor-2024-agressie');
    let respondents = 0;
    simulate(q, {
      respondents: 200,
      seed: 9,
      onRespondent: ({ answers, sample }) => {
        respondents++;
        expect(prune(q, answers, sample)).toEqual(answers);
        for (const block of q.blocks) {
          const page: Answers = {};
          const previous: Answers = {};
          for (const [key, value] of Object.entries(answers)) {
            const id = key.split('.')[0]!;
            const at = q.items.get(id)!.block.index;
            if (at === block.index) page[key] = value;
            else if (at < block.index) previous[key] = value;
          }
          if (Object.keys(page).length > 0) expect(validatePage(q, block, page, previous, sample)).toEqual([]);
        }
      },
    });
    expect(respondents).toBe(200);
  });

  it.each(['owb-2024', 'monitor-2024-agressie', 'monitor-2020-pa'] as const)('reaches every page, item, option and row of %s with 2000 respondents', (name) => {
    const report = simulate(referenceQuestionnaire(name), { respondents: 2000, seed: 1 });
    expect(report.neverShown).toEqual([]);
    expect(report.stuck).toEqual([]);
    expect(report.completed).toBeGreaterThan(1000);
    expect(report.brokenOff).toBeGreaterThan(0);
  });
});
