// Respondents in a real browser (Debian's chromium), with JavaScript on and off: the emailed link,
// routed pages, the back button, leaving and resuming in a new browser, a double submit, the end.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listResponses } from '../../server/db/responses.ts';
import type { IssuedInvitation } from '../../server/usecases/invitations.ts';
import { testServer, type TestServer } from '../helpers/app.ts';
import { answerAll, fillPage, history, launchChromium, next } from '../helpers/chromium.ts';

let server: TestServer;
let browser: Browser;
let base: string;
let owb: IssuedInvitation[];
let monitor: IssuedInvitation[];

beforeAll(async () => {
  server = await testServer();
  owb = await server.survey('owb-2024', Array.from({ length: 8 }, (_, i) => ({ email: `r${i}@gemeente.test`, sample: { functie: ['burgemeester', 'wethouder', 'raadslid', 'statenlid'][i % 4]! } })), { carry: ['functie'] });
  monitor = await server.survey('monitor-2024-agressie', Array.from({ length: 4 }, (_, i) => ({ email: `m${i}@gemeente.test`, sample: {} })));
  base = await server.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function newPage(javaScript: boolean): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ javaScriptEnabled: javaScript, baseURL: base });
  return { context, page: await context.newPage() };
}

const checkedValues = (page: Page, name: string) => page.$$eval(`input[name="${name}"]:checked`, (els) => els.map((e) => (e as HTMLInputElement).value));

async function responsesOf(surveyId: string) {
  return (await listResponses(server.app.db, surveyId)).map((r) => JSON.parse(r.answers) as Record<string, unknown>);
}

for (const javaScript of [true, false]) {
  describe(`OWB 2024 with JavaScript ${javaScript ? 'on' : 'off'}`, () => {
    it('follows the aggression route, goes back with the browser, resumes in a new browser and finishes once', async () => {
      const invite = owb[javaScript ? 0 : 1]!;
      let { context, page } = await newPage(javaScript);
      await page.goto(`/s/${invite.token}`);
      // The code leaves the address bar at once.
      expect(page.url()).not.toContain(invite.token);
      expect(await page.locator('h1').count()).toBe(1);
      await next(page); // welcome text
      await fillPage(page, { Q1: ['verbale_agressie', 'bedreiging_intimidatie'] });
      await next(page);
      expect(page.url()).toMatch(/\/q\/p\/H1_reactie$/);
      await fillPage(page, { Q2: ['ondersteuning_gezocht'] });
      await next(page);
      expect(page.url()).toMatch(/\/q\/p\/H2$/);

      // The browser's back button shows the previous page with the answers given.
      await history(page, 'back');
      expect(page.url()).toMatch(/\/q\/p\/H1_reactie$/);
      expect(await checkedValues(page, 'Q2')).toEqual(['ondersteuning_gezocht']);
      await history(page, 'forward');
      expect(page.url()).toMatch(/\/q\/p\/H2$/);

      // Close the browser, open the link in a new one: the same page, answers kept.
      await context.close();
      ({ context, page } = await newPage(javaScript));
      await page.goto(`/s/${invite.token}`);
      expect(page.url()).toMatch(/\/q\/p\/H2$/);
      await page.goto('/q/p/H1');
      expect(await checkedValues(page, 'Q1')).toEqual(['verbale_agressie', 'bedreiging_intimidatie']);
      await page.goto('/q/p/H2');

      // A double click on "Volgende" moves one page on and saves once.
      await fillPage(page);
      // The second click aborts the first navigation in the browser (both posts reach the
      // server); wait for where the page ends up rather than for either navigation.
      await page.dblclick('button[name=_action][value=next]');
      for (let i = 0; i < 200 && !/\/q\/p\/H2_waardering$/.test(page.url()); i++) await page.waitForTimeout(25);
      await page.waitForLoadState('load');
      expect(page.url()).toMatch(/\/q\/p\/H2_waardering$/);
      expect(await page.locator('.error-summary').count()).toBe(0);

      await answerAll(page, { Q15: 'goed' });
      expect(await page.locator('h1').innerText()).toBe('Hartelijk dank');
      await page.goto(`/s/${invite.token}`);
      expect(await page.locator('h1').innerText()).toBe('U heeft deze vragenlijst al ingevuld');
      await context.close();

      const stored = (await responsesOf('owb-2024')).filter((a) => Array.isArray(a.Q1) && (a.Q1 as string[]).includes('bedreiging_intimidatie'));
      expect(stored.length).toBeGreaterThanOrEqual(1);
      expect(stored.at(-1)).toMatchObject({ Q1: ['verbale_agressie', 'bedreiging_intimidatie'], Q2: ['ondersteuning_gezocht'], Q15: 'goed' });
    }, 120_000);

    it("Back, change the answer, Volgende: the next page by the new answer, no error", async () => {
      const invite = owb[javaScript ? 4 : 5]!;
      const { context, page } = await newPage(javaScript);
      await page.goto(`/s/${invite.token}`);
      await next(page);
      await fillPage(page, { Q1: ['verbale_agressie'] });
      await next(page);
      expect(page.url()).toMatch(/\/q\/p\/H1_reactie$/);
      await history(page, 'back');
      expect(page.url()).toMatch(/\/q\/p\/H1$/);
      await page.uncheck('input[name="Q1"][value="verbale_agressie"]');
      await page.check('input[name="Q1"][value="geen"]');
      // Chromium may restore the page from its back/forward cache (no-store does not always keep
      // it out), with the version it was first shown with: it is this session's own page, so it
      // simply saves.
      await next(page);
      expect(await page.locator('.notice, .error-summary').count()).toBe(0);
      // The changed answer counts: the short route, past the reaction and support pages.
      expect(page.url()).toMatch(/\/q\/p\/H3$/);
      await context.close();
    }, 120_000);

    it("a copy of an earlier page kept by the browser (as its back/forward cache keeps it): change the answer, Volgende: saved, and routed by the new answer", async () => {
      // Chromium 156 does not restore pages sent with no-store from its back/forward cache
      // (notRestoredReasons: response-cache-control-no-store); Safari and others may. What such a
      // restored page posts, the form with the version it was first shown with, is what a second
      // tab of the same browser, opened on that page before the respondent went on, posts too.
      const invite = owb[javaScript ? 6 : 7]!;
      const { context, page } = await newPage(javaScript);
      await page.goto(`/s/${invite.token}`);
      await next(page);
      const kept = await context.newPage();
      await kept.goto('/q/p/H1');
      await fillPage(page, { Q1: ['verbale_agressie'] });
      await next(page);
      expect(page.url()).toMatch(/\/q\/p\/H1_reactie$/);
      await kept.check('input[name="Q1"][value="geen"]');
      await next(kept);
      expect(await kept.locator('.notice, .error-summary').count()).toBe(0);
      expect(kept.url()).toMatch(/\/q\/p\/H3$/);
      await context.close();
    }, 120_000);

    it('follows the short route (no aggression) after typing the code on the start page', async () => {
      const invite = owb[javaScript ? 2 : 3]!;
      const { context, page } = await newPage(javaScript);
      await page.goto('/');
      await page.fill('#code', invite.code.toLowerCase().replace(/-/g, ' '));
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      await next(page);
      await fillPage(page, { Q1: ['geen'] });
      await next(page);
      // Routing skipped the reaction and support pages.
      expect(page.url()).toMatch(/\/q\/p\/H3$/);
      await answerAll(page, { Q15: 'ken_niet' });
      expect(await page.locator('h1').innerText()).toBe('Hartelijk dank');
      await context.close();
    }, 120_000);
  });
}

describe('Monitor 2024 in a real browser', () => {
  it('walks the whole questionnaire to the end', async () => {
    const { context, page } = await newPage(true);
    await page.goto(`/s/${monitor[0]!.token}`);
    const pages = await answerAll(page, { Q43: '52' });
    expect(pages).toBeGreaterThan(5);
    expect(await page.locator('h1').innerText()).toBe('Hartelijk dank');
    await context.close();
    expect(await responsesOf('monitor-2024-agressie')).toHaveLength(1);
  }, 180_000);
});

describe('keyboard only', () => {
  it('completes the OWB questionnaire with Tab, Space and Enter', async () => {
    const { context, page } = await newPage(true);
    await page.goto(`/s/${owb[4]!.token}`);
    // Tab to a control and act on it, as someone without a mouse does.
    const tabTo = async (selector: string) => {
      for (let i = 0; i < 80; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
      }
      throw new Error(`Tab never reached ${selector} on ${page.url()}`);
    };
    const submit = async () => {
      await tabTo('button[value=next]');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    };
    let guard = 0;
    while ((await page.locator('button[value=next]').count()) > 0 && guard++ < 40) {
      const ids = await page.$$eval('main form input[type=checkbox], main form input[type=radio]', (els) => [...new Set(els.map((e) => (e as HTMLInputElement).name))]);
      for (const name of ids) {
        const value = name === 'Q1' ? 'geen' : await page.$eval(`input[name="${name}"]`, (e) => (e as HTMLInputElement).value);
        // Q1: "geen" among the check boxes; a radio group takes focus on its first radio.
        await tabTo(`input[name="${name}"]${name === 'Q1' ? '[value="geen"]' : ''}`);
        await page.keyboard.press('Space');
        expect(await page.$eval(`input[name="${name}"][value="${value}"]`, (e) => (e as HTMLInputElement).checked)).toBe(true);
      }
      await submit();
    }
    expect(await page.locator('h1').innerText()).toBe('Hartelijk dank');
    await context.close();
  }, 180_000);
});
