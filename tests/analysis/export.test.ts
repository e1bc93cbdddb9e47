// A small fieldwork on the OWB 2024 questionnaire, then every export: the CSV with weights and
// missing-value codes, the codebook, the topline, and the SPSS syntax run in GNU PSPP.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSurvey } from '../../server/db/surveys.ts';
import type { Codebook } from '../../server/domain/analysis/index.ts';
import { closeSurvey } from '../../server/usecases/answering.ts';
import { exportSurvey, type ExportFormat } from '../../server/usecases/exports.ts';
import { issueInvitations } from '../../server/usecases/invitations.ts';
import { checkDefinition, saveSurvey } from '../../server/usecases/surveys.ts';
import { questionnairesDir, testDefinition, testServer, type Browser, type TestServer } from '../helpers/app.ts';

let server: TestServer;
const files = new Map<ExportFormat, string>();
let rows: Record<string, string>[];
let protectedRows: Record<string, string>[];
let protectedNotes: string[];
let protectedCodebook: string;

const FUNCTIONS = { burgemeester: 342, wethouder: 1311, raadslid: 8384 };

/** Answers page by page; `stopAfter` leaves the questionnaire after that page (a break-off). */
async function answer(b: Browser, pages: Record<string, Record<string, string | string[]>>, stopAfter?: string) {
  while (b.pageId()) {
    const page = b.pageId()!;
    await b.submit(pages[page] ?? {});
    if (page === stopAfter) return;
  }
}

beforeAll(async () => {
  server = await testServer();
  const definition = {
    ...testDefinition('owb-2024', { strata: ['functie'], carry: ['functie'] }),
    weighting: {
      cells: [{ by: ['functie'] }],
      target: 'population',
      population: Object.entries(FUNCTIONS).map(([functie, size]) => ({ cell: { functie }, size })),
    },
  };
  const checked = checkDefinition(definition, questionnairesDir);
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  await saveSurvey(server.app.db, checked.survey, server.clock.now);
  const people = ['burgemeester', 'burgemeester', 'wethouder', 'raadslid', 'raadslid', 'raadslid', 'raadslid'].map((functie, i) => ({ email: `p${i}@gemeente.test`, sample: { functie } }));
  const invites = await issueInvitations(server.app.db, server.app.secrets, 'owb-2024', people, server.clock.now);
  const start = async (i: number) => {
    const b = server.browser();
    await b.open(`/s/${invites[i]!.token}`);
    return b;
  };
  // 0: aggression, sought support, rates the content "weet niet"; names "=cmd()" as other reaction.
  await answer(await start(0), {
    H1: { Q1: ['verbale_agressie'] },
    H1_reactie: { Q2: ['ondersteuning_gezocht', 'anders'], 'Q2.anders': '=HYPERLINK("x")' },
    H2_waardering: { Q6: 'weet_niet' },
    H4_belang: { 'Q14.snelheid': '1', 'Q14.maatwerk': '2', 'Q14.deskundigheid': '3' },
    H5: { Q15: 'goed' },
  });
  // 1, 2, 3: no aggression (H1_reactie and H2 routed away).
  for (const i of [1, 2, 3]) await answer(await start(i), { H1: { Q1: ['geen'] }, H5: { Q15: i === 3 ? 'ken_niet' : 'beetje' } });
  // 4: breaks off after the first question page (past the counting rule): partial at close.
  await answer(await start(4), { H1: { Q1: ['geen'] } }, 'H1');
  // 5: opens the link only; 6: never opens.
  await start(5);
  const survey = (await getSurvey(server.app.db, 'owb-2024'))!;
  await closeSurvey(server.app.db, server.app.secrets, survey, await server.app.questionnaires.byHash(survey.questionnaire_hash), server.clock.now);
  const closed = (await getSurvey(server.app.db, 'owb-2024'))!;
  const q = await server.app.questionnaires.byHash(closed.questionnaire_hash);
  // As an analyst who asked for the strata as they are: each stratum here has fewer than k (5)
  // responses, which the default export merges (tested below).
  for (const format of ['csv', 'codebook', 'codebook-json', 'sps', 'topline'] as const) files.set(format, (await exportSurvey(server.app.db, closed, q, format, { keepSmallStrata: true })).body);
  rows = parse(files.get('csv')!, { columns: true }) as Record<string, string>[];
  const protectedCsv = await exportSurvey(server.app.db, closed, q, 'csv');
  protectedRows = parse(protectedCsv.body, { columns: true }) as Record<string, string>[];
  protectedNotes = protectedCsv.strataNotes ?? [];
  protectedCodebook = (await exportSurvey(server.app.db, closed, q, 'codebook')).body;
});

afterAll(() => server.close());

describe('responses CSV', () => {
  it('has one row per response (4 complete, 1 partial) with stable variable names', () => {
    expect(rows).toHaveLength(5);
    const header = Object.keys(rows[0]!);
    expect(header.slice(0, 3)).toEqual(['status', 'weight', 'functie']);
    expect(header).toEqual(expect.arrayContaining(['Q1_verbale_agressie', 'Q1_geen', 'Q2_anders_text', 'Q6', 'Q8_prettig', 'Q14_snelheid', 'Q15', 'AGRESSIE', 'bestuurslaag']));
    expect(rows.filter((r) => r.status === '1')).toHaveLength(4);
    expect(rows.filter((r) => r.status === '2')).toHaveLength(1);
  });

  it('codes answers, and tells routed away, weet niet, no answer and break-off apart', () => {
    const victim = rows.find((r) => r.Q1_verbale_agressie === '1')!;
    expect(victim.Q6).toBe('-9'); // weet niet: the first non-substantive option
    expect(victim.Q14_snelheid).toBe('1');
    expect(victim.Q14_maatwerk).toBe('2');
    expect(victim.Q14_vindbaarheid).toBe('0');
    expect(victim.Q15).toBe('4'); // goed: fourth option
    expect(victim.Q7).toBe(''); // open text, routed away because Q6 is weet niet
    expect(victim.Q8_prettig).toBe('-2'); // shown, left empty
    const complete = rows.filter((r) => r.status === '1' && r.Q1_geen === '1');
    expect(complete).toHaveLength(3);
    for (const r of complete) {
      expect(r.Q2_melden_registreren).toBe('-1'); // routed away
      expect(r.Q6).toBe('-1');
      expect(r.AGRESSIE).toBe('0');
      expect(r.bestuurslaag).toBe('1');
    }
    const partial = rows.find((r) => r.status === '2')!;
    expect(partial.Q1_geen).toBe('1');
    expect(partial.Q15).toBe('-3'); // not reached
  });

  it('writes the weight from counts: population share / response share per function', () => {
    const N = 342 + 1311 + 8384;
    const expected = { burgemeester: 342 / N / (2 / 5), wethouder: 1311 / N / (1 / 5), raadslid: 8384 / N / (2 / 5) };
    for (const r of rows) expect(Number(r.weight)).toBeCloseTo(expected[r.functie as keyof typeof expected], 5);
    expect(rows.reduce((s, r) => s + Number(r.weight), 0)).toBeCloseTo(5, 4);
  });

  it('defuses spreadsheet formulas in open answers', () => {
    expect(rows.find((r) => r.Q2_anders_text !== '')!.Q2_anders_text).toBe(`'=HYPERLINK("x")`);
  });
});

describe('carried strata that fewer than k responses have', () => {
  it('are merged by default (2 mayors, 1 alderman, 2 council members: one group of 5), and the codebook says so', () => {
    expect(new Set(protectedRows.map((r) => r.functie))).toEqual(new Set(['burgemeester + raadslid + wethouder']));
    expect(protectedNotes).toEqual([
      'functie: burgemeester, raadslid, wethouder are shown together as "burgemeester + raadslid + wethouder" (some had fewer than 5 responses alone).',
      'The weights were computed on the strata as they are, so a weight can still tell apart values shown together.',
    ]);
    expect(protectedCodebook).toContain('**Carried strata:** functie: burgemeester, raadslid, wethouder are shown together');
    // The rest of the row is coded from the real values, as before.
    expect(protectedRows.map((r) => r.bestuurslaag).sort()).toEqual(rows.map((r) => r.bestuurslaag).sort());
  });

  it('are shown as they are only when the analyst asks for it', () => {
    expect(rows.map((r) => r.functie).sort()).toEqual(['burgemeester', 'burgemeester', 'raadslid', 'raadslid', 'wethouder']);
  });
});

describe('codebook', () => {
  it('lists every variable with its text, values, routing in words and base', () => {
    const book = JSON.parse(files.get('codebook-json')!) as Codebook;
    expect(book.responses).toBe(5);
    expect(book.weighting).toMatch(/population table/);
    // Every function in the table has responses: nothing to warn about.
    expect(book.weightingNotes).toEqual([]);
    const q6 = book.variables.find((v) => v.name === 'Q6')!;
    expect(q6.label).toMatch(/inhoud/i);
    expect(q6.asked).toBe('Q2 bevat "Ondersteuning gezocht"');
    expect(q6.values).toContainEqual({ value: -9, label: 'Weet niet', missing: true });
    expect(q6.values).toContainEqual({ value: -1, label: 'niet gevraagd (routing)', missing: true });
    expect(q6.base).toEqual({ asked: 1, answered: 0 });
    expect(book.variables.find((v) => v.name === 'Q1_geen')!.base).toEqual({ asked: 5, answered: 5 });
    expect(files.get('codebook')).toContain('## Q6');
  });
});

describe('topline', () => {
  it('counts per option per function with the base, weet niet outside the base, and a weighted total', () => {
    const lines = parse(files.get('topline')!, { columns: true }) as Record<string, string>[];
    const q15 = lines.filter((l) => l.variable === 'Q15');
    const beetje = q15.find((l) => l['value label'] === 'Ik weet een beetje wat ze doen')!;
    expect(beetje['total n']).toBe('2');
    expect(beetje['total %']).toBe('50.0'); // of the 4 who reached Q15
    // Strata below k = 5 show nothing but their size.
    expect(beetje['burgemeester n']).toBe('');
    expect(q15.find((l) => l.value === 'base')!['burgemeester n']).toBe('<5');
    const weighted = Number(beetje['total weighted %']);
    expect(weighted).toBeGreaterThan(0);
    expect(weighted).not.toBe(50);
    const q6 = lines.filter((l) => l.variable === 'Q6');
    expect(q6.find((l) => l.value === '-9')!['total %']).toBe('');
    expect(q6.find((l) => l.value === 'base')!['total n']).toBe('0');
  });
});

describe('SPSS syntax', () => {
  it('loads in GNU PSPP with variable labels, value labels and missing values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'export-'));
    writeFileSync(join(dir, 'owb-2024-responses.csv'), files.get('csv')!);
    writeFileSync(join(dir, 'owb-2024-responses.sps'), files.get('sps')!);
    writeFileSync(join(dir, 'check.sps'), "INCLUDE FILE='owb-2024-responses.sps'.\nDISPLAY DICTIONARY /VARIABLES=Q6 Q8_prettig Q14_snelheid Q15 weight.\nFREQUENCIES /VARIABLES=Q15 status.\n");
    // Wide enough that no label wraps; then read the tables as words.
    const output = execFileSync('pspp', ['-O', 'box=ascii', '-O', 'width=400', 'check.sps'], { cwd: dir, encoding: 'utf8' }).replace(/[|\s]+/g, ' ');
    expect(output).not.toMatch(/error/i);
    expect(output).toContain('Q6 37 Hoe nuttig vond u de inhoud van de ondersteuning? Nominal');
    // The agreement scale of a grid and a place in a ranking are ordered; a weight is a measurement.
    expect(output).toContain('De ondersteuning was …: … prettig Ordinal Input');
    expect(output).toContain('De snelheid waarmee de ondersteuning geboden kan worden Ordinal Input');
    const levels = files.get('sps')!.split('VARIABLE LEVEL')[1]!.split('\n\n')[0]!;
    expect(levels).not.toMatch(/\bweight\b/);
    expect(output).toContain('Hoe nuttig vond u de inhoud van de ondersteuning? -9[a] Weet niet');
    expect(output).toContain('Weet niet');
    expect(output).toContain('-1[a] niet gevraagd (routing)');
    expect(output).toContain('LOWEST THRU -1');
    // The frequencies count the coded answers of the 5 cases.
    expect(output).toContain('Ik weet een beetje wat ze doen 2 40.0% 50.0%');
  });
});

describe('weighting notes', () => {
  it('renormalises over the other cells when a cell of the population table has no responses, and says so in the codebook, the SPSS syntax and on the command line', async () => {
    const closed = (await getSurvey(server.app.db, 'owb-2024'))!;
    const definition = JSON.parse(closed.definition);
    definition.weighting.population.push({ cell: { functie: 'gedeputeerde' }, size: 62 });
    const survey = { ...closed, definition: JSON.stringify(definition) };
    const q = await server.app.questionnaires.byHash(survey.questionnaire_hash);
    const csv = await exportSurvey(server.app.db, survey, q, 'csv');
    const weights = (parse(csv.body, { columns: true }) as Record<string, string>[]).map((r) => Number(r.weight));
    const total = weights.reduce((s, w) => s + w, 0);
    const note = `No responses in cell "gedeputeerde": 0.6% of the target is not represented. The weights are computed over the other cells (they add up to 5, the number of weighted responses), so weighted results describe those cells only. Combine such a cell with a similar one in the definition's weighting.cells.`;
    expect(total).toBeCloseTo(5, 4);
    expect(csv.notes).toEqual([note]);
    const book = JSON.parse((await exportSurvey(server.app.db, survey, q, 'codebook-json')).body) as Codebook;
    expect(book.weightingNotes).toEqual([note]);
    expect((await exportSurvey(server.app.db, survey, q, 'codebook')).body).toContain('**Note:** No responses in cell "gedeputeerde"');
    expect((await exportSurvey(server.app.db, survey, q, 'sps')).body).toContain(`* Note on the weights: ${note.replace(/\.$/, '')}.\n`);
  });
});
