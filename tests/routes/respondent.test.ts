import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listResponses } from '../../server/db/responses.ts';
import { getInvitee } from '../../server/db/invitees.ts';
import { getDraft, listDrafts } from '../../server/db/drafts.ts';
import { shownBlocks, simulate, type Answers, type SampleValues } from '../../server/domain/questionnaire/index.ts';
import { answersToForm } from '../../server/domain/questionnaire/form-values.ts';
import { closeSurvey } from '../../server/usecases/answering.ts';
import { getSurvey } from '../../server/db/surveys.ts';
import { issueInvitations } from '../../server/usecases/invitations.ts';
import { checkDefinition, saveSurvey } from '../../server/usecases/surveys.ts';
import { formatCode, testDefinition, testServer, type Browser, type TestServer } from '../helpers/app.ts';
import { fieldwork } from '../helpers/fieldwork.ts';
import type { MailTransport } from '../../server/mail/transport.ts';
import { referenceQuestionnaire } from '../helpers/questionnaires.ts';

let server: TestServer;
beforeEach(async () => {
  server = await testServer();
});
afterEach(async () => {
  await server.close();
});

const burgemeester = { email: 'burgemeester@gemeente.test', sample: { functie: 'burgemeester' } };

/** Answers the page the browser is on with `answers`, as a person would fill in the form. */
async function answerPage(b: Browser, name: Parameters<typeof referenceQuestionnaire>[0], answers: Answers, action: 'next' | 'previous' = 'next') {
  const q = referenceQuestionnaire(name);
  const block = q.blocks.find((x) => x.id === b.pageId())!;
  return b.submit(answersToForm(block.items, answers), action);
}

type Walker = { answers: Answers; sample: SampleValues };

/** Respondents the simulator answers for, each invited with their sample values. */
async function simulatedRespondents(name: Parameters<typeof referenceQuestionnaire>[0], seed: number, respondents: number) {
  const walkers: Walker[] = [];
  simulate(referenceQuestionnaire(name), { respondents, seed, breakOffRate: 0, onRespondent: ({ answers, sample }) => walkers.push({ answers, sample }) });
  const invites = await server.survey(name, walkers.map((w, i) => ({ email: `r${i}@test.nl`, sample: w.sample })));
  return { walkers, invites };
}

/** The stored responses are exactly the walkers' answers, one each. */
async function expectResponsesExactly(name: string, walkers: Walker[]) {
  const stored = (await listResponses(server.app.db, name)).map((r) => JSON.parse(r.answers));
  expect(stored).toHaveLength(walkers.length);
  for (const walker of walkers) expect(stored).toContainEqual(walker.answers);
}

describe('a respondent walks a questionnaire, routed exactly as the simulator routes', () => {
  it.each([
    ['owb-2024', 1],
    ['owb-2024', 2],
    ['monitor-2024-agressie', 3],
    ['monitor-2020-pa', 4],
  ] as const)('%s (seed %i): every page answered, the response holds exactly those answers', async (name, seed) => {
    const q = referenceQuestionnaire(name);
    const { walkers, invites } = await simulatedRespondents(name, seed, 3);

    for (const [i, walker] of walkers.entries()) {
      const b = server.browser();
      await b.open(`/s/${invites[i]!.token}`);
      const seen: string[] = [];
      while (b.pageId()) {
        seen.push(b.pageId()!);
        expect(seen.length).toBeLessThanOrEqual(q.blocks.length);
        const response = await answerPage(b, name, walker.answers);
        expect(response.statusCode, `page ${seen[seen.length - 1]}: ${b.document().querySelector('.error-summary')?.text}`).toBe(200);
      }
      expect(b.heading()).toBe('Hartelijk dank');
      expect(seen).toEqual(shownBlocks(q, walker.answers, walker.sample).map((p) => p.id));
    }
    await expectResponsesExactly(name, walkers);
  });

  it.each([
    ['owb-2024', 5],
    ['monitor-2024-agressie', 6],
    ['monitor-2020-pa', 7],
  ] as const)('%s (seed %i): going back to every page and saving it as shown changes no answer', async (name, seed) => {
    const q = referenceQuestionnaire(name);
    const { walkers, invites } = await simulatedRespondents(name, seed, 2);

    for (const [i, walker] of walkers.entries()) {
      const b = server.browser();
      await b.open(`/s/${invites[i]!.token}`);
      for (let pages = 0; b.pageId(); pages++) {
        expect(pages).toBeLessThan(q.blocks.length);
        const page = b.pageId()!;
        await answerPage(b, name, walker.answers);
        if (!b.pageId()) break;
        // Back from the next page (saving it as shown), then this page again, exactly as shown:
        // every answer the page shows must come back as given.
        await b.submit(b.formAsShown(), 'previous');
        expect(b.pageId()).toBe(page);
        const again = await b.submit(b.formAsShown(), 'next');
        expect(again.statusCode, `page ${page}: ${b.document().querySelector('.error-summary')?.text}`).toBe(200);
      }
      expect(b.heading()).toBe('Hartelijk dank');
    }
    await expectResponsesExactly(name, walkers);
  });
});

describe('entering', () => {
  it('exchanges the link for a session and redirects to a URL without the code', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    const response = await b.request('GET', `/s/${invite!.token}`);
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/q');
    const cookie = String(response.headers['set-cookie']);
    expect(cookie).toMatch(/session=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax/);
    expect(cookie).not.toContain(invite!.token);
    await b.open('/q');
    expect(b.pageId()).toBe('welkom');
  });

  it('accepts the typed code in any case, with spaces or dashes', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.typeCode(` ${formatCode(invite!.code).toLowerCase().replace(/-/g, ' ')} `);
    expect(b.pageId()).toBe('welkom');
  });

  it('refuses an unknown code with the same message for every wrong code, and keeps what was typed', async () => {
    await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    for (const wrong of ['ABCD-EFGH-JKMN-PQRS', 'x', '']) {
      const response = await b.typeCode(wrong);
      expect(response.statusCode).toBe(400);
      expect(b.document().querySelector('.error-summary a')?.text).toBe('Deze code is niet bekend. Controleer de code in uw uitnodiging en probeer het opnieuw.');
      expect(b.document().querySelector('#code')?.getAttribute('value')).toBe(wrong);
    }
  });

  it('says an unknown link is not valid', async () => {
    const b = server.browser();
    const response = await b.open('/s/AAAAAAAAAAAAAAAAAAAAAAAA');
    expect(response.statusCode).toBe(404);
    expect(b.document().querySelector('.field-error')?.text).toContain('Deze link is niet (meer) geldig');
  });

  it('ends a session after 12 hours, also one whose cookie it has opened before', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    expect((await b.open('/q/p/welkom')).statusCode).toBe(200);
    server.clock.now = new Date(server.clock.now.getTime() + 11 * 3600_000);
    expect((await b.open('/q/p/welkom')).statusCode).toBe(200);
    server.clock.now = new Date(server.clock.now.getTime() + 2 * 3600_000);
    expect((await b.open('/q/p/welkom')).statusCode).toBe(401);
    expect(b.heading()).toBe('Open de vragenlijst opnieuw');
  });

  it('keeps a page posted after the session ran out: the code brings it back as filled in, to go on with', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    expect(b.pageId()).toBe('H1');
    // The page stayed open overnight; then the person answers it and goes on.
    server.clock.now = new Date(server.clock.now.getTime() + 13 * 3600_000);
    expect((await b.submit({ Q1: ['verbale_agressie', 'discriminatie'] })).statusCode).toBe(401);
    expect(b.heading()).toBe('Typ uw code om deze pagina te bewaren');
    expect((await b.submit({ code: 'AAAA-BBBB-CCCC-DDDD' })).statusCode).toBe(400);
    expect(b.document().querySelector('.error-summary a')!.text).toContain('Deze code is niet bekend');
    await b.submit({ code: formatCode(invite!.code) });
    expect(b.pageId()).toBe('H1');
    expect(b.document().querySelector('.notice')!.text).toContain('Dit is wat u op deze pagina invulde voordat uw sessie verliep');
    expect(['verbale_agressie', 'discriminatie', 'geen'].map((o) => b.document().querySelector(`#q-Q1-${o}`)!.hasAttribute('checked'))).toEqual([true, true, false]);
    // Shown, not saved yet: saved when the person goes on.
    const [draft] = await listDrafts(server.app.db, 'owb-2024');
    expect(draft!.answers).not.toContain('verbale_agressie');
    await b.submit(b.formAsShown());
    expect(b.pageId()).not.toBe('H1');
    await b.open('/q/p/H1');
    expect(b.document().querySelector('#q-Q1-verbale_agressie')!.hasAttribute('checked')).toBe(true);
  });

  it("gives a page's answers kept after the session ran out to nobody else: another code starts where that person is", async () => {
    const [invite, other] = await server.survey('owb-2024', [burgemeester, { email: 'w@x.test', sample: { functie: 'wethouder' } }]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    server.clock.now = new Date(server.clock.now.getTime() + 13 * 3600_000);
    await b.submit({ Q1: ['discriminatie'] });
    await b.submit({ code: formatCode(other!.code) });
    expect(b.pageId()).toBe('welkom');
    expect(b.document().querySelector('.notice')).toBeNull();
  });

  it('does not accept a session cookie made with another server secret, even one opened in this process', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    expect((await b.open('/q/p/welkom')).statusCode).toBe(200);
    const other = await testServer({ secret: 'another-secret-that-is-long-enough-for-hkdf-9876543210' });
    try {
      await other.survey('owb-2024', [burgemeester]);
      const stranger = other.browser();
      stranger.cookies.set('session', b.cookies.get('session')!);
      expect((await stranger.open('/q/p/welkom')).statusCode).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('asks to open the questionnaire again when there is no session', async () => {
    const b = server.browser();
    const response = await b.open('/q/p/H1');
    expect(response.statusCode).toBe(401);
    expect(b.heading()).toBe('Open de vragenlijst opnieuw');
  });
});

describe('pages', () => {
  it('shows every answer back exactly as given, a text of several lines included', async () => {
    const fixtures = new URL('../fixtures/', import.meta.url).pathname;
    const checked = checkDefinition(testDefinition('all-kinds'), fixtures);
    if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
    await saveSurvey(server.app.db, checked.survey, server.clock.now);
    const [invite] = await issueInvitations(server.app.db, server.app.secrets, 'all-kinds', [{ email: 'a@gemeente.test', sample: {} }], server.clock.now);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    await b.submit({ Q1: 'a' });
    await b.submit({ Q2: 'verbaal' });
    await b.submit({ 'Q3.thuis': 'veilig', 'Q3.werk': 'neutraal' });
    await b.submit({ Q4: '3' });
    expect(b.pageId()).toBe('p_open');
    const text = 'Eerste regel.\n  Tweede regel, ingesprongen.\n\nNa een lege regel.';
    await b.submit({ Q5: text });
    await b.submit({}, 'previous');
    expect(b.pageId()).toBe('p_open');
    // A browser reads a textarea's content without the one newline that may follow the tag.
    expect(b.document().querySelector('textarea')!.text.replace(/^\n/, '')).toBe(text);
  });

  it('renders questions accessibly: fieldset and legend, labels tied to inputs, progress', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    expect(b.pageId()).toBe('H1');
    const doc = b.document();
    expect(doc.querySelector('html')!.getAttribute('lang')).toBe('nl');
    const fieldset = doc.querySelector('fieldset#q-Q1')!;
    expect(fieldset.querySelector('legend')!.text).toContain('Heeft u in de afgelopen periode');
    const inputs = fieldset.querySelectorAll('input[type=checkbox]');
    expect(inputs).toHaveLength(7);
    for (const input of inputs) expect(doc.querySelector(`label[for="${input.id}"]`), input.id).not.toBeNull();
    // H1 is the second of the questionnaire's 12 pages, whatever the route.
    expect([doc.querySelector('progress')!.getAttribute('value'), doc.querySelector('progress')!.getAttribute('max'), doc.querySelector('#progress-label')!.text]).toEqual(['8', '100', 'Voortgang: 8%']);
    expect(doc.querySelector('script')).toBeNull();
  });

  it('re-renders an invalid page with an error summary linking to each field, keeps the input, stores nothing', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    const response = await b.submit({ Q1: ['verbale_agressie', 'geen'], 'Q1.anders': 'typed text' });
    expect(response.statusCode).toBe(422);
    const doc = b.document();
    const links = doc.querySelectorAll('.error-summary a');
    // Which question, then what is wrong with it.
    expect(links.map((a) => [a.getAttribute('href'), a.text])).toEqual([['#q-Q1-verbale_agressie', 'Heeft u in de afgelopen periode bij het uitoefenen van uw ambt te…: Dit antwoord kunt u niet combineren met andere antwoorden.']]);
    expect(doc.querySelector('#q-Q1-geen')!.getAttribute('checked')).toBe('');
    expect(doc.querySelector('#q-Q1-anders-text')!.getAttribute('value')).toBe('typed text');
    expect(doc.querySelector('title')!.text).toMatch(/^Er is een probleem/);
    const draft = (await listDrafts(server.app.db, 'owb-2024'))[0]!;
    expect(JSON.parse(draft.answers)).toEqual({});
  });

  it('requires an answer where the questionnaire says so', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    await b.submit({});
    // Said for this kind of question: several answers may be chosen.
    expect(b.document().querySelector('#q-Q1-error')!.text).toContain('Kies een of meer antwoorden.');
    expect(b.document().querySelector('#q-Q1')!.getAttribute('aria-describedby')).toBe('q-Q1-error');
  });

  it('pipes the stratum into the wording (sample field)', async () => {
    const [invite] = await server.survey('owb-2024', [{ email: 'g@p.test', sample: { functie: 'gedeputeerde' } }]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    await b.submit({ Q1: 'geen' });
    while (b.pageId() !== 'H6') await b.submit({ Q15: 'ken_niet' });
    expect(b.document().querySelector('#q-Q19 legend')!.text).toContain('Mijn provincie besteedt voldoende aandacht');
  });

  it('offers English when the questionnaire has it', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.open('/q/p/welkom?lang=en');
    expect(b.document().querySelector('html')!.getAttribute('lang')).toBe('en');
    expect(b.document().querySelector('button[value=next]')!.text).toBe('Next');
    expect(b.document().querySelector('.display-text')!.text).toMatch(/^This questionnaire is about aggression/);
  });
});

describe('asking for the invitation again on the start page', () => {
  const memory: MailTransport & { to: string[] } = {
    to: [],
    description: 'memory',
    async send(mail, finish) {
      await finish;
      this.to.push(mail.rendered.to.address);
    },
    close: () => {},
  };
  const copies = async () => (await server.app.db.selectFrom('outbox').select(['invitee_id', 'mailing_id', 'status']).where('mailing_id', 'like', 'invitation~%').orderBy('id').execute()).map((r) => `${r.invitee_id} ${r.mailing_id} ${r.status}`);
  const ask = async (email: string) => {
    const b = server.browser();
    await b.open('/lost');
    await b.submit({ email });
    return b;
  };

  it('sends it again to an address in the sample, and says the same for any other, so the page tells nobody who is in it', async () => {
    const invites = await server.survey('owb-2024', [burgemeester, { email: 'klaar@x.test', sample: { functie: 'wethouder' } }]);
    memory.to.length = 0;
    expect(await fieldwork(server, memory).run()).toMatchObject({ sent: 2 });
    const done = server.browser();
    await done.open(`/s/${invites[1]!.token}`);
    while (done.pageId()) await done.submit(done.pageId() === 'H1' ? { Q1: ['geen'] } : done.pageId() === 'H5' ? { Q15: 'goed' } : {});

    const start = server.browser();
    await start.open('/');
    expect(start.document().querySelector('main a[href="/lost"]')!.text).toBe('Geen link of code meer? Vraag de uitnodiging opnieuw aan');
    const answers = [];
    for (const email of [' Burgemeester@Gemeente.test ', 'niemand@x.test', 'klaar@x.test']) {
      const started = performance.now();
      const b = await ask(email);
      // Each answer takes at least the same time, so how long it took tells nothing either.
      expect(performance.now() - started).toBeGreaterThanOrEqual(190);
      answers.push([b.url, b.heading(), b.document().querySelector('main p')!.text]);
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]!.slice(0, 2)).toEqual(['/lost/sent', 'Uw aanvraag is ontvangen']);
    // Only the one who can still respond gets it, to the address it went to before.
    expect(await copies()).toEqual(['1 invitation~2 pending']);
    expect(await fieldwork(server, memory).run()).toMatchObject({ sent: 1 });
    expect(memory.to.at(-1)).toBe('burgemeester@gemeente.test');
    const logged = await server.app.db.selectFrom('audit_log').select(['actor', 'action', 'detail']).where('action', '=', 'mail resent').execute();
    expect(logged).toEqual([{ actor: 'respondent (start page)', action: 'mail resent', detail: 'invitee 1: invitation, asked for on the start page' }]);
  });

  it('sends it at most three times on request, and one at a time', async () => {
    await server.survey('owb-2024', [burgemeester]);
    await fieldwork(server, memory).run();
    await ask(burgemeester.email);
    await ask(burgemeester.email);
    expect(await copies()).toEqual(['1 invitation~2 pending']);
    for (let i = 0; i < 3; i++) {
      await fieldwork(server, memory).run();
      await ask(burgemeester.email);
    }
    expect(await copies()).toEqual(['1 invitation~2 sent', '1 invitation~3 sent', '1 invitation~4 sent']);
  });

  it('asks again for an address that is not one, with the error at the field', async () => {
    const b = await ask('burgemeester at gemeente');
    expect(b.last!.statusCode).toBe(422);
    expect(b.document().querySelector('.error-summary a')!.text).toBe('Vul een e-mailadres in, zoals naam@gemeente.nl');
    expect(b.document().querySelector('#email')!.getAttribute('aria-invalid')).toBe('true');
    expect(b.document().querySelector('#email')!.getAttribute('value')).toBe('burgemeester at gemeente');
  });
});

describe('whom to ask', () => {
  const footer = (b: Browser) => b.document().querySelector('footer')!.text.replace(/\s+/g, ' ').trim();
  const asked = 'Vragen over dit onderzoek? Mail naar helpdesk@bureau.test (Bureau Test, in opdracht van BZK).';

  it("names the survey's reply address and organisation on its pages, the opt-out and the thank-you page; not on the start page, which serves every survey", async () => {
    const mail = { from: 'Onderzoek <onderzoek@bureau.test>', replyTo: 'Helpdesk <helpdesk@bureau.test>', organisation: 'Bureau Test, in opdracht van BZK' };
    const [invite] = await server.survey('owb-2024', [burgemeester], { extra: { mail } });
    const b = server.browser();
    await b.open('/');
    expect(footer(b)).not.toContain('Vragen over dit onderzoek');
    await b.open(`/optout/${invite!.token}`);
    expect(footer(b)).toContain(asked);
    await b.open(`/s/${invite!.token}`);
    expect(footer(b)).toContain(asked);
    expect(b.document().querySelector('footer a')!.getAttribute('href')).toBe('mailto:helpdesk@bureau.test');
    while (b.pageId()) await b.submit(b.pageId() === 'H1' ? { Q1: ['geen'] } : b.pageId() === 'H5' ? { Q15: 'goed' } : {});
    expect(b.heading()).toBe('Hartelijk dank');
    expect(footer(b)).toContain(asked);
  });

  it('falls back on the sender when the mail has no reply address', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    expect(footer(b)).toContain('Vragen over dit onderzoek? Mail naar onderzoek@bureau.test (Bureau Test).');
  });
});

describe('going back', () => {
  it("drops a later chapter's answers when an earlier answer changes so that it no longer applies", async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    await b.submit({ Q1: ['verbale_agressie'] });
    await b.submit({ Q2: ['ondersteuning_gezocht'] });
    expect(b.pageId()).toBe('H2');
    await b.submit({ Q3: ['griffie'], 'Q5.woord1': 'snel' });
    expect(b.pageId()).toBe('H2_waardering');
    // "Vorige" twice, then change the reaction: support was not sought after all.
    await b.submit({ Q6: 'voldoende' }, 'previous');
    expect(b.pageId()).toBe('H2');
    expect(b.document().querySelector('#q-Q3-griffie')!.getAttribute('checked')).toBe('');
    await b.submit({ Q3: ['griffie'], 'Q5.woord1': 'snel' }, 'previous');
    expect(b.pageId()).toBe('H1_reactie');
    await b.submit({ Q2: ['niets'] });
    expect(b.pageId()).toBe('H3');
    const draft = (await listDrafts(server.app.db, 'owb-2024'))[0]!;
    expect(JSON.parse(draft.answers)).toEqual({ Q1: ['verbale_agressie'], Q2: ['niets'] });
  });

  it('keeps valid answers when going back from a page with an error', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    await b.submit({ Q1: ['fysieke_agressie'] });
    await b.submit({ Q2: ['ondersteuning_gezocht', 'niets'] }, 'previous');
    expect(b.pageId()).toBe('H1');
    const draft = (await listDrafts(server.app.db, 'owb-2024'))[0]!;
    expect(JSON.parse(draft.answers)).toEqual({ Q1: ['fysieke_agressie'] });
  });

  it("shows an earlier page with its answers on the browser's back button (GET), and no page beyond the furthest reached", async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    await b.submit({ Q1: ['discriminatie'] });
    await b.open('/q/p/H1');
    expect(b.document().querySelector('#q-Q1-discriminatie')!.getAttribute('checked')).toBe('');
    await b.open('/q/p/H6');
    expect(b.pageId()).toBe('H1_reactie');
  });
});

describe('save and resume', () => {
  it('continues in a new session, on another device, at the page where the respondent left', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const phone = server.browser();
    await phone.open(`/s/${invite!.token}`);
    await phone.submit({});
    await phone.submit({ Q1: ['geen'] });
    await phone.submit({ Q9: ['melden'], Q11: 'bij de politie' });
    expect(phone.pageId()).toBe('H4');

    server.clock.now = new Date('2024-06-05T20:00:00+02:00');
    const laptop = server.browser();
    await laptop.typeCode(invite!.code);
    expect(laptop.pageId()).toBe('H4');
    await laptop.open('/q/p/H3');
    expect(laptop.document().querySelector('#q-Q9-melden')!.getAttribute('checked')).toBe('');
    expect(laptop.document().querySelector('#q-Q11')!.text).toBe('bij de politie');
  });
});

describe('save and continue later', () => {
  it('keeps what the page holds, ends the session, says how to come back and until when, and resumes on that page', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    expect(b.pageId()).toBe('H1');
    // A copy of the session cookie, as someone at the same computer might keep.
    const copied = new Map(b.cookies);
    // Q1 is required: going on would not be allowed, stopping is.
    await b.submit({ Q1: ['geen'] }, 'later');
    expect(b.url).toBe('/q/saved');
    expect(b.heading()).toBe('Uw antwoorden zijn bewaard');
    const text = b.document().querySelector('main')!.text.replace(/\s+/g, ' ');
    expect(text).toContain('open de link in de uitnodiging, of typ uw code op https://enquete.test/.');
    expect(text).toContain('De vragenlijst is open tot en met dinsdag 9 juli 2024.');
    // The session ended: a shared computer does not keep the questionnaire open, also not for
    // a copy of the cookie, which would otherwise stay valid for its twelve hours.
    await b.open('/q');
    expect(b.last!.statusCode).toBe(401);
    // Not "session expired": the respondent chose to stop (Back after stopping lands here).
    await b.open('/q/p/H1');
    expect(b.heading()).toBe('Uw antwoorden zijn bewaard');
    expect(b.document().querySelector('main')!.text).toContain('U koos voor opslaan en later verder.');
    expect(b.document().querySelector('main')!.text).not.toContain('verlopen');
    const thief = server.browser();
    for (const [name, value] of copied) thief.cookies.set(name, value);
    expect((await thief.open('/q')).statusCode).toBe(401);
    expect((await thief.request('GET', '/q/p/H1')).statusCode).toBe(401);

    await b.open(`/s/${invite!.token}`);
    expect(b.pageId()).toBe('H1');
    expect(b.document().querySelector('#q-Q1-geen')!.hasAttribute('checked')).toBe(true);
    // An answer the page cannot take is not saved over the one before; nothing is lost.
    await b.submit({ Q1: ['onzin'] }, 'later');
    expect(b.heading()).toBe('Uw antwoorden zijn bewaard');
    await b.open(`/s/${invite!.token}`);
    expect(b.document().querySelector('#q-Q1-geen')!.hasAttribute('checked')).toBe(true);
    expect((await getInvitee(server.app.db, 1))!.state).toBe('started');
  });

  it('offers it on every page, beside going on and going back', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    const later = () => b.document().querySelector('button[value=later]')?.text.trim();
    expect(later()).toBe('Opslaan en later verder');
    await b.submit({});
    expect(later()).toBe('Opslaan en later verder');
  });
});

describe('submitting once', () => {
  async function finishOwb(b: Browser, token: string) {
    await b.open(`/s/${token}`);
    await b.submit({});
    await b.submit({ Q1: ['geen'] });
    while (b.pageId()) await b.submit(b.pageId() === 'H5' ? { Q15: 'goed' } : {});
  }

  it('thanks the respondent, then the code opens "already completed", and never makes a second response', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await finishOwb(b, invite!.token);
    expect(b.heading()).toBe('Hartelijk dank');
    expect(b.document().querySelector('main')!.text).toContain('Uw antwoorden zijn anoniem opgeslagen.');

    const again = server.browser();
    await again.open(`/s/${invite!.token}`);
    expect(again.heading()).toBe('U heeft deze vragenlijst al ingevuld');
    await again.typeCode(invite!.code);
    expect(again.heading()).toBe('U heeft deze vragenlijst al ingevuld');
    // The opt-out link in the invitation no longer offers to opt out.
    await again.open(`/optout/${invite!.token}`);
    expect(again.document().querySelector('main')!.text).toContain('U heeft de vragenlijst al ingevuld; uw antwoorden zijn anoniem bewaard.');
    expect(again.document().querySelector('form')).toBeNull();
    expect(await listResponses(server.app.db, 'owb-2024')).toHaveLength(1);
    const invitee = (await getInvitee(server.app.db, 1))!;
    expect([invitee.state, invitee.submitted_on]).toEqual(['submitted', '2024-06-03']);
  });

  it("asks the browser not to store its pages, so Back shows a page as it is now and a shared computer keeps no answers", async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    const start = await server.app.inject({ method: 'GET', url: '/' });
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    const page = await b.submit({ Q1: ['verbale_agressie'] });
    for (const response of [start, page]) expect(response.headers['cache-control']).toBe('no-store');
    const css = await server.app.inject({ method: 'GET', url: '/assets/site.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['cache-control']).not.toBe('no-store');
  });

  /** A respondent who answered H1 and went on, and the page H1 as it was shown before that. */
  async function pastH1() {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    const h1 = b.lastPage!;
    await b.submit({ Q1: ['verbale_agressie'] });
    expect(b.pageId()).toBe('H1_reactie');
    return { b, h1 };
  }

  it('ignores a double click and a replayed POST', async () => {
    const { b, h1 } = await pastH1();
    // The same form again, with its old version: nothing changes, the respondent stays where they are.
    const replayed = await b.replay(h1, { Q1: ['verbale_agressie'] });
    expect(b.pageId()).toBe('H1_reactie');
    expect(replayed.body).not.toContain('intussen al opgeslagen');
    const draft = (await listDrafts(server.app.db, 'owb-2024'))[0]!;
    expect(JSON.parse(draft.answers)).toEqual({ Q1: ['verbale_agressie'] });
  });

  it("saves an answer changed on an older copy of a page from this browser's own history (Back), and routes by it", async () => {
    const { b, h1: olderCopy } = await pastH1();
    // Back (from the back/forward cache: the page with the version it was shown with), a changed answer, Volgende.
    const shown = await b.replay(olderCopy, { Q1: ['geen'] });
    expect(shown.statusCode).toBe(200);
    // Routed by the new answer: past the reaction and support pages.
    expect(b.pageId()).toBe('H3');
    expect(b.document().querySelector('.notice')).toBeNull();
    expect(JSON.parse((await listDrafts(server.app.db, 'owb-2024'))[0]!.answers)).toEqual({ Q1: ['geen'] });
  });

  it('shows the page as it now stands, with a calm word why, when another device saved it meanwhile; going on from there saves', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const phone = server.browser();
    await phone.open(`/s/${invite!.token}`);
    await phone.submit({});
    expect(phone.pageId()).toBe('H1');
    // The same person on their laptop, a session of its own, answers H1 there.
    const laptop = server.browser();
    await laptop.open(`/s/${invite!.token}`);
    expect(laptop.pageId()).toBe('H1');
    await laptop.submit({ Q1: ['verbale_agressie'] });
    // Back on the phone, the page still open as it was: an answer there is not saved over the laptop's.
    const shown = await phone.submit({ Q1: ['geen'] });
    expect(shown.statusCode).toBe(409);
    expect(phone.pageId()).toBe('H1');
    expect(phone.document().querySelector('.notice')?.textContent).toContain('intussen ook op een ander apparaat of in een andere browser ingevuld');
    expect(phone.formAsShown().Q1).toEqual(['verbale_agressie']);
    expect(JSON.parse((await listDrafts(server.app.db, 'owb-2024'))[0]!.answers)).toEqual({ Q1: ['verbale_agressie'] });
    await phone.submit(phone.formAsShown());
    expect(phone.pageId()).toBe('H1_reactie');
  });

  it('refuses a replayed final page after completion', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    await b.submit({ Q1: ['geen'] });
    while (b.pageId() !== 'H6') await b.submit(b.pageId() === 'H5' ? { Q15: 'goed' } : {});
    const last = b.lastPage!;
    await b.submit({ Q19: 'eens' });
    expect(b.heading()).toBe('Hartelijk dank');
    await b.replay(last, { Q19: 'oneens' });
    expect(b.heading()).toBe('U heeft deze vragenlijst al ingevuld');
    const responses = await listResponses(server.app.db, 'owb-2024');
    expect(responses.map((r) => JSON.parse(r.answers).Q19)).toEqual(['eens']);
  });

  it('carries the configured coarse strata onto the response, nothing else', async () => {
    const [invite] = await server.survey('owb-2024', [{ email: 'r@x.test', name: 'Jan Jansen', organisation: 'Gemeente X', sample: { functie: 'raadslid' } }], { carry: ['functie'] });
    await finishOwb(server.browser(), invite!.token);
    const [response] = await listResponses(server.app.db, 'owb-2024');
    expect(JSON.parse(response!.strata)).toEqual({ functie: 'raadslid' });
    expect(response!.status).toBe('complete');
  });
});

describe('dates and opting out', () => {
  it('shows "closed" after the close date, and releases drafts at close by the counting rule', async () => {
    const invites = await server.survey('owb-2024', [burgemeester, { email: 'w@x.test', sample: { functie: 'wethouder' } }]);
    // The first reached the page with Q1 and answered it (counts); the second stopped after the welcome page.
    const first = server.browser();
    await first.open(`/s/${invites[0]!.token}`);
    await first.submit({});
    await first.submit({ Q1: ['geen'] });
    const second = server.browser();
    await second.open(`/s/${invites[1]!.token}`);

    server.clock.now = new Date('2024-07-10T09:00:00+02:00');
    await first.open(`/s/${invites[0]!.token}`);
    expect(first.last!.statusCode).toBe(410);
    expect(first.heading()).toBe('Deze vragenlijst is gesloten');

    const survey = (await getSurvey(server.app.db, 'owb-2024'))!;
    const q = await server.app.questionnaires.byHash(survey.questionnaire_hash);
    expect(await closeSurvey(server.app.db, server.app.secrets, survey, q, server.clock.now)).toEqual({ partial: 1, discarded: 0 });
    const responses = await listResponses(server.app.db, 'owb-2024');
    expect(responses.map((r) => [r.status, JSON.parse(r.answers)])).toEqual([['partial', { Q1: ['geen'] }]]);
    expect(await listDrafts(server.app.db, 'owb-2024')).toEqual([]);
  });

  it('discards drafts at close that did not pass the counting rule', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    // Saved the welcome page only, then went back to it: the furthest page is H1, where Q1 is; reset to the welcome page.
    const [draft] = await listDrafts(server.app.db, 'owb-2024');
    await server.app.db.updateTable('drafts').set({ furthest_page: 0 }).where('key', '=', draft!.key).execute();
    const survey = (await getSurvey(server.app.db, 'owb-2024'))!;
    const q = await server.app.questionnaires.byHash(survey.questionnaire_hash);
    expect(await closeSurvey(server.app.db, server.app.secrets, survey, q, server.clock.now)).toEqual({ partial: 0, discarded: 1 });
    expect(await listResponses(server.app.db, 'owb-2024')).toEqual([]);
    await b.open(`/s/${invite!.token}`);
    expect(b.heading()).toBe('Deze vragenlijst is gesloten');
  });

  it('shows "not open yet" before the survey opens', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester], { opens: '2024-06-10T08:00' });
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    expect(b.heading()).toBe('Deze vragenlijst is nog niet geopend');
    expect(b.document().querySelector('main')!.text).toContain('2024-06-10');
  });

  it('names the survey and its organisation on the start page while it is the only one open', async () => {
    await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open('/');
    expect(b.document().querySelector('.survey-about')!.text).toBe('Het onderzoek “Ondersteuningsteam Weerbaar Bestuur: ondersteuning bij agressie en intimidatie” van Bureau Test.');
    // With two open, the page cannot know whose code will be typed: it names neither.
    await server.survey('monitor-2024-agressie', [{ email: 'm@x.test', sample: {} }]);
    await b.open('/');
    expect(b.document().querySelector('.survey-about')).toBeNull();
    expect(b.document().querySelector('.site-title')!.text).toBe('Vragenlijst');
  });

  it('lets an invitee opt out, after which the code says so', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/optout/${invite!.token}`);
    expect(b.heading()).toBe('Niet meedoen aan dit onderzoek');
    // Which survey, and whose.
    expect(b.document().querySelector('.survey-about')!.text).toBe('Het onderzoek “Ondersteuningsteam Weerbaar Bestuur: ondersteuning bij agressie en intimidatie” van Bureau Test.');
    expect(b.document().querySelector('.site-title')!.text).toBe("Ondersteuningsteam Weerbaar Bestuur: ondersteuning bij agressie en intimidatie");
    await b.submit({});
    expect(b.heading()).toBe('Uw keuze is vastgelegd');
    const invitee = (await getInvitee(server.app.db, 1))!;
    expect([invitee.state, invitee.refused_on]).toEqual(['refused', '2024-06-03']);
    await b.open(`/s/${invite!.token}`);
    expect(b.heading()).toBe('U heeft aangegeven niet mee te doen');
  });

  it('lets someone who opted out take part after all, going on where they left off', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    const leftOffAt = b.pageId();
    // A one-click unsubscribe (or a click on the opt-out link by mistake); the answers stay.
    await server.app.inject({ method: 'POST', url: `/optout/${invite!.token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    await b.open(`/s/${invite!.token}`);
    expect(b.heading()).toBe('U heeft aangegeven niet mee te doen');
    expect(b.document().querySelector('main')!.text).toContain('Bedacht? U kunt alsnog meedoen.');
    // Not without the form's token.
    expect((await server.app.inject({ method: 'POST', url: '/q/take-part', headers: { cookie: [...b.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ') } })).statusCode).toBe(403);
    expect((await getInvitee(server.app.db, 1))!.state).toBe('refused');
    await b.submit({});
    expect(b.pageId()).toBe(leftOffAt);
    const invitee = (await getInvitee(server.app.db, 1))!;
    // Started again, so reminded like anyone who has not responded; still counted (the counting rule was reached).
    expect([invitee.state, invitee.refused_on, invitee.counted_on]).toEqual(['started', null, '2024-06-03']);

    // Someone who never started goes back to invited, and to the first page.
    const [other] = await server.survey('owb-2024', [{ ...burgemeester, email: 'ander@gemeente.nl' }], { id: 'owb-other' });
    const o = server.browser();
    await o.open(`/optout/${other!.token}`);
    await o.submit({});
    await o.open(`/s/${other!.token}`);
    await o.submit({});
    expect(o.pageId()).toBe('welkom');
    expect((await getInvitee(server.app.db, 2))!.state).toBe('invited');
  });

  it('accepts a one-click unsubscribe POST without a session or CSRF token', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const response = await server.app.inject({
      method: 'POST',
      url: `/optout/${invite!.token}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(response.statusCode).toBe(200);
    expect((await getInvitee(server.app.db, 1))!.state).toBe('refused');
  });

  it('says that answers in progress will be deleted, offers to go on instead, and deletes them once confirmed', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    expect((await getInvitee(server.app.db, 1))!.counted_on).toBe('2024-06-03');
    await b.open(`/optout/${invite!.token}`);
    const main = b.document().querySelector('main')!;
    expect(main.text).toContain('U heeft de vragenlijst al voor een deel ingevuld. Als u niet meedoet, worden die antwoorden verwijderd.');
    expect(main.querySelector('a[href]')!.getAttribute('href')).toBe(`/s/${invite!.token}`);
    await b.submit({});
    expect(b.heading()).toBe('Uw keuze is vastgelegd');
    expect(b.document().querySelector('main')!.text).toContain('De antwoorden die u al had gegeven, zijn verwijderd.');
    expect(await listDrafts(server.app.db, 'owb-2024')).toEqual([]);
    const invitee = (await getInvitee(server.app.db, 1))!;
    // No longer a partial response (P) but a refusal (R).
    expect([invitee.state, invitee.counted_on]).toEqual(['refused', null]);
    expect(await closeAndCountPartial()).toBe(0);
  });

  it('keeps answers in progress on a one-click unsubscribe, until the person withdraws them on the page', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    await b.submit({});
    await server.app.inject({ method: 'POST', url: `/optout/${invite!.token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    let invitee = (await getInvitee(server.app.db, 1))!;
    expect([invitee.state, invitee.counted_on]).toEqual(['refused', '2024-06-03']);
    expect(await listDrafts(server.app.db, 'owb-2024')).toHaveLength(1);
    // Later the person follows the link in the mail: the page still warns, and withdraws on confirmation.
    await b.open(`/optout/${invite!.token}`);
    expect(b.document().querySelector('main')!.text).toContain('Als u niet meedoet, worden die antwoorden verwijderd.');
    await b.submit({});
    expect(await listDrafts(server.app.db, 'owb-2024')).toEqual([]);
    invitee = (await getInvitee(server.app.db, 1))!;
    expect([invitee.state, invitee.counted_on]).toEqual(['refused', null]);
  });

  it('deletes nothing when the opt-out page showed no answers in progress', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const optOut = server.browser();
    await optOut.open(`/optout/${invite!.token}`);
    expect(optOut.document().querySelector('main')!.text).not.toContain('verwijderd');
    // Meanwhile, in another window, the person starts answering; then confirms the opt-out page.
    const answering = server.browser();
    await answering.open(`/s/${invite!.token}`);
    await answering.submit({});
    await optOut.submit({});
    expect(optOut.document().querySelector('main')!.text).not.toContain('verwijderd');
    expect(await listDrafts(server.app.db, 'owb-2024')).toHaveLength(1);
    expect(await closeAndCountPartial()).toBe(1);
  });

  it('takes an opt-out from someone whose address has since bounced: a refusal, not a bounce', async () => {
    // The invitation arrived; a later reminder bounced (mailbox full for good, say); then the
    // person follows the opt-out link in the invitation.
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    await server.app.db.updateTable('invitees').set({ state: 'bounced', bounced_on: '2024-06-11' }).where('id', '=', 1).execute();
    await server.app.inject({ method: 'POST', url: `/optout/${invite!.token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    const invitee = (await getInvitee(server.app.db, 1))!;
    expect([invitee.state, invitee.refused_on]).toEqual(['refused', '2024-06-03']);
  });
});

/** Closes the test survey; returns how many unfinished questionnaires became partial responses. */
async function closeAndCountPartial(): Promise<number> {
  const survey = (await getSurvey(server.app.db, 'owb-2024'))!;
  const { partial } = await closeSurvey(server.app.db, server.app.secrets, survey, await server.app.questionnaires.byHash(survey.questionnaire_hash), new Date('2024-06-04T12:00:00Z'));
  return partial;
}

describe('state in the ledger', () => {
  it('records opened and started as dates, and keeps the draft under its own key', async () => {
    const [invite] = await server.survey('owb-2024', [burgemeester]);
    const b = server.browser();
    await b.open(`/s/${invite!.token}`);
    let invitee = (await getInvitee(server.app.db, 1))!;
    expect([invitee.state, invitee.opened_on, invitee.started_on, invitee.counted_on]).toEqual(['invited', '2024-06-03', null, null]);
    await b.submit({});
    invitee = (await getInvitee(server.app.db, 1))!;
    // The next page holds Q1, the counting rule's question: from now on this is a response.
    expect([invitee.state, invitee.started_on, invitee.counted_on]).toEqual(['started', '2024-06-03', '2024-06-03']);
    const drafts = await listDrafts(server.app.db, 'owb-2024');
    expect(drafts).toHaveLength(1);
    expect(await getDraft(server.app.db, drafts[0]!.key)).toBeDefined();
  });
});
