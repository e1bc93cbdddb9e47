// Real-browser helpers: Debian's chromium driven by playwright-core (no browser downloads), an
// accessibility audit with axe-core, screenshots, and a respondent who fills in any page.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = new URL('../../test-output/screenshots/', import.meta.url).pathname;
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
    // Playwright turns the back/forward cache off; respondents' browsers have it, and it decides
    // what the Back button shows.
    ignoreDefaultArgs: ['--disable-back-forward-cache'],
  });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core on the page (through the DevTools protocol, so the page's CSP and a disabled
 * JavaScript do not stop it) and returns the serious and critical violations.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated as a whole script through the DevTools protocol: the page's CSP (no eval) does not apply.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Screenshots of the page at phone and desktop width, as test-output/screenshots/<name>-<width>.png. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const original = page.viewportSize();
  for (const size of [PHONE, DESKTOP]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: `${SCREENSHOTS}${name}-${size.width}.png`, fullPage: true });
  }
  if (original) await page.setViewportSize(original);
}

export type Wanted = Record<string, string | string[]>;

interface Field {
  tag: string;
  type: string;
  name: string;
  value: string;
  inputmode: string | null;
  options: number;
}

/**
 * Answers every question on the page as a respondent would, by clicking and typing: `wanted`
 * names the values to choose per field name (radio value, checkbox values, text); otherwise
 * the first option, the first places of a ranking, "1" for numbers and a short text.
 */
export async function fillPage(page: Page, wanted: Wanted = {}): Promise<void> {
  const fields: Field[] = await page.$$eval('main form[method=post] input:not([type=hidden]), main form[method=post] select, main form[method=post] textarea', (els) =>
    els.map((e) => ({
      tag: e.tagName.toLowerCase(),
      type: (e as HTMLInputElement).type,
      name: e.getAttribute('name') ?? '',
      value: (e as HTMLInputElement).value,
      inputmode: e.getAttribute('inputmode'),
      options: e.tagName === 'SELECT' ? (e as HTMLSelectElement).options.length - 1 : 0,
    })),
  );
  const choiceNames = new Set(fields.filter((f) => f.type === 'radio' || f.type === 'checkbox').map((f) => f.name));
  const done = new Set<string>();
  const selects = fields.filter((f) => f.tag === 'select');
  for (const f of fields) {
    if (done.has(f.name) && f.tag !== 'select') continue;
    const want = wanted[f.name];
    if (f.type === 'radio') {
      done.add(f.name);
      await page.check(`input[name="${f.name}"][value="${typeof want === 'string' ? want : f.value}"]`);
    } else if (f.type === 'checkbox') {
      done.add(f.name);
      for (const v of want === undefined ? [f.value] : [want].flat()) await page.check(`input[name="${f.name}"][value="${v}"]`);
    } else if (f.tag === 'select') {
      // A ranking: the first N options get places 1..N (N = the places offered).
      const group = selects.filter((s) => s.name.split('.')[0] === f.name.split('.')[0]);
      const index = group.indexOf(f);
      const place = want !== undefined ? String(want) : index < f.options ? String(index + 1) : '';
      await page.selectOption(`select[name="${f.name}"]`, place);
    } else {
      done.add(f.name);
      // The text of an "anders, namelijk" option: only when asked for.
      if (want === undefined && f.name.includes('.') && choiceNames.has(f.name.split('.')[0]!)) continue;
      const value = want !== undefined ? String(want) : f.type === 'date' ? '2024-05-01' : f.inputmode ? '1' : 'Een antwoord';
      await page.fill(`[name="${f.name}"]`, value);
    }
  }
}

export async function next(page: Page): Promise<void> {
  await Promise.all([page.waitForLoadState('load'), page.click('button[name=_action][value=next]')]);
}

/** Fills and submits pages until the questionnaire ends; `perPage` gives answers per field name. */
export async function answerAll(page: Page, wanted: Wanted = {}, onPage?: (page: Page) => Promise<void>): Promise<number> {
  let pages = 0;
  while ((await page.locator('button[name=_action][value=next]').count()) > 0) {
    await onPage?.(page);
    const before = page.url();
    await fillPage(page, wanted);
    await next(page);
    if ((await page.locator('.error-summary').count()) > 0) throw new Error(`page ${before} did not accept the answers: ${(await page.locator('.error-summary').innerText()).replace(/\s+/g, ' ')}`);
    if (++pages > 200) throw new Error('the questionnaire does not end');
  }
  return pages;
}

/**
 * The browser's back (or forward) button. Chromium may swap the page's renderer on a history
 * navigation (back/forward cache); Playwright then reports "Not attached to an active page" for a
 * moment, so the step is retried.
 */
export async function history(page: Page, direction: 'back' | 'forward'): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await (direction === 'back' ? page.goBack({ waitUntil: 'commit' }) : page.goForward({ waitUntil: 'commit' }));
      return;
    } catch (e) {
      if (attempt >= 5 || !/Not attached to an active page/.test(String(e))) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
