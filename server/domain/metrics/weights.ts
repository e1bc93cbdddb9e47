// Post-stratification weights: per weighting cell, population share / response share, computed
// from counts (never from rounded percentages). Weighted, the responses add up to their number.

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
  return cells.map((c) => {
    const populationShare = N > 0 ? c.population / N : 0;
    const responseShare = n > 0 ? c.responses / n : undefined;
    return {
      ...c,
      populationShare,
      responseShare,
      weight: responseShare !== undefined && responseShare > 0 ? populationShare / responseShare : undefined,
    };
  });
}
