// The 95% margin of error of a percentage, at its maximum (p = 0.5), with the finite-population
// correction: 1.96 * sqrt(0.25 / n) * sqrt((N - n) / (N - 1)). The OWB 2024 table reproduces
// with it (burgemeesters n = 113, N = 342 -> 7.6%).

export function marginOfError(n: number, populationSize: number, z = 1.96): number | undefined {
  if (n < 1 || populationSize < n) return undefined;
  if (populationSize === 1) return 0;
  return z * Math.sqrt(0.25 / n) * Math.sqrt((populationSize - n) / (populationSize - 1));
}

export type Reliability = 'onvoldoende betrouwbaar' | 'indicatief' | undefined;

/** The reports' flags on a base: below 30 "onvoldoende betrouwbaar", below 50 "indicatief". */
export function reliabilityFlag(base: number): Reliability {
  if (base < 30) return 'onvoldoende betrouwbaar';
  if (base < 50) return 'indicatief';
  return undefined;
}
