// axe-core on every kind of page in a real browser: start, each item kind, an error state,
// thank-you, already completed, closed, opt-out, saved for later, a session that ran out, a lost
// invitation, sign-in and the dashboard. No serious or critical violations. Screenshots of each at
// phone and desktop width go to test-output/screenshots/.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAccount } from '../../server/db/admin-accounts.ts';
import { findInviteeByEmail } from '../../server/db/invitees.ts';
import { getSurvey } from '../../server/db/surveys.ts';
import { hashPassword } from '../../server/security/passwords.ts';
import { issueInvitations, type IssuedInvitation } from '../../server/usecases/invitations.ts';
import { recordCall } from '../../server/usecases/phoning.ts';
import { checkDefinition, saveSurvey } from '../../server/usecases/surveys.ts';
import { testDefinition, testServer, type TestServer } from '../helpers/app.ts';
import { fillPage, launchChromium, next, screenshots, seriousViolations } from '../helpers/chromium.ts';

const fixtures = new URL('../fixtures/', import.meta.url).pathname;
let server: TestServer;
let browser: Browser;
let page: Page;
let open: IssuedInvitation[];
let closed: IssuedInvitation[];

async function createSurvey(id: string, o: { opens?: string; closes?: string } = {}): Promise<IssuedInvitation[]> {
  const checked = checkDefinition(testDefinition('all-kinds', { id, ...o }), fixtures);
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  await saveSurvey(server.app.db, checked.survey, server.clock.now);
  return issueInvitations(server.app.db, server.app.secrets, id, [1, 2, 3].map((i) => ({ email: `${id}${i}@x.test`, sample: {} })), server.clock.now);
}

/** Audits the page as it is now and writes its screenshots. */
async function audit(name: string): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations, `${name}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
  await screenshots(page, name);
}

beforeAll(async () => {
  server = await testServer();
  open = await createSurvey('all-kinds');
  closed = await createSurvey('closed', { opens: '2024-05-01T09:00', closes: '2024-05-20' });
  await upsertAccount(server.app.db, 'analist@bureau.test', await hashPassword('analyst-password-1'), 'analyst', server.clock.now);
  const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
  page = await (await browser.newContext({ baseURL: base, viewport: { width: 390, height: 844 } })).newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('every page kind passes axe-core', () => {
  it('the start page, also with an error', async () => {
    await page.goto('/');
    await audit('start');
    await page.fill('#code', 'AAAA-BBBB-CCCC-DDDD');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(await page.locator('.error-summary').count()).toBe(1);
    await audit('start-error');
    // No link or code any more: the page that sends the invitation again, its error and its answer.
    await Promise.all([page.waitForNavigation(), page.click('a[href="/lost"]')]);
    await audit('lost');
    await page.fill('#email', 'geen adres');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(await page.locator('.error-summary').count()).toBe(1);
    await audit('lost-error');
    await page.fill('#email', 'all-kinds1@x.test');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(await page.locator('h1').innerText()).toBe('Uw aanvraag is ontvangen');
    await audit('lost-sent');
  });

  it('each item kind, an error state, and the thank-you and already-completed pages', async () => {
    await page.goto(`/s/${open[0]!.token}`);
    const seen: string[] = [];
    while ((await page.locator('button[name=_action][value=next]').count()) > 0) {
      const id = page.url().split('/').pop()!;
      seen.push(id);
      await audit(`item-${id.replace(/^p_/, '')}`);
      if (id === 'p_number') {
        // The error state: a number that is not one; the summary links to the field.
        await page.fill('[name=Q6]', 'veertig');
        await next(page);
        expect(await page.locator('.error-summary a').count()).toBe(1);
        await audit('error-state');
        await page.fill('[name=Q6]', '40');
      } else {
        await fillPage(page);
      }
      await next(page);
    }
    expect(seen).toEqual(['intro', 'p_single', 'p_multi', 'p_grid', 'p_scale', 'p_open', 'p_number', 'p_split', 'p_ranking', 'p_date']);
    expect(await page.locator('h1').innerText()).toBe('Hartelijk dank');
    await audit('thank-you');
    await page.goto(`/s/${open[0]!.token}`);
    expect(await page.locator('h1').innerText()).toBe('U heeft deze vragenlijst al ingevuld');
    await audit('completed');
  }, 120_000);

  it('the closed and opt-out pages', async () => {
    await page.goto(`/s/${closed[0]!.token}`);
    expect(await page.locator('h1').innerText()).toBe('Deze vragenlijst is gesloten');
    await audit('closed');
    await page.goto(`/optout/${open[1]!.token}`);
    await audit('opt-out');
    // With answers in progress: the warning, the way back to the questionnaire, and the outcome.
    await page.goto(`/s/${open[2]!.token}`);
    await next(page);
    await page.goto(`/optout/${open[2]!.token}`);
    expect(await page.locator('main strong').innerText()).toMatch(/worden die antwoorden verwijderd/);
    await audit('opt-out-in-progress');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(await page.locator('h1').innerText()).toBe('Uw keuze is vastgelegd');
    await audit('opt-out-done');
    // Back by the link: the offer to take part after all, which leads into the questionnaire.
    await page.goto(`/s/${open[2]!.token}`);
    expect(await page.locator('h1').innerText()).toBe('U heeft aangegeven niet mee te doen');
    await audit('refused-take-part');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(page.url()).toMatch(/\/q\/p\//);
    // Save and continue later: the page that says how to come back.
    await Promise.all([page.waitForNavigation(), page.click('button[value=later]')]);
    expect(await page.locator('h1').innerText()).toBe('Uw antwoorden zijn bewaard');
    await audit('saved-for-later');
    // A page posted after the session ran out: the code is asked again, the answers kept meanwhile.
    await page.goto(`/s/${open[2]!.token}`);
    server.clock.now = new Date(server.clock.now.getTime() + 13 * 3600_000);
    await next(page);
    expect(await page.locator('h1').innerText()).toBe('Typ uw code om deze pagina te bewaren');
    await audit('session-ended');
  });

  it('sign-in and the dashboard', async () => {
    await page.goto('/admin/login');
    await audit('admin-sign-in');
    await page.fill('#email', 'analist@bureau.test');
    await page.fill('#password', 'analyst-password-1');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(page.url()).toMatch(/\/admin$/);
    await audit('admin-surveys');
    // A recorded call, so that the phoning table is audited too.
    const survey = (await getSurvey(server.app.db, 'all-kinds'))!;
    await recordCall(server.app.db, survey, (await findInviteeByEmail(server.app.db, survey.id, 'all-kinds3@x.test'))!, { outcome: 'no-answer' }, server.clock.now);
    await Promise.all([page.waitForNavigation(), page.click('a[href="/admin/surveys/all-kinds"]')]);
    expect(await page.locator('table.status').count()).toBe(1);
    expect(await page.locator('table.phoning').count()).toBe(1);
    await audit('dashboard');
  }, 60_000);
});
