// Post-stratification weights: per weighting cell, population share / response share, computed
// from counts (never from rounded percentages). Weighted, the responses add up to their number,
// also when a cell has no responses: such a cell cannot be weighted up, so the population shares
// are taken over the cells that have responses (renormalised), and the weighted results describe
// those cells only (weightingNotes says so wherever weights are shown).

export interface CellWeight {
  cell: string;
  population: number;
  responses: number;
  populationShare: number;
  responseShare: number | undefined;
  /** undefined when the cell has no responses (it cannot be weighted up). */
  weight: number | undefined;
}

export function postStratificationWeights(cells: readonly { cell: string; population: number; responses: number }[]): CellWeight[] {
  const N = cells.reduce((s, c) => s + c.population, 0);
  const n = cells.reduce((s, c) => s + c.responses, 0);
  // The population of the cells that can be weighted: those with responses.
  const represented = cells.reduce((s, c) => s + (c.responses > 0 ? c.population : 0), 0);
  return cells.map((c) => {
    const populationShare = N > 0 ? c.population / N : 0;
    const responseShare = n > 0 ? c.responses / n : undefined;
    return {
      ...c,
      populationShare,
      responseShare,
      weight: responseShare !== undefined && responseShare > 0 && represented > 0 ? c.population / represented / responseShare : undefined,
    };
  });
}
