// /admin as fieldwork managers and analysts use it: accounts from the CLI, sign-in with CSRF and
// rate limiting, the dashboard with small cells suppressed, exports for analysts only, the audit log.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInviteeByEmail } from '../../server/db/invitees.ts';
import { getSurvey } from '../../server/db/surveys.ts';
import { recordCall } from '../../server/usecases/phoning.ts';
import { cli } from '../helpers/cli.ts';
import { testServer, type Browser, type TestServer } from '../helpers/app.ts';

const SECRET = 'test-secret-that-is-long-enough-for-hkdf-0123456789';
const PASSWORDS: Record<string, string> = { 'fw@bureau.test': 'fieldwork-password-1', 'an@bureau.test': 'analyst-password-22' };
let server: TestServer;
let env: NodeJS.ProcessEnv;
let typed = '';
const survey = cli(() => env, () => typed);

async function signIn(email: string, password = PASSWORDS[email]!): Promise<Browser> {
  const b = server.browser();
  await b.open('/admin/login');
  await b.submit({ email, password });
  return b;
}

const text = (b: Browser) => b.document().querySelector('main')!.text.replace(/\s+/g, ' ');

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'admin-'));
  env = { DATABASE_PATH: join(dir, 'db.sqlite'), SERVER_SECRET: SECRET };
  server = await testServer({ databasePath: env.DATABASE_PATH, secret: SECRET });
  for (const [email, role] of [['fw@bureau.test', 'fieldwork'], ['AN@bureau.test', 'analyst']] as const) {
    typed = PASSWORDS[email.toLowerCase()]!;
    const result = await survey('admin', 'add', email, '--role', role);
    expect(result.code, result.err.join('\n')).toBe(0);
  }
  // Six mayors (five respond) and two aldermen (one responds): the aldermen are a small stratum.
  const people = [...Array.from({ length: 6 }, (_, i) => ({ email: `b${i}@x.test`, sample: { functie: 'burgemeester' } })), ...Array.from({ length: 2 }, (_, i) => ({ email: `w${i}@x.test`, sample: { functie: 'wethouder' } }))];
  // Raadsleden are in the population table but not invited here: a cell without responses.
  const weighting = { cells: [{ by: ['functie'] }], target: 'population', population: [{ cell: { functie: 'burgemeester' }, size: 342 }, { cell: { functie: 'wethouder' }, size: 1311 }, { cell: { functie: 'raadslid' }, size: 8384 }] };
  const mailings = [
    { id: 'invitation', kind: 'invitation', at: 'P0D' },
    { id: 'reminder1', kind: 'reminder', at: 'P7D', only: { functie: ['wethouder'] } },
  ];
  const invites = await server.survey('owb-2024', people, { strata: ['functie'], carry: ['functie'], extra: { weighting }, calendar: { mailings } });
  for (const i of [0, 1, 2, 3, 4, 6]) {
    const b = server.browser();
    await b.open(`/s/${invites[i]!.token}`);
    while (b.pageId()) await b.submit(b.pageId() === 'H1' ? { Q1: ['geen'] } : b.pageId() === 'H5' ? { Q15: 'goed' } : {});
  }
});

afterAll(() => server.close());

describe('accounts', () => {
  it('are added from the CLI with a scrypt hash; short passwords are refused; the password is never printed', async () => {
    typed = 'short';
    const refused = await survey('admin', 'add', 'x@bureau.test');
    expect(refused.code).toBe(1);
    expect(refused.err.join()).toMatch(/at least 12 characters/);
    const listed = await survey('admin', 'list');
    expect(listed.out.join('\n')).toMatch(/an@bureau\.test\s+analyst/);
    const stored = server.app.db.selectFrom('admin_accounts').select(['email', 'password_hash']).execute();
    for (const a of await stored) {
      expect(a.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
      expect(a.password_hash).not.toContain(PASSWORDS[a.email]!);
    }
  });
});

describe('sign-in', () => {
  it('keeps every admin page behind a session', async () => {
    const b = server.browser();
    for (const url of ['/admin', '/admin/surveys/owb-2024', '/admin/surveys/owb-2024/export/csv', '/admin/audit']) {
      const response = await b.request('GET', url);
      expect(response.statusCode, url).toBe(303);
      expect(response.headers.location).toBe('/admin/login');
    }
  });

  it('refuses a form without its CSRF token', async () => {
    const b = server.browser();
    await b.open('/admin/login');
    const response = await b.request('POST', '/admin/login', { email: 'fw@bureau.test', password: PASSWORDS['fw@bureau.test']! });
    expect(response.statusCode).toBe(403);
  });

  it('says the same for a wrong password and an unknown account, and logs the attempt', async () => {
    const wrong = await signIn('fw@bureau.test', 'not-the-password');
    expect(wrong.last!.statusCode).toBe(401);
    expect(text(wrong)).toContain('Het e-mailadres of het wachtwoord klopt niet.');
    const unknown = await signIn('nobody@bureau.test', 'whatever-password');
    expect(unknown.last!.statusCode).toBe(401);
    expect(text(unknown)).toContain('Het e-mailadres of het wachtwoord klopt niet.');
    const log = await server.app.db.selectFrom('audit_log').selectAll().where('action', '=', 'sign-in failed').execute();
    expect(log.map((l) => l.actor)).toEqual(expect.arrayContaining(['fw@bureau.test', 'nobody@bureau.test']));
    expect(JSON.stringify(log)).not.toContain('not-the-password');
  });

  it('asks browsers and proxies to keep no copy of any admin page', async () => {
    const b = await signIn('fw@bureau.test');
    for (const url of ['/admin/login', '/admin', '/admin/surveys/owb-2024', '/admin/audit']) {
      const response = await b.request('GET', url);
      expect(response.headers['cache-control'], url).toBe('no-store');
    }
  });

  it('sets a Secure, HttpOnly, SameSite=Strict session cookie scoped to /admin', async () => {
    const b = server.browser();
    await b.open('/admin/login');
    const csrf = b.document().querySelector('input[name=_csrf]')!.getAttribute('value')!;
    const response = await b.request('POST', '/admin/login', { _csrf: csrf, email: 'fw@bureau.test', password: PASSWORDS['fw@bureau.test']! });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/admin');
    const cookie = [response.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('admin_session='))!;
    expect(cookie).toMatch(/; Path=\/admin/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    // The database holds a hash of the token, never the token.
    const token = cookie.split(';')[0]!.slice('admin_session='.length);
    const sessions = await server.app.db.selectFrom('admin_sessions').select('token_hash').execute();
    expect(sessions.some((s) => s.token_hash === token)).toBe(false);
    expect(sessions.length).toBeGreaterThan(0);
  });

  it('rate-limits sign-in attempts per client (429)', async () => {
    const limited = await testServer({ loginAttemptsPerMinute: 3 });
    try {
      const b = limited.browser();
      await b.open('/admin/login');
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) {
        const page = b.lastPage!;
        codes.push((await b.submit({ email: 'a@b.test', password: 'wrong-password' }, 'next', page)).statusCode);
      }
      expect(codes).toEqual([401, 401, 401, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('the dashboard', () => {
  it('shows response per stratum with counts below k suppressed, flags, the curve and the mailings', async () => {
    const b = await signIn('fw@bureau.test');
    expect(b.last!.statusCode).toBe(200);
    await b.open('/admin/surveys/owb-2024');
    expect(b.last!.statusCode).toBe(200);
    const doc = b.document();
    const rows = doc.querySelectorAll('table.status tbody tr').map((tr) => [tr.querySelector('th')!.text.trim(), ...tr.querySelectorAll('td').map((td) => td.text.trim())]);
    const mayors = rows.find((r) => r[0] === 'burgemeester')!;
    const aldermen = rows.find((r) => r[0] === 'wethouder')!;
    const total = rows.find((r) => r[0] === 'Totaal')!;
    // invited, bounced, opened, started, partial, complete, refused, not eligible, response %
    expect(mayors.slice(1, 10)).toEqual(['6', '0', '5', '5', '0', '5', '0', '0', '83%']);
    expect(mayors.at(-1)).toBe('onvoldoende betrouwbaar (n < 30)');
    expect(aldermen.slice(1, 10)).toEqual(['<5', '0', '<5', '<5', '0', '<5', '0', '0', '–']);
    expect(total.slice(1, 10)).toEqual(['8', '0', '6', '6', '0', '6', '0', '0', '75%']);
    // The curve: an SVG for the mayors and the total; none for the aldermen (too few responses).
    const svg = doc.querySelector('svg.curve')!;
    expect(svg.getAttribute('role')).toBe('img');
    expect(svg.text).toContain('burgemeester 83%');
    expect(svg.text).not.toContain('wethouder');
    expect(text(b)).toContain('Geen verloop getoond voor strata met minder dan 5 reacties: wethouder.');
    // The figures may lag behind the answers: the ledger learns in groups (of one, in this test server).
    expect(text(b)).toContain('komt in groepjes van ten minste 1 met dezelfde meegegeven kenmerken in deze cijfers');
    expect(text(b)).toContain('nu wachten 0 respondenten op hun groepje');
    const mailings = doc.querySelectorAll('#mailings-title + .table-wrap tbody tr').map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.text.replace(/\s+/g, ' ').trim()));
    // Not queued yet: it would reach the two who have not responded (a count below k).
    // A reminder for part of the sample says which part; it reaches nobody before the invitation went out.
    expect(mailings).toEqual([
      ['invitation (invitation)', 'ma 3 jun 2024, 00:00', 'nog te verzenden', '<5'],
      ['reminder1 (reminder) alleen voor functie: wethouder', 'ma 10 jun 2024, 00:00', 'nog te verzenden', '0'],
    ]);
    expect(text(b)).toContain('Exports zijn er alleen voor de rol analist.');
    // Weights from counts: population share / response share; the small cell shows no weight.
    const weights = doc.querySelectorAll('#weights-title ~ .table-wrap tbody tr').map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.text.trim()));
    const mayorWeight = (342 / 1653 / (5 / 6)).toFixed(2);
    expect(weights).toEqual([
      ['burgemeester', '342', '5', '3.4%', '83.3%', mayorWeight],
      ['raadslid', '8384', '0', '83.5%', '0.0%', '–'],
      ['wethouder', '1311', '<5', '13.1%', '–', '–'],
    ]);
    // The weights are renormalised over the cells with responses, and the page says so.
    expect(text(b)).toContain('Geen reacties in raadslid: 83.5% van het doel is niet vertegenwoordigd. De gewichten zijn berekend over de andere cellen');
    expect(text(b)).toContain('Doel: de populatietabel uit de onderzoeksdefinitie.');
    // Everything went out: no table of delivery problems.
    expect(doc.querySelector('#delivery-title')).toBeNull();
  });

  it('shows what did not go out, per domain and reply, with counts below k suppressed', async () => {
    const ids = await server.app.db.selectFrom('invitees').select(['id', 'email']).where('email', 'in', ['b5@x.test', 'w1@x.test']).execute();
    const at = '2024-06-03T07:05:00.000Z';
    await server.app.db
      .insertInto('outbox')
      .values(ids.map((i) => ({ survey_id: 'owb-2024', invitee_id: i.id, mailing_id: 'invitation', status: i.email.startsWith('b') ? ('failed' as const) : ('pending' as const), attempts: 1, next_attempt_at: at, created_at: at, last_error: i.email.startsWith('b') ? `554 5.7.1 <${i.email}>: rejected as spam` : '451 4.2.1 try again later' })))
      .execute();
    const b = await signIn('fw@bureau.test');
    await b.open('/admin/surveys/owb-2024');
    const doc = b.document();
    expect(doc.querySelector('#delivery-title')!.text).toBe('Niet bezorgd');
    const problems = doc.querySelectorAll('#delivery-title ~ .table-wrap tbody tr').map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.text.trim()));
    expect(problems).toEqual([
      ['mislukt', '<5', 'x.test', '554 5.7.1 <address>: rejected as spam'],
      ['volgt later', '<5', 'x.test', '451 4.2.1 try again later'],
    ]);
    // The invitation sent again at someone's request (survey resend) is counted apart, under it.
    const at2 = '2024-06-04T07:05:00.000Z';
    await server.app.db.insertInto('outbox').values({ survey_id: 'owb-2024', invitee_id: ids[0]!.id, mailing_id: 'invitation~2', status: 'sent', attempts: 1, next_attempt_at: at2, created_at: at2, sent_at: at2 }).execute();
    await b.open('/admin/surveys/owb-2024');
    const invitation = b.document().querySelectorAll('#mailings-title + .table-wrap tbody tr')[0]!.querySelectorAll('td')[1]!;
    expect(invitation.text.replace(/\s+/g, ' ').trim()).toBe('in de wachtrij <5, mislukt <5 opnieuw op verzoek: verzonden <5');
    await server.app.db.deleteFrom('outbox').execute();
  });

  it('says how many invitees had bounces come back later, per kind, with counts below k suppressed', async () => {
    const b = await signIn('fw@bureau.test');
    await b.open('/admin/surveys/owb-2024');
    expect(b.document().querySelector('#bounces-later')).toBeNull();
    const invitees = await server.app.db.selectFrom('invitees').select('id').where('survey_id', '=', 'owb-2024').limit(7).execute();
    const at = '2024-06-03T07:05:00.000Z';
    for (const [i, { id }] of invitees.entries()) {
      const outbox = await server.app.db.insertInto('outbox').values({ survey_id: 'owb-2024', invitee_id: id, mailing_id: 'invitation', status: 'sent', attempts: 1, next_attempt_at: at, created_at: at, sent_at: at }).returning('id').executeTakeFirstOrThrow();
      const kind = i < 6 ? ('hard' as const) : ('soft' as const);
      await server.app.db.insertInto('bounces').values({ survey_id: 'owb-2024', outbox_id: outbox.id, invitee_id: id, kind, status: kind === 'hard' ? '5.1.1' : '4.2.2', reason: 'test', report_key: `<r${i}@relay.test>`, received_at: at }).execute();
    }
    await b.open('/admin/surveys/owb-2024');
    expect(b.document().querySelector('#bounces-later')!.text).toMatch(/^Achteraf teruggekomen .*genodigden: 6 adres bestaat niet .*, <5 tijdelijk .*, 0 geweigerd/);
    await server.app.db.deleteFrom('bounces').execute();
    await server.app.db.deleteFrom('outbox').execute();
  });

  it('shows how phoning goes once a call is recorded, per stratum, with counts below k suppressed', async () => {
    const b = await signIn('fw@bureau.test');
    await b.open('/admin/surveys/owb-2024');
    expect(b.document().querySelector('#phoning-title')).toBeNull();
    const owb = (await getSurvey(server.app.db, 'owb-2024'))!;
    for (const [email, outcome] of [['b5@x.test', 'will-respond'], ['w1@x.test', 'no-answer']] as const) {
      await recordCall(server.app.db, owb, (await findInviteeByEmail(server.app.db, owb.id, email))!, { outcome }, server.clock.now);
    }
    await b.open('/admin/surveys/owb-2024');
    const doc = b.document();
    expect(doc.querySelector('#phoning-title')!.text).toBe('Nabellen');
    const table = (selector: string) => doc.querySelectorAll(selector).map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.text.trim()));
    expect(table('table.phoning thead tr')).toEqual([['Stratum', 'Nog te bellen', 'Gebeld', 'Niet bereikt', 'Terugbellen', 'Toegezegd', 'Verkeerd nummer', 'Geweigerd', 'Niet tot doelgroep', 'Terugbellen nu', 'Reactie na gesprek']]);
    expect(table('table.phoning tbody tr')).toEqual([
      ['burgemeester', '0', '<5', '0', '0', '<5', '0', '0', '0', '0', '0'],
      ['wethouder', '0', '<5', '<5', '0', '0', '0', '0', '0', '0', '0'],
      ['Totaal', '0', '<5', '<5', '0', '<5', '0', '0', '0', '0', '0'],
    ]);
    await server.app.db.deleteFrom('calls').execute();
  });

  it('gives exports to analysts only, as downloads, and writes them to the audit log', async () => {
    const fieldwork = await signIn('fw@bureau.test');
    expect((await fieldwork.request('GET', '/admin/surveys/owb-2024/export/csv')).statusCode).toBe(403);
    // The refusal is audited too.
    const refused = await server.app.db.selectFrom('audit_log').selectAll().where('action', '=', 'refused: analysts only').execute();
    expect(refused.at(-1)).toMatchObject({ actor: 'fw@bureau.test', survey_id: 'owb-2024', detail: '/admin/surveys/:id/export/:format' });

    const b = await signIn('an@bureau.test');
    await b.open('/admin/surveys/owb-2024');
    const links = b.document().querySelectorAll('#main a[href*="/export/"]').map((a) => a.getAttribute('href'));
    expect(links).toEqual(['csv', 'codebook', 'codebook-json', 'sps', 'topline'].map((f) => `/admin/surveys/owb-2024/export/${f}`));
    const response = await b.request('GET', '/admin/surveys/owb-2024/export/csv');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-disposition']).toBe('attachment; filename="owb-2024-responses.csv"');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body.trim().split('\n')).toHaveLength(1 + 6);
    const log = await server.app.db.selectFrom('audit_log').selectAll().where('action', '=', 'export').execute();
    expect(log.at(-1)).toMatchObject({ actor: 'an@bureau.test', survey_id: 'owb-2024', detail: 'csv, 6 responses' });
    await b.open('/admin/audit');
    const entries = b.document().querySelectorAll('tbody tr').map((tr) => tr.querySelectorAll('td').map((td) => td.text));
    expect(entries[0]!.slice(1)).toEqual(['an@bureau.test', 'export', 'owb-2024', 'csv, 6 responses']);
  });

  it('offers the telephone non-response export only for a survey with non-response questions', async () => {
    const b = await signIn('an@bureau.test');
    expect((await b.request('GET', '/admin/surveys/owb-2024/export/nonresponse')).statusCode).toBe(404);

    const nonResponse = { questions: [{ id: 'NR1', text: 'Agressie meegemaakt?', options: [{ code: 'ja', label: 'Ja' }, { code: 'nee', label: 'Nee' }] }] };
    await server.survey('owb-2024', [{ email: 'nr@x.nl', sample: { functie: 'raadslid' } }], { id: 'owb-nr', carry: ['functie'], extra: { nonResponse } });
    expect((await survey('mark', 'owb-nr', 'nr@x.nl', 'refused')).code).toBe(0);
    expect((await survey('nonresponse', 'owb-nr', 'nr@x.nl', 'NR1=nee')).code).toBe(0);
    await b.open('/admin/surveys/owb-nr');
    const link = b.document().querySelectorAll('#main a[href*="/export/"]').find((a) => a.getAttribute('href')!.endsWith('/nonresponse'))!;
    expect(link.text).toBe('Telefonisch non-responsonderzoek (CSV)');
    const response = await b.request('GET', '/admin/surveys/owb-nr/export/nonresponse');
    expect(response.headers['content-disposition']).toBe('attachment; filename="owb-nr-nonresponse.csv"');
    expect(response.body).toBe('functie,NR1\nraadslid,nee\n');
  });

  it('lists a purged survey with the counts kept at purge, not as empty', async () => {
    const people = ['p1@x.nl', 'p2@x.nl', 'p3@x.nl'].map((email) => ({ email, sample: { functie: 'raadslid' } }));
    await server.survey('owb-2024', people, { id: 'owb-purged' });
    expect((await survey('close', 'owb-purged')).code).toBe(0);
    expect((await survey('purge', 'owb-purged', '--yes')).code).toBe(0);
    const b = await signIn('fw@bureau.test');
    await b.open('/admin');
    const row = b.document().querySelectorAll('tbody tr').find((tr) => tr.text.includes('(owb-purged)'))!;
    expect(row.querySelectorAll('td').map((td) => td.text)).toEqual(['contactgegevens verwijderd', '3', '0']);
  });

  it('ends the session at sign-out and when the account is disabled', async () => {
    const b = await signIn('fw@bureau.test');
    await b.open('/admin');
    await b.submit({});
    expect(b.url).toBe('/admin/login');
    expect((await b.request('GET', '/admin')).statusCode).toBe(303);

    const a = await signIn('an@bureau.test');
    expect((await a.request('GET', '/admin')).statusCode).toBe(200);
    expect((await survey('admin', 'disable', 'an@bureau.test')).code).toBe(0);
    expect((await a.request('GET', '/admin')).statusCode).toBe(303);
    expect((await signIn('an@bureau.test')).last!.statusCode).toBe(401);
  });
});

