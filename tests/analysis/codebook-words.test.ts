// The codebook's words (domain/analysis/variables.ts): when each variable was asked, with the
// conditions of its option or row too, in Dutch; labels with their pipes readable.
import { describe, expect, it } from 'vitest';
import { exportSchema } from '../../server/domain/analysis/variables.ts';
import { inlineQuestionnaire } from '../helpers/questionnaires.ts';

const q = inlineQuestionnaire({
  id: 'woorden',
  version: '1',
  title: 'Woorden',
  counting: { reached: 'Q1' },
  blocks: [
    { id: 'p1', items: [{ id: 'Q1', type: 'single', text: 'Functie?', options: [{ code: 'bm', label: 'Burgemeester' }, { code: 'wh', label: 'Wethouder' }] }] },
    {
      id: 'p2',
      showIf: 'Q1 == bm',
      items: [
        { id: 'Q2', type: 'multi', text: 'Wat gebeurde er, als {Q1}?', options: [{ code: 'a', label: 'A' }, { code: 'b', label: 'B', showIf: "sample.laag == 'gemeente'" }] },
      ],
    },
    {
      id: 'p3',
      showIf: 'Q1 == bm',
      items: [
        { id: 'Q3', type: 'grid', text: 'Hoe vaak?', rows: [{ code: 'r1', label: 'Eén' }, { code: 'r2', label: 'Twee {Q1|onbekend}', showIf: 'Q2 has a' }], columns: [{ code: 'nooit', label: 'Nooit' }, { code: 'vaak', label: 'Vaak' }] },
      ],
    },
  ],
  sample: [{ id: 'laag', label: 'Bestuurslaag', options: [{ code: 'gemeente', label: 'Gemeente' }, { code: 'provincie', label: 'Provincie' }] }],
  end: { text: 'Dank' },
});

describe('the codebook in words', () => {
  const vars = new Map(exportSchema(q, { carry: [], weighted: false }).variables.map((v) => [v.name, v]));

  it("says when each variable was asked, also by its option's or row's own condition, in Dutch", () => {
    expect(vars.get('Q2_a')!.asked).toBe('Q1 is "Burgemeester"');
    expect(vars.get('Q2_b')!.asked).toBe('Q1 is "Burgemeester" en steekproefveld laag is "Gemeente"');
    expect(vars.get('Q3_r1')!.asked).toBe('Q1 is "Burgemeester"');
    expect(vars.get('Q3_r2')!.asked).toBe('Q1 is "Burgemeester" en Q2 bevat "A"');
  });

  it('shows pipes in labels as what they stand for', () => {
    expect(vars.get('Q2_a')!.label).toBe('Wat gebeurde er, als [antwoord op Q1]?: A');
    expect(vars.get('Q3_r2')!.label).toBe('Hoe vaak?: Twee [antwoord op Q1] of, zonder antwoord: "onbekend"');
  });
});
