// The telephone non-response survey (seed-monitor-2020 F7): those who would not take part are
// asked the Monitor 2020's one question on the phone; the interviewer records the answer with
// survey nonresponse, and it is kept apart from the ledger and linked to nobody.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { cli, withDatabase } from '../helpers/cli.ts';
import type { Db } from '../../server/db/connection.ts';
import { findInviteeByEmail } from '../../server/db/invitees.ts';
import { parseNonResponseAnswers, summarizeNonResponse, type NonResponseQuestions } from '../../server/domain/survey/nonresponse.ts';

// Seed-monitor-2020 §1.3, L2142-L2146.
const NR1 = {
  id: 'NR1',
  text: 'Heeft u zelf of uw familie/vrienden de afgelopen twaalf maanden uit hoofde van uw functie te maken gehad met bedreiging, intimidatie, verbale of fysieke agressie door burgers?',
  options: [
    { code: 'ja_een', label: 'Ja, één keer' },
    { code: 'ja_meerdere', label: 'Ja, meerdere keren' },
    { code: 'nee', label: 'Nee, geen enkele keer' },
  ],
};
const NR2 = { id: 'NR2', text: 'Waarom doet u niet mee?', options: [{ code: 'tijd', label: 'Geen tijd' }, { code: 'anders', label: 'Anders' }] };

describe('non-response answers as an interviewer types them', () => {
  const questions: NonResponseQuestions = [NR1, NR2];

  it('reads QUESTION=option for every question', () => {
    expect(parseNonResponseAnswers(questions, ['NR1=ja_meerdere', ' NR2 = tijd '])).toEqual({ ok: true, answers: { NR1: 'ja_meerdere', NR2: 'tijd' } });
  });

  it('names every problem at once, with what would have been right', () => {
    expect(parseNonResponseAnswers(questions, ['NR1=ja', 'NR3=nee', 'nee'])).toEqual({
      ok: false,
      problems: [
        '"NR1=ja": NR1 has no option "ja" (ja_een: Ja, één keer; ja_meerdere: Ja, meerdere keren; nee: Nee, geen enkele keer)',
        '"NR3=nee": there is no question NR3 (NR1, NR2)',
        '"nee": write QUESTION=option, e.g. NR1=ja_een',
        'NR2 is not answered: Waarom doet u niet mee?',
      ],
    });
    expect(parseNonResponseAnswers(questions, ['NR1=nee', 'NR1=ja_een', 'NR2=tijd'])).toEqual({ ok: false, problems: ['"NR1=ja_een": NR1 is answered twice'] });
  });

  it('counts each option as a number and a share of the interviews', () => {
    const summary = summarizeNonResponse([NR1], [{ NR1: 'nee' }, { NR1: 'ja_een' }, { NR1: 'nee' }, { NR1: 'nee' }]);
    expect(summary.n).toBe(4);
    expect(summary.questions[0]!.options.map((o) => [o.code, o.n, o.share])).toEqual([
      ['ja_een', 1, 0.25],
      ['ja_meerdere', 0, 0],
      ['nee', 3, 0.75],
    ]);
    expect(summarizeNonResponse([NR1], []).questions[0]!.options[0]).toEqual({ code: 'ja_een', label: 'Ja, één keer', n: 0, share: undefined });
  });
});

describe('survey nonresponse', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let definitionFile: string;
  let definition: Record<string, unknown>;
  const survey = cli(() => env);

  const db = <T>(fn: (d: Db) => Promise<T>): Promise<T> => withDatabase(env.DATABASE_PATH!, fn);

  function writeDefinition(changes: Record<string, unknown>): void {
    definition = { ...definition, ...changes };
    writeFileSync(definitionFile, JSON.stringify(definition));
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nonresponse-'));
    env = { DATABASE_PATH: join(dir, 'db.sqlite'), SERVER_SECRET: 'nonresponse-test-secret-of-sufficient-length', MAIL_DIR: join(dir, 'mail') };
    // Open now (the CLI runs on the real clock): calls are recorded during fieldwork.
    const yesterday = new Date(Date.now() - 86_400_000).toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 10);
    const base = JSON.parse(readFileSync(new URL('../../questionnaires/surveys/owb-2024.json', import.meta.url), 'utf8'));
    definitionFile = join(dir, 'nr.json');
    definition = {
      ...base,
      id: 'nr',
      questionnaire: new URL('../../questionnaires/owb-2024.json', import.meta.url).pathname,
      calendar: { opens: `${yesterday}T00:00`, closes: 'P36D', sendWindow: { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '00:00', until: '24:00' }, mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }] },
      nonResponse: { questions: [NR1] },
    };
    writeDefinition({});
    const frame = join(dir, 'frame.csv');
    writeFileSync(frame, ['email;name;phone;functie', 'b1@x.nl;B. Een;06 1;burgemeester', 'r1@x.nl;R. Een;06 2;raadslid', 'r2@x.nl;R. Twee;06 3;raadslid', 'klaar@x.nl;K. Klaar;06 4;raadslid', 'open@x.nl;O. Open;06 5;raadslid'].join('\n'));
    expect((await survey('import', definitionFile, frame)).code).toBe(0);
    await db((d) => d.updateTable('invitees').set({ state: 'submitted', submitted_on: '2026-11-20' }).where('email', '=', 'klaar@x.nl').execute());
  });

  it('after a refused call, points to the questions, lists them, and records the answers once', async () => {
    const call = await survey('call', 'nr', 'r1@x.nl', 'refused');
    expect(call.out.at(-1)).toBe('ask the non-response questions, and record the answers: survey nonresponse nr r1@x.nl (without answers it lists the questions)');

    const listed = await survey('nonresponse', 'nr', 'r1@x.nl');
    expect(listed.code).toBe(0);
    expect(listed.out).toEqual([`NR1: ${NR1.text}`, '  NR1=ja_een  Ja, één keer', '  NR1=ja_meerdere  Ja, meerdere keren', '  NR1=nee  Nee, geen enkele keer']);

    const recorded = await survey('nonresponse', 'nr', 'r1@x.nl', 'NR1=ja_meerdere');
    expect(recorded).toMatchObject({ code: 0, out: ['r1@x.nl: non-response interview recorded (NR1=ja_meerdere), apart from their contact data and linked to nobody'] });

    const again = await survey('nonresponse', 'nr', 'r1@x.nl', 'NR1=nee');
    expect(again.code).toBe(1);
    expect(again.err[0]).toMatch(/^r1@x.nl was already interviewed for the non-response survey on \d{4}-\d{2}-\d{2}$/);
    expect(await db((d) => d.selectFrom('nonresponse_answers').select('answers').execute())).toEqual([{ answers: '{"NR1":"ja_meerdere"}' }]);
  });

  it('keeps the answers apart from the ledger: a random id, the carried strata, no invitee, no date; the audit log holds no answer', async () => {
    await survey('mark', 'nr', 'r1@x.nl', 'refused');
    await survey('mark', 'nr', 'b1@x.nl', 'refused');
    expect((await survey('nonresponse', 'nr', 'r1@x.nl', 'NR1=nee')).code).toBe(0);
    expect((await survey('nonresponse', 'nr', 'b1@x.nl', 'NR1=ja_een')).code).toBe(0);
    await db(async (d) => {
      const rows = await d.selectFrom('nonresponse_answers').selectAll().execute();
      expect(rows.map((r) => Object.keys(r).sort())).toEqual([
        ['answers', 'id', 'strata', 'survey_id'],
        ['answers', 'id', 'strata', 'survey_id'],
      ]);
      for (const r of rows) expect(r.id).toMatch(/^[0-9a-f]{32}$/);
      // Stored in key order (WITHOUT ROWID): nothing tells which interview came first.
      const { sql: ddl } = (await d.selectFrom('sqlite_master' as never).select('sql' as never).where('name' as never, '=', 'nonresponse_answers' as never).executeTakeFirstOrThrow()) as { sql: string };
      expect(ddl.toLowerCase()).toContain('without rowid');
      expect(rows.map((r) => r.strata).sort()).toEqual(['{"functie":"burgemeester"}', '{"functie":"raadslid"}']);
      const r1 = (await findInviteeByEmail(d, 'nr', 'r1@x.nl'))!;
      expect(r1.interviewed_on).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const logged = await d.selectFrom('audit_log').select('detail').where('action', '=', 'non-response interview recorded').execute();
      expect(logged).toEqual([{ detail: `invitee ${r1.id}` }, { detail: expect.stringMatching(/^invitee \d+$/) }]);
    });
  });

  it('is only for who does not take part, and records nothing when an answer is wrong', async () => {
    const completed = await survey('nonresponse', 'nr', 'klaar@x.nl', 'NR1=nee');
    expect(completed).toMatchObject({ code: 1, err: ['klaar@x.nl has completed the questionnaire: the non-response questions are for those who do not take part'] });
    const notRefused = await survey('nonresponse', 'nr', 'open@x.nl', 'NR1=nee');
    expect(notRefused.err).toEqual(['open@x.nl is invited: the non-response questions are for those who do not take part; if they said so, record it first (survey call nr open@x.nl refused)']);

    await survey('mark', 'nr', 'r2@x.nl', 'refused');
    const wrong = await survey('nonresponse', 'nr', 'r2@x.nl', 'NR1=misschien');
    expect(wrong.code).toBe(1);
    expect(wrong.err.join('\n')).toBe('nothing recorded:\n  "NR1=misschien": NR1 has no option "misschien" (ja_een: Ja, één keer; ja_meerdere: Ja, meerdere keren; nee: Nee, geen enkele keer)');
    await db(async (d) => {
      expect(await d.selectFrom('nonresponse_answers').selectAll().execute()).toEqual([]);
      expect((await findInviteeByEmail(d, 'nr', 'r2@x.nl'))!.interviewed_on).toBeNull();
    });
    // Then right, it is taken.
    expect((await survey('nonresponse', 'nr', 'r2@x.nl', 'NR1=nee')).code).toBe(0);
  });

  it('says so for a survey without non-response questions', async () => {
    writeDefinition({ nonResponse: undefined });
    expect((await survey('create', definitionFile)).code).toBe(0);
    await survey('mark', 'nr', 'r1@x.nl', 'refused');
    const run = await survey('nonresponse', 'nr', 'r1@x.nl', 'NR1=nee');
    expect(run).toMatchObject({ code: 1, err: ['survey nr has no non-response questions: add nonResponse to its definition (docs/fieldwork.md) and run survey create again'] });
    expect((await survey('call', 'nr', 'r2@x.nl', 'refused')).out.join('\n')).not.toContain('nonresponse');
  });

  it('counts the answers in survey status and exports them in random order, also after purge', async () => {
    for (const [email, answer] of [['r1@x.nl', 'nee'], ['r2@x.nl', 'ja_meerdere'], ['b1@x.nl', 'nee']] as const) {
      await survey('mark', 'nr', email, 'refused');
      expect((await survey('nonresponse', 'nr', email, `NR1=${answer}`)).code).toBe(0);
    }
    const status = await survey('status', 'nr');
    const from = status.out.indexOf('\ntelephone non-response survey: 3 interviews');
    expect(from).toBeGreaterThan(0);
    expect(status.out.slice(from + 1)).toEqual([
      `NR1: ${NR1.text}`,
      'option                            n  share',
      'ja_een (Ja, één keer)             0     0%',
      'ja_meerdere (Ja, meerdere keren)  1    33%',
      'nee (Nee, geen enkele keer)       2    67%',
    ]);

    const out = join(dir, 'export');
    const exported = await survey('export', 'nr', '--format', 'all', '--out', out);
    expect(exported.code).toBe(0);
    expect(exported.out).toContain(`${join(out, 'nr-nonresponse.csv')}: telephone non-response interviews, one row each, in random order, 3 responses`);
    const lines = readFileSync(join(out, 'nr-nonresponse.csv'), 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('functie,NR1');
    expect(lines.slice(1).sort()).toEqual(['burgemeester,nee', 'raadslid,ja_meerdere', 'raadslid,nee']);

    await survey('close', 'nr');
    expect((await survey('purge', 'nr', '--yes')).code).toBe(0);
    const after = await survey('export', 'nr', '--format', 'nonresponse');
    expect(after.out.join('\n').split('\n').slice(1).sort()).toEqual(['burgemeester,nee', 'raadslid,ja_meerdere', 'raadslid,nee']);
  });

  it('leaves the non-response file out of the exports of a survey without the questions', async () => {
    writeDefinition({ nonResponse: undefined });
    expect((await survey('create', definitionFile)).code).toBe(0);
    const out = join(dir, 'export');
    expect((await survey('export', 'nr', '--format', 'all', '--out', out)).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['nr-codebook.json', 'nr-codebook.md', 'nr-responses.csv', 'nr-responses.sps', 'nr-topline.csv']);
    expect((await survey('export', 'nr', '--format', 'nonresponse')).err).toEqual([expect.stringContaining('survey nr has no non-response questions')]);
  });

  it('keeps every question and option that was answered when the definition changes', async () => {
    await survey('mark', 'nr', 'r1@x.nl', 'refused');
    expect((await survey('nonresponse', 'nr', 'r1@x.nl', 'NR1=ja_een')).code).toBe(0);

    writeDefinition({ nonResponse: { questions: [{ ...NR1, options: NR1.options.filter((o) => o.code !== 'ja_een') }] } });
    const dropped = await survey('create', definitionFile);
    expect(dropped.code).toBe(1);
    expect(dropped.err).toEqual(['survey nr: the non-response interviews recorded so far (1) answered NR1=ja_een, so that option stays in nonResponse. Texts and labels may change; questions and options may be added.']);
    writeDefinition({ nonResponse: { questions: [NR2] } });
    expect((await survey('create', definitionFile)).err[0]).toContain('(1) answered NR1, so the question stays in nonResponse');

    // A new label and a second question are fine.
    writeDefinition({ nonResponse: { questions: [{ ...NR1, options: [{ code: 'ja_een', label: 'Ja, 1 keer' }, ...NR1.options.slice(1)] }, NR2] } });
    expect((await survey('create', definitionFile)).code).toBe(0);
  });

  it('reports a question or option twice in the definition with its JSON path', async () => {
    writeDefinition({ nonResponse: { questions: [NR1, { ...NR2, id: 'NR1', options: [NR2.options[0], NR2.options[0]] }] } });
    const run = await survey('create', definitionFile);
    expect(run.code).toBe(1);
    expect(run.err.join('\n')).toContain('nonResponse.questions[1].id');
    expect(run.err.join('\n')).toContain('"NR1" is already the id of an earlier question');
    expect(run.err.join('\n')).toContain('nonResponse.questions[1].options[1].code');
  });
});

describe('the Monitor 2020 survey definition', () => {
  it('plans its calendar and asks its non-response question (seed-monitor-2020 §1.2-1.3)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'monitor-2020-'));
    const survey = cli(() => ({ DATABASE_PATH: join(dir, 'db.sqlite'), SERVER_SECRET: 'monitor-2020-test-secret-of-sufficient-length', MAIL_DIR: join(dir, 'mail') }));
    const file = new URL('../../questionnaires/surveys/monitor-2020-pa.json', import.meta.url).pathname;
    const frame = join(dir, 'frame.csv');
    writeFileSync(frame, ['email;bestuurslaag;functie', 'b@x.nl;gemeente;burgemeester', 's@x.nl;provincie;statenlid'].join('\n'));
    const imported = await survey('import', file, frame);
    expect(imported.code, imported.err.join('\n')).toBe(0);
    const schedule = (await survey('schedule', 'monitor-2020-pa')).out;
    // Medio februari; reminders after a week and a half and after three weeks; closed 31 March.
    expect(schedule.find((l) => l.startsWith('invitation'))).toMatch(/ma 17 feb 2020, 09:00/);
    expect(schedule.find((l) => l.startsWith('reminder1'))).toMatch(/do 27 feb 2020, 09:00/);
    expect(schedule.find((l) => l.startsWith('reminder2'))).toMatch(/ma 9 mrt 2020, 09:00/);
    const listed = await survey('nonresponse', 'monitor-2020-pa', 'b@x.nl');
    expect(listed.out).toEqual([expect.stringMatching(/^NR1: Heeft u zelf of uw familie\/vrienden/), '  NR1=ja_een  Ja, één keer', '  NR1=ja_meerdere  Ja, meerdere keren', '  NR1=nee  Nee, geen enkele keer']);
  });
});
