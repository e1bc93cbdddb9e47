// The per-survey settings stored with a survey (issue #4 grows this into the full survey
// definition: calendar, mailings, strata and population sizes).
import { z } from 'zod';

export const SurveySettings = z.strictObject({
  /** Sample fields carried onto every response (coarse ones only: they must not identify anyone). */
  carry: z.array(z.string()).default([]),
});
export type SurveySettings = z.infer<typeof SurveySettings>;

export function parseSurveySettings(json: string): SurveySettings {
  return SurveySettings.parse(JSON.parse(json));
}
