// Response metrics as the reports print them and as AAPOR's Standard Definitions define them.
// Pure functions over counts; subtotals are always computed from summed counts, never by
// averaging percentages.

/** AAPOR final dispositions: complete I, partial P, refusal and break-off R, non-contact NC,
 * other O, unknown eligibility (household) UH and (other) UO, not eligible NE. */
export interface Dispositions {
  I: number;
  P: number;
  R: number;
  NC: number;
  O: number;
  UH: number;
  UO: number;
  NE: number;
}

export const NO_DISPOSITIONS: Dispositions = { I: 0, P: 0, R: 0, NC: 0, O: 0, UH: 0, UO: 0, NE: 0 };

export function sumDispositions(list: readonly Dispositions[]): Dispositions {
  return list.reduce((a, b) => ({ I: a.I + b.I, P: a.P + b.P, R: a.R + b.R, NC: a.NC + b.NC, O: a.O + b.O, UH: a.UH + b.UH, UO: a.UO + b.UO, NE: a.NE + b.NE }), NO_DISPOSITIONS);
}

const ratio = (numerator: number, denominator: number): number | undefined => (denominator > 0 ? numerator / denominator : undefined);

export interface AaporRates {
  RR1: number | undefined;
  RR2: number | undefined;
  COOP1: number | undefined;
  REF1: number | undefined;
  CON1: number | undefined;
}

/** RR1, RR2, COOP1, REF1 and CON1 (AAPOR Standard Definitions); undefined when the base is 0. */
export function aaporRates(d: Dispositions): AaporRates {
  const eligibleAndUnknown = d.I + d.P + d.R + d.NC + d.O + d.UH + d.UO;
  return {
    RR1: ratio(d.I, eligibleAndUnknown),
    RR2: ratio(d.I + d.P, eligibleAndUnknown),
    COOP1: ratio(d.I, d.I + d.P + d.R + d.O),
    REF1: ratio(d.R, eligibleAndUnknown),
    CON1: ratio(d.I + d.P + d.R + d.O, eligibleAndUnknown),
  };
}

/** Response % as the reports print it: counted responses / invited (or / population). */
export function responseRate(responses: number, base: number): number | undefined {
  return ratio(responses, base);
}

/** Rounds half up to whole percent, as the reports do (33.5 -> 34). */
export function percent(share: number | undefined, decimals = 0): number | undefined {
  if (share === undefined) return undefined;
  const factor = 10 ** decimals;
  return Math.floor(share * 100 * factor + 0.5 + 1e-9) / factor;
}
