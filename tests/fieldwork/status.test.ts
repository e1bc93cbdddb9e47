// survey status reproduces the OWB 2024 response table (seed-owb.md §1.3-1.4) from a generated
// ledger with the report's counts: 10,674 invited, 1,558 responses, population sizes as printed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/connection.ts';
import { percent } from '../../server/domain/metrics/index.ts';
import type { StatusRow } from '../../server/usecases/status.ts';
import { cli } from '../helpers/cli.ts';

const definition = new URL('../../questionnaires/surveys/owb-2024.json', import.meta.url).pathname;
const OWB: [string, number, number][] = [
  // functie, invited (l.753-758), responses (l.741)
  ['burgemeester', 338, 113],
  ['wethouder', 1311, 241],
  ['raadslid', 8384, 1081],
  ['cdk', 12, 4],
  ['gedeputeerde', 62, 5],
  ['statenlid', 567, 114],
];
let env: NodeJS.ProcessEnv;
const survey = cli(() => env);

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'status-'));
  env = { DATABASE_PATH: join(dir, 'db.sqlite'), SERVER_SECRET: 'status-test-secret-of-sufficient-length-0123' };
  const frame = join(dir, 'frame.csv');
  writeFileSync(frame, ['email;functie', ...OWB.flatMap(([f, invited]) => Array.from({ length: invited }, (_, i) => `${f}.${i}@overheid.example;${f}`))].join('\n'));
  expect((await survey('import', definition, frame)).code).toBe(0);
  const db = await openDatabase(env.DATABASE_PATH!);
  for (const [functie, , responses] of OWB) {
    // The responses: everyone counted; all but one per stratum complete, that one partial.
    await sql`update invitees set state = 'submitted', submitted_on = '2024-06-20', counted_on = '2024-06-20', opened_on = '2024-06-20', started_on = '2024-06-20'
      where id in (select id from invitees where json_extract(sample, '$.functie') = ${functie} order by id limit ${responses - 1})`.execute(db);
    await sql`update invitees set state = 'started', counted_on = '2024-06-21', opened_on = '2024-06-21', started_on = '2024-06-21'
      where id = (select id from invitees where json_extract(sample, '$.functie') = ${functie} and state = 'invited' order by id limit 1)`.execute(db);
  }
  // Some non-response of every kind in the raadsleden.
  await sql`update invitees set state = 'refused', refused_on = '2024-06-05' where id in (select id from invitees where json_extract(sample, '$.functie') = 'raadslid' and state = 'invited' order by id limit 40)`.execute(db);
  await sql`update invitees set state = 'bounced', bounced_on = '2024-06-03' where id in (select id from invitees where json_extract(sample, '$.functie') = 'raadslid' and state = 'invited' order by id limit 30)`.execute(db);
  await sql`update invitees set state = 'not_eligible', not_eligible_on = '2024-06-10' where id in (select id from invitees where json_extract(sample, '$.functie') = 'raadslid' and state = 'invited' order by id limit 20)`.execute(db);
  await sql`update invitees set opened_on = '2024-06-04' where id in (select id from invitees where json_extract(sample, '$.functie') = 'raadslid' and state = 'invited' order by id limit 50)`.execute(db);
  await db.destroy();
}, 60_000);

async function rows(): Promise<StatusRow[]> {
  const { code, out } = await survey('status', 'owb-2024', '--format', 'json');
  expect(code).toBe(0);
  return JSON.parse(out.join('\n')) as StatusRow[];
}

describe('survey status', () => {
  it('reproduces the OWB 2024 response %: 33, 18, 13, 33, 8, 20 of the population', async () => {
    const byStratum = Object.fromEntries((await rows()).filter((r) => r.kind === 'stratum').map((r) => [r.stratum.functie, r]));
    expect(OWB.map(([f]) => byStratum[f]!.responses)).toEqual([113, 241, 1081, 4, 5, 114]);
    expect(OWB.map(([f]) => byStratum[f]!.population)).toEqual([342, 1311, 8384, 12, 62, 570]);
    expect(OWB.map(([f]) => percent(byStratum[f]!.responseOfPopulation))).toEqual([33, 18, 13, 33, 8, 20]);
    expect(OWB.map(([f]) => percent(byStratum[f]!.responseOfInvited))).toEqual([33, 18, 13, 33, 8, 20]);
  });

  it('reproduces the margins of error 7.6, 5.7, 2.8, 41.8, 42.4, 8.2 and the reliability flags', async () => {
    const byStratum = Object.fromEntries((await rows()).filter((r) => r.kind === 'stratum').map((r) => [r.stratum.functie, r]));
    expect(OWB.map(([f]) => percent(byStratum[f]!.marginOfError, 1))).toEqual([7.6, 5.7, 2.8, 41.8, 42.4, 8.2]);
    expect(OWB.map(([f]) => byStratum[f]!.flag ?? null)).toEqual([null, null, null, 'onvoldoende betrouwbaar', 'onvoldoende betrouwbaar', null]);
  });

  it('counts dispositions per stratum and totals them from summed counts', async () => {
    const all = await rows();
    const raadslid = all.find((r) => r.stratum.functie === 'raadslid')!;
    expect([raadslid.complete, raadslid.partial, raadslid.refused, raadslid.bounced, raadslid.notEligible, raadslid.opened]).toEqual([1080, 1, 40, 30, 20, 1081 + 50]);
    // RR1 = I / (I + P + R + NC + O + UH + UO): the not eligible are out of the base.
    const base = 8384 - 20;
    expect(raadslid.rates.RR1).toBeCloseTo(1080 / base, 12);
    expect(raadslid.rates.RR2).toBeCloseTo(1081 / base, 12);
    expect(raadslid.rates.REF1).toBeCloseTo((40 + 50) / base, 12);
    const total = all.find((r) => r.kind === 'total')!;
    expect([total.invited, total.responses, total.population]).toEqual([10674, 1558, 10681]);
    expect(percent(total.responseOfPopulation, 1)).toBe(14.6);
  });

  it('prints the table a fieldwork manager reads, and CSV', async () => {
    const table = await survey('status', 'owb-2024');
    expect(table.out[0]).toBe('owb-2024: response per functie');
    expect(table.out.find((l) => l.startsWith('burgemeester'))).toMatch(/^burgemeester\s+338\s.*\s33%\s+33%\s.*\s7\.6\s+-$/);
    expect(table.out.find((l) => l.startsWith('cdk'))).toMatch(/41\.8\s+onvoldoende betrouwbaar$/);
    const csv = await survey('status', 'owb-2024', '--format', 'csv');
    expect(csv.out[0]).toBe('stratum,invited,bounced,opened,started,partial,complete,refused,not_eligible,population,response_invited,response_population,RR1,RR2,COOP1,REF1,CON1,moe95,flag');
    expect(csv.out.find((l) => l.startsWith('gedeputeerde,'))).toMatch(/,0\.0806,.*,0\.4237,onvoldoende betrouwbaar$/);
    expect((await survey('status', 'owb-2024', '--format', 'xml')).code).toBe(2);
  });

  it('keeps the table after fieldwork, from the counts kept at purge', async () => {
    const before = await rows();
    await survey('close', 'owb-2024');
    expect((await survey('purge', 'owb-2024', '--yes')).code).toBe(0);
    const after = await rows();
    expect(after.map((r) => [r.stratum, r.invited, r.responses, r.marginOfError])).toEqual(before.map((r) => [r.stratum, r.invited, r.responses, r.marginOfError]));
  });
});
