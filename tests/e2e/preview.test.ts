// The questionnaire preview (/admin/preview) in a real browser: each reference questionnaire with
// two different sample profiles (or answer profiles), walked to the end and every page reached by
// its jump link, with why each page and question is shown; axe satisfied; nothing stored.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAccount } from '../../server/db/admin-accounts.ts';
import { saveQuestionnaireVersion } from '../../server/db/questionnaire-versions.ts';
import { hashPassword } from '../../server/security/passwords.ts';
import { testServer, type TestServer } from '../helpers/app.ts';
import { answerAll, launchChromium, SCREENSHOTS, seriousViolations, type Wanted } from '../helpers/chromium.ts';
import { readFileSync } from 'node:fs';

const NAMES = ['owb-2024', 'monitor-2024-agressie', 'monitor-2020-pa'] as const;
let server: TestServer;
let browser: Browser;
let page: Page;
const hashes = new Map<string, string>();

beforeAll(async () => {
  server = await testServer();
  for (const name of NAMES) {
    const source = readFileSync(new URL(`../../questionnaires/${name}.json`, import.meta.url), 'utf8');
    const { id, version } = JSON.parse(source) as { id: string; version: string };
    hashes.set(name, await saveQuestionnaireVersion(server.app.db, { id, version, source }, server.clock.now));
  }
  await upsertAccount(server.app.db, 'auteur@bureau.test', await hashPassword('author-password-1'), 'analyst', server.clock.now);
  await upsertAccount(server.app.db, 'veldwerk@bureau.test', await hashPassword('fieldwork-password-1'), 'fieldwork', server.clock.now);
  const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
  page = await (await browser.newContext({ baseURL: base, viewport: { width: 390, height: 844 } })).newPage();
  await page.goto('/admin/login');
  await page.fill('#email', 'auteur@bureau.test');
  await page.fill('#password', 'author-password-1');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Two profiles each: the first and the last value of every sample field, and two ways of answering. */
const PROFILES: Record<(typeof NAMES)[number], { sample: 'first' | 'last'; wanted: Wanted }[]> = {
  'owb-2024': [
    { sample: 'first', wanted: {} },
    { sample: 'last', wanted: { Q1: ['geen'] } },
  ],
  'monitor-2024-agressie': [
    { sample: 'first', wanted: { Q43: '52' } },
    { sample: 'last', wanted: { Q1: 'provincie', Q43: '48', 'Q5.verbaal': 'eenmalig', 'Q6.offline': '1', 'Q6.online': '0' } },
  ],
  'monitor-2020-pa': [
    { sample: 'first', wanted: {} },
    { sample: 'last', wanted: { Q1: 'waterschap' } },
  ],
};

describe('the questionnaire preview', () => {
  it.each(NAMES)('%s: walked to the end with two profiles, every page reached, nothing stored', async (name) => {
    const hash = hashes.get(name)!;
    await page.goto('/admin/preview');
    expect(await page.locator(`a[href="/admin/preview/${hash}"]`).count()).toBe(1);
    const walked = new Set<string>();
    for (const profile of PROFILES[name]) {
      await page.goto(`/admin/preview/${hash}`);
      // Choose the sample values in the form, and start.
      for (const select of await page.locator('.preview-sample select').all()) {
        const values = await select.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
        await select.selectOption(profile.sample === 'first' ? values[0]! : values.at(-1)!);
      }
      if ((await page.locator('.preview-sample select').count()) > 0) await Promise.all([page.waitForNavigation(), page.click('.preview-sample button')]);
      expect(await page.locator('.preview-banner').innerText()).toContain('Voorbeeld, niet de echte vragenlijst.');
      await answerAll(page, profile.wanted, async (p) => {
        walked.add(decodeURIComponent(new URL(p.url()).searchParams.get('page') ?? ''));
      });
      expect(await page.locator('h1').innerText()).toBe('Einde van de vragenlijst');
    }
    expect(walked.size).toBeGreaterThan(3);
    // Every page by its jump link, with why it is shown where it has a condition.
    const jumps = await page.locator('.preview-pages a').evaluateAll((as) => as.map((a) => [a.textContent!, (a as HTMLAnchorElement).getAttribute('href')!]));
    const q = JSON.parse(readFileSync(new URL(`../../questionnaires/${name}.json`, import.meta.url), 'utf8')) as { blocks: { id: string; showIf?: string; items: { id: string; type: string; showIf?: string }[] }[] };
    expect(jumps.map(([id]) => id)).toEqual(q.blocks.map((b) => b.id));
    for (const [id, href] of jumps) {
      const response = await page.goto(href!);
      expect(response!.status(), id).toBe(200);
      expect(await page.locator('a[aria-current=page]').innerText()).toBe(id);
      const block = q.blocks.find((b) => b.id === id)!;
      // Why the page and each question with a condition is shown; those these answers leave out, listed with when they would be.
      const whys = await page.locator('.preview-why').allInnerTexts();
      const hidden = await page.locator('.preview-hidden li').allInnerTexts();
      const conditions = (block.showIf ? 1 : 0) + block.items.filter((i) => i.showIf).length;
      expect(whys.length + hidden.length, id).toBe(conditions);
      for (const why of whys) expect(why).toMatch(/^Alleen als /);
      for (const h of hidden) expect(h).toMatch(/^\w+: Alleen als /);
      // The page's questions are there, whatever the page's own condition.
      for (const item of block.items.filter((i) => !i.showIf && i.type !== 'display')) expect(await page.locator(`#q-${item.id}`).count(), `${id} ${item.id}`).toBeGreaterThan(0);
    }
    // Nothing of it was stored.
    for (const table of ['drafts', 'responses', 'invitees', 'submissions'] as const) {
      expect((await server.app.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n, table).toBe(0);
    }
  }, 180_000);

  it('passes axe, and is for analysts only', async () => {
    await page.goto(`/admin/preview/${hashes.get('monitor-2024-agressie')!}?page=C_ernst`);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SCREENSHOTS}preview-C_ernst-390.png`, fullPage: true });
    const other = await (await browser.newContext({ baseURL: new URL(page.url()).origin })).newPage();
    await other.goto('/admin/login');
    await other.fill('#email', 'veldwerk@bureau.test');
    await other.fill('#password', 'fieldwork-password-1');
    await Promise.all([other.waitForNavigation(), other.click('button[type=submit]')]);
    const refused = await other.goto('/admin/preview');
    expect(refused!.status()).toBe(403);
    expect((await other.goto(`/admin/preview/${hashes.get('owb-2024')!}/print`))!.status()).toBe(403);
  }, 60_000);

  it('gives the version on paper from the list, for the sign-off', async () => {
    await page.goto('/admin/preview');
    const hash = hashes.get('owb-2024')!;
    await Promise.all([page.waitForNavigation(), page.click(`a[href="/admin/preview/${hash}/print"]`)]);
    expect(await page.locator('h1').innerText()).toBe('Ondersteuningsteam Weerbaar Bestuur: ondersteuning bij agressie en intimidatie');
    expect(await page.locator('.only-if').count()).toBeGreaterThan(0);
    // Its own stylesheet applies (the page's CSP lets its inline style through, nothing else).
    expect(await page.evaluate(() => getComputedStyle(document.body).maxWidth)).toBe('768px');
    expect(await seriousViolations(page)).toEqual([]);
  }, 60_000);
});
