// The topline ("rechte tellingen"): for every closed question, counts and percentages per
// option, per stratum and in total, with the base n and a weighted total. Non-substantive answers
// ("weet niet") are counted but left out of the base, as the reports do. A stratum whose base is
// below k shows its n only.

import { csv, type CsvCell } from '../csv.ts';
import type { Cell, Variable } from './variables.ts';

export interface ToplineOptions {
  /** Carried columns to break down by (one column per combination of their values). */
  strata: readonly string[];
  /** Strata with a base below this show no counts or percentages. */
  minCell: number;
}

interface Group {
  key: string;
  label: string;
  rows: number[];
}

export function toplineCsv(variables: readonly Variable[], rows: readonly Cell[][], options: ToplineOptions): string {
  const index = new Map(variables.map((v, i) => [v.name, i]));
  const weightAt = variables.findIndex((v) => v.source === 'weight');
  const strataAt = options.strata.map((s) => index.get(s)).filter((i): i is number => i !== undefined);
  const groups = new Map<string, Group>();
  rows.forEach((row, r) => {
    const values = strataAt.map((i) => String(row[i] ?? '?'));
    const key = values.join(' / ');
    if (!groups.has(key)) groups.set(key, { key, label: key, rows: [] });
    groups.get(key)!.rows.push(r);
  });
  const ordered = strataAt.length > 0 ? [...groups.values()].sort((a, b) => a.key.localeCompare(b.key)) : [];
  const all: Group = { key: 'total', label: 'total', rows: rows.map((_, r) => r) };
  const weightOf = (r: number): number => (weightAt >= 0 && typeof rows[r]![weightAt] === 'number' ? (rows[r]![weightAt] as number) : 1);

  // Every cell goes through csv(), which guards text (a stratum value in a column header, a
  // question's label) against spreadsheet formulas.
  const header: CsvCell[] = ['variable', 'label', 'value', 'value label'];
  for (const g of ordered) header.push(`${g.label} n`, `${g.label} %`);
  header.push('total n', 'total %');
  if (weightAt >= 0) header.push('total weighted %');
  const out: CsvCell[][] = [header];
  const pct = (part: number, base: number): string => (base > 0 ? ((100 * part) / base).toFixed(1) : '');

  variables.forEach((v, i) => {
    if (v.source !== 'question' || v.kind !== 'numeric' || v.values.length === 0) return;
    const binary = v.type === 'multi' || v.type === 'ranking' || (v.type === 'grid' && v.values.some((l) => l.value === 1) && v.values.every((l) => l.value <= 1));
    const substantive = (cell: Cell): boolean => typeof cell === 'number' && cell >= 0;
    const inBase = (r: number): boolean => substantive(rows[r]![i]!);
    // The categories to count: binary variables count "chosen" (value >= 1); others each value.
    const categories = binary
      ? [{ label: v.type === 'ranking' ? 'chosen (any place)' : 'ticked', value: 'chosen', test: (c: Cell) => typeof c === 'number' && c >= 1, inBase: true }]
      : v.values.filter((l) => l.value >= 0 || l.value <= -9).map((l): { label: string; value: CsvCell; test: (c: Cell) => boolean; inBase: boolean } => ({ label: l.label + (l.missing ? ' (not in base)' : ''), value: l.value, test: (c: Cell) => c === l.value, inBase: !l.missing }));
    for (const cat of categories) {
      const line: CsvCell[] = [v.name, v.label, cat.value, cat.label];
      for (const g of [...ordered, all]) {
        const base = g.rows.filter(inBase).length;
        const n = g.rows.filter((r) => cat.test(rows[r]![i]!)).length;
        if (g !== all && base < options.minCell) line.push('', '');
        else line.push(n, cat.inBase ? pct(n, base) : '');
      }
      if (weightAt >= 0) {
        const baseW = all.rows.filter(inBase).reduce((s, r) => s + weightOf(r), 0);
        const nW = all.rows.filter((r) => cat.test(rows[r]![i]!)).reduce((s, r) => s + weightOf(r), 0);
        line.push(cat.inBase ? pct(nW, baseW) : '');
      }
      out.push(line);
    }
    const baseLine: CsvCell[] = [v.name, v.label, 'base', 'base (n)'];
    for (const g of [...ordered, all]) {
      const base = g.rows.filter(inBase).length;
      baseLine.push(g !== all && base < options.minCell ? `<${options.minCell}` : base, '');
    }
    if (weightAt >= 0) baseLine.push('');
    out.push(baseLine);
  });
  return csv(out);
}
