// Where each value of a JSON text starts, by its path: so that a problem found at
// $.blocks[2].items[0].showIf can also say "line 41", and an editor can jump there.

import { formatPath, type PathSegment } from './problems.ts';

/** The 1-based line on which each value of `text` (valid JSON) starts, by formatted path. */
export function jsonLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  const space = () => {
    while (i < text.length && /\s/.test(text[i]!)) if (text[i++] === '\n') line++;
  };
  const string = () => {
    i++; // the opening quote
    let s = '';
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        s += JSON.parse(`"${text.slice(i, text[i + 1] === 'u' ? i + 6 : i + 2)}"`);
        i += text[i + 1] === 'u' ? 6 : 2;
      } else s += text[i++];
    }
    i++; // the closing quote
    return s;
  };
  const value = (path: PathSegment[]): void => {
    space();
    lines.set(formatPath(path), line);
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      while (text[i] !== '}' && i < text.length) {
        const key = string();
        space();
        i++; // :
        value([...path, key]);
        space();
        if (text[i] === ',') i++;
        space();
      }
      i++;
    } else if (c === '[') {
      i++;
      space();
      for (let n = 0; text[i] !== ']' && i < text.length; n++) {
        value([...path, n]);
        space();
        if (text[i] === ',') i++;
        space();
      }
      i++;
    } else if (c === '"') string();
    else while (i < text.length && !/[\s,\]}]/.test(text[i]!)) i++;
  };
  value([]);
  return lines;
}

/** The line of the value at `path`, or of the nearest enclosing one that exists. */
export function lineOf(lines: Map<string, number>, path: readonly PathSegment[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const line = lines.get(formatPath(path.slice(0, n)));
    if (line !== undefined) return line;
  }
  return undefined;
}
