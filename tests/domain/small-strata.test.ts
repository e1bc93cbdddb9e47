// Carried strata in exports: a value that fewer than k responses have is merged with the next
// smallest of its field, or the field is left out, so that no export singles out a respondent.
import { describe, expect, it } from 'vitest';
import { protectCarriedStrata } from '../../server/domain/analysis/small-strata.ts';

const responses = (counts: Record<string, number>, field = 'functie') => Object.entries(counts).flatMap(([value, n]) => Array.from({ length: n }, () => ({ [field]: value })));
const shownCounts = (shown: Record<string, string | undefined>[], field = 'functie') => {
  const counts: Record<string, number> = {};
  for (const row of shown) counts[row[field] ?? '(left out)'] = (counts[row[field] ?? '(left out)'] ?? 0) + 1;
  return counts;
};

describe('protectCarriedStrata', () => {
  it.each([
    ['every value has k or more: shown as they are', { raadslid: 20, wethouder: 7, burgemeester: 5 }, { raadslid: 20, wethouder: 7, burgemeester: 5 }],
    ['three commissioners merged with the next smallest value', { raadslid: 20, wethouder: 7, cdk: 3 }, { raadslid: 20, 'cdk + wethouder': 10 }],
    ['two small values merged together when that reaches k', { raadslid: 20, cdk: 3, gedeputeerde: 2 }, { raadslid: 20, 'cdk + gedeputeerde': 5 }],
    ['small values keep merging until the group reaches k', { raadslid: 20, a: 1, b: 1, c: 1 }, { 'a + b + c + raadslid': 23 }],
  ])('%s', (_label, counts, expected) => {
    const { shown } = protectCarriedStrata(responses(counts), ['functie'], 5);
    expect(shownCounts(shown)).toEqual(expected);
  });

  it('leaves a field out when all its responses together are fewer than k', () => {
    const { shown, notes } = protectCarriedStrata(responses({ cdk: 3 }), ['functie'], 5);
    expect(shownCounts(shown)).toEqual({ '(left out)': 3 });
    expect(notes).toEqual(['functie is left out: fewer than 5 responses in all.']);
  });

  it('leaves out a second field whose combination with the first would leave a group below k', () => {
    const strata = [...responses({ gemeente: 10 }, 'bestuurslaag'), ...responses({ provincie: 10 }, 'bestuurslaag')].map((s, i) => ({ ...s, functie: i === 0 ? 'burgemeester' : i < 10 ? 'raadslid' : 'statenlid' }));
    // functie alone: burgemeester (1) is merged with raadslid; but gemeente x (burgemeester + raadslid) = 10, provincie x statenlid = 10: fine.
    const fine = protectCarriedStrata(strata, ['bestuurslaag', 'functie'], 5);
    expect(fine.notes).toEqual(['functie: burgemeester, raadslid are shown together as "burgemeester + raadslid" (some had fewer than 5 responses alone).']);
    // Eight statenleden and two raadsleden in provincies: provincie x raadslid would be 2.
    const mixed = strata.map((s, i) => (i >= 18 ? { ...s, functie: 'raadslid' } : s));
    const { shown, notes } = protectCarriedStrata(mixed, ['bestuurslaag', 'functie'], 5);
    expect(shown.every((row) => row.functie === undefined && row.bestuurslaag !== undefined)).toBe(true);
    expect(notes).toEqual(['functie is left out: together with bestuurslaag it would leave a group of fewer than 5 responses.']);
  });
});
