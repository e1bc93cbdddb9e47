// How the Monitor's scale and grid pages are laid out in a real browser at 320, 390 and 1280 px,
// measured by element geometry (a screenshot of each goes to test-output/screenshots/ too): the
// scale's points on one row with its end labels at their ends; the grid a table with aligned
// columns where the width allows, its answers side by side under each statement on a phone;
// targets large enough to tap, nothing wider than the screen, axe satisfied, a focus ring that
// stands out (3:1), and the error summary's red border.
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IssuedInvitation } from '../../server/usecases/invitations.ts';
import { questionnaireOnPaper } from '../../server/usecases/paper.ts';
import { testServer, type TestServer } from '../helpers/app.ts';
import { referenceQuestionnaire } from '../helpers/questionnaires.ts';
import { answerAll, launchChromium, SCREENSHOTS, seriousViolations } from '../helpers/chromium.ts';

const WIDTHS = [320, 390, 1280];
let server: TestServer;
let browser: Browser;
let base: string;
let monitor: IssuedInvitation[];

beforeAll(async () => {
  server = await testServer();
  monitor = await server.survey('monitor-2024-agressie', [{ email: 'm@gemeente.test', sample: {} }]);
  base = await server.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type Box = { left: number; right: number; top: number; bottom: number; width: number; height: number };
/** Where the elements are on the page (not the viewport). */
const boxesOf = (locator: Locator): Promise<Box[]> =>
  locator.evaluateAll((els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top + window.scrollY, bottom: r.bottom + window.scrollY, width: r.width, height: r.height };
    }),
  );
const boxes = (page: Page, selector: string): Promise<Box[]> => boxesOf(page.locator(selector));
const centre = (b: Box) => (b.left + b.right) / 2;

/** The scale's points on one row, the end labels under the first and the last. */
async function checkScale(page: Page, width: number): Promise<void> {
  const points = await boxes(page, '.scale-point');
  expect(points.length, 'points').toBe(7);
  for (const p of points) expect(Math.abs(p.top - points[0]!.top), `${width}px: a point on another row`).toBeLessThan(1);
  for (const p of points) expect(p.height, `${width}px: tap target height`).toBeGreaterThanOrEqual(44);
  const [min] = await boxes(page, '.scale-min');
  const [max] = await boxes(page, '.scale-max');
  const first = points[0]!;
  const last = points.at(-1)!;
  const row = { left: first.left, right: last.right };
  // "Niet ernstig" starts where the row starts and stays in its left half; "Zeer ernstig" ends
  // where the row ends and stays in its right half; both below the points.
  expect(Math.abs(min!.left - row.left), `${width}px: the min label at the start`).toBeLessThan(2);
  expect(min!.right).toBeLessThan((row.left + row.right) / 2);
  expect(Math.abs(max!.right - row.right), `${width}px: the max label at the end`).toBeLessThan(2);
  expect(max!.left).toBeGreaterThan((row.left + row.right) / 2);
  expect(min!.top).toBeGreaterThanOrEqual(first.bottom - 1);
  expect(max!.top).toBeGreaterThanOrEqual(last.bottom - 1);
}

/** A table from 40rem (columns aligned under a header row); on a phone, each row's answers side by side. */
async function checkGrid(page: Page, width: number): Promise<void> {
  for (const table of await page.locator('.grid-table').all()) await checkGridTable(table, width);
}

async function checkGridTable(table: Locator, width: number): Promise<void> {
  const rows = await table.locator('.grid-row').all();
  const headers = await boxesOf(table.locator('.grid-col'));
  expect(rows.length).toBeGreaterThan(0);
  const firstInputs = await boxesOf(rows[0]!.locator('.grid-cell input'));
  const columns = firstInputs.length;
  for (const [r, row] of rows.entries()) {
    const cells = await boxesOf(row.locator('.grid-cell'));
    const inputs = await boxesOf(row.locator('.grid-cell input'));
    const [label] = await boxesOf(row.locator('.grid-row-label'));
    expect(cells).toHaveLength(columns);
    // Every answer of a row on one line, each a tap target at least 44 px high and 24 px wide.
    for (const i of inputs) expect(Math.abs(i.top - inputs[0]!.top), `${width}px: row ${r} wraps`).toBeLessThan(1);
    for (const c of cells) {
      expect(c.height, `${width}px: tap target height`).toBeGreaterThanOrEqual(44);
      expect(c.width, `${width}px: tap target width`).toBeGreaterThanOrEqual(24);
      expect(c.right, `${width}px: a cell beyond the screen`).toBeLessThanOrEqual(width);
    }
    // The same columns in every row.
    inputs.forEach((input, c) => expect(Math.abs(centre(input) - centre(firstInputs[c]!)), `${width}px: row ${r}, column ${c} out of line`).toBeLessThan(1));
    const labelWidth = (await boxesOf(row.locator('.grid-cell-label')))[0]!.width;
    if (width >= 640) {
      // A table: the statement in the first column, each answer centred under its header.
      expect(label!.right).toBeLessThanOrEqual(cells[0]!.left + 1);
      expect(headers).toHaveLength(columns);
      inputs.forEach((input, c) => expect(Math.abs(centre(input) - centre(headers[c]!)), `${width}px: row ${r}, column ${c} not under its header`).toBeLessThan(1));
      expect(labelWidth).toBeLessThanOrEqual(1);
    } else {
      // A phone: the statement above its answers, no header row, each answer with its label shown.
      expect(label!.bottom).toBeLessThanOrEqual(cells[0]!.top + 1);
      expect(await table.locator('.grid-head').isVisible()).toBe(false);
      expect(labelWidth).toBeGreaterThan(10);
    }
  }
}

/** The contrast ratio of two sRGB colours (WCAG 2). */
function contrast(a: string, b: string): number {
  const luminance = (rgb: string) => {
    const [r, g, bl] = rgb.match(/\d+(\.\d+)?/g)!.slice(0, 3).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

describe('the Monitor 2024 scale and grid pages', () => {
  it('at 320, 390 and 1280 px: laid out as they should be, tappable, within the screen, passing axe', async () => {
    const context = await browser.newContext({ baseURL: base, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`/s/${monitor[0]!.token}`);
    const seen = { scale: 0, grid: 0 };
    // Verbal aggression once: the victim's route, which has the seriousness scale.
    await answerAll(page, { Q43: '52', 'Q5.verbaal': 'eenmalig', 'Q6.offline': '1', 'Q6.online': '0' }, async (p) => {
      const kinds = { scale: await p.locator('.scale').count(), grid: await p.locator('.grid-table').count() };
      if (kinds.scale === 0 && kinds.grid === 0) return;
      const id = p.url().split('/').pop()!;
      for (const width of WIDTHS) {
        await p.setViewportSize({ width, height: 900 });
        expect(await p.evaluate(() => document.documentElement.scrollWidth), `${id} at ${width}px: wider than the screen`).toBeLessThanOrEqual(width);
        if (kinds.scale) await checkScale(p, width);
        if (kinds.grid) await checkGrid(p, width);
        expect(await seriousViolations(p), `${id} at ${width}px`).toEqual([]);
        await p.screenshot({ path: `${SCREENSHOTS}layout-${id}-${width}.png`, fullPage: true });
      }
      await p.setViewportSize({ width: 390, height: 844 });
      seen.scale += kinds.scale;
      seen.grid += kinds.grid;
    });
    expect(seen.scale, 'a scale page on the route').toBeGreaterThan(0);
    expect(seen.grid, 'a grid page on the route').toBeGreaterThan(0);
    await context.close();
  }, 180_000);

  it('the questionnaire on paper (survey print) passes axe and prints to PDF', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    for (const name of ['owb-2024', 'monitor-2024-agressie', 'monitor-2020-pa'] as const) {
      await page.setContent(questionnaireOnPaper(referenceQuestionnaire(name)));
      expect(await seriousViolations(page), name).toEqual([]);
      await page.screenshot({ path: `${SCREENSHOTS}print-${name}.png`, fullPage: false });
      const pdf = await page.pdf({ format: 'A4' });
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    }
    await context.close();
  }, 60_000);

  it('the focus ring stands out from the page (3:1), and the error summary has its red border', async () => {
    const context = await browser.newContext({ baseURL: base, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto('/');
    await page.focus('#code');
    const ring = await page.$eval('#code', (e) => {
      const s = getComputedStyle(e);
      return { color: s.outlineColor, width: parseFloat(s.outlineWidth), style: s.outlineStyle, background: getComputedStyle(document.body).backgroundColor };
    });
    expect(ring.style).toBe('solid');
    expect(ring.width).toBeGreaterThanOrEqual(2);
    expect(contrast(ring.color, ring.background)).toBeGreaterThanOrEqual(3);
    await page.fill('#code', 'AAAA-BBBB-CCCC-DDDD');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    const border = await page.$eval('.error-summary', (e) => ({ width: parseFloat(getComputedStyle(e).borderTopWidth), color: getComputedStyle(e).borderTopColor }));
    expect(border.width).toBeGreaterThanOrEqual(4);
    expect(contrast(border.color, 'rgb(255, 255, 255)')).toBeGreaterThanOrEqual(3);
    await context.close();
  }, 60_000);
});
