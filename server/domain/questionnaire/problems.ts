// A problem found in a questionnaire file: where (JSON path, column inside an expression) and
// what, in a plain sentence. The checker collects all of them instead of stopping at the first.

export type PathSegment = string | number;

export interface Problem {
  path: PathSegment[];
  /** 1-based column inside the expression or text at `path`, when the problem is inside one. */
  column?: number;
  /** 1-based line in the file where the value at `path` (or the nearest one that exists) starts. */
  line?: number;
  message: string;
}

/** `$.blocks[2].items[0].showIf` */
export function formatPath(path: readonly PathSegment[]): string {
  return '$' + path.map((s) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][\w$]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`)).join('');
}

/** `file:41: $.blocks[2].items[0].showIf, column 7: message` (the line as editors and compilers give it). */
export function formatProblem(file: string, p: Problem): string {
  const where = formatPath(p.path) + (p.column !== undefined ? `, column ${p.column}` : '');
  return `${file}${p.line !== undefined ? `:${p.line}` : ''}: ${where}: ${p.message}`;
}
