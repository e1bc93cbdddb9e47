import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { openDatabase } from '../../server/db/connection.ts';
import { getSurvey } from '../../server/db/surveys.ts';
import { formatCode } from '../../server/domain/codes.ts';
import { createSecrets } from '../../server/security/secrets.ts';
import { importFrame } from '../../server/usecases/import-frame.ts';
import { secretsMadeOnWorker } from '../../server/usecases/invitation-secrets.ts';
import { findInviteeByToken, findInviteeByTypedCode } from '../../server/usecases/invitations.ts';
import { QuestionnaireRegistry } from '../../server/usecases/questionnaire-registry.ts';

const definition = new URL('../../questionnaires/surveys/owb-2024.json', import.meta.url).pathname;
let dir: string;
let env: NodeJS.ProcessEnv;

const survey = cli(() => env);

function frame(name: string, content: string | Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

async function invitees() {
  const db = await openDatabase(env.DATABASE_PATH!);
  const rows = await db.selectFrom('invitees').select(['email', 'name', 'salutation', 'organisation', 'phone', 'sample', 'state']).orderBy('id').execute();
  await db.destroy();
  return rows;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'import-'));
  env = { DATABASE_PATH: join(dir, 'db.sqlite'), SERVER_SECRET: 'import-test-secret-of-sufficient-length-01', MAIL_DIR: join(dir, 'mail') };
  expect((await survey('create', definition)).code).toBe(0);
});

describe('survey import', () => {
  it('imports a frame with Dutch Excel conventions: semicolons, BOM, any case in headers and addresses', async () => {
    const file = frame('frame.csv', '\uFEFFEmail;Naam;functie\r\nJ.Jansen@Gemeente-A.nl;;burgemeester\r\np@b.nl;;raadslid\r\n'.replace('Naam;', 'name;'));
    const { code, out } = await survey('import', 'owb-2024', file);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/2 rows; 2 new invitees imported, 0 already in survey owb-2024/);
    expect((await invitees()).map((i) => [i.email, JSON.parse(i.sample).functie, i.state])).toEqual([
      ['j.jansen@gemeente-a.nl', 'burgemeester', 'invited'],
      ['p@b.nl', 'raadslid', 'invited'],
    ]);
  });

  it('reads Dutch column names, and stratum values written as their label or in another case, storing the code', async () => {
    const file = frame('frame.csv', 'E-mailadres;Naam;Aanhef;Organisatie;Telefoon;Functie\na@b.nl;Jansen;Geachte heer Jansen;Gemeente A;0612345678;Burgemeester\nc@d.nl;De Vries;;Provincie B;;Commissaris van de Koning\ne@f.nl;Smit;;Gemeente C;;RAADSLID\n');
    const { code, err } = await survey('import', 'owb-2024', file);
    expect(code, err.join('\n')).toBe(0);
    expect((await invitees()).map((i) => [i.email, i.name, i.salutation, i.organisation, i.phone, JSON.parse(i.sample).functie])).toEqual([
      ['a@b.nl', 'Jansen', 'Geachte heer Jansen', 'Gemeente A', '0612345678', 'burgemeester'],
      ['c@d.nl', 'De Vries', null, 'Provincie B', null, 'cdk'],
      ['e@f.nl', 'Smit', null, 'Gemeente C', null, 'raadslid'],
    ]);
  });

  it('also reads commas, quoted fields and optional contact columns', async () => {
    const file = frame('frame.csv', 'email,name,salutation,organisation,phone,functie\n"a@b.nl","Jansen, J.","Geachte heer Jansen","Gemeente ""A""",0612345678,wethouder\n');
    expect((await survey('import', 'owb-2024', file)).code).toBe(0);
    expect((await invitees())[0]!.name).toBe('Jansen, J.');
  });

  it('reports every bad row with its line and reason, and imports nothing', async () => {
    const file = frame(
      'bad.csv',
      [
        'email;name;functie;leeftijd',
        'goed@gemeente.nl;Goed;burgemeester;50',
        'not-an-email;X;burgemeester;3',
        ';Y;raadslid;4',
        'dubbel@x.nl;Z;wethoudr;5',
        'dubbel@x.nl;Z;;5',
        'kop@x.nl;"Jan',
        'Bcc: x";raadslid;6',
        'te-veel@x.nl;A;raadslid;7;8',
        'te-weinig@x.nl;A',
        'slot@x.nl;A;raadslid;9;',
      ].join('\n'),
    );
    const { code, err } = await survey('import', 'owb-2024', file);
    expect(code).toBe(1);
    expect(err).toEqual([
      `${file}:1: unknown column "leeftijd"; the columns are email, name, salutation, organisation, phone, functie`,
      `${file}:3: invalid email address "not-an-email"`,
      `${file}:4: the email address is missing`,
      `${file}:5: functie "wethoudr" is not one of burgemeester, wethouder, raadslid, cdk, gedeputeerde, statenlid (or their labels)`,
      `${file}:6: duplicate email address dubbel@x.nl (also on line 5)`,
      `${file}:6: the stratum "functie" is missing`,
      `${file}:7: name contains a line break or control character`,
      `${file}:9: 5 fields where the header has 4`,
      `${file}:10: 2 fields where the header has 4`,
      '9 problems: nothing was imported',
    ]);
    expect(await invitees()).toEqual([]);
  });

  it('names the line where a row begins, also after cells of several lines ended by CRLF', async () => {
    const file = frame('crlf.csv', '\uFEFFemail;organisation;functie\r\na@x.nl;"Gemeente\r\nA";raadslid\r\n\r\nb@x.nl;"B\r\n\r\nC";raadslid\r\nfout;C;raadslid\r\n');
    const { err } = await survey('import', 'owb-2024', file);
    expect(err).toEqual([
      `${file}:2: organisation contains a line break or control character`,
      `${file}:5: organisation contains a line break or control character`,
      `${file}:8: invalid email address "fout"`,
      '3 problems: nothing was imported',
    ]);
  });

  it('refuses a file that is not UTF-8, naming every line that is not', async () => {
    // Windows-1252: é (0xe9) and ë (0xeb) on two lines.
    const file = frame('latin1.csv', Buffer.concat([Buffer.from('email;functie\na@b.nl;raadslid\nj'), Buffer.from([0xe9]), Buffer.from('@x.nl;raadslid\nc@d.nl;raadslid\nno'), Buffer.from([0xeb, 0xeb]), Buffer.from('l@x.nl;raadslid\n')]));
    const { code, err } = await survey('import', 'owb-2024', file);
    expect(code).toBe(1);
    expect(err.slice(0, 2)).toEqual([3, 5].map((line) => `${file}:${line}: this line is not UTF-8 (the file is in another encoding, such as Windows-1252: in Excel, save as "CSV UTF-8")`));
    expect(await invitees()).toEqual([]);
  });

  it('refuses addresses that are not valid or hold invisible characters, and one mailbox in two spellings', async () => {
    const invalid = ['a..b@x.nl', '.a@x.nl', 'a.@x.nl', 'a@-x.nl', 'a@x-.nl', 'a@x..nl', 'a\u200b@x.nl', 'ab\u202e@x.nl', 'a@x.n1', 'a@x_y.nl'];
    const rows = [
      'email;name;functie',
      ...invalid.map((address) => `${address};;raadslid`),
      'wim@bühl.de;;raadslid',
      'WIM@xn--bhl-hoa.de;;raadslid',
      'e\u0301lodie@x.fr;;raadslid',
      'élodie@x.fr;;raadslid',
      'naam@x.nl;Jan\u202eNaj;raadslid',
    ];
    const { code, err } = await survey('import', 'owb-2024', frame('addresses.csv', rows.join('\n')));
    expect(code).toBe(1);
    const file = join(dir, 'addresses.csv');
    expect(err).toEqual([
      ...invalid.map((address, i) => (/[\u200b\u202e]/.test(address) ? `${file}:${i + 2}: the email address "${address}" holds an invisible or right-to-left character` : `${file}:${i + 2}: invalid email address "${address}"`)),
      `${file}:13: duplicate email address wim@xn--bhl-hoa.de (also on line 12, as wim@bühl.de)`,
      `${file}:15: duplicate email address élodie@x.fr (also on line 14, as e\u0301lodie@x.fr)`,
      `${file}:16: name holds an invisible or right-to-left character`,
      '13 problems: nothing was imported',
    ]);
  });

  it('skips rows that are entirely empty, as spreadsheets write below the data, and stores the one spelling of an address', async () => {
    const { code, err, out } = await survey('import', 'owb-2024', frame('empty.csv', 'email;name;functie\nwim@Bühl.de;Wim;raadslid\n;;\n;;\n'));
    expect(code, err.join('\n')).toBe(0);
    expect(out[0]).toMatch(/^.*: 1 row; 1 new invitee imported/);
    expect((await invitees()).map((i) => i.email)).toEqual(['wim@xn--bhl-hoa.de']);
  });

  it('reports a row it cannot read as CSV and every other problem of the file', async () => {
    const rows = ['email;functie', 'fout1;raadslid', 'goed@x.nl;raadslid', 'x"y@x.nl;raadslid', 'fout2;raadslid'];
    const file = frame('quote.csv', rows.join('\n'));
    const { code, err } = await survey('import', 'owb-2024', file);
    expect(code).toBe(1);
    expect(err).toEqual([
      `${file}:2: invalid email address "fout1"`,
      expect.stringMatching(new RegExp(`^${file}:4: this row cannot be read as CSV: `)),
      `${file}:5: invalid email address "fout2"`,
      '3 problems: nothing was imported',
    ]);
  });

  it('refuses a frame without an email column or without the stratum column', async () => {
    const { err } = await survey('import', 'owb-2024', frame('f.csv', 'adres;naam\na@b.nl;x\n'));
    expect(err).toContain(`${join(dir, 'f.csv')}:1: there is no "email" column`);
    expect(err).toContain(`${join(dir, 'f.csv')}:1: the stratum column "functie" is missing`);
  });

  it('adds new invitees on re-import and leaves existing ones (and their codes) untouched', async () => {
    await survey('import', 'owb-2024', frame('a.csv', 'email;functie\na@x.nl;raadslid\n'));
    const db = await openDatabase(env.DATABASE_PATH!);
    const before = await db.selectFrom('invitees').selectAll().executeTakeFirstOrThrow();
    await db.updateTable('invitees').set({ state: 'started' }).execute();
    await db.destroy();
    const { out } = await survey('import', 'owb-2024', frame('b.csv', 'email;functie\nA@x.nl;wethouder\nb@x.nl;statenlid\n'));
    expect(out[0]).toMatch(/2 rows; 1 new invitee imported, 1 already in survey/);
    const rows = await invitees();
    expect(rows.map((r) => [r.email, JSON.parse(r.sample).functie, r.state])).toEqual([
      ['a@x.nl', 'raadslid', 'started'],
      ['b@x.nl', 'statenlid', 'invited'],
    ]);
    const db2 = await openDatabase(env.DATABASE_PATH!);
    expect((await db2.selectFrom('invitees').selectAll().executeTakeFirstOrThrow()).code_lookup).toBe(before.code_lookup);
    await db2.destroy();
  });

  it('a large frame gets its codes from a worker thread: all distinct, each finds its invitee, and a bad row still imports nothing', async () => {
    const db = await openDatabase(env.DATABASE_PATH!);
    const secrets = createSecrets(env.SERVER_SECRET!);
    const surveyRow = (await getSurvey(db, 'owb-2024'))!;
    const questionnaire = await new QuestionnaireRegistry(db).byHash(surveyRow.questionnaire_hash);
    const csv = (n: number, bad = false) => new TextEncoder().encode(['email;functie', ...Array.from({ length: n }, (_, i) => `p${i}@x.nl;${bad && i === n - 1 ? 'koning' : 'raadslid'}`)].join('\n'));
    const worker = { secretsOnWorkerFrom: 1 };
    try {
      const refused = await importFrame(db, secrets, surveyRow, questionnaire, csv(5000, true), new Date(), () => {}, worker);
      expect(refused.problems).toHaveLength(1);
      expect(await db.selectFrom('invitees').select('id').execute()).toEqual([]);

      // More than the worker makes at a time and more than it may run ahead.
      const n = 12_500;
      const result = await importFrame(db, secrets, surveyRow, questionnaire, csv(n), new Date(), () => {}, worker);
      expect(result).toMatchObject({ problems: [], added: n });
      const rows = await db.selectFrom('invitees').select(['id', 'email', 'code_lookup', 'token_lookup', 'code_sealed', 'token_sealed']).execute();
      expect(rows).toHaveLength(n);
      expect(new Set(rows.map((r) => r.code_lookup)).size).toBe(n);
      expect(new Set(rows.map((r) => r.token_lookup)).size).toBe(n);
      for (const row of [rows[0]!, rows[4321]!, rows[n - 1]!]) {
        const code = secrets.decrypt('code-storage', row.code_sealed)!;
        const token = secrets.decrypt('code-storage', row.token_sealed)!;
        expect((await findInviteeByTypedCode(db, secrets, formatCode(code.toLowerCase())))?.email).toBe(row.email);
        expect((await findInviteeByToken(db, secrets, token))?.email).toBe(row.email);
      }
    } finally {
      await db.destroy();
    }
  });

  it('the code worker hands out more in one go than it may make ahead, and refuses, instead of waiting forever, more than planned or after closing', async () => {
    const secrets = createSecrets(env.SERVER_SECRET!);
    const source = secretsMadeOnWorker(secrets, 13_000);
    try {
      const first = await source.take(12_000);
      const rest = await source.take(1_000);
      expect(new Set([...first, ...rest].map((s) => s.code)).size).toBe(13_000);
      expect(secrets.decrypt('code-storage', rest[999]!.token_sealed)).toBe(rest[999]!.token);
      await expect(source.take(1)).rejects.toThrow('asked for 13001 invitation codes, 13000 were planned');
    } finally {
      await source.close();
    }
    await expect(source.take(1)).rejects.toThrow('was closed');
  });

  it('names an unknown survey', async () => {
    const { code, err } = await survey('import', 'no-such-survey', frame('a.csv', 'email;functie\n'));
    expect(code).toBe(1);
    expect(err).toEqual(['there is no survey "no-such-survey"; create one with: survey create <definition.json>']);
  });
});

describe('survey create', () => {
  it('reports every problem of a definition with its JSON path', async () => {
    const file = frame('def.json', JSON.stringify({ id: 'x', title: 'X', questionnaire: '../nowhere.json', calendar: { opens: '2024-06-03' }, mail: { from: 'not an address', organisation: 'X' } }));
    const { code, err } = await survey('create', file);
    expect(code).toBe(1);
    expect(err[0]).toMatch(/def\.json: \$\.questionnaire: in questionnaire \.\.\/nowhere\.json: cannot read/);
  });

  it('accepts as sender and reply address only what the sender can put in a header', async () => {
    const def = JSON.parse(readFileSync(definition, 'utf8'));
    const questionnaire = new URL('../../questionnaires/owb-2024.json', import.meta.url).pathname;
    const withFrom = (from: string) => frame('from.json', JSON.stringify({ ...def, questionnaire, mail: { ...def.mail, from, replyTo: from } }));
    for (const from of ['Onderzoek <onderzoek@localhost>', 'Onderzoek <onderzoek@bureau.nl', 'onderzoek@bureau.nl>', 'Onderzoek <<onderzoek@bureau.nl>', 'onder zoek@bureau.nl', 'Onderzoek <onderzoek@bureau.n>']) {
      const { code, err } = await survey('create', withFrom(from));
      expect(code, from).toBe(1);
      expect(err, from).toEqual([`${join(dir, 'from.json')}: $.mail.from: "${from}" is not an address such as "Naam <adres@domein.nl>"`, `${join(dir, 'from.json')}: $.mail.replyTo: "${from}" is not an address such as "Naam <adres@domein.nl>"`]);
    }
    for (const from of ['"Bureau, afdeling Onderzoek" <onderzoek@bureau.nl>', 'onderzoek@bureau.nl', 'Onderzoeksbureau Ümit <o.umit@sub.bureau.example>']) {
      const { code, err } = await survey('create', withFrom(from));
      expect(code, `${from}: ${err.join('\n')}`).toBe(0);
    }
  });

  /** The bureau edits a question label and runs create again. */
  async function createWithChangedQuestionnaire() {
    const questionnaire = readFileSync(new URL('../../questionnaires/owb-2024.json', import.meta.url), 'utf8').replace('Verbale agressie', 'Verbaal geweld');
    frame('owb-2024.json', questionnaire);
    const def = JSON.parse(readFileSync(definition, 'utf8'));
    return survey('create', frame('owb-changed.json', JSON.stringify({ ...def, questionnaire: 'owb-2024.json' })));
  }

  it('refuses to change the questionnaire of a survey once its first mail went out', async () => {
    const db = await openDatabase(env.DATABASE_PATH!);
    await db.updateTable('surveys').set({ frozen_at: '2024-06-03T07:00:00.000Z' }).execute();
    await db.destroy();
    const { code, err } = await createWithChangedQuestionnaire();
    expect(code).toBe(1);
    expect(err[0]).toMatch(/survey owb-2024 is frozen on its questionnaire since the first mail/);
  });

  it('refuses to change the questionnaire once someone answered, also before any mail went out', async () => {
    const db = await openDatabase(env.DATABASE_PATH!);
    // A code handed out another way (read out on the phone): a submitted questionnaire, no mail.
    await db.insertInto('submissions').values({ key: 'k', survey_id: 'owb-2024' }).execute();
    await db.destroy();
    const { code, err } = await createWithChangedQuestionnaire();
    expect(code).toBe(1);
    expect(err[0]).toMatch(/survey owb-2024 is frozen on its questionnaire since the first answer; a changed questionnaire needs a new version/);
    // The same questionnaire (other settings changed) is still accepted.
    expect((await survey('create', definition)).code).toBe(0);
  });

  it('keeps the id and kind of a mailing that went out: renaming the invitation would invite everyone again', async () => {
    expect((await survey('import', 'owb-2024', frame('f.csv', 'email;functie\na@x.nl;raadslid\nb@x.nl;raadslid\n'))).code).toBe(0);
    const db = await openDatabase(env.DATABASE_PATH!);
    const at = '2024-06-03T07:00:00.000Z';
    await db.insertInto('outbox').values([1, 2].map((id) => ({ survey_id: 'owb-2024', invitee_id: id, mailing_id: 'invitation', status: 'sent' as const, attempts: 1, next_attempt_at: at, created_at: at, sent_at: at }))).execute();
    await db.destroy();
    const def = JSON.parse(readFileSync(definition, 'utf8'));
    const questionnaire = new URL('../../questionnaires/owb-2024.json', import.meta.url).pathname;
    const withMailings = (name: string, mailings: object[]) => frame(name, JSON.stringify({ ...def, questionnaire, calendar: { ...def.calendar, mailings } }));
    const renamed = await survey('create', withMailings('renamed.json', [{ id: 'uitnodiging', kind: 'invitation', at: '2024-06-03T09:00', template: 'invitation' }, ...def.calendar.mailings.slice(1)]));
    expect(renamed.code).toBe(1);
    expect(renamed.err).toEqual(['survey owb-2024: mailing "invitation" is already queued or sent for 2 invitees, so it must keep its id and kind (invitation); it is missing from the definition. Its time, template and subject may change.']);
    // Moving a reminder is what a manager does, and stays possible.
    const moved = await survey('create', withMailings('moved.json', [def.calendar.mailings[0], { ...def.calendar.mailings[1], at: '2024-06-12' }, def.calendar.mailings[2]]));
    expect(moved.code, moved.err.join('\n')).toBe(0);
  });
});
