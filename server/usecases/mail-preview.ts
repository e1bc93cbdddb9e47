// What a survey's mailings will look like, before anyone is invited: each mailing rendered and
// composed exactly as the sender does it, for a sample invitee or with the merge fields of a real
// one, but with a placeholder code and link (server/mail/preview.ts), so that neither a preview
// nor a test mail hands anyone's way into the questionnaire to whoever reads it. A test mail goes
// straight to the transport, not through the outbox: it is no mailing, and counts for nothing.

import { randomBytes } from 'node:crypto';
import type { InviteeRow } from '../db/invitees.ts';
import type { SurveyRow } from '../db/surveys.ts';
import type { PlannedMailing } from '../domain/survey/calendar.ts';
import { composeMessage } from '../mail/mime.ts';
import { previewArgs } from '../mail/preview.ts';
import type { MailTemplates, RenderedMail } from '../mail/render.ts';
import type { MailTransport, OutgoingMail } from '../mail/transport.ts';
import { domainOf } from '../mail/compose.ts';
import { planOf } from './fieldwork.ts';
import { isEmailAddress } from '../domain/survey/addresses.ts';
import { SurveyError } from './surveys.ts';

export interface MailPreview {
  mailing: PlannedMailing;
  rendered: RenderedMail;
  mail: OutgoingMail;
}

/** The survey's mailings (or the one named), as they will be sent. */
export function previewMailings(
  templates: MailTemplates,
  survey: SurveyRow,
  options: { mailingId?: string; invitee?: Pick<InviteeRow, 'name' | 'salutation' | 'organisation' | 'email'>; publicUrl: string; now: Date },
): MailPreview[] {
  const { definition, plan } = planOf(survey);
  const mailings = options.mailingId === undefined ? plan.mailings : plan.mailings.filter((m) => m.id === options.mailingId);
  if (mailings.length === 0) throw new SurveyError(`survey ${survey.id} has no mailing "${options.mailingId}"; its mailings are ${plan.mailings.map((m) => m.id).join(', ')}`);
  const domain = domainOf(definition.mail.from);
  return mailings.map((mailing) => {
    const rendered = templates.render({ ...previewArgs(definition, plan, mailing, { ...(options.invitee ? { invitee: options.invitee } : {}), publicUrl: options.publicUrl }), messageId: `<preview-${mailing.id}@${domain}>` });
    return { mailing, rendered, mail: { rendered, message: composeMessage(rendered, options.now) } };
  });
}

/**
 * Sends a preview to `address` as a test mail: "[Test]" before its subject, a Message-ID of its
 * own (a second test is not taken for the same mail), addressed to the tester.
 */
export async function sendTestMail(transport: MailTransport, preview: MailPreview, address: string, now: Date): Promise<void> {
  if (!isEmailAddress(address)) throw new SurveyError(`"${address}" is not an email address`);
  const rendered = {
    ...preview.rendered,
    to: { name: '', address },
    subject: `[Test] ${preview.rendered.subject}`,
    messageId: `<test-${randomBytes(9).toString('base64url')}@${domainOf(preview.rendered.from)}>`,
  };
  await transport.send({ rendered, message: composeMessage(rendered, now) });
}
