// Weighting cells from the survey definition: which cell a response (or an invitee) falls in,
// and the weight per cell from counts. A response falls under the first rule whose `where`
// matches; its cell is the values of that rule's `by` columns (e.g. functie within gemeenten,
// bestuurslaag for provinces and water boards, as the Monitor weights).

import { postStratificationWeights, type CellWeight } from '../metrics/index.ts';
import type { SurveyDefinition } from './definition.ts';

export type Weighting = NonNullable<SurveyDefinition['weighting']>;
type Values = Readonly<Record<string, string | null | undefined>>;

export interface Cell {
  /** Stable key, e.g. "bestuurslaag=gemeente;functie=burgemeester". */
  key: string;
  values: Record<string, string>;
  /** For people: "gemeente / burgemeester". */
  label: string;
}

/** The carried columns the rules read (in `by` and in `where`). */
export function weightingColumns(weighting: Weighting): string[] {
  return [...new Set(weighting.cells.flatMap((r) => [...r.by, ...Object.keys(r.where ?? {})]))];
}

export function cellOf(weighting: Weighting, values: Values): Cell | undefined {
  for (const rule of weighting.cells) {
    const matches = Object.entries(rule.where ?? {}).every(([field, wanted]) => {
      const value = values[field];
      return typeof value === 'string' && (Array.isArray(wanted) ? wanted.includes(value) : wanted === value);
    });
    if (!matches) continue;
    const cellValues: Record<string, string> = {};
    for (const field of rule.by) {
      const value = values[field];
      if (typeof value !== 'string') return undefined;
      cellValues[field] = value;
    }
    return cellFromValues(cellValues);
  }
  return undefined;
}

function cellFromValues(values: Record<string, string>): Cell {
  const fields = Object.keys(values).sort();
  return { key: fields.map((f) => `${f}=${values[f]}`).join(';'), values, label: Object.values(values).join(' / ') };
}

export interface WeightTable {
  target: Weighting['target'];
  cells: (CellWeight & { label: string; values: Record<string, string> })[];
  /** Responses that fall in no cell, or in a cell without a target size: they get no weight. */
  unweighted: number;
}

/**
 * Weights per cell. `responses` and `invited` hold counts per cell key (from the response store
 * for exports, from the ledger's counted responses for the dashboard).
 */
export function weightTable(weighting: Weighting, responses: ReadonlyMap<string, { cell: Cell; count: number }>, invited: ReadonlyMap<string, { cell: Cell; count: number }>): WeightTable {
  const targets = new Map<string, { cell: Cell; size: number }>();
  if (weighting.target === 'population') {
    for (const entry of weighting.population ?? []) {
      const cell = cellFromValues(entry.cell);
      targets.set(cell.key, { cell, size: entry.size });
    }
  } else {
    for (const [key, { cell, count }] of invited) targets.set(key, { cell, size: count });
  }
  let unweighted = 0;
  for (const [key, { count }] of responses) if (!targets.has(key)) unweighted += count;
  const ordered = [...targets.values()].sort((a, b) => a.cell.key.localeCompare(b.cell.key));
  const weights = postStratificationWeights(ordered.map((t) => ({ cell: t.cell.key, population: t.size, responses: responses.get(t.cell.key)?.count ?? 0 })));
  return {
    target: weighting.target,
    cells: weights.map((w, i) => ({ ...w, label: ordered[i]!.cell.label, values: ordered[i]!.cell.values })),
    unweighted,
  };
}

/** Adds one to the count of the cell these values fall in (helper for building the maps above). */
export function tally(weighting: Weighting, into: Map<string, { cell: Cell; count: number }>, values: Values, count = 1): void {
  // Values that fall in no rule are kept under an empty key: they count as unweighted.
  const cell = cellOf(weighting, values) ?? { key: '', values: {}, label: '(no cell)' };
  const entry = into.get(cell.key);
  if (entry) entry.count += count;
  else into.set(cell.key, { cell, count });
}

/**
 * What a reader of weighted results must be told, in sentences (empty when nothing): cells with a
 * target but no responses, whose share of the target is then left out (the weights are taken over
 * the other cells, and add up to the number of responses: metrics/weights.ts), and responses
 * without a weight. Shown in the codebook, the SPSS syntax, on stderr and on the dashboard.
 */
export function weightingNotes(table: WeightTable): string[] {
  const notes: string[] = [];
  const weighted = table.cells.reduce((s, c) => s + c.responses, 0);
  const empty = table.cells.filter((c) => c.weight === undefined && c.population > 0);
  if (empty.length > 0 && weighted > 0) {
    const missing = empty.reduce((s, c) => s + c.populationShare, 0);
    const cells = empty.map((c) => `"${c.label}"`).join(', ');
    notes.push(
      `No responses in ${empty.length === 1 ? 'cell' : 'cells'} ${cells}: ${formatShare(missing)} of the target is not represented. ` +
        `The weights are computed over the other cells (they add up to ${weighted}, the number of weighted responses), so weighted results describe those cells only. ` +
        `Combine such a cell with a similar one in the definition's weighting.cells.`,
    );
  }
  if (table.unweighted > 0) {
    notes.push(`${table.unweighted} ${table.unweighted === 1 ? 'response falls' : 'responses fall'} in no weighting cell with a target size and ${table.unweighted === 1 ? 'has' : 'have'} no weight (the weight column is empty).`);
  }
  return notes;
}

const formatShare = (share: number): string => `${Math.round(share * 1000) / 10}%`;
