// Previews of a mailing: rendered for a sample invitee (or the merge fields of a real one), with a
// placeholder code and link that open nothing, so that a preview or test mail never hands out
// anyone's way into the questionnaire. `survey create` checks every mailing this way, and
// `survey preview` shows or sends it.

import type { InviteeRow } from '../db/invitees.ts';
import type { Plan, PlannedMailing } from '../domain/survey/calendar.ts';
import type { SurveyDefinition } from '../domain/survey/definition.ts';
import type { RenderArgs } from './render.ts';

/** Who a preview is addressed to when no invitee is named. */
export const SAMPLE_INVITEE: Pick<InviteeRow, 'name' | 'salutation' | 'organisation' | 'email'> = {
  name: 'A. de Vries',
  salutation: null,
  organisation: 'Gemeente Voorbeeld',
  email: 'a.devries@voorbeeld.example',
};

/** Shown as 0000-0000-0000-0000: recognisably a placeholder, and never a code (no 0 in codes). */
export const PREVIEW_CODE = '0'.repeat(16);
/** The link of a preview ends in /s/voorbeeld, which opens nothing. */
export const PREVIEW_TOKEN = 'voorbeeld';

export function previewArgs(
  definition: SurveyDefinition,
  plan: Plan,
  mailing: PlannedMailing,
  options: { invitee?: Pick<InviteeRow, 'name' | 'salutation' | 'organisation' | 'email'>; publicUrl?: string } = {},
): Omit<RenderArgs, 'messageId'> {
  return {
    definition,
    mailing,
    invitee: options.invitee ?? SAMPLE_INVITEE,
    code: PREVIEW_CODE,
    token: PREVIEW_TOKEN,
    publicUrl: options.publicUrl ?? 'https://enquete.example',
    closesAt: plan.closesAt,
  };
}
