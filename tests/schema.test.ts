import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderSchema, schemaPath } from '../scripts/generate-schema.ts';

describe('questionnaires/schema.json', () => {
  it('is generated from the zod schema and up to date (run `npm run schema` after changing the format)', () => {
    expect(readFileSync(schemaPath, 'utf8')).toBe(renderSchema());
  });

  it('is referenced by every questionnaire, so editors autocomplete and flag mistakes', () => {
    const dir = new URL('../questionnaires/', import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'schema.json')) {
      expect(JSON.parse(readFileSync(new URL(file, dir), 'utf8')).$schema, file).toBe('./schema.json');
    }
  });

  it('describes the item kinds and the required Dutch text', () => {
    const schema = JSON.parse(renderSchema());
    expect(Object.keys(schema.definitions)).toEqual(expect.arrayContaining(['Single', 'Multi', 'Grid', 'Scale', 'Open', 'Number', 'Split', 'Ranking', 'Date', 'Display']));
    expect(schema.definitions.Text.anyOf[1].required).toEqual(['nl']);
  });
});
