// Weighting cells as the Monitor defines them: functie within gemeenten, bestuurslaag otherwise.
import { describe, expect, it } from 'vitest';
import { cellOf, tally, weightingNotes, weightTable, type Weighting } from '../../server/domain/survey/weighting.ts';
import { checkDefinition } from '../../server/usecases/surveys.ts';
import { questionnairesDir, testDefinition } from '../helpers/app.ts';

const round2 = (x: number) => Math.round(x * 100 + 1e-9) / 100;

const monitor: Weighting = {
  cells: [{ where: { bestuurslaag: 'gemeente' }, by: ['bestuurslaag', 'functie'] }, { by: ['bestuurslaag'] }],
  target: 'population',
  population: [
    { cell: { bestuurslaag: 'gemeente', functie: 'burgemeester' }, size: 355 },
    { cell: { bestuurslaag: 'gemeente', functie: 'wethouder' }, size: 1320 },
    { cell: { bestuurslaag: 'gemeente', functie: 'raadslid' }, size: 8493 },
    { cell: { bestuurslaag: 'provincie' }, size: 619 },
    { cell: { bestuurslaag: 'waterschap' }, size: 609 },
  ],
};

/** Monitor 2020 responses per cell (Tabel 2), as carried strata of individual responses. */
function responses() {
  const counts = new Map();
  const add = (values: Record<string, string>, n: number) => tally(monitor, counts, values, n);
  add({ bestuurslaag: 'gemeente', functie: 'burgemeester' }, 161);
  add({ bestuurslaag: 'gemeente', functie: 'wethouder' }, 365);
  add({ bestuurslaag: 'gemeente', functie: 'raadslid' }, 2147);
  add({ bestuurslaag: 'provincie', functie: 'statenlid' }, 150);
  add({ bestuurslaag: 'provincie', functie: 'gedeputeerde' }, 26);
  add({ bestuurslaag: 'waterschap', functie: 'dijkgraaf' }, 211);
  return counts;
}

describe('weighting cells', () => {
  it('puts a response in the first rule that matches', () => {
    expect(cellOf(monitor, { bestuurslaag: 'gemeente', functie: 'wethouder' })?.label).toBe('gemeente / wethouder');
    expect(cellOf(monitor, { bestuurslaag: 'provincie', functie: 'statenlid' })?.label).toBe('provincie');
    expect(cellOf(monitor, { bestuurslaag: 'gemeente' })).toBeUndefined();
  });

  it('reproduces the Monitor 2020 factors 0.59, 0.97, 1.06, 0.94, 0.78 from five cells', () => {
    const table = weightTable(monitor, responses(), new Map());
    const byLabel = Object.fromEntries(table.cells.map((c) => [c.label, round2(c.weight!)]));
    expect(byLabel).toEqual({ 'gemeente / burgemeester': 0.59, 'gemeente / wethouder': 0.97, 'gemeente / raadslid': 1.06, provincie: 0.94, waterschap: 0.78 });
    expect(table.unweighted).toBe(0);
    expect(table.cells.reduce((s, c) => s + c.responses * c.weight!, 0)).toBeCloseTo(3060, 9);
  });

  it('with target "invited", weights towards the invited counts and says so', () => {
    const invited = new Map();
    tally(monitor, invited, { bestuurslaag: 'provincie' }, 100);
    tally(monitor, invited, { bestuurslaag: 'waterschap' }, 300);
    const table = weightTable({ ...monitor, target: 'invited', population: undefined }, responses(), invited);
    expect(table.target).toBe('invited');
    expect(table.cells.map((c) => c.label)).toEqual(['provincie', 'waterschap']);
    // Responses in gemeente cells have no target here: they stay unweighted, and are counted.
    expect(table.unweighted).toBe(161 + 365 + 2147);
    expect(table.cells[0]!.weight).toBeCloseTo(100 / 400 / (176 / 387), 12);
  });
});

describe('weighting in the survey definition', () => {
  const check = (weighting: unknown, carry = ['functie']) => checkDefinition({ ...testDefinition('owb-2024', { strata: ['functie'], carry }), weighting }, questionnairesDir);
  const messages = (weighting: unknown, carry?: string[]) => {
    const result = check(weighting, carry);
    return result.ok ? [] : result.problems.map((p) => `${p.path.join('.')}: ${p.message}`);
  };

  it('accepts cells on carried columns with a population table', () => {
    expect(messages({ cells: [{ by: ['functie'] }], target: 'population', population: [{ cell: { functie: 'burgemeester' }, size: 342 }] })).toEqual([]);
    expect(messages({ cells: [{ by: ['functie'] }], target: 'invited' })).toEqual([]);
  });

  it('names what is wrong and where', () => {
    expect(messages({ cells: [{ by: ['functie'] }], target: 'population' }, [])).toEqual([
      'weighting.cells.0.by.0: "functie" is not carried onto responses (sample.carry: none)',
      'weighting.population: target "population" needs the population table (or choose target "invited")',
    ]);
    expect(messages({ cells: [{ by: ['functie'] }], target: 'population', population: [{ cell: { laag: 'x' }, size: 3 }] })).toEqual([
      'weighting.population.0.cell: this cell has the columns laag; the rules make cells of functie',
    ]);
  });

  it('says when a cell has no responses (its share is left out, the weights are renormalised over the other cells) and when responses have no weight', () => {
    expect(weightingNotes(weightTable(monitor, responses(), new Map()))).toEqual([]);
    const withoutWaterschap = new Map([...responses()].filter(([key]) => key !== 'bestuurslaag=waterschap'));
    tally(monitor, withoutWaterschap, { bestuurslaag: 'gemeente' }, 4); // no functie: in no cell
    const table = weightTable(monitor, withoutWaterschap, new Map());
    const n = 3060 - 211;
    // Weighted, the responses still add up to their number (2,849, not 2,696.75), and the note says why.
    const total = table.cells.reduce((s, c) => s + c.responses * (c.weight ?? 0), 0);
    expect(total).toBeCloseTo(n, 9);
    expect(weightingNotes(table)).toEqual([
      `No responses in cell "waterschap": 5.3% of the target is not represented. The weights are computed over the other cells (they add up to ${n}, the number of weighted responses), so weighted results describe those cells only. Combine such a cell with a similar one in the definition's weighting.cells.`,
      '4 responses fall in no weighting cell with a target size and have no weight (the weight column is empty).',
    ]);
  });
});
