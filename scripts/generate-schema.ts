// Writes questionnaires/schema.json from the zod schema. A test fails when the file is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { questionnaireJsonSchema } from '../server/domain/questionnaire/schema.ts';

export const schemaPath = fileURLToPath(new URL('../questionnaires/schema.json', import.meta.url));

export function renderSchema(): string {
  return JSON.stringify(questionnaireJsonSchema(), null, 2) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(schemaPath, renderSchema());
  console.log(`wrote ${schemaPath}`);
}
