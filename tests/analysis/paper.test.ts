// The questionnaire on paper (survey print): for each reference questionnaire, every item, every
// option, row and part, and every condition in Dutch words, piped texts readable, as a document
// that prints; and the command that writes it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'node-html-parser';
import { describe, expect, it } from 'vitest';
import { paperVersion } from '../../server/domain/analysis/paper.ts';
import { questionnaireOnPaper } from '../../server/usecases/paper.ts';
import { main } from '../../scripts/cli/main.ts';
import { referenceQuestionnaire } from '../helpers/questionnaires.ts';

const REFERENCES = ['owb-2024', 'monitor-2024-agressie', 'monitor-2020-pa'] as const;

describe.each(REFERENCES)('%s on paper', (name) => {
  const q = referenceQuestionnaire(name);
  const doc = paperVersion(q);
  const html = questionnaireOnPaper(q);
  const body = parse(html).querySelector('main')!;
  const text = body.text.replace(/\s+/g, ' ');

  it('lists every item, numbers every question in order, and gives every option, row and part', () => {
    const items = doc.pages.flatMap((p) => p.items);
    expect(items.map((i) => i.id)).toEqual([...q.items.keys()]);
    const numbers = items.filter((i) => i.number !== undefined).map((i) => i.number);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    expect(numbers).toHaveLength(q.questions.length);
    for (const item of q.items.values()) {
      expect(body.querySelectorAll('.code').some((c) => c.text === `[${item.id}]`), item.id).toBe(true);
      for (const o of item.options) expect(text, `${item.id}.${o.code}`).toContain(`(${o.code})`);
      for (const m of item.members) expect(text, `${item.id}.${m.code}`).toContain(`(${m.code})`);
    }
  });

  it('words every condition in Dutch: of pages, questions, options and rows', () => {
    let conditions = 0;
    for (const block of q.blocks) {
      if (block.showIf) conditions++;
      for (const item of block.items) conditions += (item.showIf ? 1 : 0) + item.options.filter((o) => o.showIf).length + item.members.filter((m) => m.showIf).length;
    }
    expect(doc.conditions).toBe(conditions);
    expect((text.match(/Alleen als /g) ?? []).length).toBe(conditions);
    // No English routing words, no raw pipes or expressions.
    expect(text).not.toMatch(/ includes | is one of | is answered|\bsample\b/);
    expect(text).not.toMatch(/\{[^}]*\}/);
    expect(text).toContain('Een respondent telt als respons zodra de pagina met');
  });
});

describe('survey print', () => {
  it('writes the HTML to a file, in English on request, and refuses a questionnaire with problems', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'print-'));
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const file = new URL('../../questionnaires/owb-2024.json', import.meta.url).pathname;
    expect(await main(['node', 'survey', 'print', file, '--out', join(dir, 'owb.html')], io, {})).toBe(0);
    expect(out.at(-1)).toMatch(/owb\.html: owb-2024 .* on paper/);
    const html = readFileSync(join(dir, 'owb.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>\n<html lang="nl">/);
    expect(html).toContain('@media print');
    expect(await main(['node', 'survey', 'print', file, '--lang', 'en', '--out', join(dir, 'en.html')], io, {})).toBe(0);
    expect(readFileSync(join(dir, 'en.html'), 'utf8')).toContain('Only if Q2 includes');
    expect(await main(['node', 'survey', 'print', join(dir, 'owb.html')], io, {})).toBe(1);
    expect(err.at(-1)).toBe('fix these problems first (survey check shows them too)');
  });
});
