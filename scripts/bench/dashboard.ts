// Dashboard benchmark (npm run bench:dashboard). On this machine, in one run, over a ledger of
// 1,000,000 invitees (OWB strata shares, a third responded over 30 days, some bounced, refused,
// opened):
//  1. the baseline: a plain grouped SQLite count of the invitees per stratum;
//  2. the platform: GET /admin/surveys/<id> for a signed-in analyst (the status table, response
//     curve, weights and mailings, rendered as HTML).
// Reported: the median of several runs of each, and their ratio (target: under 3).

import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { buildApp } from '../../server/app.ts';
import { insertSession, upsertAccount } from '../../server/db/admin-accounts.ts';
import { checkDefinition, saveSurvey } from '../../server/usecases/surveys.ts';

const INVITEES = Number(process.env.BENCH_INVITEES ?? 1_000_000);
const RUNS = 7;
const questionnairesDir = fileURLToPath(new URL('../../questionnaires/', import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-dashboard-'));
  const now = new Date('2024-06-20T12:00:00+02:00');
  const app = await buildApp({
    databasePath: join(dir, 'db.sqlite'),
    secret: 'bench-secret-that-is-long-enough-for-hkdf-0123456789',
    publicUrl: 'http://localhost',
    secureCookies: false,
    questionnairesDir,
    codeAttemptsPerMinute: 10,
    logger: false,
    now: () => now,
  });
  const db = app.db;

  const definition = {
    id: 'bench',
    title: 'Benchmark',
    questionnaire: 'owb-2024.json',
    sample: { strata: ['functie'], carry: ['functie'] },
    weighting: { cells: [{ by: ['functie'] }], target: 'invited' },
    calendar: {
      opens: '2024-06-03T09:00',
      closes: '2024-07-09',
      mailings: [
        { id: 'invitation', kind: 'invitation', at: '2024-06-03T09:00' },
        { id: 'reminder1', kind: 'reminder', at: '2024-06-11' },
        { id: 'reminder2', kind: 'reminder', at: '2024-07-02' },
      ],
    },
    mail: { from: 'Onderzoek <onderzoek@bureau.test>', organisation: 'Bureau' },
  };
  const checked = checkDefinition(definition, questionnairesDir);
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  await saveSurvey(db, checked.survey, now);

  // A million invitees in one statement: strata in the OWB shares, dispositions spread out.
  const loadStarted = performance.now();
  await sql`
    with recursive n(i) as (select 1 union all select i + 1 from n where i < ${INVITEES})
    insert into invitees (survey_id, email, sample, code_lookup, token_lookup, code_sealed, token_sealed, state,
                          opened_on, started_on, submitted_on, counted_on, bounced_on, refused_on, created_on)
    select 'bench', 'p' || i || '@x.example',
      json_object('functie', case when i % 1000 < 32 then 'burgemeester' when i % 1000 < 155 then 'wethouder' when i % 1000 < 940 then 'raadslid'
                                   when i % 1000 < 941 then 'cdk' when i % 1000 < 947 then 'gedeputeerde' else 'statenlid' end),
      'c' || i, 't' || i, 'x', 'x',
      case when i % 3 = 0 then 'submitted' when i % 50 = 1 then 'bounced' when i % 40 = 2 then 'refused' when i % 7 = 1 then 'started' else 'invited' end,
      case when i % 3 = 0 or i % 7 = 1 then date('2024-06-03', '+' || (i % 17) || ' days') end,
      case when i % 3 = 0 or i % 7 = 1 then date('2024-06-03', '+' || (i % 17) || ' days') end,
      case when i % 3 = 0 then date('2024-06-03', '+' || (i % 17) || ' days') end,
      case when i % 3 = 0 or i % 21 = 1 then date('2024-06-03', '+' || (i % 17) || ' days') end,
      case when i % 50 = 1 and i % 3 <> 0 then '2024-06-03' end,
      case when i % 40 = 2 and i % 3 <> 0 and i % 50 <> 1 then '2024-06-05' end,
      '2024-06-01'
    from n`.execute(db);
  await sql`analyze`.execute(db);
  console.log(`ledger: ${INVITEES.toLocaleString('en')} invitees written in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);

  await upsertAccount(db, 'analist@bureau.test', 'scrypt$1$1$1$x$x', 'analyst', now);
  const token = 'bench-session-token';
  await insertSession(db, createHash('sha256').update(token).digest('hex'), 'analist@bureau.test', new Date(now.getTime() + 3600_000));

  const baseline = () => sql`select json_extract(sample, '$.functie') as functie, count(*) as n from invitees where survey_id = 'bench' group by functie`.execute(db);
  const dashboard = async () => {
    const response = await app.inject({ method: 'GET', url: '/admin/surveys/bench', headers: { cookie: `admin_session=${token}` } });
    if (response.statusCode !== 200) throw new Error(`dashboard answered ${response.statusCode}`);
  };
  // Warm up both (page cache, compiled templates), then alternate so neither gets a warmer cache.
  await baseline();
  await dashboard();
  const base: number[] = [];
  const page: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    base.push(await time(baseline));
    page.push(await time(dashboard));
  }
  const b = median(base);
  const p = median(page);
  console.log(`plain grouped count over the invitees (baseline): ${b.toFixed(0)} ms (median of ${RUNS})`);
  console.log(`dashboard page, rendered:                         ${p.toFixed(0)} ms (median of ${RUNS})`);
  console.log(`ratio dashboard / baseline: ${(p / b).toFixed(2)} (target < 3)`);
  await app.close();
}

await main();
