// Warnings, at `survey create` and `survey import`, about carried strata that can end up with
// fewer than k responses (reporting.minCell): every response carries them, so such a stratum can
// single out its respondents (one of three commissioners of the King who answered). Exports merge
// or leave out such values (domain/analysis/small-strata.ts); the warning comes before anyone is
// invited, when the survey definition can still carry a coarser field instead.

import type { Db } from '../db/connection.ts';
import type { SurveyRow } from '../db/surveys.ts';
import { ledgerCells } from './status.ts';
import { definitionOf } from './surveys.ts';

export async function smallCarriedStrata(db: Db, survey: SurveyRow): Promise<string[]> {
  const def = definitionOf(survey);
  const carry = def.sample.carry;
  const k = def.reporting.minCell;
  if (carry.length === 0) return [];
  const warnings: string[] = [];
  for (const [field, sizes] of Object.entries(def.sample.population ?? {})) {
    if (!carry.includes(field)) continue;
    for (const [value, n] of Object.entries(sizes)) {
      if (n < k) warnings.push(`carried stratum ${field}=${value} has a population of ${n}, fewer than ${k} (reporting.minCell): its responses can single out their respondents. Exports merge or leave out such values; carry a coarser field to avoid it`);
    }
  }
  for (const cell of await ledgerCells(db, survey, carry)) {
    const n = cell.counts.invited;
    if (n > 0 && n < k) {
      const stratum = carry.map((f) => `${f}=${cell.values[f] ?? '(empty)'}`).join(', ');
      warnings.push(`carried stratum ${stratum} has ${n} invitee${n === 1 ? '' : 's'}, fewer than ${k} (reporting.minCell): ${n === 1 ? 'a response' : 'their responses'} would single out ${n === 1 ? 'the respondent' : 'the respondents'}. Exports merge or leave out such values; carry a coarser field to avoid it`);
    }
  }
  return warnings;
}
