// The questionnaire language: format (schema), compiled model, routing runtime, validation,
// static checks and the simulator. Pure TypeScript: no HTTP, no SQL, no I/O.
export * from './schema.ts';
export * from './model.ts';
export * from './problems.ts';
export * from './runtime.ts';
export * from './validate.ts';
export * from './messages.ts';
export * from './check.ts';
export * from './simulate.ts';
export * from './load.ts';
