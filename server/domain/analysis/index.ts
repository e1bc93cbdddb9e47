// Analysis exports: variables and coding, the files (CSV, codebook, SPSS syntax), the topline.
// Pure TypeScript over a compiled questionnaire and response records: no SQL, no HTTP.
export * from './variables.ts';
export * from './files.ts';
export * from './topline.ts';
export * from './describe.ts';
