// Response metrics: AAPOR rates, response %, margins of error, reliability flags, weights.
export * from './rates.ts';
export * from './margin.ts';
export * from './weights.ts';
export * from './suppression.ts';
