// Hostile requests: forged forms (CSRF), script in questionnaire texts, piped answers and
// "anders, namelijk" texts, guessed codes, malformed and oversized bodies; and the headers and
// cookies that keep the code out of referrers and pages out of frames.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listResponses } from '../../server/db/responses.ts';
import { MailTemplates } from '../../server/mail/render.ts';
import { issueInvitations, type IssuedInvitation } from '../../server/usecases/invitations.ts';
import { planOf } from '../../server/usecases/fieldwork.ts';
import { checkDefinition, saveSurvey, TEMPLATES_DIR } from '../../server/usecases/surveys.ts';
import { getSurvey } from '../../server/db/surveys.ts';
import { responseCurveSvg } from '../../server/routes/admin/response-curve-svg.ts';
import { testDefinition, testServer, type TestServer } from '../helpers/app.ts';
import { typedText } from '../../server/domain/questionnaire/form-values.ts';

const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const SCRIPT = '<img src=x onerror=alert(1)>';
let server: TestServer;
let invites: IssuedInvitation[];

beforeAll(async () => {
  server = await testServer();
  invites = await hostileSurvey(server);
});

async function hostileSurvey(on: TestServer): Promise<IssuedInvitation[]> {
  const checked = checkDefinition(testDefinition('hostile', { carry: ['functie'], strata: ['functie'] }), fixtures);
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  await saveSurvey(on.app.db, checked.survey, on.clock.now);
  return issueInvitations(
    on.app.db,
    on.app.secrets,
    'hostile',
    Array.from({ length: 6 }, (_, i) => ({ email: `p${i}@x.test`, name: `Jan ${SCRIPT}`, organisation: `Gemeente <b>X</b>`, sample: { functie: 'raadslid' } })),
    on.clock.now,
  );
}

afterAll(() => server.close());

const draftCount = async () => (await server.app.db.selectFrom('drafts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())!.n;

describe('CSRF', () => {
  it('refuses every state-changing form without its token, and stores nothing', async () => {
    const b = server.browser();
    await b.open(`/s/${invites[0]!.token}`);
    const before = await draftCount();
    const forged: [string, Record<string, string>][] = [
      ['/start', { code: invites[1]!.code }],
      ['/q/p/p1', { Q1: 'ja', _version: '0', _action: 'next' }],
      ['/admin/login', { email: 'a@b.test', password: 'x' }],
      ['/admin/logout', {}],
    ];
    for (const [url, form] of forged) {
      const response = await b.request('POST', url, form);
      expect(response.statusCode, url).toBe(403);
    }
    // A token from another browser does not work either.
    const other = server.browser();
    await other.open('/');
    const token = other.document().querySelector('input[name=_csrf]')!.getAttribute('value')!;
    expect((await b.request('POST', '/q/p/p1', { _csrf: token, Q1: 'ja', _version: '0', _action: 'next' })).statusCode).toBe(403);
    expect(await draftCount()).toBe(before);
  });
});

describe('texts a respondent types', () => {
  it('are shown literally where they are piped: **x** is not bold', async () => {
    const b = server.browser();
    await b.open(`/s/${invites[5]!.token}`);
    await b.submit({ Q1: 'anders', 'Q1.anders': '**vet** en *schuin*' });
    const question = b.document().querySelector('#main')!.innerHTML;
    expect(question).toContain('U schreef: **vet** en *schuin*.');
    expect(question).not.toContain('<strong>vet</strong>');
  });

  it('hold no NUL or line break in a one-line box (a hostile client sent them); a text area keeps its line breaks', async () => {
    const b = server.browser();
    await b.open(`/s/${invites[2]!.token}`);
    await b.submit({ Q1: 'anders', 'Q1.anders': 'een\u0000\r\nregel\nverder\tnog' });
    await b.submit({ Q2: 'eerste\r\ntweede\u0000\rderde' }, 'previous');
    const draft = await server.app.db.selectFrom('drafts').select('answers').where('survey_id', '=', 'hostile').where('answers', 'like', '%eerste%').executeTakeFirstOrThrow();
    const answers = JSON.parse(draft.answers) as Record<string, string>;
    expect(answers['Q1.anders']).toBe('een regel verder nog');
    expect(answers.Q2).toBe('eerste tweede derde');
    // A text area (multiline) keeps line breaks, as \n.
    expect(typedText('eerste\r\ntweede\u0000\rderde\u2028vierde', true)).toBe('eerste\ntweede\nderde\nvierde');
  });
});

describe('script in texts and answers', () => {
  it('escapes questionnaire texts, option labels, piped answers, "anders" texts and sample labels on every page', async () => {
    const b = server.browser();
    await b.open(`/s/${invites[2]!.token}`);
    const first = b.last!.body;
    expect(first).not.toContain("<script>alert('titel')</script>");
    expect(first).toContain('&lt;script&gt;');
    expect(first).not.toContain("<img src=x onerror=alert('vraag')>");
    // Text that tries to close the value attribute stays inside it when the page comes back.
    await b.submit({ Q1: 'anders', 'Q1.anders': `"><script>alert(2)</script>` });
    await b.open('/q/p/p1');
    expect(b.last!.body).not.toContain('"><script>alert(2)');
    expect(b.last!.body).toContain('value="&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"');
    await b.submit({ Q1: 'anders', 'Q1.anders': SCRIPT });
    const second = b.last!.body;
    expect(b.pageId()).toBe('p2');
    expect(second).not.toContain(SCRIPT);
    expect(second).toContain('U schreef: &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(second).toContain('Raadslid &lt;b&gt;vet&lt;/b&gt;');
    await b.submit({ Q2: `</textarea><script>alert(3)</script>` });
    expect(b.last!.body).not.toMatch(/<script>alert/);
    const stored = (await listResponses(server.app.db, 'hostile')).map((r) => JSON.parse(r.answers));
    // Stored as typed: escaping is the job of whatever displays it.
    expect(stored).toContainEqual({ Q1: 'anders', 'Q1.anders': SCRIPT, Q2: `</textarea><script>alert(3)</script>` });
  });

  it('escapes merge fields in the HTML mail', async () => {
    const survey = (await getSurvey(server.app.db, 'hostile'))!;
    const { definition, plan } = planOf(survey);
    const invitee = await server.app.db.selectFrom('invitees').selectAll().where('email', '=', 'p0@x.test').executeTakeFirstOrThrow();
    const mail = new MailTemplates(TEMPLATES_DIR).render({ definition, mailing: plan.mailings[0]!, invitee, code: invites[0]!.code, token: invites[0]!.token, publicUrl: 'https://enquete.test', closesAt: plan.closesAt, messageId: '<x@enquete.test>' });
    expect(mail.html).not.toContain(SCRIPT);
    expect(mail.html).toContain('Jan &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(mail.html).not.toContain('<b>X</b>');
  });


  it('escapes stratum values in the dashboard chart', () => {
    const series = { label: `<script>alert(1)</script>`, invited: 10, responses: 6, cumulative: [2, 6] };
    const svg = responseCurveSvg({ days: ['2024-06-03', '2024-06-04'], mailings: [{ id: 'a"<b>', day: '2024-06-03' }], total: series, series: [series], suppressed: [] }, { title: '<i>t</i>', total: 'Totaal' });
    expect(svg).not.toMatch(/<script|<i>|<b>/);
    expect(svg).toContain('&#60;script&#62;');
  });
});

describe('guessing codes', () => {
  it('rate-limits wrong codes per client with a 429 that never says whether a code exists', async () => {
    const limited = await testServer({ codeAttemptsPerMinute: 3 });
    const codes = await hostileSurvey(limited);
    const b = limited.browser();
    const statuses: number[] = [];
    for (const code of ['AAAA-AAAA-AAAA-AAAA', 'BBBB-BBBB-BBBB-BBBB', 'CCCC-CCCC-CCCC-CCCC']) statuses.push((await b.typeCode(code)).statusCode);
    expect(statuses).toEqual([400, 400, 400]);
    expect(b.last!.body).toContain('Deze code is niet bekend');
    // Now even a valid code or link gets the same 429.
    const limitedValid = await b.typeCode(codes[3]!.code);
    expect(limitedValid.statusCode).toBe(429);
    const limitedWrong = await b.typeCode('DDDD-DDDD-DDDD-DDDD');
    expect(limitedWrong.statusCode).toBe(429);
    expect(limitedValid.body).toBe(limitedWrong.body);
    expect((await b.request('GET', `/s/${codes[3]!.token}`)).statusCode).toBe(429);
    await limited.close();
  });
});

describe('malformed and hostile bodies', () => {
  it('answers a clear 400 page and stores nothing', async () => {
    const b = server.browser();
    await b.open(`/s/${invites[4]!.token}`);
    const csrf = b.document().querySelector('input[name=_csrf]')!.getAttribute('value')!;
    const cookie = [...b.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ');
    const before = await draftCount();
    const post = (payload: string, type = 'application/x-www-form-urlencoded') => server.app.inject({ method: 'POST', url: '/q/p/p1', headers: { cookie, 'content-type': type }, payload });

    const oversized = await post(`_csrf=${csrf}&_version=0&_action=next&Q1=anders&Q1.anders=${'x'.repeat(70 * 1024)}`);
    expect(oversized.statusCode).toBe(400);
    expect(oversized.body).toContain('<h1>');
    expect(oversized.headers['content-type']).toMatch(/^text\/html/);
    const json = await post(JSON.stringify({ _csrf: csrf, Q1: 'ja' }), 'application/json');
    expect(json.statusCode).toBe(400);
    const garbage = await post('%%%&&&==\u0000', 'application/x-www-form-urlencoded');
    expect([400, 403]).toContain(garbage.statusCode);
    const pollution = await post(`_csrf=${csrf}&_version=0&_action=next&__proto__[polluted]=1&constructor[prototype][polluted]=1&Q1=ja`);
    expect(pollution.statusCode).toBeLessThan(500);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await draftCount()).toBe(before + (pollution.statusCode === 303 ? 1 : 0));
    for (const r of [oversized, json]) expect(r.body).not.toMatch(/at .*\.ts:\d+/); // no stack traces
  });
});

describe('headers and cookies', () => {
  it('sends a CSP without inline scripts, forbids framing, leaks no referrer, and marks cookies', async () => {
    const b = server.browser();
    const response = await b.request('GET', `/s/${invites[5]!.token}`);
    const page = await b.open('/q');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).not.toMatch(/<script/i);
    const session = [response.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('session='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; Secure/);
    expect(session).toMatch(/; SameSite=Lax/);
    // The code leaves the URL at once.
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).not.toContain(invites[5]!.token);
  });
});
