// The SPSS export read in GNU PSPP with hostile texts: a line break in a survey title, a
// questionnaire version or a label must not become a command (HOST COMMAND), and one in an open
// answer or an "anders, namelijk" text must not split a case. PSPP reads exactly one case per
// response, with every text intact (a line break written as ↵, as the codebook says).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codebook, exportSchema, responsesCsv, spssSyntax, textWidths, type ResponseRecord } from '../../server/domain/analysis/index.ts';
import { referenceQuestionnaire } from '../helpers/questionnaires.ts';

const dir = mkdtempSync(join(tmpdir(), 'spss-hostile-'));
const PWNED = join(dir, 'pwned');
const COMMAND = `\nHOST COMMAND=['touch ${PWNED}'].\n`;

const texts = [
  `eerste regel${COMMAND}tweede regel`,
  'komma, "aanhalingstekens" en een\r\nWindows-regeleinde',
  `'enkel' en een punt aan het eind.\n.\n`,
  'gewoon',
];

describe('the SPSS export in PSPP, with texts that try to be syntax', () => {
  it('reads one case per response with every text intact, and runs nothing', () => {
    const q = referenceQuestionnaire('owb-2024');
    const schema = exportSchema(q, { carry: ['functie'], weighted: false });
    const records: ResponseRecord[] = texts.map((text) => ({
      answers: { Q1: ['verbale_agressie'], Q2: ['anders'], 'Q2.anders': text, Q6: 'nuttig', Q7: text, Q15: 'goed' },
      strata: { functie: 'raadslid' },
      status: 'complete',
      reachedPage: null,
    }));
    const rows = records.map((r) => schema.code(r, null));
    // Labels and the names of things, hostile too.
    const variables = schema.variables.map((v) => ({ ...v, label: `${v.label}${COMMAND}`, values: v.values.map((l) => ({ ...l, label: `${l.label}${COMMAND}` })) }));
    const info = { surveyId: 'owb-2024', title: `Monitor${COMMAND}2024`, questionnaireId: q.id, questionnaireVersion: `2024${COMMAND}` };
    writeFileSync(join(dir, 'responses.csv'), responsesCsv(variables, rows));
    writeFileSync(join(dir, 'responses.sps'), spssSyntax(info, variables, textWidths(variables, rows), 'responses.csv'));
    writeFileSync(join(dir, 'check.sps'), "INCLUDE FILE='responses.sps'.\nLIST /VARIABLES=Q2_anders_text.\nDISPLAY DICTIONARY /VARIABLES=Q7.\n");

    const output = execFileSync('pspp', ['-O', 'box=ascii', '-O', 'width=2000', 'check.sps'], { cwd: dir, encoding: 'utf8' });
    expect(output).not.toMatch(/error|warning/i);
    expect(existsSync(PWNED)).toBe(false);
    const listed = output
      .split('\n')
      .filter((line) => line.startsWith('|') && !line.includes('Q2_anders_text') && !/^\|[-+]+\|$/.test(line) && !line.includes('Variable'))
      .slice(0, texts.length)
      .map((line) => line.slice(1, -1).trim());
    expect(listed).toEqual(texts.map((t) => t.replace(/\r\n|\n/g, '↵').trim()));
    expect(codebook(info, variables, rows).missingValues).toContain('a line break the respondent typed is written as ↵');
  });
});
