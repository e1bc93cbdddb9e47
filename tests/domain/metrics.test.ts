// Golden checks from ../shared/reference/ (seed-owb.md §4, seed-monitor-2024.md §5,
// seed-monitor-2020.md §1.6 and §5).
import { describe, expect, it } from 'vitest';
import { aaporRates, marginOfError, percent, postStratificationWeights, reliabilityFlag, responseRate, sumDispositions, NO_DISPOSITIONS } from '../../server/domain/metrics/index.ts';

/** Rounds half up to two decimals, as the report prints weighting factors. */
const round2 = (x: number) => Math.floor(x * 100 + 0.5) / 100;

const OWB: [string, number, number, number][] = [
  // stratum, responses n, population N, invited
  ['burgemeesters', 113, 342, 338],
  ['wethouders', 241, 1311, 1311],
  ['raadsleden', 1081, 8384, 8384],
  ['cdk', 4, 12, 12],
  ['gedeputeerden', 5, 62, 62],
  ['statenleden', 114, 570, 567],
];

describe('response % (OWB 2024 G1)', () => {
  it('reproduces the table: 33, 18, 13, 33, 8, 20 percent of the population', () => {
    expect(OWB.map(([, n, N]) => percent(responseRate(n, N)))).toEqual([33, 18, 13, 33, 8, 20]);
  });

  it('gives the same whole percents with the invited counts as denominator', () => {
    expect(OWB.map(([, n, , invited]) => percent(responseRate(n, invited)))).toEqual([33, 18, 13, 33, 8, 20]);
  });

  it('computes the total from summed counts: 14.6%', () => {
    const n = OWB.reduce((s, r) => s + r[1], 0);
    const N = OWB.reduce((s, r) => s + r[2], 0);
    expect([n, N, percent(responseRate(n, N), 1)]).toEqual([1558, 10681, 14.6]);
  });
});

describe('margin of error at 95% with finite-population correction (OWB 2024 G2)', () => {
  it('reproduces 7.6, 5.7, 2.8, 41.8, 42.4 and 8.2 (the report prints 42.8 for gedeputeerden, which no form of the formula gives)', () => {
    expect(OWB.map(([, n, N]) => percent(marginOfError(n, N), 1))).toEqual([7.6, 5.7, 2.8, 41.8, 42.4, 8.2]);
  });

  it('uses N - 1 and the population, not the invited count (the variants give 40.0 for CdK and 7.5 for burgemeesters)', () => {
    const variant = (n: number, N: number) => 1.96 * Math.sqrt(0.25 / n) * Math.sqrt((N - n) / N);
    expect(percent(variant(4, 12), 1)).toBe(40);
    expect(percent(marginOfError(4, 12), 1)).toBe(41.8);
    expect(percent(marginOfError(113, 338), 1)).toBe(7.5);
    expect(percent(marginOfError(113, 342), 1)).toBe(7.6);
  });

  it('is 0 for a census and undefined without responses', () => {
    expect(marginOfError(12, 12)).toBe(0);
    expect(marginOfError(0, 12)).toBeUndefined();
    expect(marginOfError(13, 12)).toBeUndefined();
  });
});

describe('reliability flags (OWB 2024 G5)', () => {
  it.each([
    [11, 'onvoldoende betrouwbaar'],
    [14, 'onvoldoende betrouwbaar'],
    [29, 'onvoldoende betrouwbaar'],
    [30, 'indicatief'],
    [38, 'indicatief'],
    [49, 'indicatief'],
    [50, undefined],
    [52, undefined],
  ] as const)('base %i: %s', (base, flag) => {
    expect(reliabilityFlag(base)).toBe(flag);
  });
});

describe('response per stratum with subtotals from summed counts', () => {
  it('Monitor 2024 (G1): provincie 21% from 133/645, total 17% from 1082/6212', () => {
    const provincie = [
      [6, 12],
      [15, 62],
      [112, 571],
    ];
    const n = provincie.reduce((s, [r]) => s + r!, 0);
    const invited = provincie.reduce((s, [, i]) => s + i!, 0);
    expect([n, invited, percent(responseRate(n, invited))]).toEqual([133, 645, 21]);
    expect(percent(responseRate(1082, 6212))).toBe(17);
  });

  it('Monitor 2020 (G2): every rate, and the gemeente subtotal is 26%, not the 32.8% an average of percentages gives', () => {
    const rows: [number, number][] = [[5, 12], [19, 63], [152, 544], [8, 20], [38, 93], [165, 496], [161, 355], [365, 1320], [2147, 8493]];
    expect(rows.map(([n, b]) => percent(responseRate(n, b)))).toEqual([42, 30, 28, 40, 41, 33, 45, 28, 25]);
    const gemeente = rows.slice(6);
    const subtotal = responseRate(gemeente.reduce((s, [n]) => s + n, 0), gemeente.reduce((s, [, b]) => s + b, 0));
    expect(percent(subtotal)).toBe(26);
    expect(percent(gemeente.reduce((s, [n, b]) => s + n / b, 0) / 3, 1)).toBe(32.8);
    expect(percent(responseRate(3060, 11396))).toBe(27);
  });
});

describe('post-stratification weights (Monitor 2020 Tabel 2)', () => {
  const cells = [
    { cell: 'burgemeester', population: 355, responses: 161 },
    { cell: 'wethouder', population: 1320, responses: 365 },
    { cell: 'raadslid', population: 8493, responses: 2147 },
    { cell: 'provincie', population: 619, responses: 176 },
    { cell: 'waterschap', population: 609, responses: 211 },
  ];

  it('reproduces the weighting factors 0.59, 0.97, 1.06, 0.94, 0.78 from the counts', () => {
    expect(postStratificationWeights(cells).map((w) => round2(w.weight!))).toEqual([0.59, 0.97, 1.06, 0.94, 0.78]);
  });

  it('computes from counts, not from the rounded shares the report prints (3% / 5% would give 0.60)', () => {
    const burgemeester = postStratificationWeights(cells)[0]!;
    expect(burgemeester.weight).toBeCloseTo((355 / 11396) / (161 / 3060), 12);
    expect(round2(0.03 / 0.05)).toBe(0.6);
    expect(round2(burgemeester.weight!)).toBe(0.59);
  });

  it('keeps the weighted number of responses equal to the unweighted number', () => {
    const weighted = postStratificationWeights(cells).reduce((s, w) => s + w.responses * w.weight!, 0);
    expect(weighted).toBeCloseTo(3060, 9);
  });

  it('cannot weight a cell without responses', () => {
    expect(postStratificationWeights([{ cell: 'a', population: 10, responses: 0 }, { cell: 'b', population: 10, responses: 5 }])[0]!.weight).toBeUndefined();
  });
});

describe('AAPOR rates', () => {
  it('follows the Standard Definitions formulas', () => {
    const d = { I: 40, P: 10, R: 20, NC: 20, O: 5, UH: 0, UO: 5, NE: 7 };
    expect(aaporRates(d)).toEqual({ RR1: 0.4, RR2: 0.5, COOP1: 40 / 75, REF1: 0.2, CON1: 0.75 });
  });

  it('sums dispositions for subtotals and leaves rates undefined on an empty base', () => {
    const total = sumDispositions([{ ...NO_DISPOSITIONS, I: 1, R: 1 }, { ...NO_DISPOSITIONS, I: 2, NE: 3 }]);
    expect(total).toEqual({ ...NO_DISPOSITIONS, I: 3, R: 1, NE: 3 });
    expect(aaporRates(NO_DISPOSITIONS).RR1).toBeUndefined();
  });

  it('rounds half up like the reports', () => {
    expect([percent(0.335), percent(0.3349), percent(0.12893), percent(0.4235, 1)]).toEqual([34, 33, 13, 42.4]);
  });
});
