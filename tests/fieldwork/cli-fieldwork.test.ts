// survey schedule, mark, close and purge as a fieldwork manager runs them.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { cli, withDatabase } from '../helpers/cli.ts';
import { startSmtp } from '../helpers/smtp.ts';
import { formatCode } from '../../server/domain/codes.ts';
import type { Db } from '../../server/db/connection.ts';
import { findInviteeByEmail } from '../../server/db/invitees.ts';
import { createSecrets } from '../../server/security/secrets.ts';
import { loadRespondent, pagesOf, savePage } from '../../server/usecases/answering.ts';
import { draftKeyFor, revealInvitation } from '../../server/usecases/invitations.ts';
import { QuestionnaireRegistry } from '../../server/usecases/questionnaire-registry.ts';
import { LedgerMarks, recordLaggingMarks } from '../../server/usecases/ledger-marks.ts';

const definition = new URL('../../questionnaires/surveys/owb-2024.json', import.meta.url).pathname;
let dir: string;
let env: NodeJS.ProcessEnv;

const survey = cli(() => env);

const db = <T>(fn: (d: Db) => Promise<T>): Promise<T> => withDatabase(env.DATABASE_PATH!, fn);

/** The invitee answers the first page: a draft that passed the counting rule. */
async function answerFirstPage(surveyId: string, email: string): Promise<void> {
  await db(async (d) => {
    const secrets = createSecrets(env.SERVER_SECRET!);
    const invitee = (await findInviteeByEmail(d, surveyId, email))!;
    const r = (await loadRespondent(d, secrets, new QuestionnaireRegistry(d), { invitee: invitee.id, draftKey: draftKeyFor(secrets, invitee) }))!;
    expect((await savePage(d, secrets, new LedgerMarks(d), r, pagesOf(r)[0]!, {}, 0, 'next', new Date('2024-06-03T10:00:00Z'))).kind).toBe('saved');
    // As the server's next start (or the close) finds it on the answer side.
    await recordLaggingMarks(d, secrets, r.survey, r.questionnaire, '2024-06-03');
  });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-fieldwork-'));
  env = { DATABASE_PATH: join(dir, 'db.sqlite'), SERVER_SECRET: 'cli-test-secret-of-sufficient-length-012345', MAIL_DIR: join(dir, 'mail') };
  const frame = join(dir, 'frame.csv');
  writeFileSync(frame, ['email;functie', 'b1@x.nl;burgemeester', 'b2@x.nl;burgemeester', 'w1@x.nl;wethouder', 'r1@x.nl;raadslid', 'r2@x.nl;raadslid', 'r3@x.nl;raadslid'].join('\n'));
  expect((await survey('import', definition, frame)).code).toBe(0);
});

describe('survey schedule', () => {
  it('shows the planned mailings in local time and, per stratum, how many each would reach now', async () => {
    await survey('mark', 'owb-2024', 'r3@x.nl', 'not-eligible');
    const { code, out } = await survey('schedule', 'owb-2024');
    expect(code).toBe(0);
    expect(out).toContain('opens ma 3 jun 2024, 09:00; open through dinsdag 9 juli 2024 (Europe/Amsterdam)');
    expect(out.find((l) => l.startsWith('reminder1'))).toMatch(/^reminder1\s+reminder\s+di 11 jun 2024, 09:00/);
    expect(out).toContain('would reach now (dry run; nothing is sent), per functie:');
    const row = (lines: string[], name: string) => lines.find((l) => l.startsWith(name))!.split(/\s+/).slice(1).map(Number);
    // Before the invitation went out, a reminder would reach nobody.
    expect(row(out, 'burgemeester')).toEqual([2, 0, 0]);
    expect(row(out, 'raadslid')).toEqual([2, 0, 0]);
    expect(row(out, 'wethouder')).toEqual([1, 0, 0]);
    expect(row(out, 'total')).toEqual([5, 0, 0]);
    expect(await db((d) => d.selectFrom('outbox').selectAll().execute())).toEqual([]);

    // The invitation went out to three of them; one of those refused since.
    await db(async (d) => {
      const ids = await d.selectFrom('invitees').select(['id', 'email']).execute();
      const id = (email: string) => ids.find((i) => i.email === email)!.id;
      const at = '2024-06-03T07:05:00.000Z';
      await d
        .insertInto('outbox')
        .values(['b1@x.nl', 'w1@x.nl', 'r1@x.nl'].map((email) => ({ survey_id: 'owb-2024', invitee_id: id(email), mailing_id: 'invitation', status: 'sent' as const, attempts: 1, next_attempt_at: at, created_at: at, sent_at: at })))
        .execute();
    });
    await survey('mark', 'owb-2024', 'r1@x.nl', 'refused');
    const after = (await survey('schedule', 'owb-2024')).out;
    expect(after.find((l) => l.startsWith('invitation'))).toMatch(/sent 3$/);
    // The invitation still reaches the two it did not go to yet; the reminders only those it reached.
    expect(row(after, 'burgemeester')).toEqual([1, 1, 1]);
    expect(row(after, 'raadslid')).toEqual([1, 0, 0]);
    expect(row(after, 'wethouder')).toEqual([0, 1, 1]);
    expect(row(after, 'total')).toEqual([2, 2, 2]);
  });

  it('names the part of the sample a reminder is for, and counts only that part', async () => {
    const base = JSON.parse(readFileSync(definition, 'utf8'));
    const mailings = base.calendar.mailings.map((m: { id: string }) => (m.id === 'reminder2' ? { ...m, only: { functie: ['wethouder'] } } : m));
    const file = join(dir, 'owb-targeted.json');
    writeFileSync(file, JSON.stringify({ ...base, questionnaire: new URL('../../questionnaires/owb-2024.json', import.meta.url).pathname, calendar: { ...base.calendar, mailings } }));
    expect((await survey('create', file)).code).toBe(0);
    await db(async (d) => {
      const at = '2024-06-03T07:05:00.000Z';
      const ids = (await d.selectFrom('invitees').select('id').where('email', 'in', ['b1@x.nl', 'w1@x.nl']).execute()).map((i) => i.id);
      await d.insertInto('outbox').values(ids.map((id) => ({ survey_id: 'owb-2024', invitee_id: id, mailing_id: 'invitation', status: 'sent' as const, attempts: 1, next_attempt_at: at, created_at: at, sent_at: at }))).execute();
    });
    const { out } = await survey('schedule', 'owb-2024');
    const at = out.findIndex((l) => l.startsWith('reminder2'));
    expect(out[at + 1]!.trim()).toBe('(only for functie: wethouder)');
    const row = (name: string) => out.find((l) => l.startsWith(name))!.split(/\s+/).slice(1).map(Number);
    expect(row('burgemeester')).toEqual([1, 1, 0]);
    expect(row('wethouder')).toEqual([0, 1, 1]);
  });
});

/** A survey like OWB 2024 with one invitation at opening, for `survey send` on the real clock; the frame imported. */
async function importOnRealClock(id: string, calendar: { opens: string; sendWindow: object }): Promise<void> {
  const base = JSON.parse(readFileSync(definition, 'utf8'));
  const file = join(dir, `${id}.json`);
  const questionnaire = new URL('../../questionnaires/owb-2024.json', import.meta.url).pathname;
  writeFileSync(file, JSON.stringify({ ...base, id, questionnaire, calendar: { ...calendar, closes: 'P36D', mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }] } }));
  expect((await survey('import', file, join(dir, 'frame.csv'))).code).toBe(0);
}

describe('carried strata smaller than k', () => {
  it('are warned about at import and at create, before anyone is invited', async () => {
    // The frame: 2 mayors, 1 alderman, 3 council members; the survey carries functie, k = 5.
    const again = await survey('import', 'owb-2024', join(dir, 'frame.csv'));
    expect(again.code).toBe(0);
    expect(again.err).toEqual([
      'warning: carried stratum functie=burgemeester has 2 invitees, fewer than 5 (reporting.minCell): their responses would single out the respondents. Exports merge or leave out such values; carry a coarser field to avoid it',
      'warning: carried stratum functie=raadslid has 3 invitees, fewer than 5 (reporting.minCell): their responses would single out the respondents. Exports merge or leave out such values; carry a coarser field to avoid it',
      'warning: carried stratum functie=wethouder has 1 invitee, fewer than 5 (reporting.minCell): a response would single out the respondent. Exports merge or leave out such values; carry a coarser field to avoid it',
    ]);
    const created = await survey('create', definition);
    expect(created.err.filter((l) => l.includes('functie=wethouder has 1 invitee'))).toHaveLength(1);
  });
});

describe('survey list', () => {
  it("shows each survey's stage, dates, invited and responses, also from the counts kept at purge", async () => {
    await db((d) => d.updateTable('invitees').set({ state: 'submitted', submitted_on: '2024-06-05', counted_on: '2024-06-05' }).where('email', '=', 'b1@x.nl').execute());
    expect((await survey('list')).out).toEqual([
      'survey    stage   opens       open through  invited  responses  title',
      'owb-2024  closed  2024-06-03  2024-07-09          6          1  Ondersteuningsteam Weerbaar Bestuur 2024',
    ]);
    await survey('close', 'owb-2024');
    await survey('purge', 'owb-2024', '--yes');
    expect((await survey('list')).out[1]).toBe('owb-2024  purged  2024-06-03  2024-07-09          6          1  Ondersteuningsteam Weerbaar Bestuur 2024');
  });
});

describe('survey preview', () => {
  /** Every invitee's real code and link token: none may appear in a preview. */
  const realSecrets = () =>
    db(async (d) => {
      const secrets = createSecrets(env.SERVER_SECRET!);
      const invitees = await d.selectFrom('invitees').selectAll().execute();
      return invitees.flatMap((i) => {
        const { code, token } = revealInvitation(secrets, i);
        return [formatCode(code), token];
      });
    });

  it('shows every mailing as it will be sent, with a placeholder link and code that open nothing', async () => {
    const { code, out } = await survey('preview', 'owb-2024');
    expect(code).toBe(0);
    expect(out[0]).toBe('owb-2024: mailings as sent to a sample invitee; the link (http://localhost:3000/s/voorbeeld) and the code (0000-0000-0000-0000) are placeholders that open nothing');
    expect(out.filter((l) => l.startsWith('== '))).toEqual([
      '== invitation (invitation), planned ma 3 jun 2024, 09:00 ==',
      '== reminder1 (reminder), planned di 11 jun 2024, 09:00 ==',
      '== reminder2 (reminder), planned di 2 jul 2024, 09:00 ==',
    ]);
    expect(out).toContain('To: A. de Vries <a.devries@voorbeeld.example>');
    expect(out).toContain('Subject: Laatste herinnering: Ondersteuningsteam Weerbaar Bestuur 2024');
    const text = out.join('\n');
    expect(text).toContain('Geachte A. de Vries,');
    expect(text).toContain('Of ga naar http://localhost:3000/ en vul deze code in: 0000-0000-0000-0000');
    expect(text).toContain('http://localhost:3000/optout/voorbeeld');
    for (const secret of await realSecrets()) expect(text).not.toContain(secret);
    // The placeholders open nothing.
    const { testServer } = await import('../helpers/app.ts');
    const server = await testServer({ databasePath: env.DATABASE_PATH!, secret: env.SERVER_SECRET! });
    try {
      expect((await server.browser().open('/s/voorbeeld')).statusCode).toBe(404);
      expect((await server.browser().typeCode('0000-0000-0000-0000')).statusCode).toBe(400);
    } finally {
      await server.close();
    }
  });

  it("uses a real invitee's name, salutation and organisation when asked, never their code", async () => {
    const frame = join(dir, 'named.csv');
    writeFileSync(frame, 'email;name;salutation;organisation;functie\nj.jansen@x.nl;J. Jansen;Geachte heer Jansen;Gemeente Oosterhout;burgemeester\n');
    expect((await survey('import', 'owb-2024', frame)).code).toBe(0);
    const { code, out } = await survey('preview', 'owb-2024', '--mailing', 'invitation', '--invitee', 'j.jansen@x.nl');
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^owb-2024: mailing as sent to j\.jansen@x\.nl; /);
    expect(out).toContain('To: J. Jansen <j.jansen@x.nl>');
    expect(out.join('\n')).toContain('Geachte heer Jansen,');
    expect(out.join('\n')).toContain('bij Gemeente Oosterhout');
    for (const secret of await realSecrets()) expect(out.join('\n')).not.toContain(secret);
    expect((await survey('preview', 'owb-2024', '--invitee', 'nobody@x.nl')).err).toEqual(['nobody@x.nl is not invited to survey owb-2024']);
    expect((await survey('preview', 'owb-2024', '--mailing', 'reminder3')).err).toEqual(['survey owb-2024 has no mailing "reminder3"; its mailings are invitation, reminder1, reminder2']);
  });

  it('writes each mailing as a message and as its HTML, to open in a mail program or a browser', async () => {
    const folder = join(dir, 'preview');
    const { code, out } = await survey('preview', 'owb-2024', '--out', folder);
    expect(code).toBe(0);
    expect(out).toHaveLength(4);
    expect(readdirSync(folder).sort()).toEqual(['invitation.eml', 'invitation.html', 'reminder1.eml', 'reminder1.html', 'reminder2.eml', 'reminder2.html']);
    const parsed = await simpleParser(readFileSync(join(folder, 'reminder1.eml')));
    expect(parsed.subject).toBe('Herinnering: Ondersteuningsteam Weerbaar Bestuur 2024');
    expect(parsed.html).toBe(readFileSync(join(folder, 'reminder1.html'), 'utf8'));
    expect(parsed.html).toContain('href="http://localhost:3000/s/voorbeeld"');
  });

  it('sends each mailing to the tester as a test mail through the mail server, and notes it in the audit log', async () => {
    const smtp = await startSmtp();
    try {
      env = { ...env, SMTP_URL: smtp.url };
      const { code, out } = await survey('preview', 'owb-2024', '--send-to', 'veldwerk@bureau.nl', '--mailing', 'invitation');
      expect(code).toBe(0);
      expect(out[1]).toBe(`sent invitation to veldwerk@bureau.nl as a test ("[Test] Uitnodiging: Ondersteuningsteam Weerbaar Bestuur 2024"), through SMTP ${new URL(smtp.url).host}`);
      expect(smtp.received.map((r) => r.envelopeTo)).toEqual([['veldwerk@bureau.nl']]);
      const { mail } = smtp.received[0]!;
      expect(mail.subject).toBe('[Test] Uitnodiging: Ondersteuningsteam Weerbaar Bestuur 2024');
      expect(mail.to).toMatchObject({ value: [{ address: 'veldwerk@bureau.nl' }] });
      expect(mail.text).toContain('0000-0000-0000-0000');
      for (const secret of await realSecrets()) expect(mail.text).not.toContain(secret);
      // A test mail is no mailing: the outbox and the invitees are untouched.
      expect(await db((d) => d.selectFrom('outbox').selectAll().execute())).toEqual([]);
      const logged = await db((d) => d.selectFrom('audit_log').select(['action', 'survey_id', 'detail']).where('action', '=', 'test mail sent').execute());
      expect(logged).toEqual([{ action: 'test mail sent', survey_id: 'owb-2024', detail: 'invitation to veldwerk@bureau.nl' }]);

      smtp.rejectPermanently.add('veldwerk@bureau.nl');
      const refused = await survey('preview', 'owb-2024', '--send-to', 'veldwerk@bureau.nl', '--mailing', 'invitation');
      expect(refused.code).toBe(1);
      expect(refused.err).toEqual([expect.stringMatching(/^owb-2024: .*550/)]);
    } finally {
      await smtp.close();
    }
    expect((await survey('preview', 'owb-2024', '--send-to', 'veldwerk at bureau')).err).toEqual(['--send-to: "veldwerk at bureau" is not an email address']);
  });
});

describe('phoning non-responders: survey call-list, call and code', () => {
  beforeEach(async () => {
    const yesterday = new Date(Date.now() - 86_400_000).toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 10);
    const base = JSON.parse(readFileSync(definition, 'utf8'));
    const file = join(dir, 'bellen.json');
    const questionnaire = new URL('../../questionnaires/owb-2024.json', import.meta.url).pathname;
    writeFileSync(file, JSON.stringify({ ...base, id: 'bellen', questionnaire, calendar: { opens: `${yesterday}T00:00`, closes: 'P36D', sendWindow: { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '00:00', until: '24:00' }, mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }] } }));
    const frame = join(dir, 'bellen.csv');
    writeFileSync(
      frame,
      [
        'email;name;organisation;phone;functie',
        'w.wit@zwolle.nl;W. Wit;Gemeente Zwolle;038 498 9111;wethouder',
        'a.aa@aalten.nl;A. Aa;Gemeente Aalten;0543 493 200;wethouder',
        'b.bos@berkelland.nl;B. Bos;Gemeente Berkelland;;burgemeester',
        'klaar@x.nl;K. Klaar;Gemeente X;06 1234 5678;raadslid',
        'nee@x.nl;N. Nee;Gemeente X;06 1111 1111;raadslid',
        'weg@x.nl;W. Weg;Gemeente X;06 2222 2222;raadslid',
        'bezig@x.nl;Ö. Bezig;Gemeente Ede;06 3333 3333;raadslid',
        'terug@x.nl;T. Terug;Gemeente Epe;06 4444 4444;raadslid',
      ].join('\n'),
    );
    expect((await survey('import', file, frame)).code).toBe(0);
    await db(async (d) => {
      const set = (email: string, values: object) => d.updateTable('invitees').set(values).where('survey_id', '=', 'bellen').where('email', '=', email).execute();
      await set('klaar@x.nl', { state: 'submitted', submitted_on: '2026-11-20' });
      await set('bezig@x.nl', { state: 'started', opened_on: '2026-11-20', started_on: '2026-11-20' });
      await set('terug@x.nl', { state: 'bounced', bounced_on: '2026-11-20' });
      const w = (await findInviteeByEmail(d, 'bellen', 'w.wit@zwolle.nl'))!;
      const at = '2026-11-20T08:00:00.000Z';
      await d.insertInto('outbox').values({ survey_id: 'bellen', invitee_id: w.id, mailing_id: 'invitation', status: 'sent', attempts: 1, next_attempt_at: at, created_at: at, sent_at: at }).execute();
    });
    await survey('mark', 'bellen', 'nee@x.nl', 'refused');
    await survey('mark', 'bellen', 'weg@x.nl', 'not-eligible');
  });

  it('lists who has not responded and can still, by stratum and organisation, without their codes', async () => {
    const { code, out } = await survey('call-list', 'bellen');
    expect(code).toBe(0);
    expect(out.join('\n').split('\n')).toEqual([
      'functie;organisation;name;salutation;email;phone;state;opened_on;started_on;bounced_on;mails_sent;last_mail_on;calls;last_call_on;last_call;call_back_on;note',
      'burgemeester;Gemeente Berkelland;B. Bos;;b.bos@berkelland.nl;;invited;;;;0;;0;;;;',
      'raadslid;Gemeente Ede;Ö. Bezig;;bezig@x.nl;06 3333 3333;started;2026-11-20;2026-11-20;;0;;0;;;;',
      'raadslid;Gemeente Epe;T. Terug;;terug@x.nl;06 4444 4444;bounced;;;2026-11-20;0;;0;;;;',
      'wethouder;Gemeente Aalten;A. Aa;;a.aa@aalten.nl;0543 493 200;invited;;;;0;;0;;;;',
      'wethouder;Gemeente Zwolle;W. Wit;;w.wit@zwolle.nl;038 498 9111;invited;;;;1;2026-11-20;0;;;;',
    ]);
    const codes = await db(async (d) => {
      const secrets = createSecrets(env.SERVER_SECRET!);
      return (await d.selectFrom('invitees').selectAll().where('survey_id', '=', 'bellen').execute()).map((i) => formatCode(revealInvitation(secrets, i).code));
    });
    for (const c of codes) expect(out.join('\n')).not.toContain(c);

    const file = join(dir, 'bellijst.csv');
    const written = await survey('call-list', 'bellen', '--with-phone', '--out', file);
    expect(written.out).toEqual([`${file}: 4 invitees to call (not responded, with a phone number); no codes on it: read one out with survey code bellen <email>`]);
    const bytes = readFileSync(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString('utf8')).not.toContain('b.bos@berkelland.nl');
    const logged = await db((d) => d.selectFrom('audit_log').select(['action', 'detail']).where('action', '=', 'call list').orderBy('id').execute());
    expect(logged).toEqual([{ action: 'call list', detail: '5 invitees' }, { action: 'call list', detail: '4 invitees' }]);
  });

  it('reads out the code and link of someone who will take part, also after a refusal, and notes the look-up', async () => {
    const { code, out } = await survey('code', 'bellen', 'bezig@x.nl');
    expect(code).toBe(0);
    const { typed, token, id } = await db(async (d) => {
      const invitee = (await findInviteeByEmail(d, 'bellen', 'bezig@x.nl'))!;
      const revealed = revealInvitation(createSecrets(env.SERVER_SECRET!), invitee);
      return { typed: formatCode(revealed.code), token: revealed.token, id: invitee.id };
    });
    expect(out).toEqual([`bezig@x.nl (started): type code ${typed} at http://localhost:3000/, or open http://localhost:3000/s/${token}`]);
    const logged = await db((d) => d.selectFrom('audit_log').select(['action', 'detail']).where('action', '=', 'code looked up').execute());
    expect(logged).toEqual([{ action: 'code looked up', detail: `invitee ${id}` }]);

    const refused = await survey('code', 'bellen', 'nee@x.nl');
    expect(refused.code).toBe(0);
    expect(refused.out[1]).toBe('they said they do not take part: the questionnaire asks them to confirm that they do take part after all');
    expect((await survey('code', 'bellen', 'klaar@x.nl')).err).toEqual(['klaar@x.nl has already completed the questionnaire']);
    expect((await survey('code', 'bellen', 'weg@x.nl')).err).toEqual(['weg@x.nl is marked not eligible; the code does not open the questionnaire']);
    expect((await survey('code', 'bellen', 'niemand@x.nl')).err).toEqual(['niemand@x.nl is not invited to survey bellen']);
  });

  it('corrects an address learnt on the phone, and sends what bounced again to the new one', async () => {
    await db(async (d) => {
      const t = (await findInviteeByEmail(d, 'bellen', 'terug@x.nl'))!;
      const at = '2026-11-20T08:00:00.000Z';
      await d.insertInto('outbox').values({ survey_id: 'bellen', invitee_id: t.id, mailing_id: 'invitation', status: 'failed', attempts: 1, next_attempt_at: at, created_at: at, last_error: '550 5.1.1 user unknown' }).execute();
    });
    const { code, out } = await survey('address', 'bellen', 'terug@x.nl', 'T.Terug@Epe.nl');
    expect(code).toBe(0);
    expect(out).toEqual(['terug@x.nl -> t.terug@epe.nl: no longer bounced; 1 mail queued again to the new address, going out on the next send within the send window']);
    const invitee = (await db((d) => findInviteeByEmail(d, 'bellen', 't.terug@epe.nl')))!;
    expect([invitee.state, invitee.bounced_on]).toEqual(['invited', null]);
    expect((await survey('send', 'bellen')).code).toBe(0);
    const folder = join(env.MAIL_DIR!, 'bellen');
    const sentTo = readdirSync(folder).map((f) => /^To: (.*)$/m.exec(readFileSync(join(folder, f), 'utf8'))![1]);
    expect(sentTo).toContain('"T. Terug" <t.terug@epe.nl>');
    expect(sentTo.join()).not.toContain('terug@x.nl');
    const logged = await db((d) => d.selectFrom('audit_log').select(['action', 'detail']).where('action', '=', 'address corrected').execute());
    expect(logged).toEqual([{ action: 'address corrected', detail: `invitee ${invitee.id}` }]);

    // Someone not bounced: mail still to go out follows the new address.
    expect((await survey('address', 'bellen', 'a.aa@aalten.nl', 'aa@aalten.nl')).out).toEqual(['a.aa@aalten.nl -> aa@aalten.nl; mail still to go out goes to the new address']);
    expect((await survey('address', 'bellen', 'b.bos@berkelland.nl', 'aa@aalten.nl')).err).toEqual(['aa@aalten.nl is already invited to survey bellen, as someone else']);
    expect((await survey('address', 'bellen', 'b.bos@berkelland.nl', 'b.bos at berkelland')).err).toEqual(['"b.bos at berkelland" is not an email address']);
  });

  it('records what each call brought, and the call list shows the last one and how many there were', async () => {
    const today = new Date().toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 10);
    const later = new Date(Date.now() + 3 * 86_400_000).toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 10);
    expect((await survey('call', 'bellen', 'w.wit@zwolle.nl', 'no-answer')).out).toEqual(['w.wit@zwolle.nl: no-answer (1 call so far)']);
    const again = await survey('call', 'bellen', 'w.wit@zwolle.nl', 'call-back', '--call-back', later, '--note', 'via de secretaresse; na 14 uur');
    expect([again.code, again.out]).toEqual([0, [`w.wit@zwolle.nl: call-back, call back on ${later} (2 calls so far)`]]);
    const promised = await survey('call', 'bellen', 'a.aa@aalten.nl', 'will-respond');
    expect([promised.code, promised.out[1]]).toEqual([0, 'if they cannot find the invitation: survey resend bellen a.aa@aalten.nl, or read out their code (survey code bellen a.aa@aalten.nl)']);
    const wrong = await survey('call', 'bellen', 'bezig@x.nl', 'wrong-number');
    expect(wrong.out).toEqual(['bezig@x.nl: wrong-number (1 call so far)', "bezig@x.nl: phone 06 3333 3333 taken off the call list (kept in the call's note)"]);

    const list = (await survey('call-list', 'bellen')).out.join('\n').split('\n');
    expect(list.find((l) => l.includes('w.wit@'))).toBe(`wethouder;Gemeente Zwolle;W. Wit;;w.wit@zwolle.nl;038 498 9111;invited;;;;1;2026-11-20;2;${today};call-back;${later};via de secretaresse; na 14 uur`.replace('via de secretaresse; na 14 uur', '"via de secretaresse; na 14 uur"'));
    expect(list.find((l) => l.includes('a.aa@'))).toBe(`wethouder;Gemeente Aalten;A. Aa;;a.aa@aalten.nl;0543 493 200;invited;;;;0;;1;${today};will-respond;;`);
    // A number found wrong is no use to a caller: off the list, kept in the note.
    expect(list.find((l) => l.includes('bezig@'))).toBe(`raadslid;Gemeente Ede;Ö. Bezig;;bezig@x.nl;;started;2026-11-20;2026-11-20;;0;;1;${today};wrong-number;;number was 06 3333 3333`);
    const withPhone = (await survey('call-list', 'bellen', '--with-phone')).out.join('\n');
    expect(withPhone).not.toContain('bezig@x.nl');
    expect(withPhone).toContain('terug@x.nl');
    // The right number, found in the municipality's guide and called: back on the list.
    const found = await survey('call', 'bellen', 'bezig@x.nl', 'no-answer', '--phone', ' 0318 680 400 ');
    expect(found.out).toEqual(['bezig@x.nl: no-answer (2 calls so far)', 'bezig@x.nl: phone (none) -> 0318 680 400']);
    expect((await survey('call-list', 'bellen', '--with-phone')).out.join('\n')).toContain(';bezig@x.nl;0318 680 400;started;');
    // survey status (as a table) follows with how phoning goes per stratum.
    const status = (await survey('status', 'bellen')).out.join('\n').split('\n');
    const phoning = status.slice(status.indexOf('phoning per functie') + 1).map((l) => l.trim().split(/\s+/));
    expect(phoning.slice(0, 5)).toEqual([
      ['stratum', 'to_call', 'called', 'no-answer', 'call-back', 'will-respond', 'wrong-number', 'refused', 'not-eligible', 'call_back_due', 'responded_since'],
      ['burgemeester', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0'],
      // terug@ (bounced, with a number) is left to call; bezig@ was called twice.
      ['raadslid', '1', '1', '1', '0', '0', '0', '0', '0', '0', '0'],
      ['wethouder', '0', '2', '0', '1', '1', '0', '0', '0', '0', '0'],
      ['total', '1', '3', '1', '1', '1', '0', '0', '0', '0', '0'],
    ]);

    const invitee = (await db((d) => findInviteeByEmail(d, 'bellen', 'w.wit@zwolle.nl')))!;
    const logged = await db((d) => d.selectFrom('audit_log').select(['action', 'detail']).where('action', '=', 'call recorded').orderBy('id').limit(2).execute());
    expect(logged).toEqual([
      { action: 'call recorded', detail: `invitee ${invitee.id}: no-answer` },
      { action: 'call recorded', detail: `invitee ${invitee.id}: call-back` },
    ]);
  });

  it('sends the invitation again to someone who cannot find it (survey resend), counted apart in the schedule', async () => {
    const resent = await survey('resend', 'bellen', 'w.wit@zwolle.nl');
    expect([resent.code, resent.out]).toEqual([0, ["w.wit@zwolle.nl: invitation queued again (copy 2), with their link and code; it goes out on the next send within the send window (the server's sender, or survey send bellen)"]]);
    expect((await survey('schedule', 'bellen')).out.join('\n')).toContain('sent 1, sent again on request: pending 1');
    const notYet = await survey('resend', 'bellen', 'a.aa@aalten.nl');
    expect([notYet.code, notYet.err]).toEqual([1, ['invitation has not gone out to a.aa@aalten.nl (it is not queued for them): there is nothing to send again']]);
    const invitee = (await db((d) => findInviteeByEmail(d, 'bellen', 'w.wit@zwolle.nl')))!;
    const logged = await db((d) => d.selectFrom('audit_log').select(['action', 'detail']).where('action', '=', 'mail resent').execute());
    expect(logged).toEqual([{ action: 'mail resent', detail: `invitee ${invitee.id}: invitation` }]);
    // Sent, and still counted apart once the contact data is gone.
    expect((await survey('send', 'bellen')).code).toBe(0);
    expect(readdirSync(join(env.MAIL_DIR!, 'bellen')).length).toBeGreaterThan(0);
    expect((await survey('close', 'bellen')).code).toBe(0);
    // The .eml files, each with a link and code, go with the contact data.
    expect((await survey('purge', 'bellen', '--yes')).out).toContain(`bellen: its .eml files in ${env.MAIL_DIR} removed.`);
    expect(readdirSync(env.MAIL_DIR!)).not.toContain('bellen');
    expect((await survey('schedule', 'bellen')).out.find((l) => l.startsWith('invitation'))).toMatch(/sent \d+, sent again on request: sent 1$/);
  });

  it('leaves out, for a second round, whoever was called since a date, unless their call back is due', async () => {
    const today = new Date().toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 10);
    const later = new Date(Date.now() + 3 * 86_400_000).toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 10);
    await survey('call', 'bellen', 'w.wit@zwolle.nl', 'no-answer');
    await survey('call', 'bellen', 'a.aa@aalten.nl', 'call-back', '--call-back', today);
    await survey('call', 'bellen', 'bezig@x.nl', 'call-back', '--call-back', later);
    const emails = (out: string[]) => out.slice(1).map((l) => l.split(';')[4]);
    const round = await survey('call-list', 'bellen', '--not-called-since', today);
    expect(emails(round.out.join('\n').split('\n'))).toEqual(['b.bos@berkelland.nl', 'terug@x.nl', 'a.aa@aalten.nl']);
    // Called before the date: on the list again.
    expect(emails((await survey('call-list', 'bellen', '--not-called-since', later)).out.join('\n').split('\n'))).toHaveLength(5);
    const bad = await survey('call-list', 'bellen', '--not-called-since', '23-11-2026');
    expect([bad.code, bad.err]).toEqual([1, ['"23-11-2026" is not a date (YYYY-MM-DD)']]);
  });

  it('records a refusal or not eligible heard on the phone, also from someone whose address bounced', async () => {
    await answerFirstPage('bellen', 'bezig@x.nl');
    const refused = await survey('call', 'bellen', 'bezig@x.nl', 'refused');
    expect(refused.code).toBe(0);
    expect(refused.out.slice(0, 2)).toEqual(['bezig@x.nl: refused (1 call so far)', 'bezig@x.nl: started -> refused; no more mail goes out to this address']);
    expect(refused.out[2]).toMatch(/^bezig@x.nl has answered part of the questionnaire: .* survey mark bellen bezig@x.nl refused --withdraw-answers$/);
    expect((await survey('call', 'bellen', 'terug@x.nl', 'refused')).out[1]).toBe('terug@x.nl: bounced -> refused; no more mail goes out to this address');
    expect((await survey('call', 'bellen', 'a.aa@aalten.nl', 'not-eligible', '--note', 'sinds oktober geen wethouder meer')).out[1]).toBe('a.aa@aalten.nl: invited -> not_eligible; no more mail goes out to this address');
    const states = await db((d) => d.selectFrom('invitees').select(['email', 'state']).where('email', 'in', ['bezig@x.nl', 'terug@x.nl', 'a.aa@aalten.nl']).orderBy('email').execute());
    expect(states).toEqual([
      { email: 'a.aa@aalten.nl', state: 'not_eligible' },
      { email: 'bezig@x.nl', state: 'refused' },
      { email: 'terug@x.nl', state: 'refused' },
    ]);
    const list = (await survey('call-list', 'bellen')).out.join('\n');
    for (const email of ['bezig@x.nl', 'terug@x.nl', 'a.aa@aalten.nl']) expect(list).not.toContain(email);

    // Someone who refused and now says they will respond after all: their code, and a word on what they will see.
    expect((await survey('call', 'bellen', 'nee@x.nl', 'will-respond')).out[1]).toBe(
      'they had said they do not take part: read out their code (survey code bellen nee@x.nl); the questionnaire asks them to confirm that they do take part after all',
    );
    // Refusing twice changes nothing, and records no call.
    const twice = await survey('call', 'bellen', 'terug@x.nl', 'refused');
    expect([twice.code, twice.err]).toEqual([1, ['terug@x.nl is refused; cannot mark refused']]);
    const calls = await db((d) => d.selectFrom('calls as c').innerJoin('invitees as i', 'i.id', 'c.invitee_id').select(['i.email', 'c.outcome', 'c.note']).orderBy('c.id').execute());
    expect(calls).toEqual([
      { email: 'bezig@x.nl', outcome: 'refused', note: null },
      { email: 'terug@x.nl', outcome: 'refused', note: null },
      { email: 'a.aa@aalten.nl', outcome: 'not-eligible', note: 'sinds oktober geen wethouder meer' },
      { email: 'nee@x.nl', outcome: 'will-respond', note: null },
    ]);
  });

  it('says what is wrong with a call, and records nothing', async () => {
    const yesterday = new Date(Date.now() - 86_400_000).toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 10);
    const cases: [string[], number, string][] = [
      [['w.wit@zwolle.nl', 'voicemail'], 2, 'unknown call outcome "voicemail": use no-answer, call-back, will-respond, wrong-number, refused, not-eligible'],
      [['w.wit@zwolle.nl', 'call-back', '--call-back', '2026-02-30'], 1, '"2026-02-30" is not a date (YYYY-MM-DD)'],
      [['w.wit@zwolle.nl', 'call-back', '--call-back', yesterday], 1, `the date to call back on, ${yesterday}, has passed`],
      [['w.wit@zwolle.nl', 'wrong-number', '--call-back', '2099-01-01'], 1, 'a date to call back on goes with no-answer, call-back, will-respond, not with wrong-number'],
      [['w.wit@zwolle.nl', 'no-answer', '--note', 'regel 1\nregel 2'], 1, 'the note contains a line break or control character: it is one line in the call list'],
      [['w.wit@zwolle.nl', 'no-answer', '--note', 'x'.repeat(201)], 1, 'the note is 201 characters; at most 200: when to call and whom to ask for, not what was said'],
      [['w.wit@zwolle.nl', 'no-answer', '--phone', 'onbekend'], 1, '"onbekend" is not a phone number'],
      [['klaar@x.nl', 'no-answer'], 1, 'klaar@x.nl has already completed the questionnaire'],
      [['weg@x.nl', 'will-respond'], 1, 'weg@x.nl is marked not eligible'],
      [['niemand@x.nl', 'no-answer'], 1, 'niemand@x.nl is not invited to survey bellen'],
    ];
    for (const [args, code, err] of cases) {
      const run = await survey('call', 'bellen', ...args);
      expect([run.code, run.err], args.join(' ')).toEqual([code, [err]]);
    }
    expect(await db((d) => d.selectFrom('calls').selectAll().execute())).toEqual([]);
  });

  it('refuses once fieldwork is over, and purge removes the calls with the rest of the contact data', async () => {
    await survey('call', 'bellen', 'w.wit@zwolle.nl', 'no-answer', '--note', 'morgen na 10 uur');
    await survey('close', 'bellen');
    for (const args of [['call-list', 'bellen'], ['code', 'bellen', 'bezig@x.nl'], ['call', 'bellen', 'bezig@x.nl', 'no-answer']]) {
      const run = await survey(...args);
      expect([run.code, run.err]).toEqual([1, ['survey bellen is closed: nobody can respond any more']]);
    }
    expect((await survey('address', 'bellen', 'terug@x.nl', 't.terug@epe.nl')).err).toEqual(['survey bellen is closed: no more mail goes out']);
    expect((await survey('purge', 'bellen', '--yes')).code).toBe(0);
    expect(await db((d) => d.selectFrom('calls').selectAll().execute())).toEqual([]);
  });
});

describe('survey send', () => {
  it('outside the send window sends nothing and says how many due mails wait, and until when', async () => {
    // On the real clock: a window without today and tomorrow, and a survey that opened a week ago.
    const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
    const local = (d: Date) => d.toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 10);
    const today = new Date(`${local(new Date())}T12:00:00Z`);
    const plusDays = (n: number) => new Date(today.getTime() + n * 86_400_000);
    await importOnRealClock('later', {
      opens: `${local(plusDays(-7))}T00:00`,
      sendWindow: { days: days.filter((_, i) => i !== today.getUTCDay() && i !== plusDays(1).getUTCDay()), from: '00:00', until: '24:00' },
    });
    const weekday = new Intl.DateTimeFormat('nl-NL', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }).format(plusDays(2));
    const result = await survey('send', 'later');
    expect(result.out).toEqual([expect.stringMatching(/^mailing queued /), expect.stringMatching(/^later: sent 0, skipped 0,/), `6 due mails wait for the send window, which opens ${weekday}, 00:00`]);
    expect(await db((d) => d.selectFrom('outbox').select(['status', 'attempts']).distinct().execute())).toEqual([{ status: 'pending', attempts: 0 }]);
  });
});

describe('survey send without a mail server', () => {
  it('says why mail cannot go out, keeps every mail for the next run, and exits non-zero', async () => {
    const yesterday = new Date(Date.now() - 86_400_000).toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 10);
    await importOnRealClock('now', { opens: `${yesterday}T00:00`, sendWindow: { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '00:00', until: '24:00' } });
    env = { ...env, SMTP_URL: 'smtp://127.0.0.1:1?ignoreTLS=true' };
    const result = await survey('send', 'now');
    expect(result.code).toBe(1);
    expect(result.err).toEqual([expect.stringMatching(/^mail cannot go out: SMTP server 127\.0\.0\.1:1: .*ECONNREFUSED/), '6 due mails wait and go out on the next run; no invitee was marked bounced']);
    expect(await db((d) => d.selectFrom('outbox').select(['status', 'attempts']).distinct().execute())).toEqual([{ status: 'pending', attempts: 0 }]);
  });
});

describe('survey schedule: delivery problems', () => {
  it('lists what did not go out, per domain and reply, so that a whole organisation turning us away stands out', async () => {
    await db(async (d) => {
      const ids = await d.selectFrom('invitees').select(['id', 'email']).execute();
      const id = (email: string) => ids.find((i) => i.email === email)!.id;
      const at = '2024-06-03T07:05:00.000Z';
      const row = (email: string, status: 'failed' | 'pending', lastError: string | null) => ({ survey_id: 'owb-2024', invitee_id: id(email), mailing_id: 'invitation', status, attempts: 1, next_attempt_at: at, created_at: at, last_error: lastError });
      const spam = (email: string) => `Can't send mail - all recipients were rejected: 554 5.7.1 <${email}>: Message rejected as spam`;
      await d
        .insertInto('outbox')
        .values([row('b1@x.nl', 'failed', spam('b1@x.nl')), row('b2@x.nl', 'failed', spam('b2@x.nl')), row('w1@x.nl', 'pending', '451 4.2.1 try again later'), row('r1@x.nl', 'pending', null)]) // r1: queued, no problem
        .execute();
    });
    const { out } = await survey('schedule', 'owb-2024');
    const at = out.indexOf('not delivered, per domain and reply (failed: given up; retrying: tried again later):');
    expect(at).toBeGreaterThan(0);
    expect(out.slice(at + 1, at + 3)).toEqual([
      "failed         2  x.nl  Can't send mail - all recipients were rejected: 554 5.7.1 <address>: Message rejected as spam",
      'retrying       1  x.nl  451 4.2.1 try again later',
    ]);
    expect(out[at + 3]).toBe('');
  });
});

describe('survey retry', () => {
  it('queues again the mail given up on for a domain or an address, invites the bounced again, and logs it', async () => {
    // A survey open now (the CLI runs on the real clock).
    const open = join(dir, 'open.json');
    const today = new Date().toISOString().slice(0, 10);
    const { id: _id, ...rest } = JSON.parse(readFileSync(definition, 'utf8'));
    writeFileSync(open, JSON.stringify({ ...rest, id: 'open', questionnaire: new URL('../../questionnaires/owb-2024.json', import.meta.url).pathname, calendar: { opens: `${today}T00:00`, closes: 'P36D', mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }] } }));
    expect((await survey('import', open, join(dir, 'frame.csv'))).code).toBe(0);
    await db(async (d) => {
      const ids = await d.selectFrom('invitees').select(['id', 'email']).where('survey_id', '=', 'open').where('email', 'in', ['b1@x.nl', 'w1@x.nl']).execute();
      const at = new Date().toISOString();
      await d.updateTable('invitees').set({ state: 'bounced', bounced_on: today }).where('id', 'in', ids.map((i) => i.id)).execute();
      await d
        .insertInto('outbox')
        .values(ids.map((i) => ({ survey_id: 'open', invitee_id: i.id, mailing_id: 'invitation', status: 'failed' as const, attempts: 1, next_attempt_at: at, created_at: at, last_error: '554 5.7.1 rejected as spam' })))
        .execute();
    });
    expect((await survey('retry', 'open')).code).toBe(2);
    expect((await survey('retry', 'open', '--email', 'r1@x.nl')).err).toEqual(['nothing to retry for r1@x.nl: no mail was given up on and nobody was marked bounced']);
    const one = await survey('retry', 'open', '--email', 'W1@x.nl');
    expect([one.code, one.out]).toEqual([0, ["open for W1@x.nl: 1 invitee no longer bounced, 1 mail queued again; they go out on the next send (survey send open, or the server's sender), within the send window"]]);
    const domainWide = await survey('retry', 'open', '--domain', 'x.nl');
    expect(domainWide.out[0]).toMatch(/^open at x\.nl: 1 invitee no longer bounced, 1 mail queued again;/);
    const state = await db((d) => d.selectFrom('invitees').select(['email', 'state', 'bounced_on']).where('survey_id', '=', 'open').where('email', 'in', ['b1@x.nl', 'w1@x.nl']).orderBy('email').execute());
    expect(state).toEqual([
      { email: 'b1@x.nl', state: 'invited', bounced_on: null },
      { email: 'w1@x.nl', state: 'invited', bounced_on: null },
    ]);
    expect(await db((d) => d.selectFrom('outbox').select(['status', 'attempts', 'last_error']).distinct().execute())).toEqual([{ status: 'pending', attempts: 0, last_error: null }]);
    const logged = await db((d) => d.selectFrom('audit_log').select(['action', 'detail']).where('action', '=', 'undelivered mail retried').orderBy('id').execute());
    expect(logged.map((l) => l.detail)).toEqual(['one address: 1 mail', 'domain x.nl: 1 mail']);
    // owb-2024 closed in 2024 (by its calendar; nobody ran survey close).
    expect((await survey('retry', 'owb-2024', '--domain', 'x.nl')).err).toEqual(['survey owb-2024 is closed: no more mail goes out']);
  });
});

describe('survey mark', () => {
  it('records refusals and ineligibility that arrive by phone or mail', async () => {
    expect((await survey('mark', 'owb-2024', 'B1@X.nl', 'refused')).out).toEqual(['B1@X.nl: invited -> refused; no more mail goes out to this address']);
    expect((await survey('mark', 'owb-2024', 'w1@x.nl', 'not-eligible')).code).toBe(0);
    const states = await db((d) => d.selectFrom('invitees').select(['email', 'state', 'refused_on', 'not_eligible_on']).where('state', '!=', 'invited').orderBy('email').execute());
    expect(states.map((s) => [s.email, s.state])).toEqual([
      ['b1@x.nl', 'refused'],
      ['w1@x.nl', 'not_eligible'],
    ]);
    expect((await survey('mark', 'owb-2024', 'nobody@x.nl', 'refused')).err).toEqual(['nobody@x.nl is not invited to survey owb-2024']);
    expect((await survey('mark', 'owb-2024', 'r1@x.nl', 'moved')).code).toBe(2);
  });

  it('keeps answers in progress unless asked to withdraw them, and says which it did', async () => {
    await answerFirstPage('owb-2024', 'r2@x.nl');
    const marked = await survey('mark', 'owb-2024', 'r2@x.nl', 'refused');
    expect(marked.out).toEqual([
      'r2@x.nl: started -> refused; no more mail goes out to this address',
      'r2@x.nl has answered part of the questionnaire: those answers stay, and at close become a partial response if they passed the counting rule. If the invitee asked for them to be deleted: survey mark owb-2024 r2@x.nl refused --withdraw-answers',
    ]);
    const ledger = () => db((d) => d.selectFrom('invitees').select(['state', 'counted_on']).where('email', '=', 'r2@x.nl').executeTakeFirstOrThrow());
    expect(await ledger()).toEqual({ state: 'refused', counted_on: '2024-06-03' });
    expect(await db((d) => d.selectFrom('drafts').selectAll().execute())).toHaveLength(1);

    const withdrawn = await survey('mark', 'owb-2024', 'r2@x.nl', 'refused', '--withdraw-answers');
    expect([withdrawn.code, withdrawn.out]).toEqual([0, ['r2@x.nl: the answers in progress were deleted; they will not become a partial response']]);
    expect(await db((d) => d.selectFrom('drafts').selectAll().execute())).toEqual([]);
    expect(await ledger()).toEqual({ state: 'refused', counted_on: null });
    const logged = await db((d) => d.selectFrom('audit_log').select(['action', 'survey_id', 'detail']).where('action', '=', 'answers withdrawn').execute());
    expect(logged).toEqual([{ action: 'answers withdrawn', survey_id: 'owb-2024', detail: expect.stringMatching(/^invitee \d+$/) }]);

    const again = await survey('mark', 'owb-2024', 'r2@x.nl', 'refused', '--withdraw-answers');
    expect([again.code, again.err]).toEqual([1, ['r2@x.nl is refused; cannot mark refused, and there are no answers in progress to withdraw']]);
    expect((await survey('close', 'owb-2024')).out[0]).toMatch(/ 0 unfinished questionnaires kept as partial responses /);
  });
});

describe('survey close and purge', () => {
  it('refuses to purge an open survey, and asks for --yes', async () => {
    expect((await survey('purge', 'owb-2024', '--yes')).err).toEqual(['survey owb-2024 is still open: close it first (survey close owb-2024)']);
    await survey('close', 'owb-2024');
    expect((await survey('purge', 'owb-2024')).err[0]).toMatch(/Run again with --yes/);
  });

  it('after close, removes all contact data and keeps counts per stratum', async () => {
    await survey('mark', 'owb-2024', 'r1@x.nl', 'refused');
    const closed = await survey('close', 'owb-2024');
    expect(closed.out[0]).toMatch(/^owb-2024: closed; codes no longer open the questionnaire\. 0 unfinished questionnaires kept/);
    expect((await survey('purge', 'owb-2024', '--yes')).out).toEqual(['owb-2024: contact data of 6 invitees removed; counts kept for 3 strata.']);
    const left = await db(async (d) => ({
      invitees: await d.selectFrom('invitees').selectAll().execute(),
      counts: await d.selectFrom('stratum_counts').select(['stratum', 'counts']).orderBy('stratum').execute(),
    }));
    expect(left.invitees).toEqual([]);
    expect(left.counts.map((c) => [JSON.parse(c.stratum).functie, JSON.parse(c.counts).ledger.invited, JSON.parse(c.counts).ledger.refused, JSON.parse(c.counts).ledger.d.UO])).toEqual([
      ['burgemeester', 2, 0, 2],
      ['raadslid', 3, 1, 2],
      ['wethouder', 1, 0, 1],
    ]);
    expect((await survey('import', 'owb-2024', join(dir, 'frame.csv'))).err).toEqual(['survey owb-2024 is purged: nothing can be imported']);
  });
});

describe('survey schedule after fieldwork', () => {
  it('shows what went out, that nothing more will, and keeps the sent counts after purge', async () => {
    await db(async (d) => {
      const at = '2024-06-03T07:05:00.000Z';
      await d
        .insertInto('outbox')
        .values([1, 2, 3].map((id) => ({ survey_id: 'owb-2024', invitee_id: id, mailing_id: 'invitation', status: 'sent' as const, attempts: 1, next_attempt_at: at, created_at: at, sent_at: at })))
        .execute();
    });
    await survey('close', 'owb-2024');
    const closed = (await survey('schedule', 'owb-2024')).out;
    expect(closed[1]).toMatch(/; closed \w+ \d+ \w+ \d{4}, \d\d:\d\d$/);
    expect(closed.find((l) => l.startsWith('invitation'))).toMatch(/ sent 3$/);
    expect(closed.find((l) => l.startsWith('reminder1'))).toMatch(/ not sent \(closed\)$/);
    expect(closed.at(-1)).toBe('the survey is closed: no more mail goes out');
    expect(closed.join('\n')).not.toContain('would reach now');

    await survey('purge', 'owb-2024', '--yes');
    const purged = (await survey('schedule', 'owb-2024')).out;
    expect(purged[1]).toMatch(/; purged \w+ \d+ \w+ \d{4}, \d\d:\d\d$/);
    expect(purged.find((l) => l.startsWith('invitation'))).toMatch(/ sent 3$/);
    expect(purged.find((l) => l.startsWith('reminder2'))).toMatch(/ sent 0$/);
  });
});

describe('survey export', () => {
  it('writes every export into a folder, and logs it in the audit log', async () => {
    const out = join(dir, 'export');
    const result = await survey('export', 'owb-2024', '--format', 'all', '--out', out);
    expect(result.code, result.err.join('\n')).toBe(0);
    expect(result.out).toEqual([
      `${out}/owb-2024-responses.csv: responses, one row each, in random order, 0 responses`,
      `${out}/owb-2024-codebook.md: codebook (Markdown), 0 responses`,
      `${out}/owb-2024-codebook.json: codebook (JSON), 0 responses`,
      `${out}/owb-2024-responses.sps: SPSS syntax reading the CSV, 0 responses`,
      `${out}/owb-2024-topline.csv: topline per stratum, 0 responses`,
    ]);
    expect(readFileSync(join(out, 'owb-2024-responses.csv'), 'utf8').split('\n')[0]).toMatch(/^status,functie,Q1_verbale_agressie,/) // OWB 2024 was not weighted;
    const log = await db((d) => d.selectFrom('audit_log').selectAll().execute());
    expect(log.at(-1)).toMatchObject({ action: 'export', survey_id: 'owb-2024', detail: 'csv, codebook, codebook-json, sps, topline' });
    expect(log.at(-1)!.actor).toMatch(/^cli/);
  });

  it('says on stderr when weighted results miss a cell without responses', async () => {
    const weighted = join(dir, 'weighted.json');
    const { id: _id, ...rest } = JSON.parse(readFileSync(definition, 'utf8'));
    writeFileSync(weighted, JSON.stringify({ ...rest, id: 'weighted', questionnaire: new URL('../../questionnaires/owb-2024.json', import.meta.url).pathname, weighting: { cells: [{ by: ['functie'] }], target: 'invited' } }));
    expect((await survey('import', weighted, join(dir, 'frame.csv'))).code).toBe(0);
    await answerFirstPage('weighted', 'r2@x.nl');
    await survey('close', 'weighted');
    const result = await survey('export', 'weighted', '--format', 'csv');
    expect(result.code).toBe(0);
    // Invited: 2 burgemeesters, 1 wethouder, 3 raadsleden; the one (partial) response is a raadslid.
    expect(result.err).toEqual([
      'note on the weights: No responses in cells "burgemeester", "wethouder": 50% of the target is not represented. The weights are computed over the other cells (they add up to 1, the number of weighted responses), so weighted results describe those cells only. Combine such a cell with a similar one in the definition\'s weighting.cells.',
      // One response: its functie would point at one person.
      'note on the carried strata: functie is left out: fewer than 5 responses in all.',
      'note on the carried strata: The weights were computed on the strata as they are, so a weight can still tell apart values shown together.',
    ]);
    const lines = result.out.join('\n').split('\n');
    expect(lines[0]).toMatch(/^status,weight,functie,/);
    // status 2 = partial
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^2,1,,/)]);
    // As it is, when the analyst asks (and the audit log says so).
    const kept = await survey('export', 'weighted', '--format', 'csv', '--keep-small-strata');
    expect(kept.out.join('\n').split('\n').slice(1)).toEqual([expect.stringMatching(/^2,1,raadslid,/)]);
    expect(await db((d) => d.selectFrom('audit_log').select('detail').where('action', '=', 'export').orderBy('id', 'desc').executeTakeFirst())).toEqual({ detail: 'csv (small strata kept)' });
  });

  it('refuses an unknown format, and several files without a folder', async () => {
    expect((await survey('export', 'owb-2024', '--format', 'xlsx')).err).toEqual(['unknown format "xlsx": use csv, codebook, codebook-json, sps, topline, nonresponse or all']);
    expect((await survey('export', 'owb-2024', '--format', 'all')).err).toEqual(['--format all writes several files: give a folder with --out']);
  });
});

describe('survey status --by', () => {
  it('groups by other columns of the frame than the strata: response by address type within functie (sample.extra)', async () => {
    const base = JSON.parse(readFileSync(definition, 'utf8'));
    const file = join(dir, 'adres.json');
    const questionnaire = new URL('../../questionnaires/owb-2024.json', import.meta.url).pathname;
    writeFileSync(file, JSON.stringify({ ...base, id: 'adres', questionnaire, sample: { ...base.sample, extra: ['adrestype'] } }));
    const frame = join(dir, 'adres.csv');
    writeFileSync(frame, ['email;functie;adrestype', 'b1@a.nl;burgemeester;algemeen', 'b2@a.nl;burgemeester;persoonlijk', 'b3@a.nl;burgemeester;persoonlijk', 'w1@a.nl;wethouder;persoonlijk', 'w2@a.nl;wethouder;'].join('\n'));
    expect((await survey('import', file, frame)).code).toBe(0);
    await db((d) => d.updateTable('invitees').set({ state: 'submitted', submitted_on: '2024-06-04', counted_on: '2024-06-04' }).where('email', 'in', ['b2@a.nl', 'b3@a.nl', 'w1@a.nl']).execute());

    const rows = async (...args: string[]) => {
      const { code, out, err } = await survey('status', 'adres', ...args);
      expect(code, err.join('\n')).toBe(0);
      // stratum, invited, complete, response % of the invited
      return out.map((l) => l.split(',')).slice(1).map((c) => [c[0], c[1], c[6], c[10]]);
    };
    expect(await rows('--by', 'functie,adrestype', '--format', 'csv')).toEqual([
      ['burgemeester / algemeen', '1', '0', '0.0000'],
      ['burgemeester / persoonlijk', '2', '2', '1.0000'],
      ['burgemeester (subtotal)', '3', '2', '0.6667'],
      ['wethouder / persoonlijk', '1', '1', '1.0000'],
      ['wethouder / -', '1', '0', '0.0000'],
      ['wethouder (subtotal)', '2', '1', '0.5000'],
      ['total', '5', '3', '0.6000'],
    ]);
    expect(await rows('--by', 'adrestype', '--format', 'csv')).toEqual([
      ['algemeen', '1', '0', '0.0000'],
      ['persoonlijk', '3', '3', '1.0000'],
      // Left empty in the frame.
      ['-', '1', '0', '0.0000'],
      ['total', '5', '3', '0.6000'],
    ]);
    const table = (await survey('status', 'adres', '--by', 'functie,adrestype')).out;
    expect(table[0]).toBe('adres: response per functie / adrestype');

    const unknown = await survey('status', 'adres', '--by', 'functie,gemeente');
    expect([unknown.code, unknown.err]).toEqual([1, ['"gemeente" is not a column of the sample of adres: use functie, adrestype']]);

    // Purge keeps the counts per stratum only.
    expect((await survey('close', 'adres')).code).toBe(0);
    expect((await survey('purge', 'adres', '--yes')).code).toBe(0);
    const purged = await survey('status', 'adres', '--by', 'functie,adrestype');
    expect([purged.code, purged.err]).toEqual([1, ['survey adres was purged: only the counts per functie were kept, not per adrestype']]);
    expect((await rows('--by', 'functie', '--format', 'csv')).at(-1)).toEqual(['total', '5', '3', '0.6000']);
  });
});

describe('survey mark-list', () => {
  const state = async (email: string) => (await db((d) => findInviteeByEmail(d, 'owb-2024', email)))!.state;

  it('marks everyone on a list, all or none, naming every problem with its line', async () => {
    const bad = join(dir, 'weg.csv');
    writeFileSync(bad, ['\uFEFFnaam;E-mailadres', 'B. Een;b1@x.nl', 'Niemand;nobody@x.nl', 'X;geen adres', 'B. Een;B1@x.nl'].join('\r\n'));
    const refused = await survey('mark-list', 'owb-2024', bad, 'not-eligible');
    expect([refused.code, refused.err]).toEqual([
      1,
      [`${bad}:3: nobody@x.nl is not in the sample of owb-2024`, `${bad}:4: "geen adres" is not an email address`, `${bad}:5: b1@x.nl is on the list twice (also on line 2)`, 'nothing was marked: 3 problems'],
    ]);
    expect(await state('b1@x.nl')).toBe('invited');

    // One address per line, as copied from a mail.
    const list = join(dir, 'weg.txt');
    writeFileSync(list, 'B1@x.nl\n\n  w1@x.nl  \n');
    const marked = await survey('mark-list', 'owb-2024', list, 'not-eligible');
    expect([marked.code, marked.out]).toEqual([0, ['owb-2024: 2 invitees marked not-eligible; no more mail goes out to them']]);
    expect([await state('b1@x.nl'), await state('w1@x.nl'), await state('b2@x.nl')]).toEqual(['not_eligible', 'not_eligible', 'invited']);
    // Run twice, changes nothing.
    expect((await survey('mark-list', 'owb-2024', list, 'not-eligible')).out).toEqual(['owb-2024: 0 invitees marked not-eligible (2 already were); no more mail goes out to them']);
    const logged = await db((d) => d.selectFrom('audit_log').select(['action', 'detail']).where('action', '=', 'dispositions marked').execute());
    expect(logged).toEqual([
      { action: 'dispositions marked', detail: '2 invitees: not-eligible' },
      { action: 'dispositions marked', detail: '0 invitees: not-eligible' },
    ]);
  });

  it('refuses to mark as refused who completed or is not eligible, and says who has answers in progress', async () => {
    await db((d) => d.updateTable('invitees').set({ state: 'submitted', submitted_on: '2024-06-04' }).where('email', '=', 'r1@x.nl').execute());
    await survey('mark', 'owb-2024', 'r2@x.nl', 'not-eligible');
    const list = join(dir, 'nee.csv');
    writeFileSync(list, ['email', 'r1@x.nl', 'r2@x.nl', 'b2@x.nl'].join('\n'));
    const refused = await survey('mark-list', 'owb-2024', list, 'refused');
    expect(refused.err).toEqual([`${list}:2: r1@x.nl has already completed the questionnaire`, `${list}:3: r2@x.nl is marked not eligible`, 'nothing was marked: 2 problems']);

    await answerFirstPage('owb-2024', 'b2@x.nl');
    writeFileSync(list, ['email', 'b2@x.nl', 'r3@x.nl'].join('\n'));
    const marked = await survey('mark-list', 'owb-2024', list, 'refused');
    expect(marked.out).toEqual([
      'owb-2024: 2 invitees marked refused; no more mail goes out to them',
      '1 of them has answered part of the questionnaire: those answers stay, and at close become a partial response if they passed the counting rule. If someone asked for theirs to be deleted: survey mark owb-2024 <email> refused --withdraw-answers',
    ]);
    expect(await survey('mark-list', 'owb-2024', join(dir, 'nowhere.csv'), 'refused')).toMatchObject({ code: 1, err: [`${join(dir, 'nowhere.csv')}: cannot read it (ENOENT)`] });
    expect(await survey('mark-list', 'owb-2024', list, 'left')).toMatchObject({ code: 2, err: ['unknown disposition "left": use not-eligible or refused'] });
  });
});
