// Carried strata that would single someone out. A response carries coarse sample fields (functie,
// bestuurslaag); when only three commissioners of the King answered, "functie = cdk" in an export
// points at three people, and a stratum of one at one. Exports therefore show a carried value only
// when at least k responses have it (reporting.minCell): smaller values are merged with the next
// smallest of their field until the merged value holds k, and a field that cannot reach k that way,
// or whose combination with the fields before it leaves a group below k, is left out. The codebook
// says what was merged or left out. An analyst can ask for the values as they are (--keep-small-strata).

export interface StrataProtection {
  /** Per response (in the order given): the carried values as the export shows them. */
  shown: Record<string, string | undefined>[];
  /** What was merged or left out, in a sentence each, for the codebook; empty if nothing. */
  notes: string[];
}

/** How values of one field are shown: each value to its (possibly merged) label. */
function mergeSmallValues(values: readonly (string | undefined)[], k: number): Map<string, string> | undefined {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  // Groups of values, smallest first; the smallest below k takes in the next smallest.
  const groups = [...counts].map(([value, n]) => ({ values: [value], n })).sort((a, b) => a.n - b.n || (a.values[0]! < b.values[0]! ? -1 : 1));
  while (groups.length > 1 && groups[0]!.n < k) {
    const [small, next] = groups.splice(0, 2) as [(typeof groups)[number], (typeof groups)[number]];
    groups.push({ values: [...small.values, ...next.values], n: small.n + next.n });
    groups.sort((a, b) => a.n - b.n);
  }
  if (groups.length === 1 && groups[0]!.n < k) return undefined;
  const labels = new Map<string, string>();
  for (const g of groups) {
    const label = [...g.values].sort().join(' + ');
    for (const v of g.values) labels.set(v, label);
  }
  return labels;
}

export function protectCarriedStrata(strata: readonly Readonly<Record<string, string>>[], carry: readonly string[], k: number): StrataProtection {
  const notes: string[] = [];
  let shown: Record<string, string | undefined>[] = strata.map(() => ({}));
  const kept: string[] = [];
  for (const field of carry) {
    const labels = mergeSmallValues(
      strata.map((s) => s[field]),
      k,
    );
    if (!labels) {
      notes.push(`${field} is left out: fewer than ${k} responses in all.`);
      continue;
    }
    const candidate = shown.map((row, i) => ({ ...row, [field]: strata[i]![field] === undefined ? undefined : labels.get(strata[i]![field]!) }));
    // Together with the fields kept before it, every combination must hold k responses as well.
    const combinations = new Map<string, number>();
    const keyOf = (row: Record<string, string | undefined>) => JSON.stringify([...kept, field].map((f) => row[f] ?? null));
    for (const row of candidate) combinations.set(keyOf(row), (combinations.get(keyOf(row)) ?? 0) + 1);
    if ([...combinations.values()].some((n) => n < k)) {
      notes.push(`${field} is left out: together with ${kept.join(', ')} it would leave a group of fewer than ${k} responses.`);
      continue;
    }
    const merged = [...new Set(labels.values())].filter((l) => l.includes(' + '));
    for (const label of merged) notes.push(`${field}: ${label.split(' + ').join(', ')} are shown together as "${label}" (some had fewer than ${k} responses alone).`);
    shown = candidate;
    kept.push(field);
  }
  return { shown, notes };
}
