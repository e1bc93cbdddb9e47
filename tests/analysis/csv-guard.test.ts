// No text anyone writes becomes a spreadsheet formula in any CSV the platform writes: the
// responses, the topline, the non-response interviews, the call list and the status table, with
// hostile values in the frame (a stratum, a name, an organisation, a salutation, a phone number),
// in open answers and in a call note.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { insertResponse } from '../../server/db/responses.ts';
import { getSurvey } from '../../server/db/surveys.ts';
import { guardFormula } from '../../server/domain/csv.ts';
import { cli, withDatabase } from '../helpers/cli.ts';

const HOSTILE = {
  stratum: '=HYPERLINK("http://x.test","klik")',
  name: '@SUM(1+1)*cmd|\' /C calc\'!A0',
  organisation: '+cmd|\' /C notepad\'!A0',
  salutation: '=1+1',
  phone: '-2+3+cmd',
  note: '\t=evil()',
  answer: '=HYPERLINK("http://x.test")',
};
/** Cells that may start with - or +: numbers (a missing code, -1). */
const isNumber = (cell: string) => /^-?\d+(\.\d+)?$/.test(cell);

let dir: string;
let env: NodeJS.ProcessEnv;
const survey = cli(() => env);
const outputs = new Map<string, string>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'csv-guard-'));
  env = { DATABASE_PATH: join(dir, 'db.sqlite'), SERVER_SECRET: 'csv-guard-test-secret-of-sufficient-length-0', MAIL_DIR: join(dir, 'mail') };
  const yesterday = new Date(Date.now() - 86_400_000).toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 10);
  const base = JSON.parse(readFileSync(new URL('../../questionnaires/surveys/owb-2024.json', import.meta.url), 'utf8'));
  const definition = join(dir, 'hostile.json');
  writeFileSync(
    definition,
    JSON.stringify({
      ...base,
      id: 'hostile',
      questionnaire: new URL('../../questionnaires/owb-2024.json', import.meta.url).pathname,
      // regio: a free column of the frame, a stratum carried onto responses.
      sample: { ...base.sample, strata: ['regio'], carry: ['functie', 'regio'], population: undefined },
      weighting: undefined,
      calendar: { opens: `${yesterday}T00:00`, closes: 'P36D', sendWindow: { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '00:00', until: '24:00' }, mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }] },
      nonResponse: { questions: [{ id: 'NR1', text: 'Waarom niet?', options: [{ code: 'tijd', label: 'Geen tijd' }, { code: 'anders', label: 'Anders' }] }] },
    }),
  );
  const frame = join(dir, 'frame.csv');
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  writeFileSync(
    frame,
    [
      'email;name;organisation;salutation;phone;functie;regio',
      ...Array.from({ length: 6 }, (_, i) => [`p${i}@x.nl`, q(HOSTILE.name), q(HOSTILE.organisation), q(HOSTILE.salutation), q(HOSTILE.phone), 'raadslid', q(i < 3 ? HOSTILE.stratum : 'noord')].join(';')),
    ].join('\n'),
  );
  const imported = await survey('import', definition, frame);
  expect(imported.code, imported.err.join('\n')).toBe(0);
  // Responses with hostile open answers, as the answer store holds them.
  await withDatabase(env.DATABASE_PATH!, async (db) => {
    const s = (await getSurvey(db, 'hostile'))!;
    for (const regio of [HOSTILE.stratum, 'noord']) {
      await insertResponse(db, {
        survey_id: 'hostile',
        questionnaire_id: 'owb-2024',
        questionnaire_version: '2024',
        questionnaire_hash: s.questionnaire_hash,
        answers: JSON.stringify({ Q1: ['verbale_agressie'], Q2: ['anders'], 'Q2.anders': HOSTILE.answer, Q11: HOSTILE.answer, Q15: 'goed' }),
        strata: JSON.stringify({ functie: 'raadslid', regio }),
        status: 'complete',
        reached_page: null,
      });
    }
  });
  expect((await survey('call', 'hostile', 'p1@x.nl', 'no-answer', '--note', HOSTILE.note.trim())).code).toBe(0);
  expect((await survey('call', 'hostile', 'p2@x.nl', 'refused')).code).toBe(0);
  expect((await survey('nonresponse', 'hostile', 'p2@x.nl', 'NR1=anders')).code).toBe(0);

  for (const format of ['csv', 'topline', 'nonresponse']) {
    const run = await survey('export', 'hostile', '--format', format, '--keep-small-strata');
    expect(run.code, run.err.join('\n')).toBe(0);
    outputs.set(`export ${format}`, run.out.join('\n'));
  }
  const calls = await survey('call-list', 'hostile');
  outputs.set('call-list', calls.out.join('\n'));
  outputs.set('status', (await survey('status', 'hostile', '--format', 'csv')).out.join('\n'));
});

describe('every CSV the platform writes', () => {
  it('holds the hostile texts, as text', () => {
    const all = [...outputs.values()].join('\n');
    for (const text of [HOSTILE.stratum, HOSTILE.name, HOSTILE.organisation, HOSTILE.answer]) expect(all).toContain(guardFormula(text).replace(/"/g, '""'));
  });

  it.each(['export csv', 'export topline', 'export nonresponse', 'call-list', 'status'])('%s: no cell starts as a formula', (name) => {
    const text = outputs.get(name)!;
    const rows = parse(text, { delimiter: name === 'call-list' ? ';' : ',', relax_column_count: true }) as string[][];
    expect(rows.length).toBeGreaterThan(1);
    const cells = rows.flat();
    const formulas = cells.filter((cell) => /^[=+\-@\t\r]/.test(cell) && !isNumber(cell) && cell !== '-');
    expect(formulas).toEqual([]);
    // The hostile values were there to be guarded.
    expect(cells.some((cell) => cell.startsWith("'"))).toBe(true);
  });
});
