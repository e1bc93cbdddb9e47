// The line each JSON value starts on, for "file:41: $.path: message".
import { describe, expect, it } from 'vitest';
import { jsonLines, lineOf } from '../../server/domain/questionnaire/json-lines.ts';

describe('json lines', () => {
  const text = '{\n  "id": "x",\n  "blocks": [\n    { "id": "p1",\n      "items": [ {"id": "Q\\n\\"1\\u00e9", "x": [1, 2.5e3,\n true, null] } ] }\n  ],\n  "empty": {}, "none": []\n}\n';

  it('gives the line of every value by its path, with escapes in strings and values on one line', () => {
    const lines = jsonLines(text);
    expect(lines.get('$')).toBe(1);
    expect(lines.get('$.id')).toBe(2);
    expect(lines.get('$.blocks')).toBe(3);
    expect(lines.get('$.blocks[0]')).toBe(4);
    expect(lines.get('$.blocks[0].items[0].id')).toBe(5);
    expect(lines.get('$.blocks[0].items[0].x[1]')).toBe(5);
    expect(lines.get('$.blocks[0].items[0].x[2]')).toBe(6);
    expect(lines.get('$.empty')).toBe(8);
    expect(lines.get('$.none')).toBe(8);
  });

  it('falls back to the nearest enclosing value for a path that is not in the file (a missing field)', () => {
    const lines = jsonLines(text);
    expect(lineOf(lines, ['blocks', 0, 'items', 0, 'text'])).toBe(5);
    expect(lineOf(lines, ['blocks', 7])).toBe(3);
  });
});
